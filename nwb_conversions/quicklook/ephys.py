"""Extracellular and patch panels: the probe map, raw traces around ground-truth spikes, the patch trace
(drawn by :mod:`.patch_trace`).

The raw series and its channels are gathered by :mod:`.raw_view`. The map marks the ground-truth electrode
(``chan_predicted``) and the channel where the spike-triggered average of the raw data is largest (with
``chan_highest`` when the table has it), so a curator sees whether the file agrees with the Data Summary. Reference
sites (``is_reference_site``), bad channels (``bad_channel``) and sites without a known position
(``has_known_position``, or NaN positions) are marked or counted. Samples that are NaN or infinite are gaps in the
traces, counted in the panel's title; a panel whose every sample is one gets a note instead.
"""

from __future__ import annotations

import numpy as np

from .checks import PanelNote
from .layout import FONT_SIZE, GROUND_TRUTH_COLOR, Panel, style_axes
from .patch_trace import draw_patch_trace, patch_series
from .raw_view import (  # noqa: F401 (SPIKES_AVERAGED, SNIPPET_HALF_WIDTH_S and view_raw_series: the panels' API)
    SNIPPET_HALF_WIDTH_S,
    SPIKES_AVERAGED,
    TRACE_WINDOW_S,
    RawSeriesView,
    channel_conversion,
    middle_spikes,
    read_snippets,
    view_raw_series,
)
from .reading import finite_share, finite_span
from .tables import column_values, ground_truth_spike_times

#: Raw traces: how many ground-truth spikes are shown, and how many channels.
SPIKES_SHOWN = 3
CHANNELS_SHOWN = 12
#: Half-height (µm) of the probe map's zoom around the ground-truth electrode.
ZOOM_HALF_HEIGHT_UM = 150.0

PEAK_COLOR = "royalblue"
TABLE_PEAK_COLOR = "darkorange"


def draw_probe_map(view: RawSeriesView, nwbfile, figure, cell) -> list:
    """The whole probe and a zoom around the ground-truth electrode, with the marked sites."""
    grid = cell.subgridspec(1, 2, width_ratios=[1, 3])
    whole, zoom = figure.add_subplot(grid[0]), figure.add_subplot(grid[1])
    positions = view.positions
    known = ~np.isnan(positions).any(axis=1)
    rows = view.electrode_rows
    reference = column_values(nwbfile.electrodes, "is_reference_site")
    bad = column_values(nwbfile.electrodes, "bad_channel")
    reference_columns = np.flatnonzero(reference.astype(bool)[rows]) if reference is not None else np.array([], int)
    bad_columns = np.flatnonzero(bad.astype(bool)[rows]) if bad is not None else np.array([], int)
    anchor = view.anchor_column
    traced = view.nearest_columns(anchor, CHANNELS_SHOWN) if anchor is not None else np.array([], int)
    for axes, marker_size in ((whole, 6), (zoom, 40)):
        axes.scatter(positions[known, 0], positions[known, 1], s=marker_size, marker="s", color="0.75", lw=0,
                     label="site")
        if len(traced):
            axes.scatter(positions[traced, 0], positions[traced, 1], s=marker_size, marker="s", facecolor="none",
                         edgecolor="0.2", lw=0.8, label="traced below")
        if len(reference_columns):
            axes.scatter(positions[reference_columns, 0], positions[reference_columns, 1], s=marker_size * 1.5,
                         marker="x", color="black", lw=1, label=f"reference site ({len(reference_columns)})")
        if len(bad_columns):
            axes.scatter(positions[bad_columns, 0], positions[bad_columns, 1], s=marker_size * 1.5, marker="x",
                         color="purple", lw=1, label=f"bad channel ({len(bad_columns)})")
        for column, color, marker, label in (
            (view.peak_column, PEAK_COLOR, "o", "largest spike (from the data)"),
            (view.table_peak_column, TABLE_PEAK_COLOR, "^", "chan_highest (table)"),
            (view.ground_truth_column, GROUND_TRUTH_COLOR, "*", "chan_predicted (ground truth)"),
        ):
            if column is not None and known[column]:
                axes.scatter(*positions[column], s=marker_size * 4, marker=marker, facecolor="none" if marker == "o"
                             else color, edgecolor=color, lw=1.2, label=f"{label}: ch {rows[column]}", zorder=3)
    unknown = int((~known).sum())
    if anchor is None:
        zoom.text(0.02, 0.02, "no ground-truth unit", transform=zoom.transAxes, fontsize=FONT_SIZE - 1, color="0.4")
    style_axes(whole, "Probe map", xlabel="x (µm)", ylabel="y (µm)")
    whole.margins(x=0.3, y=0.02)
    centre_y = positions[anchor, 1] if anchor is not None and known[anchor] else np.nanmedian(positions[:, 1])
    zoom.set_ylim(centre_y - ZOOM_HALF_HEIGHT_UM, centre_y + ZOOM_HALF_HEIGHT_UM)
    low, high = np.nanmin(positions[:, 0]), np.nanmax(positions[:, 0])
    zoom.set_xlim(low - 20, high + 20 + 1.2 * (high - low + 40))  # room for the legend on the right
    for column in traced:
        zoom.annotate(str(rows[column]), positions[column], xytext=(4, 3), textcoords="offset points",
                      fontsize=FONT_SIZE - 2, color="0.3")
    style_axes(
        zoom,
        (f"{len(rows)} channels of {view.series.name}" if view.series is not None
         else f"{len(rows)} electrodes (no raw series)")
        + (f"; {unknown} without a known position (not drawn)" if unknown else ""),
        xlabel="x (µm)",
    )
    zoom.legend(fontsize=FONT_SIZE - 1, loc="center right", framealpha=0.9)
    return [whole, zoom]


