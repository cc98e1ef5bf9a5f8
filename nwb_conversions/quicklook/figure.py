"""One quicklook PNG per NWB file: collect the panels that fit its content, lay them out, save atomically.

What goes wrong becomes one of two outcomes (:mod:`.checks`): a file that is unreadable, malformed or contradicts
itself is one error and no PNG; a valid file from which one panel cannot be drawn gets a PNG with a note in that
panel's place (:attr:`QuicklookResult.failures`, which the command prints as warnings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..publishing.gate import is_zarr_folder
from . import ephys, ophys, text, units
from .checks import MalformedContent
from .isolation import run_isolated
from .layout import LaidOutFigure, Panel, axes_with_data, failure_text, lay_out, noted_panel
from .opening import open_nwbfile
from .target import check_png_path, default_png_path, save_png, temporary_png_path


#: The panel modules, each with ``panels(nwbfile)``, and the title of the note when one cannot offer its panels.
PANEL_MODULES = (("Extracellular", ephys), ("Units", units), ("Imaging", ophys))


def content_panels(nwbfile) -> list[Panel]:
    """Every ephys, units and imaging panel the file's content calls for.

    A module that cannot offer its panels gets one panel saying why (a note), unless the file is at fault
    (:class:`~.checks.MalformedContent`, a failed read), which stops the quicklook.
    """
    panels = []
    for title, module in PANEL_MODULES:
        try:
            panels += module.panels(nwbfile)
        except (MalformedContent, OSError):
            raise
        except Exception as error:  # one odd object must not cost the curator the other panels
            panels.append(noted_panel(title, failure_text(error)))
    return panels


def with_unique_titles(panels: list[Panel]) -> list[Panel]:
    """The panels, a title seen before numbered (``Title (2)``)."""
    seen = {}
    for panel in panels:
        seen[panel.title] = seen.get(panel.title, 0) + 1
        if seen[panel.title] > 1:
            panel.title = f"{panel.title} ({seen[panel.title]})"
    return panels


def collect_panels(nwbfile, *, nwbfile_path=None, report=None, content: list[Panel] | None = None) -> list[Panel]:
    """The text panel, then the content's panels (:func:`content_panels`, unless given), titles unique."""
    content = content_panels(nwbfile) if content is None else content
    return with_unique_titles([text.panel(nwbfile, nwbfile_path=nwbfile_path, report=report)] + content)


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


def lay_out_file(nwbfile, nwbfile_path: Path, *, report=None, inspect: bool = True) -> LaidOutFigure:
    """Check and gather the content's panels first (a malformed file stops before the gate runs), then the gate
    for the text panel's counts when asked, then draw."""
    content = content_panels(nwbfile)
    if report is None and inspect:
        from ..publishing.gate import inspect_file  # an NWB-Zarr store goes to inspect_zarr_store

        report = inspect_file(nwbfile_path, missing_subject_fields=text.missing_subject_fields(nwbfile))
    return lay_out(collect_panels(nwbfile, nwbfile_path=nwbfile_path, report=report, content=content))


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


def preload(*, zarr: bool, inspect: bool) -> None:
    """Import what reading and drawing need before a child is forked, so that each child does not import it again
    (matplotlib and its font list alone take about a second)."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import matplotlib.font_manager  # noqa: F401
    import pynwb  # noqa: F401

    if zarr:
        import hdmf_zarr.nwb  # noqa: F401
    if inspect:
        import nwbinspector  # noqa: F401


def draw_into(nwbfile_path: Path, png_path: Path, *, report=None, inspect: bool = True) -> dict:
    """Read the NWB file, draw its quicklook and save it as ``png_path``; returns the result's fields as plain data
    (the work :func:`write_quicklook` runs isolated)."""
    with open_nwbfile(nwbfile_path) as nwbfile:
        drawn = lay_out_file(nwbfile, nwbfile_path, report=report, inspect=inspect)
    save_png(drawn.figure, png_path, temporary_png_path(png_path))
    return {"panels": list(drawn.axes), "boxes": pixel_boxes(drawn), "failures": drawn.failures}


def write_quicklook(
    nwbfile_path: str | Path,
    png_path: str | Path | None = None,
    *,
    report=None,
    inspect: bool = True,
    isolated: bool = True,
) -> QuicklookResult:
    """Draw the quicklook of an NWB file (HDF5, or an NWB-Zarr store) into a PNG (replacing an earlier PNG).

    Parameters
    ----------
    nwbfile_path : str or Path
    png_path : str or Path, optional
        Default: the NWB file's path with ``.png``.
    report : InspectionReport, optional
        The gate's report if it already ran (a conversion's); otherwise the gate runs here when ``inspect``.
    inspect : bool, default: True
        Run the nwbinspector gate for the text panel's counts when no ``report`` is given.
    isolated : bool, default: True
        Read and draw in a child process where that is safe (:mod:`.isolation`), so that a crash while reading
        still ends in one error.

    Raises
    ------
    ConversionError
        The file is not a readable NWB file, breaks the NWB schema or contradicts itself where the quicklook reads
        it (:mod:`.checks`), or the PNG path is unusable (:mod:`.target`).
    """
    nwbfile_path = Path(nwbfile_path)
    png_path = Path(png_path) if png_path is not None else default_png_path(nwbfile_path)
    check_png_path(png_path, nwbfile_path)

    def work() -> dict:
        return draw_into(nwbfile_path, png_path, report=report, inspect=inspect)

    if isolated:
        preload(zarr=is_zarr_folder(nwbfile_path), inspect=report is None and inspect)
        drawn = run_isolated(work, nwbfile_path, lambda pid: temporary_png_path(png_path, pid))
    else:
        drawn = work()
    boxes = {title: [tuple(box) for box in boxes] for title, boxes in drawn["boxes"].items()}
    return QuicklookResult(png_path=png_path, panels=drawn["panels"], boxes=boxes, failures=drawn["failures"])
