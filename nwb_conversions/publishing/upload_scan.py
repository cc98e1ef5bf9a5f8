"""What ``convert-to-nwb upload`` takes from OUTPUT_DIR: its ``.nwb`` files, and nothing it does not recognize.

Before anything is organized or sent, every entry under OUTPUT_DIR must be one of:

* an ``.nwb`` file (HDF5) that opens as NWB: these are uploaded;
* a file convert-to-nwb writes beside its outputs: the batch reports (``batch_report.json``, ``batch_report.csv``,
  ``report.html``) at the top, and a quicklook PNG beside its NWB file (``x.nwb`` → ``x.png`` or ``x.nwb.png``);
* a dot file or dot folder (the batch's sidecars ``.<name>.batch.json`` and lock, and anything else ``dandi``
  itself skips), or a folder holding a ``dandiset.yaml`` (an organized Dandiset), whose contents are not looked at.

A folder a batch is still writing into (its lock is held: :func:`refuse_running_batch`) is refused as a whole.

Refused, naming the path: any other file (a stray file: a source, a note, an output of another tool), an NWB-Zarr
store or any other Zarr folder (dandi 0.81 organizes and validates only NWB files in HDF5: its Zarr assets carry no
NWB metadata, so a store would not be named or checked as a session), a temporary output (``.partial-`` or
``.previous-``: a conversion is writing, or was killed), a link to a folder, and an ``.nwb`` that does not open.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConversionError

#: The batch's reports, at the top of OUTPUT_DIR.
TOOL_REPORT_NAMES = ("batch_report.json", "batch_report.csv", "report.html")

#: Name parts of an output being written or replaced (:mod:`nwb_conversions.writing.output`, ``folder_output``).
TEMPORARY_MARKERS = (".partial-", ".previous-")

#: Folder name endings of Zarr stores, as dandi classifies them.
ZARR_SUFFIXES = (".zarr", ".ngff")

#: Said at the end of every refusal.
NOTHING_SENT = "nothing was uploaded"

#: The lock a running batch holds on its output folder (``nwb_conversions.batch.lock.LOCK_NAME``).
BATCH_LOCK_NAME = ".batch.lock"


def is_quicklook_png(path: Path) -> bool:
    """A quicklook PNG beside its NWB file: ``x.png`` or ``x.nwb.png`` for ``x.nwb``."""
    if path.suffix.lower() != ".png":
        return False
    stem = path.name[: -len(".png")].removesuffix(".nwb")
    return any((path.parent / f"{stem}{suffix}").exists() for suffix in (".nwb", ".nwb.zarr"))


def refuse_zarr(path: Path) -> None:
    raise ConversionError(
        f"{path}: is a Zarr store; expected .nwb (HDF5) files: dandi 0.81 organizes and validates only NWB files in "
        f"HDF5 (its Zarr assets carry no NWB metadata), so convert with --backend hdf5 to upload; {NOTHING_SENT}"
    )


def is_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary output's: a dot name holding one of :data:`TEMPORARY_MARKERS`."""
    return name.startswith(".") and any(marker in name for marker in TEMPORARY_MARKERS)


def refuse_temporary(path: Path) -> None:
    raise ConversionError(
        f"{path}: is the temporary output of a conversion that is running or was killed; expected a finished "
        f"batch (re-run it: it removes what killed runs left); {NOTHING_SENT}"
    )


def judge_folder(path: Path, top: Path) -> bool:
    """Whether to look inside the folder ``path``; refuse a Zarr store or a link to a folder."""
    if is_temporary(path.name):
        refuse_temporary(path)
    if path.name.startswith(".") or (path / "dandiset.yaml").exists():
        return False
    if path.is_symlink():
        raise ConversionError(
            f"{path}: is a link to a folder; expected the outputs themselves under {top}; {NOTHING_SENT}"
        )
    if path.name.endswith(ZARR_SUFFIXES) or os.path.lexists(path / ".zgroup") or os.path.lexists(path / "zarr.json"):
        refuse_zarr(path)
    return True


def judge_file(path: Path, top: Path, strays: list[Path]) -> bool:
    """Whether the file ``path`` is an NWB file to upload; strays are collected, temporary outputs refused."""
    name = path.name
    if is_temporary(name):
        refuse_temporary(path)
    if name.startswith("."):
        return False
    if name.endswith(".nwb"):
        return True
    if (path.parent == top and name in TOOL_REPORT_NAMES) or is_quicklook_png(path):
        return False
    strays.append(path)
    return False


def raise_stray(strays: list[Path], top: Path) -> None:
    more = f" (and {len(strays) - 1} more)" if len(strays) > 1 else ""
    raise ConversionError(
        f"{strays[0]}: is not an NWB file, nor a report, quicklook or sidecar that convert-to-nwb writes beside its "
        f"outputs{more}; expected only NWB outputs under {top} (move other files elsewhere); {NOTHING_SENT}"
    )


def nwb_files_under(output_dir: Path) -> list[Path]:
    """The ``.nwb`` files under ``output_dir`` to upload, after judging every entry (see the module docstring).

    Raises
    ------
    ConversionError
        Naming a stray file, a Zarr store, a temporary output, a link to a folder, or a folder that cannot be read.
    """
    found, strays, pending = [], [], [output_dir]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            raise ConversionError(
                f"{folder}: cannot be listed ({error.strerror or error}); expected a readable folder; {NOTHING_SENT}"
            ) from None
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir():  # a link to a folder too: judged (and refused) as a folder
                if judge_folder(path, output_dir):
                    pending.append(path)
            elif not entry.is_file() and not entry.name.startswith("."):
                raise ConversionError(
                    f"{path}: is not a regular file (a FIFO, socket, device or dangling link); expected only NWB "
                    f"outputs under {output_dir}; {NOTHING_SENT}"
                )
            elif judge_file(path, output_dir, strays):
                found.append(path)
    if strays:
        raise_stray(sorted(strays), output_dir)
    return sorted(found)


def refuse_running_batch(output_dir: Path) -> None:
    """Refuse to upload while a batch writes into ``output_dir`` (it holds an exclusive ``flock`` on its lock file).

    The lock is only tested: a shared lock taken and released at once, never waited for.

    Raises
    ------
    ConversionError
    """
    import fcntl

    try:
        descriptor = os.open(output_dir / BATCH_LOCK_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # no batch ever ran here (or not a file we may open): nothing to wait for
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ConversionError(
            f"{output_dir}: a batch is writing into this folder (it holds {BATCH_LOCK_NAME}); expected a finished "
            f"batch: upload when it has ended; {NOTHING_SENT}"
        ) from None
    except OSError:
        pass
    finally:
        os.close(descriptor)


def check_readable(files: list[Path]) -> None:
    """Open every NWB file before anything is organized: the first that does not open is one line.

    Raises
    ------
    ConversionError
    """
    from .gate import check_readable_nwb

    for path in files:
        try:
            check_readable_nwb(path)
        except OSError as error:
            raise ConversionError(
                f"{path}: cannot be read ({error.strerror or error}); expected a readable NWB file; {NOTHING_SENT}"
            ) from None
        except ConversionError as error:
            raise ConversionError(f"{error}; {NOTHING_SENT}") from None
