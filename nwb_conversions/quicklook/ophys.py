"""Imaging panels: ROI outlines over the field of view per plane, and ΔF/F of a few ROIs.

Pixel masks are read at once (a few pixels per ROI); image masks one ROI at a time, never all at once.
``pixel_mask`` (x, y, weight) is drawn at ``image[y, x]``, pynwb's convention (``PlaneSegmentation.pixel_to_image``).
The field of view's size comes from the ``image_mask`` shape, else from a ``TwoPhotonSeries`` of the same plane;
without either it is the smallest power of two that holds every mask pixel (512 × 512 for SSC-11), and the panel
says it is inferred.
A segmentation whose masks have no pixel of non-zero weight (Allen Dataset II's placeholder) gets no panel.

ΔF/F (``DfOverF``, else ``Fluorescence``) is drawn for a few ablated ROIs and the most active ones of a window (its
start, or the first trials, with the ``trials`` table's boundaries); when the file also holds a patch trace and a
ground-truth unit (Allen Dataset II), the cell-attached trace and its spikes are drawn below on the same time axis.
"""

from __future__ import annotations

import numpy as np

from .layout import FONT_SIZE, Panel, style_axes
from .patch_trace import draw_trace_with_spikes, patch_series
from .reading import (
    busiest_window,
    column_values,
    find_objects,
    ground_truth_spike_times,
    ragged_column,
    read_window,
    row_bounds,
    time_range,
)

#: ΔF/F: ROIs shown, and the window (s) without / with a ground-truth cell.
ROIS_SHOWN = 5
ABLATED_SHOWN = 2
DFF_WINDOW_S = 60.0
DFF_WITH_SPIKES_WINDOW_S = 30.0
ABLATED_COLOR = (0.86, 0.08, 0.24)
ROI_COLOR = (0.12, 0.29, 0.65)


def mask_pixels(segmentation) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each ROI's (rows, columns) of pixels with non-zero weight (pixel masks read at once, image masks one by one)."""
    if "pixel_mask" in segmentation.colnames:
        data, index = ragged_column(segmentation, "pixel_mask")
        pixels = np.asarray(data[:])  # every ROI's (x, y, weight): small next to any image
        if pixels.dtype.names:
            x, y, weight = pixels["x"], pixels["y"], pixels["weight"]
        else:
            pixels = pixels.reshape(-1, 3)
            x, y, weight = pixels[:, 0], pixels[:, 1], pixels[:, 2]
        rois = []
        for first, stop in row_bounds(index):
            keep = weight[first:stop] != 0
            rois.append((np.asarray(y[first:stop][keep], dtype=int), np.asarray(x[first:stop][keep], dtype=int)))
        return rois
    if "image_mask" in segmentation.colnames:
        data = segmentation["image_mask"].data
        return [tuple(np.nonzero(np.asarray(data[row]))[:2]) for row in range(data.shape[0])]
    return []


def field_of_view(nwbfile, segmentation, rois) -> tuple[tuple[int, int], bool]:
    """(height, width) of the plane and whether it was inferred from the mask pixels alone."""
    if "image_mask" in segmentation.colnames:
        return tuple(int(n) for n in segmentation["image_mask"].data.shape[1:3]), False
    for series in find_objects(nwbfile, "TwoPhotonSeries"):
        if series.imaging_plane is segmentation.imaging_plane:
            if series.dimension is not None:
                width, height = (int(n) for n in series.dimension[:2])
                return (height, width), False
            if series.data is not None and len(series.data.shape) >= 3:
                return tuple(int(n) for n in series.data.shape[1:3]), False
    largest = max(
        [int(rows.max()) for rows, _ in rois if len(rows)] + [int(cols.max()) for _, cols in rois if len(cols)]
    )
    side = 1 << int(np.ceil(np.log2(largest + 1)))
    return (side, side), True


def outline_image(rois, shape, ablated: np.ndarray) -> np.ndarray:
    """An RGBA overlay: each ROI filled lightly, its outline opaque; ablated ROIs in red."""
    labels = np.full(shape, -1, dtype=np.int64)
    for number, (rows, columns) in enumerate(rois):
        inside = (rows >= 0) & (rows < shape[0]) & (columns >= 0) & (columns < shape[1])
        labels[rows[inside], columns[inside]] = number
    edge = np.zeros(shape, dtype=bool)
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    edge[:-1, :] |= labels[:-1, :] != labels[1:, :]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge &= labels >= 0
    overlay = np.zeros(shape + (4,))
    inside = labels >= 0
    is_ablated = np.zeros(shape, dtype=bool)
    is_ablated[inside] = ablated[labels[inside]]
    overlay[inside & ~is_ablated] = ROI_COLOR + (0.3,)
    overlay[inside & is_ablated] = ABLATED_COLOR + (0.55,)
    overlay[edge & ~is_ablated] = ROI_COLOR + (1.0,)
    overlay[edge & is_ablated] = ABLATED_COLOR + (1.0,)
    return overlay


def draw_rois(nwbfile, segmentation, rois, figure, cell) -> list:
    """The ROIs of one plane over its field of view, ablated ROIs filled red and labelled by id."""
    axes = figure.add_subplot(cell)
    shape, inferred = field_of_view(nwbfile, segmentation, rois)
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
        if found:
            return sorted(found, key=lambda series: series.name)
    return []


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
    activity = np.nan_to_num(np.nanpercentile(values, 99, axis=0) - np.nanmedian(values, axis=0))
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
    window = read_window(series, start, stop)
    values = window.values.reshape(len(window.times), -1)
    table_rows = np.asarray(series.rois.data[:], dtype=int) if series.rois is not None else np.arange(values.shape[1])
    table = series.rois.table if series.rois is not None else None
    ablated = column_values(table, "is_ablated")
    chosen = choose_rois(values, ablated[table_rows].astype(bool) if ablated is not None else None)
    if patch is not None:
        grid = cell.subgridspec(2, 1, height_ratios=[1, 1], hspace=0.05)
        axes = figure.add_subplot(grid[0])
        below = figure.add_subplot(grid[1], sharex=axes)
    else:
        axes, below = figure.add_subplot(cell), None
    ids = table.id[:] if table is not None else np.arange(values.shape[1])
    spacing = max(float(np.nanmax(np.ptp(values[:, chosen], axis=0))) * 0.8, 1e-6) if len(values) else 1.0
    for rank, column in enumerate(chosen):
        row = table_rows[column]
        is_ablated = ablated is not None and bool(ablated[row])
        axes.plot(window.times, values[:, column] + rank * spacing, lw=0.8,
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
    style_axes(axes, f"{series.name}: {len(chosen)} of {values.shape[1]} ROIs (ablated first, then the most active)"
               f"{trials_text}",
 ylabel=series.unit + (" (offset per ROI)" if len(chosen) > 1 else ""),xlabel=None if below is not None else "time (s)")
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
        rois = mask_pixels(segmentation)
        if any(len(rows) for rows, _ in rois):
            found.append(Panel(f"ROIs {segmentation.name}",
                               lambda figure, cell, s=segmentation, r=rois: draw_rois(nwbfile, s, r, figure, cell)))
    spike_times = ground_truth_spike_times(nwbfile)
    patch = patch_series(nwbfile) if spike_times is not None else None
    for series in response_series(nwbfile):
        found.append(Panel(f"ΔF/F {series.name}",
                           lambda figure, cell, s=series: draw_dff(nwbfile, s, figure, cell, patch=patch,
                                                                    spike_times=spike_times),
                           wide=patch is not None, height=1.3 if patch is not None else 1.0))
    return found
