"""Atomic output of a folder (an NWB-Zarr store), with the guarantees of the HDF5 file's (:mod:`.output`).

The store is written to a temporary folder beside the target (:func:`.output.partial_path`: a killed run's is found
and removed by the next run), checked, and renamed into place at the very end:

* without ``overwrite``, by an exclusive rename (Linux ``renameat2`` with ``RENAME_NOREPLACE``) that fails if
  anything has appeared at the target meanwhile, so two runs onto one new path cannot both succeed; on systems
  without it, the name is reserved with an exclusive ``mkdir`` and the store renamed onto that empty folder;
* with ``overwrite``, only an NWB-Zarr store (:func:`.zarr_target.is_zarr_store`) is replaced, never a file, a
  link, a FIFO or a folder that is not one, and never a source: the two folders are swapped in one step
  (``RENAME_EXCHANGE``), so a kill at any moment leaves either the old store or the new one at the target, and the
  old one, now under the temporary name, is deleted (or, if killed, by the next run). Without the exchange, the old
  store is moved aside, the new one renamed in, and the old one deleted; a run killed in between leaves the old
  store aside, and the next run puts it back (:mod:`.killed_runs`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
from pathlib import Path
from typing import Iterator

from ..errors import ConversionError, OutputExistsError
from .killed_runs import aside_path
from .output import partial_path, published_on_success
from .zarr_target import check_replaceable_store, is_zarr_store, remove_tree

#: ``renameat2`` flags (linux/fs.h) and the "current folder" descriptor.
RENAME_NOREPLACE, RENAME_EXCHANGE, AT_FDCWD = 1, 2, -100

#: Errors meaning "this system or file system cannot rename with these flags": use the portable way instead.
UNSUPPORTED = (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP)


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
