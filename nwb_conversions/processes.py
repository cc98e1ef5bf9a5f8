"""Child processes that must not outlive their parent, and signals named in messages (core: every layer may use it).

The command's conversion child (:mod:`nwb_conversions.cli.crash_guard`), a batch's worker processes
(:mod:`nwb_conversions.batch.workers`) and a quicklook's reader child (:mod:`nwb_conversions.quicklook.isolation`)
each ask the kernel to signal them when their parent dies, so that none goes on writing after the process that
supervises it (and cleans up after it) is gone.
"""

from __future__ import annotations

import signal

#: Linux's ``prctl`` option: the signal this process receives when its parent dies.
PR_SET_PDEATHSIG = 1


def signal_when_parent_dies(signal_number: int) -> bool:
    """Have the kernel send this process ``signal_number`` when its parent dies (Linux); False where it cannot."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal_number), 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        return False


def signal_name(number: int) -> str:
    """``11`` → ``SIGSEGV``; an unknown number → ``signal 99``."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
