"""Atomic output of a folder (an NWB-Zarr store), with the guarantees of the HDF5 file's (:mod:`.output`).

The store is written to a temporary folder beside the target (:func:`.output.partial_path`: a killed run's is found
and removed by the next run), checked, and renamed into place at the very end:

* without ``overwrite``, by an exclusive rename (Linux ``renameat2`` with ``RENAME_NOREPLACE``) that fails if
  anything has appeared at the target meanwhile, so two runs onto one new path cannot both succeed; on systems
  without it, the name is reserved with an exclusive ``mkdir`` and the store renamed onto that empty folder;
* with ``overwrite``, only an NWB-Zarr store (:func:`is_zarr_store`) is replaced, never a file, a link, a FIFO or a
  folder that is not one, and never a source: the two folders are swapped in one step (``RENAME_EXCHANGE``), so a
  kill at any moment leaves either the old store or the new one at the target, and the old one, now under the
  temporary name, is deleted (or, if killed, by the next run). Without the exchange, the old store is moved aside,
  the new one renamed in, and the old one deleted; a run killed in between leaves the
  old store aside (:func:`aside_path`), and the next run puts it back (:func:`recover_stale_folders`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Iterator

from ..errors import ConversionError, OutputExistsError
from .output import PARTIAL_STEM_CHARACTERS, _process_is_running, partial_path, published_on_success, refuse_source_target

#: ``renameat2`` flags (linux/fs.h) and the "current folder" descriptor.
RENAME_NOREPLACE, RENAME_EXCHANGE, AT_FDCWD = 1, 2, -100

#: Errors meaning "this system or file system cannot rename with these flags": use the portable way instead.
UNSUPPORTED = (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP)

#: The largest root ``.zattrs`` read to tell an NWB-Zarr store.
ROOT_ATTRIBUTES_LIMIT_BYTES = 16 * 2**20


def is_zarr_store(path: str | Path) -> bool:
    """True if ``path`` is a folder (not a link) holding an NWB-Zarr store: a ``.zgroup`` file and a root
    ``.zattrs`` naming ``NWBFile``. The only kind of folder an output may replace."""
    path = Path(path)
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode) or not stat.S_ISREG(os.lstat(path / ".zgroup").st_mode):
            return False
        attributes_status = os.lstat(path / ".zattrs")
        if not stat.S_ISREG(attributes_status.st_mode) or attributes_status.st_size > ROOT_ATTRIBUTES_LIMIT_BYTES:
            return False
        attributes = json.loads((path / ".zattrs").read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(attributes, dict) and attributes.get("neurodata_type") == "NWBFile"


def renameat2_function():
    """libc's ``renameat2``, or None where the C library lacks it."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def rename_with_flags(source: Path, target: Path, flags: int) -> bool:
    """Rename ``source`` to ``target`` with ``renameat2`` ``flags``; False where that is not supported.

    Raises
    ------
    OSError
        ``FileExistsError`` for ``RENAME_NOREPLACE`` onto an existing path, and any other failure.
    """
    function = renameat2_function()
    if function is None:
        return False
    if function(AT_FDCWD, os.fsencode(source), AT_FDCWD, os.fsencode(target), flags) == 0:
        return True
    number = ctypes.get_errno()
    if number in UNSUPPORTED:
        return False
    raise OSError(number, os.strerror(number), str(source), None, str(target))


def aside_path(output_path: Path, pid: int) -> Path:
    """Where the run with process id ``pid`` moves the store it replaces, when folders cannot be swapped."""
    stem = output_path.stem[:PARTIAL_STEM_CHARACTERS]
    return output_path.with_name(f".{stem}.previous-{pid}{output_path.suffix[:16]}")


def left_by_killed_runs(output_path: Path, marker: str) -> list[Path]:
    """The paths beside ``output_path`` named ``.<stem>.<marker>-<pid><suffix>`` whose process is not running."""
    prefix, suffix = f".{output_path.stem[:PARTIAL_STEM_CHARACTERS]}.{marker}-", output_path.suffix[:16]
    try:
        names = sorted(os.listdir(output_path.parent))
    except OSError:
        return []
    found = []
    for name in names:
        pid = name[len(prefix) : len(name) - len(suffix) if suffix else None]
        if name.startswith(prefix) and name.endswith(suffix) and pid.isdigit() and int(pid) != os.getpid():
            if not _process_is_running(int(pid)):
                found.append(output_path.parent / name)
    return found


def recover_stale_folders(output_path: str | Path) -> tuple[list[Path], list[Path]]:
    """Clean up after killed runs that wrote the store ``output_path``: remove their temporary folders, and put back
    a store one of them had moved aside to replace it (or remove it, if the target holds a store again).

    Returns
    -------
    removed, restored : list of Path
        What was removed, and the stores put back, for a note.
    """
    output_path = Path(output_path)
    removed, restored = [], []
    for path in left_by_killed_runs(output_path, "partial"):
        if path.is_dir() and not path.is_symlink():  # a killed HDF5 run's file is :func:`.output`'s to remove
            remove_tree(path)
            removed.append(path)
    for path in left_by_killed_runs(output_path, "previous"):
        if not (output_path.exists() or output_path.is_symlink()) and is_zarr_store(path):
            os.rename(path, output_path)
            restored.append(path)
        else:
            remove_tree(path)
            removed.append(path)
    return removed, restored


