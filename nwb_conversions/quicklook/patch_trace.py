"""The patch-clamp / juxtacellular trace panel: the busiest window of the trace, the ground-truth spikes ticked above.

:func:`draw_trace_with_spikes` also draws the cell-attached trace under the imaging panel's ΔF/F (Allen Dataset II).
Samples that are NaN or infinite are gaps, counted in the legend; a window without a finite sample, or a series
without samples, gets a note instead (:class:`~.checks.PanelNote`).
"""

from __future__ import annotations

import numpy as np

from .checks import PanelNote
from .layout import FONT_SIZE, GROUND_TRUTH_COLOR, style_axes
from .reading import (
    busiest_window,
    checked_series,
    display_unit,
    envelope,
    finite_share,
    in_acquisition,
    num_samples,
    read_window,
    time_range,
)

#: The patch trace panel shows the busiest window of this length (s).
PATCH_WINDOW_S = 1.0


def patch_series(nwbfile):
    """The patch-clamp / juxtacellular trace: a PatchClampSeries, from acquisition first; None without one."""
    candidates = [series for series in checked_series(nwbfile, "PatchClampSeries") if series.data.ndim == 1]
    if not candidates:
        return None
    return max(candidates, key=lambda series: in_acquisition(nwbfile, series))


def draw_patch_trace(series, spike_times, figure, cell, *, width_s: float = PATCH_WINDOW_S) -> list:
    """The busiest ``width_s`` of the patch trace, its spikes marked."""
    axes = figure.add_subplot(cell)
    draw_trace_with_spikes(axes, series, spike_times, *window_of(series, spike_times, width_s))
    style_axes(axes, f"{series.name} ({type(series).__name__}) with its spikes", xlabel="time (s)")
    return [axes]


def window_of(series, spike_times, width_s: float) -> tuple[float, float]:
    """The busiest ``width_s`` window of a series (its start when there are no spikes)."""
    first, last = time_range(series)
    spikes = spike_times if spike_times is not None else np.array([])
    return busiest_window(spikes, width_s, first, last)


def draw_trace_with_spikes(axes, series, spike_times, start: float, stop: float) -> None:
    """Draw ``series`` between ``start`` and ``stop`` (as a min/max envelope) and tick its spikes above it."""
    if not num_samples(series):
        raise PanelNote(f"{series.name} has no samples")
    window = read_window(series, start, stop)
    finite, total = finite_share(window.values)
    if not finite:
        raise PanelNote(f"all {total} samples of {series.name} from {start:g} s to {stop:g} s are NaN or infinite")
    factor, unit = display_unit(series)
    times, values = envelope(window.times, window.values * factor)
    gaps = f"; {total - finite} of {total} samples NaN or infinite (gaps)" if finite < total else ""
    axes.plot(times, values, color="0.15", lw=0.5, **({"label": f"{series.name}{gaps}"} if gaps else {}))
    axes.set_ylabel(unit, fontsize=FONT_SIZE)
    if spike_times is not None:
        inside = spike_times[(spike_times >= start) & (spike_times < stop)]
        top, bottom = np.nanmax(values), np.nanmin(values)
        axes.plot(inside, np.full(len(inside), top + 0.08 * (top - bottom)), "|", color=GROUND_TRUTH_COLOR, ms=8,
                  mew=1, label=f"{len(inside)} spikes (units)")
    if spike_times is not None or gaps:
        axes.legend(fontsize=FONT_SIZE - 1, loc="lower right")
    axes.set_xlim(start, stop)
