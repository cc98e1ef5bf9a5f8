"""Where a quicklook PNG goes: the path checked before the NWB file is read, and the PNG saved atomically.

The PNG replaces only an earlier PNG (a file that starts with the PNG signature): never the NWB file itself, a
folder, a FIFO or device, a file of another kind that happens to end in ``.png``, or anything inside an NWB-Zarr
store. It is written under a temporary name beside the target (``.<stem>.partial-<pid>.png``) and renamed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import ConversionError

#: The first bytes of every PNG file.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: What a usable target is, in the one-line errors.
EXPECTED_TARGET = "a .png path in an existing folder, outside the NWB file or store: a new file or an earlier PNG"


def default_png_path(nwbfile_path: str | Path) -> Path:
    """``session.nwb`` → ``session.png`` beside it."""
    return Path(nwbfile_path).with_suffix(".png")


#: Characters of the PNG's stem kept in its temporary name: those of ``writing.output.partial_path``, whose names a
#: batch removes after a worker dies (``batch.leftovers``), so that a long name stays within 255 bytes and matches.
PARTIAL_STEM_CHARACTERS = 200


def temporary_png_path(png_path: Path, pid: int | None = None) -> Path:
    """The temporary name a PNG is written under before it is renamed into place."""
    stem = png_path.stem[:PARTIAL_STEM_CHARACTERS]
    return png_path.with_name(f".{stem}.partial-{pid if pid is not None else os.getpid()}.png")


def refuse(png_path: Path, problem: str) -> None:
    raise ConversionError(f"{png_path}: {problem}; expected {EXPECTED_TARGET}")


def is_within(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (both resolved)."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def check_existing_target(png_path: Path, nwbfile_path: Path) -> None:
    """Refuse an existing target that is the NWB file, not a regular file, or not a PNG."""
    if nwbfile_path.exists() and png_path.resolve() == nwbfile_path.resolve():
        refuse(png_path, "is the NWB file itself")
    if not stat.S_ISREG(png_path.stat().st_mode):
        refuse(png_path, "is not a regular file (a FIFO, socket or device)")
    with open(png_path, "rb") as stream:
        if stream.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            refuse(png_path, "exists and is not a PNG image (only an earlier PNG is replaced)")


def check_png_path(png_path: Path, nwbfile_path: Path) -> None:
    """Refuse a PNG path that is not ``.png``, is a folder, lies in a missing folder or inside an NWB-Zarr store,
    or exists and is not an earlier PNG (:func:`check_existing_target`)."""
    if png_path.suffix.lower() != ".png":
        refuse(png_path, "not a .png file name")
    if png_path.is_dir():
        refuse(png_path, "is a folder")
    if not png_path.parent.is_dir():
        refuse(png_path, f"the folder {png_path.parent} does not exist")
    if nwbfile_path.is_dir() and is_within(png_path, nwbfile_path):
        refuse(png_path, f"lies inside the NWB-Zarr store {nwbfile_path}")
    if png_path.exists():
        check_existing_target(png_path, nwbfile_path)


def save_png(figure, png_path: Path, temporary: Path) -> None:
    """Save ``figure`` as ``png_path``: written to ``temporary``, then renamed (nothing left if either fails)."""
    try:
        figure.savefig(temporary, format="png")
        os.replace(temporary, png_path)
    finally:
        temporary.unlink(missing_ok=True)