def refuse_unreplaceable(output_path: Path) -> None:
    """Say what is at ``output_path`` that an NWB-Zarr output may not replace.

    Raises
    ------
    ConversionError
    """
    mode = os.lstat(output_path).st_mode
    kind = (
        "a symbolic link" if stat.S_ISLNK(mode)
        else "a folder" if stat.S_ISDIR(mode)
        else "a file" if stat.S_ISREG(mode)
        else "a FIFO, socket or device"
    )
    raise ConversionError(
        f"{output_path}: is {kind}, not an NWB-Zarr store (a folder with .zgroup and a root .zattrs naming "
        "NWBFile); expected a new path, or an NWB-Zarr store to replace with --overwrite"
    )


def check_replaceable_store(output_path: Path, sources: tuple[Path, ...]) -> None:
    """Refuse to replace anything but an existing NWB-Zarr store that is not a source."""
    if not (output_path.exists() or output_path.is_symlink()):
        return
    if not is_zarr_store(output_path):
        refuse_unreplaceable(output_path)
    refuse_source_target(output_path, sources)


def check_zarr_target(output_path: Path, *, overwrite: bool) -> None:
    """Before any work: an NWB-Zarr output may replace only an NWB-Zarr store, and only with ``overwrite``.

    Raises
    ------
    ConversionError
    """
    if overwrite or output_path.is_dir():
        check_replaceable_store(output_path, ())


def publish_new(temporary_path: Path, output_path: Path) -> None:
    """Rename the finished store to ``output_path`` only if nothing is there (see the module docstring)."""
    try:
        if rename_with_flags(temporary_path, output_path, RENAME_NOREPLACE):
            return
        os.mkdir(output_path)  # no renameat2 here: reserve the name exclusively
    except FileExistsError:
        raise OutputExistsError(output_path) from None
    os.rename(temporary_path, output_path)  # onto the empty folder just reserved: atomic on POSIX


def publish_replacing(temporary_path: Path, output_path: Path, sources: tuple[Path, ...]) -> None:
    """Put the finished store at ``output_path`` in place of the NWB-Zarr store there (or of nothing); the old store
    ends under the temporary name (deleted by the caller) or is deleted here."""
    check_replaceable_store(output_path, sources)
    if not (output_path.exists() or output_path.is_symlink()):
        try:
            if rename_with_flags(temporary_path, output_path, RENAME_NOREPLACE):
                return
            os.rename(temporary_path, output_path)  # no renameat2 here; refuses a file or a folder with content
            return
        except FileExistsError:  # appeared meanwhile: judged now, then swapped
            check_replaceable_store(output_path, sources)
    if rename_with_flags(temporary_path, output_path, RENAME_EXCHANGE):
        if not is_zarr_store(temporary_path):  # swapped something that appeared after the check: put it back
            rename_with_flags(temporary_path, output_path, RENAME_EXCHANGE)
            check_replaceable_store(output_path, sources)
        return
    previous = aside_path(output_path, os.getpid())
    os.rename(output_path, previous)
    try:
        os.rename(temporary_path, output_path)
    except OSError:
        os.rename(previous, output_path)
        raise
    shutil.rmtree(previous)


def publish_folder(temporary_path: Path, output_path: Path, *, overwrite: bool, sources: tuple[Path, ...] = ()) -> None:
    """Move the finished temporary store to ``output_path`` (see the module docstring).

    Raises
    ------
    OutputExistsError
        If the target exists and ``overwrite`` is false.
    ConversionError
        If the target is not an NWB-Zarr store, or is a source.
    """
    if overwrite:
        publish_replacing(temporary_path, output_path, sources)
    else:
        publish_new(temporary_path, output_path)


def remove_tree(path: Path) -> None:
    """Remove a folder (or a file or link) at ``path``, if anything is there."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


def store_failure(error: Exception, output_path: Path) -> ConversionError | None:
    """The one-line error of an ``OSError`` raised while writing a store; None for anything else."""
    if not isinstance(error, OSError):
        return None
    return ConversionError(
        f"{output_path}: could not be written ({error.strerror or error}); expected a writable location with free space"
    )


@contextlib.contextmanager
def atomic_folder_output(
    output_path: str | Path, *, overwrite: bool = False, sources: tuple[Path, ...] | list[Path] = ()
) -> Iterator[Path]:
    """Yield a temporary folder path beside ``output_path``; move it there only if the block succeeds.

    Raises
    ------
    OutputExistsError
        If ``output_path`` exists (before or after the work) and ``overwrite`` is false.
    ConversionError
        If the target cannot be replaced, or the store cannot be written (an ``OSError``).
    """
    output_path = Path(output_path)
    if (output_path.exists() or output_path.is_symlink()) and not overwrite:
        raise OutputExistsError(output_path)
    if overwrite:
        check_replaceable_store(output_path, tuple(sources))
    temporary_path = partial_path(output_path, os.getpid())
    with published_on_success(
        output_path,
        temporary_path,
        publish=lambda: publish_folder(temporary_path, output_path, overwrite=overwrite, sources=tuple(sources)),
        discard=lambda: remove_tree(temporary_path),
        failure=lambda error: store_failure(error, output_path),
    ):
        yield temporary_path
