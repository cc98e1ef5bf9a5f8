"""The quicklook figure's layout: panels in a two-column grid, wide panels across both columns.

A :class:`Panel` draws itself into the grid cell it is given (one Axes, or several from a sub-grid); a panel that
cannot be drawn (a :class:`~.checks.PanelNote`, or an unexpected error) says so in its cell instead of losing the
whole figure, and the failure is reported. A malformed file (:class:`~.checks.MalformedContent`) or a read that
fails (``OSError``) stops the whole figure: the file is at fault, not the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from matplotlib.figure import Figure

from .checks import MalformedContent, PanelNote

#: Width of one column and height of one row unit, in inches; resolution of the PNG.
COLUMN_WIDTH_IN = 8.0
ROW_HEIGHT_IN = 3.6
DPI = 100
#: Vertical gap between rows (inches): room for a row's x-axis label and the next row's title.
ROW_GAP_IN = 0.75

#: Text size used throughout the figure (points).
FONT_SIZE = 8

#: Colour of the ground-truth cell throughout the figure (its electrode, traces and spikes).
GROUND_TRUTH_COLOR = "crimson"


@dataclass
class Panel:
    """One panel of the figure.

    Attributes
    ----------
    title : str
        Shown above the panel; also its name in :class:`LaidOutFigure`.
    draw : callable
        ``draw(figure, subplot_spec) -> list of Axes``: creates its Axes inside the cell and draws into them.
    wide : bool
        Spans both columns.
    height : float
        Height in row units.
    """

    title: str
    draw: Callable
    wide: bool = False
    height: float = 1.0


@dataclass
class LaidOutFigure:
    """A drawn figure and the Axes of each panel.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    axes : dict
        Panel title → list of its Axes.
    failures : dict
        Panel title → the error that stopped it from drawing (the cell says so instead).
    """

    figure: Figure
    axes: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)


def arrange_rows(panels: list[Panel]) -> list[list[Panel]]:
    """Pack panels into rows: a wide panel alone, narrow panels two by two in their order (a narrow panel left
    without a partner at the end becomes wide)."""
    rows, half_full = [], None
    for panel in panels:
        if panel.wide:
            rows.append([panel])
        elif half_full is None:
            half_full = len(rows)
            rows.append([panel])
        else:
            rows[half_full].append(panel)
            half_full = None
    return rows


def lay_out(panels: list[Panel]) -> LaidOutFigure:
    """Draw the panels into one figure (no display: a plain matplotlib Figure, rendered by Agg when saved)."""
    rows = arrange_rows(panels)
    heights = [max(panel.height for panel in row) for row in rows]
    height_in = ROW_HEIGHT_IN * sum(heights)
    figure = Figure(figsize=(2 * COLUMN_WIDTH_IN, height_in), dpi=DPI)
    # Fixed margins (in inches) instead of a layout engine: constrained layout draws the figure twice.
    grid = figure.add_gridspec(
        len(rows), 2, height_ratios=heights, left=0.06, right=0.985, wspace=0.16,
        top=1 - 0.15 / height_in, bottom=0.55 / height_in, hspace=ROW_GAP_IN * len(rows) / height_in,
    )
    result = LaidOutFigure(figure=figure)
    for row_number, row in enumerate(rows):
        cells = [grid[row_number, :]] if len(row) == 1 else [grid[row_number, 0], grid[row_number, 1]]
        for panel, cell in zip(row, cells):
            before = list(figure.axes)
            try:
                result.axes[panel.title] = panel.draw(figure, cell)
            except (MalformedContent, OSError):
                raise
            except Exception as error:  # one odd object must not cost the curator the whole figure
                for axes in figure.axes:
                    if axes not in before:
                        axes.remove()  # what the panel drew before failing
                result.failures[panel.title] = failure_text(error)
                result.axes[panel.title] = [note_axes(figure, cell, panel.title, result.failures[panel.title])]
    return result


def failure_text(error: Exception) -> str:
    """Why a panel could not be drawn: a :class:`~.checks.PanelNote` as it says, another error with its type."""
    return str(error) if isinstance(error, PanelNote) else f"{type(error).__name__}: {error}"


def note_axes(figure, cell, title: str, note: str):
    """An Axes without a frame that says why its panel is not drawn."""
    axes = figure.add_subplot(cell)
    axes.set_axis_off()
    axes.set_title(title, fontsize=FONT_SIZE + 1, loc="left")
    axes.text(0.0, 0.5, f"could not draw: {note}"[:200], fontsize=FONT_SIZE, color="firebrick",
              transform=axes.transAxes, wrap=True)
    return axes


def axes_with_data(axes) -> bool:
    """Whether an Axes holds something drawn (lines, markers, images, patches or text), not just a frame."""
    return bool(axes.lines or axes.collections or axes.images or axes.patches or axes.texts)


def style_axes(axes, title: str | None = None, *, xlabel: str | None = None, ylabel: str | None = None) -> None:
    """The common look: small fonts, left-aligned title, no top/right spines."""
    if title:
        axes.set_title(title, fontsize=FONT_SIZE + 1, loc="left")
    if xlabel:
        axes.set_xlabel(xlabel, fontsize=FONT_SIZE)
    if ylabel:
        axes.set_ylabel(ylabel, fontsize=FONT_SIZE)
    axes.tick_params(labelsize=FONT_SIZE - 1)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def noted_panel(title: str, note: str) -> Panel:
    """A panel that only says why it cannot be drawn (:class:`~.checks.PanelNote`), like a panel that failed."""

    def draw(figure, cell):
        raise PanelNote(note)

    return Panel(title, draw)
