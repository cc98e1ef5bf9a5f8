"""How much data the parallel chunk writer holds at once: a memory budget, shared by its three stages.

The writer (:mod:`nwb_conversions.writing.write`) holds three kinds of buffers, each sized by the dataset's chunks:

- the reader's chunk-row buffers (e.g. 1 s × 384 channels of int16: 23 MB each), read ahead of the writer;
- one work buffer per compression thread, the shuffled chunk (1 s × 64 channels: 3.8 MB);
- the chunks submitted but not yet written (the *window*), each at most a chunk once compressed.

Left to the thread count alone, these grow with the cores: 16 threads held ~370 MB (peak RSS ~590 MB). Instead,
:func:`plan_in_flight` fits them into a budget (:data:`DEFAULT_MEMORY_MB`, or ``$NWB_CONVERSIONS_MEMORY_MB``, or
``--memory``): it first shortens the queue per thread (3, then 2, then 1 chunk), then uses fewer compression threads.
On 2 cores nothing changes (77 MB for a 384-channel recording); with 16 cores a 384-channel recording gets 11
compression threads (~5 GB/s of encoding, far above a disk's speed) within 160 MB.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

#: The writer's default budget for data in flight, in MB (the process's own libraries take ~200 MB more).
DEFAULT_MEMORY_MB = 160

#: Environment variable that sets the budget in MB (``--memory`` overrides it).
MEMORY_ENVIRONMENT_VARIABLE = "NWB_CONVERSIONS_MEMORY_MB"

#: Chunks in the queue per compression thread, most first: enough that no thread waits for work while the writer
#: waits for the oldest chunk.
CHUNKS_PER_THREAD_CHOICES = (3, 2, 1)


@dataclass(frozen=True)
class InFlight:
    """What the writer may hold: compression threads, chunk-row buffers, and chunks submitted but not written."""

    threads: int
    row_buffers: int
    window: int

    def bytes(self, row_bytes: int, chunk_bytes: int) -> int:
        """The most memory these buffers take (every queued chunk counted at its uncompressed size)."""
        return self.row_buffers * row_bytes + (self.threads + self.window) * chunk_bytes


def memory_budget_bytes(memory_mb: float | None = None) -> int:
    """The budget in bytes: ``memory_mb``, else ``$NWB_CONVERSIONS_MEMORY_MB``, else :data:`DEFAULT_MEMORY_MB`."""
    if memory_mb is None:
        configured = os.environ.get(MEMORY_ENVIRONMENT_VARIABLE)
        memory_mb = check_memory_mb(configured) if configured else DEFAULT_MEMORY_MB
    return int(memory_mb * 1e6)


def check_memory_mb(text: str) -> float:
    """Parse a memory budget in MB (``--memory`` or the environment variable); raise ValueError if it is not one."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of MB") from None
    if not (16 <= value <= 1e6):  # NaN fails too
        raise ValueError(f"{text!r} is not a budget from 16 to 1000000 MB")
    return value


def plan_in_flight(
    budget_bytes: int, row_bytes: int, chunk_bytes: int, chunks_per_row: int, threads: int
) -> InFlight:
    """The most compression threads (up to ``threads``), then the longest queue, whose buffers fit the budget.

    A row's chunks are all submitted before the writer waits, so the window holds at least ``chunks_per_row``
    chunks, and the reader has at least two row buffers (one being read, one being written out). When not even one
    thread fits, the smallest writer is returned: it needs what it needs, and the budget is then exceeded.
    """
    for thread_count in range(max(1, threads), 0, -1):
        for per_thread in CHUNKS_PER_THREAD_CHOICES:
            window = max(1, thread_count * per_thread, chunks_per_row)
            plan = InFlight(thread_count, max(2, math.ceil(window / max(1, chunks_per_row)) + 1), window)
            if plan.bytes(row_bytes, chunk_bytes) <= budget_bytes:
                return plan
    return InFlight(1, 2, max(1, chunks_per_row))
