"""The raw extracellular series as the ephys panels see it: which series, which electrode each column records, their
positions, the ground-truth spikes within it and the channels to mark.

The raw series is the file's ``ElectricalSeries`` with the highest rate; its electrodes' ``rel_x``/``rel_y`` give
positions. The ground-truth cell is the units table's only unit; its electrode is ``chan_predicted`` when the table
has it (an electrodes-table row), else the channel where the spike-triggered average of the raw data is largest
(computed from finite samples only). The series states its channel count twice (its data's columns and its
electrodes region), and the two must agree.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .checks import disagreement, location, read_whole
from .reading import checked_series, finite_span, in_acquisition, index_at, object_path, read_samples, time_range
from .tables import column_values, ground_truth_spike_times, region_rows, table_length

#: Raw traces: the window around each spike (s).
TRACE_WINDOW_S = 0.020
#: Spikes averaged to find the channel where the cell is largest, and the half-width of each snippet (s).
SPIKES_AVERAGED = 8
SNIPPET_HALF_WIDTH_S = 0.001


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
        """The series column recording an electrodes-table row, or None (also for a row that is not a number)."""
        if electrode_row is None or not np.isfinite(electrode_row):
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
    """The ElectricalSeries with the highest rate (acquisition first on a tie), or None; every ElectricalSeries is
    checked, and the chosen one's channel count stated twice (data columns, electrodes region) must agree."""
    candidates = [series for series in checked_series(nwbfile, "ElectricalSeries") if series.data.ndim == 2]
    if not candidates:
        return None

    def rank(series):
        rate = series.rate if series.rate is not None else 0.0
        return (rate, in_acquisition(nwbfile, series))

    return max(candidates, key=rank)


def electrode_rows_of(series) -> np.ndarray:
    """The electrodes-table row of each column of a series, checked against the table and the data's columns."""
    where = f"{object_path(series)}/electrodes"
    table_length(series.electrodes.table)
    rows = region_rows(series.electrodes, where)
    if len(rows) != series.data.shape[1]:
        raise disagreement(location(series.data, f"{object_path(series)}/data"),
                           f"has {series.data.shape[1]} channels (columns)", location(series.electrodes.data, where),
                           f"names {len(rows)} electrodes")
    return rows


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


def nan_median(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """The median of the finite values along ``axis`` (NaN where there are none), quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(np.where(np.isfinite(values), values, np.nan), axis=axis)


def read_snippets(series, times: np.ndarray, half_width: float) -> np.ndarray:
    """(spikes, samples, channels) of the series around ``times``, each channel's median removed (non-finite
    samples are NaN)."""
    rate = series.rate
    samples = int(round(half_width * rate)) if rate else None
    snippets = []
    for time in times:
        centre = index_at(series, time)
        half = samples if samples else max(index_at(series, time + half_width) - centre, 1)
        values = read_samples(series, centre - half, centre + half)
        values = np.where(np.isfinite(values), values, np.nan)
        snippets.append(values - nan_median(values))
    length = min(len(snippet) for snippet in snippets)
    return np.stack([snippet[:length] for snippet in snippets])


def channel_conversion(series) -> np.ndarray | None:
    """The series' per-channel conversion factors (one per channel: a fact stated twice), or None."""
    factors = getattr(series, "channel_conversion", None)
    if factors is None:
        return None
    where = f"{object_path(series)}/channel_conversion"
    values = read_whole(factors, where).astype(float)
    if values.shape != (series.data.shape[1],):
        raise disagreement(location(factors, where), f"holds {values.size} factors",
                           location(series.data, f"{object_path(series)}/data"), f"{series.data.shape[1]} channels")
    return values


def largest_column(average: np.ndarray) -> int | None:
    """The column whose finite values span the most (peak to peak), or None when no column has a finite span."""
    span = finite_span(average)
    span = np.where(np.isfinite(span), span, -np.inf)
    return int(np.argmax(span)) if len(span) and np.isfinite(span.max()) else None


def positions_of(electrodes, electrode_rows: np.ndarray) -> np.ndarray | None:
    """(columns, 2) ``rel_x``, ``rel_y`` of the electrodes (NaN where ``has_known_position`` is false), or None."""
    rel_x, rel_y = column_values(electrodes, "rel_x"), column_values(electrodes, "rel_y")
    if rel_x is None or rel_y is None:
        return None
    positions = np.column_stack([rel_x, rel_y]).astype(float)[electrode_rows]
    positions[~np.isfinite(positions)] = np.nan
    known = column_values(electrodes, "has_known_position")
    if known is not None:
        positions[~known.astype(bool)[electrode_rows]] = np.nan
    return positions


def view_raw_series(nwbfile) -> RawSeriesView | None:
    """Gather the raw series, its geometry, the ground-truth spikes and the channels to mark. Without a raw series,
    the electrodes table alone (for the probe map); None without either."""
    series = raw_series(nwbfile)
    electrodes = nwbfile.electrodes
    if series is None and (electrodes is None or not len(electrodes)):
        return None
    electrode_rows = electrode_rows_of(series) if series is not None else np.arange(table_length(electrodes))
    spike_times = spikes_inside(series, ground_truth_spike_times(nwbfile), TRACE_WINDOW_S) if series is not None \
        else None
    view = RawSeriesView(series=series, electrode_rows=electrode_rows,
                         positions=positions_of(electrodes, electrode_rows), spike_times=spike_times)
    for attribute, column in (("ground_truth_column", "chan_predicted"), ("table_peak_column", "chan_highest")):
        values = column_values(nwbfile.units, column)
        if values is not None and len(values) == 1:
            setattr(view, attribute, view.column_of(values[0]))
    if spike_times is not None and len(spike_times):
        snippets = read_snippets(series, middle_spikes(spike_times, SPIKES_AVERAGED), SNIPPET_HALF_WIDTH_S)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            average = np.nanmean(snippets, axis=0)
        factors = channel_conversion(series)
        view.peak_column = largest_column(average * factors if factors is not None else average)
    return view
