"""Imaging panels: ROI outlines over the field of view per plane (masks read by :mod:`.masks`; an inferred field
of view is said so), and ΔF/F of a few ROIs.

A segmentation whose masks have no pixel of non-zero weight (Allen Dataset II's placeholder) gets no panel.

ΔF/F (``DfOverF``, else ``Fluorescence``) is drawn for a few ablated ROIs and the most active ones of a window (its
start, or the first trials, with the ``trials`` table's boundaries); when the file also holds a patch trace and a
ground-truth unit (Allen Dataset II), the cell-attached trace and its spikes are drawn below on the same time axis.

A response series states its ROI count twice (its data's columns and its ``rois`` region), and the two must agree.
A field of view too large to draw, a series without samples and a window of NaN get a note.
"""

from __future__ import annotations

import warnings

import numpy as np

from .checks import PanelNote, disagreement, location, values_per_row
from .layout import FONT_SIZE, Panel, noted_panel, style_axes
from .masks import ABLATED_COLOR, drawable_field, field_of_view, mask_pixels, outline_image
from .patch_trace import draw_trace_with_spikes, patch_series
from .reading import (
    busiest_window,
    check_series,
    find_objects,
    finite_share,
    finite_span,
    num_samples,
    object_path,
    read_window,
    time_range,
)
from .tables import column_values, ground_truth_spike_times, region_rows, table_length

#: ΔF/F: ROIs shown, and the window (s) without / with a ground-truth cell.
ROIS_SHOWN = 5
ABLATED_SHOWN = 2
DFF_WINDOW_S = 60.0
DFF_WITH_SPIKES_WINDOW_S = 30.0


def draw_rois(nwbfile, segmentation, rois, figure, cell) -> list:
    """The ROIs of one plane over its field of view, ablated ROIs filled red and labelled by id."""
    shape, inferred = field_of_view(nwbfile, segmentation, rois)
    shape = drawable_field(shape, segmentation)
    axes = figure.add_subplot(cell)
    flags = column_values(segmentation, "is_ablated")
    ablated = flags.astype(bool) if flags is not None else np.zeros(len(rois), dtype=bool)
    axes.imshow(np.full(shape, 0.96), cmap="gray", vmin=0, vmax=1, extent=(0, shape[1], shape[0], 0))
    axes.imshow(outline_image(rois, shape, ablated), interpolation="nearest", extent=(0, shape[1], shape[0], 0))
    ids = segmentation.id[:]
    for number in np.flatnonzero(ablated):
        rows, columns = rois[number]
        if len(rows):
            axes.annotate(f"{ids[number]}", (columns.mean(), rows.mean()), xytext=(6, 6), textcoords="offset points",
                          fontsize=FONT_SIZE - 1, color=ABLATED_COLOR, weight="bold")
    plane = segmentation.imaging_plane.name if segmentation.imaging_plane is not None else segmentation.name
    size = f"{shape[0]} × {shape[1]} px" + (" (inferred)" if inferred else "")
    style_axes(axes, f"{plane}: {len(rois)} ROIs, {int(ablated.sum())} ablated (red); {size}",
               xlabel="x (px)", ylabel="y (px)")
    axes.set_aspect("equal")
    return [axes]


def response_series(nwbfile) -> list:
    """The ΔF/F RoiResponseSeries (those in ``DfOverF``), else the ``Fluorescence`` ones."""
    for container in ("DfOverF", "Fluorescence"):
        found = [series for holder in find_objects(nwbfile, container)
                 for series in holder.roi_response_series.values()]
        for series in found:
            check_series(series)
        if found:
            return sorted(found, key=lambda series: series.name)
    return []


def response_rows(series) -> tuple[np.ndarray, object]:
    """The ROI-table row of each column of a response series, and that table (None without a ``rois`` region).
    The series states its ROI count twice (data columns, region), and the two must agree."""
    columns = values_per_row(series.data)
    if series.rois is None:
        return np.arange(columns), None
    where = f"{object_path(series)}/rois"
    table_length(series.rois.table)
    rows = region_rows(series.rois, where)
    if len(rows) != columns:
        raise disagreement(location(series.data, f"{object_path(series)}/data"), f"has {columns} ROIs (columns)",
                           location(series.rois.data, where), f"names {len(rows)} ROIs")
    return rows, series.rois.table


def read_responses(series, start: float, stop: float) -> tuple[np.ndarray, np.ndarray, int]:
    """(times, values as frames × ROIs with non-finite values as NaN, how many were not finite) of a window."""
    if not num_samples(series):
        raise PanelNote(f"{series.name} has no samples")
    window = read_window(series, start, stop)
    values = window.values.reshape(len(window.times), -1)
    finite, total = finite_share(values)
    if not finite:
        raise PanelNote(f"all {total} values of {series.name} from {start:g} s to {stop:g} s are NaN or infinite")
    return window.times, np.where(np.isfinite(values), values, np.nan), total - finite


def dff_window(nwbfile, series, spike_times, width: float) -> tuple[float, float]:
    """The window to show: from the first trial within the series, the busiest in spikes, or the series' start."""
    first, last = time_range(series)
    if spike_times is not None and len(spike_times):
        return busiest_window(spike_times, width, first, last)
    trial_starts = column_values(nwbfile.trials, "start_time")
    if trial_starts is not None:
        inside = trial_starts[(trial_starts >= first) & (trial_starts <= last)]
        if len(inside):
            return float(inside.min()), float(inside.min()) + width
    return first, first + width


