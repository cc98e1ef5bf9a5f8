"""What may stand at the path of an NWB-Zarr output: nothing, or (with ``--overwrite``) an NWB-Zarr store.

Never replaced: a file, a symbolic link (even to a store), a FIFO, socket or device, a folder that is not an
NWB-Zarr store (a plain folder, another kind of Zarr store), or a source of the conversion.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from ..errors import ConversionError
from .output import refuse_source_target

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


def remove_tree(path: Path) -> None:
    """Remove a folder (or a file or link) at ``path``, if anything is there."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)
