"""One quicklook PNG per NWB file: collect the panels that fit its content, lay them out, save atomically."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConversionError
from . import ephys, ophys, text, units
from .layout import LaidOutFigure, Panel, axes_with_data, lay_out


def collect_panels(nwbfile, *, nwbfile_path=None, report=None) -> list[Panel]:
    """The text panel, then every ephys, units and imaging panel the file's content calls for (titles unique)."""
    panels = [text.panel(nwbfile, nwbfile_path=nwbfile_path, report=report)]
    panels += ephys.panels(nwbfile) + units.panels(nwbfile) + ophys.panels(nwbfile)
    seen = {}
    for panel in panels:
        seen[panel.title] = seen.get(panel.title, 0) + 1
        if seen[panel.title] > 1:
            panel.title = f"{panel.title} ({seen[panel.title]})"
    return panels


def draw_quicklook(nwbfile, *, nwbfile_path=None, report=None) -> LaidOutFigure:
    """Draw the quicklook figure of an open (lazily read) NWB file.

    Parameters
    ----------
    nwbfile : pynwb.NWBFile
        Read from a file: every panel reads only slices of its datasets.
    nwbfile_path : str or Path, optional
        Shown in the text panel with the file's size.
    report : InspectionReport, optional
        The nwbinspector gate's report, whose counts the text panel shows.
    """
    return lay_out(collect_panels(nwbfile, nwbfile_path=nwbfile_path, report=report))


@contextmanager
def open_nwbfile(nwbfile_path: Path):
    """Open an NWB file (HDF5, or a Zarr folder) for lazy reading; refuse what is not one in one line."""
    from ..publishing.gate import check_readable_nwb

    if nwbfile_path.is_dir() and (nwbfile_path / ".zgroup").is_file():
        from hdmf_zarr.nwb import NWBZarrIO as reader
    else:
        from pynwb import NWBHDF5IO as reader
    try:
        io = reader(str(nwbfile_path), "r")
        nwbfile = io.read()
    except Exception:
        check_readable_nwb(nwbfile_path)  # says in one line what is wrong with the file
        raise
    with io:
        yield nwbfile


@dataclass
class QuicklookResult:
    """A written quicklook.

    Attributes
    ----------
    png_path : Path
    panels : list of str
        Titles of the panels drawn.
    boxes : dict
        Panel title → the pixel boxes ``(left, top, right, bottom)`` in the PNG of its Axes that hold data.
    failures : dict
        Panel title → why it could not be drawn (the figure says so in its place).
    """

    png_path: Path
    panels: list[str] = field(default_factory=list)
    boxes: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)


def pixel_boxes(drawn: LaidOutFigure) -> dict:
    """Each panel's Axes that hold data, as ``(left, top, right, bottom)`` pixel boxes of the saved PNG."""
    height = drawn.figure.bbox.height
    boxes = {}
    for title, axes_list in drawn.axes.items():
        boxes[title] = []
        for axes in axes_list:
            if axes_with_data(axes):
                box = axes.get_window_extent()
                boxes[title].append((round(box.x0), round(height - box.y1), round(box.x1), round(height - box.y0)))
    return boxes


def default_png_path(nwbfile_path: str | Path) -> Path:
    """``session.nwb`` → ``session.png`` beside it."""
    return Path(nwbfile_path).with_suffix(".png")


def check_png_path(png_path: Path, nwbfile_path: Path) -> None:
    """Refuse a PNG path that is not ``.png``, is a folder, is the NWB file, or lies in a missing folder."""
    expected = "a .png path in an existing folder, other than the NWB file"
    if png_path.suffix.lower() != ".png":
        raise ConversionError(f"{png_path}: not a .png file name; expected {expected}")
    if png_path.is_dir():
        raise ConversionError(f"{png_path}: is a folder; expected {expected}")
    if png_path.exists() and nwbfile_path.exists() and png_path.resolve() == nwbfile_path.resolve():
        raise ConversionError(f"{png_path}: is the NWB file itself; expected {expected}")
    if not png_path.parent.is_dir():
        raise ConversionError(f"{png_path}: the folder {png_path.parent} does not exist; expected {expected}")


def write_quicklook(
    nwbfile_path: str | Path, png_path: str | Path | None = None, *, report=None, inspect: bool = True
) -> QuicklookResult:
    """Draw the quicklook of an NWB file into a PNG (replacing an earlier quicklook at that path).

    Parameters
    ----------
    nwbfile_path : str or Path
    png_path : str or Path, optional
        Default: the NWB file's path with ``.png``.
    report : InspectionReport, optional
        The gate's report if it already ran (a conversion's); otherwise the gate runs here when ``inspect``.
    inspect : bool, default: True
        Run the nwbinspector gate for the text panel's counts when no ``report`` is given.

    Raises
    ------
    ConversionError
        The file is not a readable NWB file, or the PNG path is unusable.
    """
    nwbfile_path = Path(nwbfile_path)
    png_path = Path(png_path) if png_path is not None else default_png_path(nwbfile_path)
    check_png_path(png_path, nwbfile_path)
    with open_nwbfile(nwbfile_path) as nwbfile:
        if report is None and inspect and not nwbfile_path.is_dir():
            from ..publishing.gate import inspect_file

            report = inspect_file(nwbfile_path, missing_subject_fields=text.missing_subject_fields(nwbfile))
        drawn = draw_quicklook(nwbfile, nwbfile_path=nwbfile_path, report=report)
        temporary = png_path.with_name(f".{png_path.stem}.partial-{os.getpid()}.png")
        try:
            drawn.figure.savefig(temporary, format="png")
            os.replace(temporary, png_path)
        finally:
            temporary.unlink(missing_ok=True)
    return QuicklookResult(png_path=png_path, panels=list(drawn.axes), boxes=pixel_boxes(drawn),
                           failures=drawn.failures)
