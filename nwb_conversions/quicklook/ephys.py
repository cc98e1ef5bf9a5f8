"""Extracellular and patch panels: the probe map, raw traces around ground-truth spikes, the patch trace
(drawn by :mod:`.patch_trace`).

The raw series is the file's ``ElectricalSeries`` with the highest rate; its electrodes' ``rel_x``/``rel_y`` give
the map. The ground-truth cell is the units table's only unit; its electrode is ``chan_predicted`` when the table
has it (an electrodes-table row), else the channel where the spike-triggered average of the raw data is largest,
which the map always marks too (with ``chan_highest`` when the table has it), so a curator sees whether the file
agrees with the Data Summary. Reference sites (``is_reference_site``), bad channels (``bad_channel``) and sites
without a known position (``has_known_position``, or NaN positions) are marked or counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import FONT_SIZE, GROUND_TRUTH_COLOR, Panel, style_axes
from .patch_trace import draw_patch_trace, patch_series
from .reading import column_values, find_objects, ground_truth_spike_times, in_acquisition, index_at, scale, time_range

#: Raw traces: how many ground-truth spikes are shown, the window around each (s), how many channels.
SPIKES_SHOWN = 3
TRACE_WINDOW_S = 0.020
CHANNELS_SHOWN = 12
#: Spikes averaged to find the channel where the cell is largest, and the half-width of each snippet (s).
SPIKES_AVERAGED = 8
SNIPPET_HALF_WIDTH_S = 0.001
#: Half-height (µm) of the probe map's zoom around the ground-truth electrode.
ZOOM_HALF_HEIGHT_UM = 150.0

PEAK_COLOR = "royalblue"
TABLE_PEAK_COLOR = "darkorange"


@dataclass
class RawSeriesView:
    """The raw extracellular series and what the panels need about its channels.

    Attributes
    ----------
    series : ElectricalSeries or None
        None when the file has electrodes but no raw series (the probe map only).
    electrode_rows : numpy.ndarray
        The electrodes-table row of each column of the series.
    positions : numpy.ndarray or None
        (columns, 2) rel_x, rel_y in µm (NaN where unknown), or None without geometry.
    spike_times : numpy.ndarray or None
        Ground-truth spike times (s) within the series.
    ground_truth_column : int or None
        The series column of ``chan_predicted``.
    table_peak_column : int or None
        The series column of ``chan_highest``.
    peak_column : int or None
        The column where the spike-triggered average is largest (computed from the file).
    """

    series: object
    electrode_rows: np.ndarray
    positions: np.ndarray | None
    spike_times: np.ndarray | None
    ground_truth_column: int | None = None
    table_peak_column: int | None = None
    peak_column: int | None = None

    @property
    def anchor_column(self) -> int | None:
        """The channel the traces centre on: the ground-truth electrode, else the computed peak."""
        return self.ground_truth_column if self.ground_truth_column is not None else self.peak_column

    def column_of(self, electrode_row) -> int | None:
        """The series column recording an electrodes-table row, or None."""
        if electrode_row is None:
            return None
        matches = np.flatnonzero(self.electrode_rows == int(electrode_row))
        return int(matches[0]) if len(matches) else None

    def nearest_columns(self, column: int, count: int) -> np.ndarray:
        """The ``count`` columns nearest to ``column`` on the probe (by position, else by index), by depth."""
        total = len(self.electrode_rows)
        if self.positions is None or np.isnan(self.positions[column]).any():
            first = int(np.clip(column - count // 2, 0, max(total - count, 0)))
            return np.arange(first, min(first + count, total))
        distances = np.linalg.norm(self.positions - self.positions[column], axis=1)
        distances[np.isnan(distances)] = np.inf
        nearest = np.argsort(distances, kind="stable")[: min(count, total)]
        nearest = nearest[np.isfinite(distances[nearest])]
        return nearest[np.lexsort((self.positions[nearest, 0], self.positions[nearest, 1]))]


def raw_series(nwbfile):
    """The ElectricalSeries with the highest rate (acquisition first on a tie), or None."""
    candidates = [series for series in find_objects(nwbfile, "ElectricalSeries") if series.data.ndim == 2]
    if not candidates:
        return None

    def rank(series):
        rate = series.rate if series.rate is not None else 0.0
        return (rate, in_acquisition(nwbfile, series))

    return max(candidates, key=rank)


def spikes_inside(series, spike_times: np.ndarray | None, margin: float) -> np.ndarray | None:
    """The spike times that lie at least ``margin`` s inside the series' time range."""
    if spike_times is None:
        return None
    first, last = time_range(series)
    return spike_times[(spike_times >= first + margin) & (spike_times <= last - margin)]


