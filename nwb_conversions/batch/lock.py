"""One batch per output folder: an exclusive lock on ``OUTPUT_DIR/.batch.lock`` held for the batch's life.

The lock is an ``flock`` on the file: the kernel releases it when the holding process ends, however it ends (SIGKILL,
a crash, a power cut), so a lock is never left stale and nobody ever has to delete the file (it stays, a dot file
that ``dandi`` ignores). A second batch onto the same folder, or onto another path of it (a symbolic link, a bind
mount), finds the lock taken and stops with one line before touching anything. With Dask, the client holds the lock
(the ``batch`` command itself): workers write only under tasks the client hands out. On a network file system the lock
works where ``flock`` reaches the server (NFSv4; Lustre mounted with ``-o flock``); elsewhere the batch refuses to
start rather than run unprotected.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ..errors import ConversionError, printable

#: The lock file's name in the output folder.
LOCK_NAME = ".batch.lock"

#: What a lock failure tells the user to do.
ONE_BATCH = "expected one batch per output folder at a time: wait for the other to end, or choose another OUTPUT_DIR"


def holder_of(descriptor: int) -> str:
    """Who holds the lock, as its holder recorded it (``pid 123 on host, since ...``), or "" if unreadable."""
    try:
        record = json.loads(os.pread(descriptor, 4096, 0).decode("utf-8"))
        text = f"pid {int(record['pid'])} on {record['host']}, since {record['since']}"
    except (OSError, ValueError, TypeError, KeyError):
        return ""
    return f" ({printable(text)[:200]})"


def open_lock_file(path: Path) -> tuple[int, bool]:
    """Open (creating if needed) the lock file without following a link or blocking on a pipe; a regular file only.

    Returns
    -------
    descriptor : int
    created : bool
        Whether this call created the file.

    Raises
    ------
    ConversionError
    """
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        try:
            descriptor, created = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644), True
        except FileExistsError:
            descriptor, created = os.open(path, flags), False
    except OSError as error:
        kinds = {errno.ELOOP: "is a symbolic link", errno.EISDIR: "is a folder"}
        problem = kinds.get(error.errno, f"cannot be opened ({error.strerror})")
        expected = "a regular lock file the batch can create and lock"
        raise ConversionError(f"{path}: {problem}; expected {expected}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise ConversionError(f"{path}: is not a regular file; expected a regular lock file the batch can lock")
    return descriptor, created


def acquire(descriptor: int, output_dir: Path) -> None:
    """Take the lock without waiting, then record who holds it.

    Raises
    ------
    BlockingIOError
        If another batch holds it.
    ConversionError
        If the file system cannot lock.
    """
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise
    except OSError as error:
        raise ConversionError(
            f"{output_dir}: cannot be locked ({error.strerror}); expected an output folder on a file system with "
            "file locks (local, NFSv4, Lustre mounted with -o flock), so that two batches cannot write into it at once"
        ) from None
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps(record).encode(), 0)


@contextlib.contextmanager
def output_folder_lock(output_dir: str | Path) -> Iterator[Path]:
    """Create ``output_dir`` if needed and hold its batch lock inside the block.

    If the lock cannot be taken, nothing is changed: a lock held by another batch is left as it is, and otherwise
    the lock file and folders this call created are removed again.

    Raises
    ------
    ConversionError
        If another batch holds the folder's lock, or the lock file cannot be created or locked.
    """
    output_dir = Path(output_dir)
    created = [folder for folder in (output_dir, *output_dir.parents) if not folder.exists()]
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / LOCK_NAME
    descriptor, created_file = None, False
    try:
        descriptor, created_file = open_lock_file(path)
        acquire(descriptor, output_dir)
    except BlockingIOError:  # another batch's: its lock file and folder are not ours to remove
        holder = holder_of(descriptor)
        os.close(descriptor)
        raise ConversionError(f"{output_dir}: another batch is writing into this folder{holder}; {ONE_BATCH}") from None
    except BaseException:
        if descriptor is not None:
            os.close(descriptor)
        if created_file:
            with contextlib.suppress(OSError):
                path.unlink()
        for folder in created:  # deepest first, only if left empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    try:
        yield path
    finally:
        os.close(descriptor)
