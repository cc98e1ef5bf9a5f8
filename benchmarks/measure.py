"""Measuring a child process as a user would run it: its wall time and peak resident memory (``VmHWM``, polled).

Linux keeps ``ru_maxrss`` across ``exec``, so a child forked from a large parent would report the parent's peak;
``VmHWM`` in ``/proc/<pid>/status`` belongs to the child's own address space.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def peak_resident_mb(pid: int) -> float | None:
    """The process's resident-memory high-water mark (``VmHWM``) in MB, or None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from ``/proc/<pid>/task/*/children``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def poll_peak_mb(process: subprocess.Popen, interval_s: float = 0.02) -> float:
    """Wait for ``process`` to exit, polling the ``VmHWM`` of it and its descendants; return the highest value seen
    in MB, of any one process (``convert-to-nwb`` converts in a forked child: that child's peak)."""
    peak = 0.0
    while process.poll() is None:
        for pid in process_tree(process.pid):
            peak = max(peak, peak_resident_mb(pid) or 0.0)
        time.sleep(interval_s)
    return peak


def run_measured(command: list[str]) -> tuple[float, float]:
    """Run ``command``; return (wall seconds, peak RSS in MB) of that child alone; exit if it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    peak = poll_peak_mb(process)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"conversion failed: {' '.join(command)}")
    return wall, peak