def middle_spikes(spike_times: np.ndarray, count: int) -> np.ndarray:
    """``count`` consecutive spikes from the middle of the recording (consecutive: they share stored chunks)."""
    first = max(len(spike_times) // 2 - count // 2, 0)
    return spike_times[first : first + count]


def read_snippets(series, times: np.ndarray, half_width: float) -> np.ndarray:
    """(spikes, samples, channels) of the series around ``times``, each channel's median removed."""
    rate = series.rate
    samples = int(round(half_width * rate)) if rate else None
    snippets = []
    for time in times:
        centre = index_at(series, time)
        half = samples if samples else max(index_at(series, time + half_width) - centre, 1)
        values = scale(series, series.data[max(centre - half, 0) : centre + half])
        snippets.append(values - np.median(values, axis=0))
    length = min(len(snippet) for snippet in snippets)
    return np.stack([snippet[:length] for snippet in snippets])


def channel_conversion(series) -> np.ndarray | None:
    """The series' per-channel conversion factors, or None."""
    factors = getattr(series, "channel_conversion", None)
    return None if factors is None else np.asarray(factors[:], dtype=float)


def view_raw_series(nwbfile) -> RawSeriesView | None:
    """Gather the raw series, its geometry, the ground-truth spikes and the channels to mark. Without a raw series,
    the electrodes table alone (for the probe map); None without either."""
    series = raw_series(nwbfile)
    electrodes = nwbfile.electrodes
    if series is None and (electrodes is None or not len(electrodes)):
        return None
    if series is not None:
        electrode_rows = np.asarray(series.electrodes.data[:], dtype=int)
    else:
        electrode_rows = np.arange(len(electrodes))
    positions = None
    rel_x, rel_y = column_values(electrodes, "rel_x"), column_values(electrodes, "rel_y")
    if rel_x is not None and rel_y is not None:
        positions = np.column_stack([rel_x, rel_y]).astype(float)[electrode_rows]
        known = column_values(electrodes, "has_known_position")
        if known is not None:
            positions[~known.astype(bool)[electrode_rows]] = np.nan
    spike_times = spikes_inside(series, ground_truth_spike_times(nwbfile), TRACE_WINDOW_S) if series is not None \
        else None
    view = RawSeriesView(series=series, electrode_rows=electrode_rows, positions=positions, spike_times=spike_times)
    for attribute, column in (("ground_truth_column", "chan_predicted"), ("table_peak_column", "chan_highest")):
        values = column_values(nwbfile.units, column)
        if values is not None and len(values) == 1:
            setattr(view, attribute, view.column_of(values[0]))
    if spike_times is not None and len(spike_times):
        snippets = read_snippets(series, middle_spikes(spike_times, SPIKES_AVERAGED), SNIPPET_HALF_WIDTH_S)
        average = snippets.mean(axis=0)
        factors = channel_conversion(series)
        if factors is not None:
            average = average * factors
        view.peak_column = int(np.argmax(np.ptp(average, axis=0)))
    return view


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
    columns = view.nearest_columns(view.anchor_column, CHANNELS_SHOWN)
    shown = middle_spikes(view.spike_times, SPIKES_SHOWN)
    snippets = read_snippets(series, shown, TRACE_WINDOW_S / 2)[:, :, columns] * 1e6  # µV
    factors = channel_conversion(series)
    if factors is not None:
        snippets = snippets * factors[columns]
    spacing = max(float(np.percentile(np.ptp(snippets, axis=1), 90)) * 0.7, 1e-3)
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
        f"Raw {series.name}: {len(shown)} ground-truth spikes, {len(columns)} channels nearest {which} (red)",
        xlabel=f"ms (20 ms windows side by side; dotted: spike time); traces {spacing:.0f} µV apart",
    )
    return [axes]


def panels(nwbfile) -> list[Panel]:
    """The ephys panels that fit the file's content."""
    found = []
    view = view_raw_series(nwbfile)
    if view is not None and view.positions is not None and not np.isnan(view.positions).all():
        found.append(Panel("Probe map", lambda figure, cell: draw_probe_map(view, nwbfile, figure, cell)))
    if view is not None and view.spike_times is not None and len(view.spike_times):
        found.append(Panel("Raw traces", lambda figure, cell: draw_raw_traces(view, figure, cell)))
    series = patch_series(nwbfile)
    if series is not None:
        spike_times = ground_truth_spike_times(nwbfile)
        found.append(Panel("Patch trace", lambda figure, cell: draw_patch_trace(series, spike_times, figure, cell)))
    return found

