"""Which exact file (or NWB-Zarr folder) a batch's sidecar describes, cheaply enough to check on every re-run.

An HDF5 output is identified by its size, its modification time in nanoseconds and the SHA-256 of its first and
last :data:`FINGERPRINT_BYTES` bytes. Size catches truncation and appended bytes; the modification time catches any
rewrite in place; the fingerprint catches a different file with the same size and time (``cp -p`` or ``rsync -t``
of another run's output, a restored backup): an HDF5 file's superblock (its first bytes) records the end-of-file
address and the root group, and the metadata flushed last (object headers, the file's identifier and timestamps)
sits near its end. Hashing the whole file would cost a full read of every output on every resume (a 17 GB cell:
~10-20 s); this reads 2 MiB. It is not a checksum of the data: a same-size edit in the middle of a dataset that
preserves the modification time goes unnoticed (that takes deliberate effort; the gate re-inspection then still
runs).

An NWB-Zarr output is a folder of many small files: it is identified by its total size, the newest modification
time of its files, the number of files and the SHA-256 of their listing (relative path, size and modification time
of each), which changes when any file is added, removed, truncated or rewritten.
"""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

from ..errors import ConversionError

#: Bytes hashed at each end of an HDF5 output.
FINGERPRINT_BYTES = 1 << 20


def file_identity(path: Path) -> dict:
    """Size, modification time and head-and-tail SHA-256 of a regular file (never followed through a link)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        status = os.fstat(descriptor)
        digest = hashlib.sha256(os.pread(descriptor, FINGERPRINT_BYTES, 0))
        digest.update(os.pread(descriptor, FINGERPRINT_BYTES, max(0, status.st_size - FINGERPRINT_BYTES)))
    finally:
        os.close(descriptor)
    return {"kind": "file", "size": status.st_size, "mtime_ns": status.st_mtime_ns, "sha256": digest.hexdigest()}


def folder_identity(path: Path) -> dict:
    """Total size, newest modification time, file count and listing SHA-256 of a folder (links not followed)."""
    entries = []
    for folder, subfolders, files in os.walk(path):
        subfolders.sort()
        for name in sorted(files):
            status = os.lstat(os.path.join(folder, name))
            relative = os.path.relpath(os.path.join(folder, name), path)
            entries.append((relative, status.st_size, status.st_mtime_ns))
    listing = "".join(f"{name}\0{size}\0{mtime}\n" for name, size, mtime in entries)
    return {
        "kind": "folder",
        "size": sum(size for _, size, _ in entries),
        "mtime_ns": max((mtime for _, _, mtime in entries), default=0),
        "files": len(entries),
        "sha256": hashlib.sha256(listing.encode("utf-8", "surrogateescape")).hexdigest(),
    }


def output_identity(path: Path) -> dict:
    """The identity of an output: :func:`folder_identity` for a folder (NWB-Zarr), else :func:`file_identity`.

    Raises
    ------
    ConversionError
        If the output is a symbolic link, a device, pipe or socket, or cannot be read.
    """
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode):
            return folder_identity(path)
        if stat.S_ISREG(mode):
            return file_identity(path)
    except OSError as error:
        raise ConversionError(
            f"{path}: cannot be read ({error.strerror}); expected a readable output, or --overwrite to convert the "
            "session again"
        ) from None
    kind = "a symbolic link" if stat.S_ISLNK(mode) else "a device, pipe or socket"
    raise ConversionError(
        f"{path}: is {kind}; expected the output file a batch wrote, or --overwrite to convert the session again"
    )


def _when(mtime_ns) -> str:
    """A modification time in nanoseconds as ISO 8601 (UTC); anything else as it was recorded."""
    try:
        return datetime.fromtimestamp(mtime_ns / 1e9, timezone.utc).isoformat(timespec="microseconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return repr(mtime_ns)[:40]


def describe_difference(recorded: dict, path: Path) -> str:
    """How the output at ``path`` differs from the ``recorded`` identity, in a few words; "" when it is the same.

    Raises
    ------
    ConversionError
        As :func:`output_identity`.
    """
    current = output_identity(path)
    if recorded.get("kind", "file") != current["kind"]:
        return f"it is a {current['kind']}, the record is of a {recorded.get('kind', 'file')}"
    if recorded.get("size") != current["size"]:
        return f"{current['size']} bytes, the record says {recorded.get('size')} (truncated or rewritten)"
    if recorded.get("mtime_ns") != current["mtime_ns"]:
        recorded_time = _when(recorded.get("mtime_ns"))
        return f"modified at {_when(current['mtime_ns'])}, the record says {recorded_time} (rewritten)"
    if recorded.get("files", current.get("files")) != current.get("files"):
        return f"{current['files']} files, the record says {recorded.get('files')}"
    if recorded.get("sha256") != current["sha256"]:
        return "its content fingerprint differs from the record (another file of the same size and time)"
    return ""