def draw_raw_traces(view: RawSeriesView, figure, cell) -> list:
    """20 ms of the channels nearest the ground-truth electrode around a few ground-truth spikes, side by side."""
    axes = figure.add_subplot(cell)
    series = view.series
    if view.anchor_column is None:
        raise PanelNote("no ground-truth electrode, and no finite sample around the spikes to find the cell's channel")
    columns = view.nearest_columns(view.anchor_column, CHANNELS_SHOWN)
    shown = middle_spikes(view.spike_times, SPIKES_SHOWN)
    snippets = read_snippets(series, shown, TRACE_WINDOW_S / 2)[:, :, columns] * 1e6  # µV
    factors = channel_conversion(series)
    if factors is not None:
        snippets = snippets * factors[columns]
    finite, total = finite_share(snippets)
    if not finite:
        raise PanelNote(f"all {total} samples around the shown spikes are NaN or infinite")
    spans = finite_span(snippets, axis=1)
    spacing = max(float(np.nanpercentile(spans, 90)) * 0.7, 1e-3) if np.isfinite(spans).any() else 1.0
    samples = snippets.shape[1]
    offsets_ms = np.arange(samples) / samples * TRACE_WINDOW_S * 1e3
    gap_ms = TRACE_WINDOW_S * 1e3 * 0.15
    for spike_number, snippet in enumerate(snippets):
        start_ms = spike_number * (TRACE_WINDOW_S * 1e3 + gap_ms)
        for rank, column in enumerate(columns):
            color = GROUND_TRUTH_COLOR if column == view.anchor_column else "0.15"
            axes.plot(start_ms + offsets_ms, snippet[:, rank] + rank * spacing, color=color, lw=0.5,
                      label=f"ch {view.electrode_rows[column]}")
        axes.axvline(start_ms + TRACE_WINDOW_S * 1e3 / 2, color=GROUND_TRUTH_COLOR, lw=0.6, ls=":", alpha=0.7)
        axes.text(start_ms, (len(columns) - 0.3) * spacing, f"spike at {shown[spike_number]:.4f} s",
                  fontsize=FONT_SIZE - 1)
    axes.set_yticks(np.arange(len(columns)) * spacing, [f"ch {view.electrode_rows[c]}" for c in columns])
    for label, column in zip(axes.get_yticklabels(), columns):
        if column == view.anchor_column:
            label.set_color(GROUND_TRUTH_COLOR)
    which = "chan_predicted" if view.ground_truth_column is not None else "the largest-spike channel"
    style_axes(
        axes,
        f"Raw {series.name}: {len(shown)} ground-truth spikes, {len(columns)} channels nearest {which} (red)"
        + (f"; {total - finite} of {total} samples NaN or infinite (gaps)" if finite < total else ""),
        xlabel=f"ms (20 ms windows side by side; dotted: spike time); traces {spacing:.0f} µV apart",
    )
    return [axes]


def panels(nwbfile) -> list[Panel]:
    """The ephys panels that fit the file's content."""
    found = []
    view = view_raw_series(nwbfile)
    if view is not None and view.positions is not None and len(view.positions) and not np.isnan(view.positions).all():
        found.append(Panel("Probe map", lambda figure, cell: draw_probe_map(view, nwbfile, figure, cell)))
    if view is not None and view.spike_times is not None and len(view.spike_times):
        found.append(Panel("Raw traces", lambda figure, cell: draw_raw_traces(view, figure, cell)))
    series = patch_series(nwbfile)
    if series is not None:
        spike_times = ground_truth_spike_times(nwbfile)
        found.append(Panel("Patch trace", lambda figure, cell: draw_patch_trace(series, spike_times, figure, cell)))
    return found

