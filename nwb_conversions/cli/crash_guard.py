"""The command runs in a forked child process, so that even a crash ends in one line and leaves nothing behind.

A damaged file can crash a compiled library (HDF5, zlib, Arrow) with a segmentation fault, and the kernel's
out-of-memory killer ends a process with SIGKILL: no ``try`` in Python sees either. ``convert-to-nwb`` therefore forks
once its arguments are parsed (a few milliseconds: the heavy libraries are imported later, in the child) and the
parent only waits. When the child ends normally its exit status is the command's; when a signal kills it, the parent
removes the temporary files the child was writing (``.<name>.partial-<pid>…`` beside the outputs) and prints one
``error:`` line naming the file the command was working on, exit status 1.

Ctrl-C reaches both processes (they share the terminal's process group): the parent ignores it and the child cleans
up as usual. SIGTERM and SIGHUP sent to the parent are passed on to the child. If the parent itself is killed, the
child receives SIGTERM (Linux ``PR_SET_PDEATHSIG``) and cleans up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from pathlib import Path

from ..errors import printable
from ..processes import signal_name, signal_when_parent_dies

#: Set to 1 to run the command in this process (no child): for debuggers and profilers.
NO_FORK_ENVIRONMENT_VARIABLE = "NWB_CONVERSIONS_NO_FORK"

#: Signals the parent passes on to the child.
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def subject_and_folders(args) -> tuple[str, list[Path]]:
    """What the parsed command works on (named in the error line), and the folders its outputs are written to."""
    folders = []
    if getattr(args, "output", None):
        folders.append(Path(args.output).parent)
    if getattr(args, "output_dir", None):
        folders.append(Path(args.output_dir))
    for name in ("source", "file", "release_root", "output_dir"):
        if getattr(args, name, None):
            return str(getattr(args, name)), folders
    files = getattr(args, "files", None) or []
    if files:
        more = f" (or one of the {len(files) - 1} other files given)" if len(files) > 1 else ""
        return f"{files[0]}{more}", folders
    return "convert-to-nwb", folders


def describe_death(signal_number: int) -> str:
    """What a child killed by ``signal_number`` most likely met, in words."""
    name = signal_name(signal_number)
    if signal_number == signal.SIGKILL:
        return f"was killed ({name}: out of memory, or killed by another process)"
    if signal_number in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE):
        return f"crashed in a compiled library ({name}), most likely on damaged data"
    return f"was ended by signal {signal_number} ({name})"


def remove_partials_of(folders: list[Path], pid: int) -> list[Path]:
    """Remove the temporary files and folders of process ``pid`` (``.<name>.partial-<pid>…``) in ``folders``."""
    removed = []
    marker = f".partial-{pid}"
    for folder in dict.fromkeys(folders):
        with contextlib.suppress(OSError):
            for entry in folder.iterdir():
                name = entry.name
                if not (name.startswith(".") and marker in name):
                    continue
                rest = name[name.index(marker) + len(marker) :]
                if rest[:1].isdigit():  # another process whose id starts with these digits
                    continue
                with contextlib.suppress(OSError):
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry)
                    else:
                        entry.unlink()
                    removed.append(entry)
    return removed


def _wait_for(pid: int) -> int:
    """Wait for the child, passing on the signals that ask the command to stop; return its wait status."""
    forward = lambda number, frame: os.kill(pid, number)  # noqa: E731
    previous = {number: signal.signal(number, forward) for number in FORWARDED_SIGNALS}
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return os.waitpid(pid, 0)[1]  # interrupted waits are retried by Python (PEP 475)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_in_child(args) -> int | None:
    """Fork; in the child return None (the caller runs the command there), in the parent wait and return the exit
    status to use. Without ``os.fork`` (or with :data:`NO_FORK_ENVIRONMENT_VARIABLE` set) return None at once."""
    if not hasattr(os, "fork") or os.environ.get(NO_FORK_ENVIRONMENT_VARIABLE):
        return None
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    pid = os.fork()
    if pid == 0:
        signal_when_parent_dies(signal.SIGTERM)
        return None
    code = os.waitstatus_to_exitcode(_wait_for(pid))
    if code >= 0:
        return code
    subject, folders = subject_and_folders(args)
    removed = remove_partials_of(folders, pid)
    left = "its temporary output was removed" if removed else "no output file was left behind"
    print(
        printable(
            f"error: {subject}: the process working on it {describe_death(-code)}; expected a source the libraries "
            f"can read, and enough memory; {left}"
        ),
        file=sys.stderr,
    )
    return 1
