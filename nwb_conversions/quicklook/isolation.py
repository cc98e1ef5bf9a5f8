"""Drawing a quicklook in a child process, so that a crash while reading the NWB file still ends in one line.

HDF5 and the Zarr codecs are C libraries: a damaged file can crash them (a segmentation fault) where Python cannot
catch it. :func:`run_isolated` forks, runs the work in the child and reads back its outcome as JSON: a result, or
the one-line error the child raised. A child that dies from a signal (SIGSEGV, SIGABRT, SIGKILL from the kernel's
out-of-memory killer) becomes a :class:`~nwb_conversions.errors.SourceFormatError` naming the file, and the
temporary PNG it may have left is removed. The child dies with its parent (a batch worker killed mid-quicklook
leaves no child behind to finish the PNG).

Forking is only safe while no other thread of this process works (a thread holding a lock, such as h5py's, at the
fork would leave the child waiting for ever), so with other threads alive, or without ``os.fork``, the work runs
in this process instead (:func:`can_fork`). tqdm's monitor thread (``TMonitor``, left by the progress bars of a
conversion) only sleeps and looks at tqdm's own bars, which the child never uses, so it does not count.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Callable

from ..errors import ConversionError, SourceFormatError
from ..processes import signal_name, signal_when_parent_dies

#: Set to 1 to print the child's traceback of an unexpected error (as the command does for its own).
TRACEBACK_ENVIRONMENT_VARIABLE = "NWB_CONVERSIONS_TRACEBACK"


#: Threads that hold no lock a quicklook child needs: tqdm's progress-bar monitor.
HARMLESS_THREAD_TYPES = ("TMonitor",)


def can_fork() -> bool:
    """Whether the work may run in a forked child: ``os.fork`` exists and no other Python thread works."""
    others = [thread for thread in threading.enumerate() if thread is not threading.main_thread()]
    return hasattr(os, "fork") and threading.current_thread() is threading.main_thread() and all(
        type(thread).__name__ in HARMLESS_THREAD_TYPES for thread in others)


def outcome_of(error: BaseException) -> dict:
    """An exception as plain data the parent can raise again (:func:`raise_outcome`)."""
    if isinstance(error, ConversionError):
        return {"kind": "conversion", "message": str(error)}
    if isinstance(error, OSError):
        return {"kind": "os", "errno": error.errno, "strerror": error.strerror, "filename": error.filename,
                "message": str(error)}
    if isinstance(error, KeyboardInterrupt):
        return {"kind": "interrupted"}
    if isinstance(error, MemoryError):
        return {"kind": "memory"}
    if os.environ.get(TRACEBACK_ENVIRONMENT_VARIABLE):
        traceback.print_exception(error, file=sys.stderr)
    return {"kind": "unexpected", "type": type(error).__name__, "message": str(error)}


def raise_outcome(outcome: dict) -> None:
    """Raise in the parent what the child raised (an unexpected error keeps its type's name)."""
    kind = outcome["kind"]
    if kind == "conversion":
        raise ConversionError(outcome["message"])
    if kind == "os":
        if outcome["errno"] is None:
            raise OSError(outcome["message"])
        raise OSError(outcome["errno"], outcome["strerror"], outcome["filename"])
    if kind == "interrupted":
        raise KeyboardInterrupt
    if kind == "memory":
        raise MemoryError
    raise type(outcome["type"], (Exception,), {})(outcome["message"])


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this child when its parent dies (Linux), so that a killed worker's child cannot finish
    a PNG after the batch has cleaned up; leave at once if the parent is already gone."""
    signal_when_parent_dies(signal.SIGKILL)  # not Linux: the child finishes on its own
    if os.getppid() != parent:
        os._exit(1)


def child(work: Callable[[], dict], write_end: int, parent: int) -> None:
    """In the child: run ``work``, write its outcome, and leave at once (never back into the parent's code)."""
    status = 1
    try:
        die_with_parent(parent)
        try:
            outcome = {"kind": "result", "result": work()}
        except BaseException as error:  # everything goes back to the parent
            outcome = outcome_of(error)
        with os.fdopen(write_end, "w", encoding="utf-8") as stream:
            json.dump(outcome, stream)
        status = 0
    finally:
        os._exit(status)


def run_isolated(work: Callable[[], dict], nwbfile_path: Path, leftovers: Callable[[int], Path]) -> dict:
    """Run ``work`` (which returns JSON-able data) in a forked child when :func:`can_fork`, else here.

    Parameters
    ----------
    work : callable
        Reads ``nwbfile_path`` and writes the PNG; returns plain data.
    nwbfile_path : Path
        Named in the error when the child dies.
    leftovers : callable
        ``leftovers(pid)``: the temporary file a child with that pid may leave; removed when the child dies.
    """
    if not can_fork():
        return work()
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        child(work, write_end, parent)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "r", encoding="utf-8") as stream:
            text = stream.read()
        _, status = os.waitpid(pid, 0)
    except BaseException:  # Ctrl-C or SIGTERM here: the child goes too
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        leftovers(pid).unlink(missing_ok=True)
        raise
    if os.WIFSIGNALED(status) or not text:
        leftovers(pid).unlink(missing_ok=True)
        how = signal_name(os.WTERMSIG(status)) if os.WIFSIGNALED(status) else f"exit status {os.WEXITSTATUS(status)}"
        raise SourceFormatError(nwbfile_path, f"reading it crashed the reader process ({how}: a C library such as "
                                "HDF5 failed on damaged content, or the process ran out of memory)",
                                "an undamaged NWB file or store (a fresh copy)")
    outcome = json.loads(text)
    if outcome["kind"] != "result":
        raise_outcome(outcome)
    return outcome["result"]
