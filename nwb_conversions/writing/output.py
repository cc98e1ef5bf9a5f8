"""Atomic output: a file or folder is written under a temporary name beside the target and renamed into place.

Nothing is left behind by a failed run: the temporary file is removed, and so are the folders created for the output.
The target is checked again at the last moment (:func:`publish`), so two runs onto one new path cannot both succeed
and a symlink swapped during the run cannot make the conversion overwrite one of its sources. Temporary files of runs
that were killed are found by their name (:func:`partial_path`) and removed by :func:`remove_stale_partials`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ConversionError, OutputExistsError


def refuse_source_target(output_path: Path, sources) -> None:
    """Raise if ``output_path``, as it resolves at this moment, is one of ``sources``.

    Checked again just before an output is replaced: a symlink swapped during the run must not make the conversion
    overwrite a file it reads.
    """
    resolved = output_path.resolve()
    if any(resolved == Path(source).resolve() for source in sources):
        raise ConversionError(
            f"{output_path}: now resolves to a source file of this conversion; expected an output path that "
            "is not read by the conversion"
        )


def publish(temporary_path: Path, output_path: Path, *, overwrite: bool, sources: tuple[Path, ...] = ()) -> None:
    """Move the finished temporary file to ``output_path``, checking the target again at the last moment.

    Without ``overwrite`` the move is exclusive: a hard link that fails if anything (a file another run wrote
    meanwhile, a dangling symlink) has appeared at the path; on a file system without hard links, an exclusive
    create reserves the name first. With ``overwrite`` only a regular file or a symlink is replaced, never a
    folder, FIFO or device, and never one of ``sources``.

    Raises
    ------
    OutputExistsError
        If the target appeared during the run and ``overwrite`` is false.
    ConversionError
        If the target is not a regular file, or is a source.
    """
    if overwrite:
        try:
            mode = os.lstat(output_path).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise ConversionError(
                f"{output_path}: is not a regular file (a folder, FIFO, socket or device); expected a path to a "
                "new or an existing .nwb file"
            )
        refuse_source_target(output_path, sources)
        os.replace(temporary_path, output_path)
        return
    try:
        os.link(temporary_path, output_path)
    except FileExistsError:
        raise OutputExistsError(output_path) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        try:  # no hard links here: reserve the name exclusively, then move the file onto the reservation
            os.close(os.open(output_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            raise OutputExistsError(output_path) from None
        os.replace(temporary_path, output_path)
        return
    os.unlink(temporary_path)


#: The temporary file's name: ``.<stem>.partial-<pid><suffix>`` beside the target, the stem cut so that the name
#: stays within file systems' 255-byte limit whenever the target's own name does.
PARTIAL_STEM_CHARACTERS = 200


def marked_path(output_path: Path, marker: str, pid: int) -> Path:
    """``.<stem>.<marker>-<pid><suffix>`` beside ``output_path``: a temporary name of the run with process id ``pid``
    (``partial`` for what it writes, ``previous`` for a store it moves aside)."""
    stem = output_path.stem[:PARTIAL_STEM_CHARACTERS]
    return output_path.with_name(f".{stem}.{marker}-{pid}{output_path.suffix[:16]}")


def partial_path(output_path: Path, pid: int) -> Path:
    """The temporary file of the run with process id ``pid`` writing ``output_path``."""
    return marked_path(output_path, "partial", pid)


def _process_is_running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie, ended but not yet reaped, is not running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            return stat_file.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def left_by_killed_runs(output_path: Path, marker: str) -> list[Path]:
    """The paths beside ``output_path`` named as :func:`marked_path` names them with ``marker``, whose process is
    not running (nor this one)."""
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


def remove_stale_partials(output_path: str | Path) -> list[Path]:
    """Remove the temporary files that killed runs (e.g. SIGKILL, a power cut) left beside ``output_path``.

    Only files named as :func:`partial_path` names them, whose process is no longer running, are removed.

    Returns
    -------
    list of Path
        The files removed, for a note.
    """
    removed = []
    for path in left_by_killed_runs(Path(output_path), "partial"):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def hdf5_io_failure(error: Exception) -> OSError | None:
    """The ``OSError`` inside an HDF5 error message (``errno = 28, error message = '...'``), or None."""
    import re

    match = re.search(r"errno = (\d+), error message = '([^']*)'", str(error))
    return OSError(int(match.group(1)), match.group(2)) if match else None


def os_error_of_output(error: OSError, output_path: Path, temporary_path: Path) -> ConversionError:
    """Name the right file for an ``OSError`` raised while writing: a source that could not be read, or the
    output that could not be written."""
    from ..errors import SourceFormatError, describe_os_error

    filename = error.filename
    if filename is not None and Path(filename) not in (output_path, temporary_path, output_path.parent):
        reason = error.strerror or " ".join(str(error).split())
        return SourceFormatError(filename, f"cannot be read ({reason})", "a readable source file")
    described = describe_os_error(error)
    return ConversionError(f"{output_path}: could not be written: {described.split(': ', 1)[-1]}")


@contextlib.contextmanager
def published_on_success(
    output_path: Path,
    temporary_path: Path,
    *,
    publish: Callable[[], None],
    discard: Callable[[], None],
    failure: Callable[[Exception], Exception | None],
) -> Iterator[Path]:
    """Create the output's folders and yield ``temporary_path``; call ``publish()`` if the block succeeds.

    An ``OSError`` or ``RuntimeError`` on the way is raised as ``failure(error)`` instead, unless that is None.
    ``discard()`` then removes whatever is left at ``temporary_path``, whatever happened. If the block or the
    publishing fails, the folders created for the output are removed again (deepest first, if left empty).
    """
    new_folders = [folder for folder in (output_path.parent, *output_path.parent.parents) if not folder.exists()]
    succeeded = False
    try:
        output_path.parent.mkdir(parents=True, exist_ok=True)
        yield temporary_path
        publish()
        succeeded = True
    except (OSError, RuntimeError) as error:
        described = failure(error)
        if described is None:
            raise
        raise described from error
    finally:
        discard()
        if not succeeded:
            for folder in new_folders:  # deepest first: remove only the folders this call made, if left empty
                with contextlib.suppress(OSError):
                    folder.rmdir()


def output_failure(error: Exception, output_path: Path, temporary_path: Path) -> ConversionError | None:
    """The one-line error of an ``OSError`` (or an HDF5 ``RuntimeError`` holding one) raised while writing a file."""
    if isinstance(error, RuntimeError):  # HDF5 reports a failed write (disk full, size limit) as a RuntimeError
        error = hdf5_io_failure(error)
        if error is None:
            return None
    return os_error_of_output(error, output_path, temporary_path)


@contextlib.contextmanager
def atomic_output(
    output_path: str | Path, *, overwrite: bool = False, sources: tuple[Path, ...] | list[Path] = ()
) -> Iterator[Path]:
    """Yield a temporary path beside ``output_path``; move it to ``output_path`` only if the block succeeds.

    The existence of ``output_path`` is checked before any work and again at the end (:func:`publish`), so two
    runs onto one new path cannot both succeed. Folders created for the output are removed again if the block
    fails.

    Raises
    ------
    OutputExistsError
        If ``output_path`` exists (before or after the work) and ``overwrite`` is false.
    ConversionError
        If the file cannot be written (an ``OSError`` from the file system).
    """
    output_path = Path(output_path)
    if (output_path.exists() or output_path.is_symlink()) and not overwrite:
        raise OutputExistsError(output_path)
    temporary_path = partial_path(output_path, os.getpid())

    def discard() -> None:
        with contextlib.suppress(OSError):
            temporary_path.unlink(missing_ok=True)

    with published_on_success(
        output_path,
        temporary_path,
        publish=lambda: publish(temporary_path, output_path, overwrite=overwrite, sources=tuple(sources)),
        discard=discard,
        failure=lambda error: output_failure(error, output_path, temporary_path),
    ):
        yield temporary_path