def choose_rois(values: np.ndarray, ablated: np.ndarray | None) -> np.ndarray:
    """Columns to show: up to ``ABLATED_SHOWN`` ablated ROIs, then the most active (99th percentile above the
    median in the window), ``ROIS_SHOWN`` in all, in column order."""
    if not len(values):
        return np.arange(0)
    with warnings.catch_warnings():  # a column of NaN has no activity
        warnings.simplefilter("ignore", RuntimeWarning)
        activity = np.nan_to_num(np.nanpercentile(values, 99, axis=0) - np.nanmedian(values, axis=0), nan=-np.inf)
    chosen = list(np.flatnonzero(ablated)[:ABLATED_SHOWN]) if ablated is not None else []
    for column in np.argsort(-activity, kind="stable"):
        if len(chosen) >= ROIS_SHOWN:
            break
        if column not in chosen:
            chosen.append(int(column))
    return np.sort(np.asarray(chosen, dtype=int))


def draw_dff(nwbfile, series, figure, cell, *, patch=None, spike_times=None) -> list:
    """ΔF/F of the most active ROIs in the window, trial boundaries as lines; the patch trace below if given."""
    width = DFF_WITH_SPIKES_WINDOW_S if patch is not None else DFF_WINDOW_S
    start, stop = dff_window(nwbfile, series, spike_times if patch is not None else None, width)
    times, values, gaps = read_responses(series, start, stop)
    table_rows, table = response_rows(series)
    ablated = column_values(table, "is_ablated")
    chosen = choose_rois(values, ablated[table_rows].astype(bool) if ablated is not None else None)
    if patch is not None:
        grid = cell.subgridspec(2, 1, height_ratios=[1, 1], hspace=0.05)
        axes = figure.add_subplot(grid[0])
        below = figure.add_subplot(grid[1], sharex=axes)
    else:
        axes, below = figure.add_subplot(cell), None
    ids = table.id[:] if table is not None else np.arange(values.shape[1])
    spans = finite_span(values[:, chosen])
    spacing = max(float(np.nanmax(spans)) * 0.8, 1e-6) if np.isfinite(spans).any() else 1.0
    for rank, column in enumerate(chosen):
        row = table_rows[column]
        is_ablated = ablated is not None and bool(ablated[row])
        axes.plot(times, values[:, column] + rank * spacing, lw=0.8,
                  color=ABLATED_COLOR if is_ablated else None, label=f"ROI {ids[row]}" + (" (ablated)" * is_ablated))
    trial_starts = column_values(nwbfile.trials, "start_time")
    trials_shown = 0
    if trial_starts is not None:
        for trial_start in trial_starts[(trial_starts >= start) & (trial_starts < stop)]:
            axes.axvline(trial_start, color="0.6", lw=0.6, ls="--")
            trials_shown += 1
    axes.set_xlim(start, stop)
    axes.legend(fontsize=FONT_SIZE - 1, loc="upper right", ncols=min(len(chosen), 5))
    trials_text = f"; dashed: starts of {trials_shown} trials" if trial_starts is not None else ""
    gaps_text = f"; {gaps} values NaN or infinite (gaps)" if gaps else ""
    style_axes(axes, f"{series.name}: {len(chosen)} of {values.shape[1]} ROIs (ablated first, then the most active)"
               f"{trials_text}{gaps_text}", ylabel=series.unit + (" (offset per ROI)" if len(chosen) > 1 else ""),
               xlabel=None if below is not None else "time (s)")
    if below is None:
        return [axes]
    draw_trace_with_spikes(below, patch, spike_times, start, stop)
    style_axes(below, None, xlabel="time (s)")
    below.set_title(f"{patch.name} with its spikes, same time axis", fontsize=FONT_SIZE, loc="left")
    axes.tick_params(labelbottom=False)
    return [axes, below]


def panels(nwbfile) -> list[Panel]:
    """The imaging panels that fit the file: one ROI map per plane with real masks, ΔF/F per response series."""
    found = []
    for segmentation in find_objects(nwbfile, "PlaneSegmentation"):
        try:
            rois = mask_pixels(segmentation)
        except PanelNote as note:
            found.append(noted_panel(f"ROIs {segmentation.name}", str(note)))
            continue
        if any(len(rows) for rows, _ in rois):
            found.append(Panel(f"ROIs {segmentation.name}",
                               lambda figure, cell, s=segmentation, r=rois: draw_rois(nwbfile, s, r, figure, cell)))
    spike_times = ground_truth_spike_times(nwbfile)
    patch = patch_series(nwbfile) if spike_times is not None else None
    column_values(nwbfile.trials, "start_time")  # checked now: a malformed file stops before anything is drawn
    for series in response_series(nwbfile):
        response_rows(series)
        found.append(Panel(f"ΔF/F {series.name}",
                           lambda figure, cell, s=series: draw_dff(nwbfile, s, figure, cell, patch=patch,
                                                                    spike_times=spike_times),
                           wide=patch is not None, height=1.3 if patch is not None else 1.0))
    return found
