"""Reading an open NWB file for the quicklook: finding objects by type and reading short windows of series.

Everything here reads slices (``series.data[start:stop]``) of the lazily opened datasets, never a whole raw
series: a window of a few seconds, a column range, one unit's spike times. Index lookups on timestamps bisect the
stored dataset element by element.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

#: Display scale per NWB unit: (factor from the unit, label).
DISPLAY_UNITS = {
    "volts": (1e3, "mV"),
    "V": (1e3, "mV"),
    "amperes": (1e12, "pA"),
    "A": (1e12, "pA"),
}


def is_type(obj, type_name: str) -> bool:
    """Whether ``obj`` is of the neurodata type ``type_name`` or derives from it (works for extension types whose
    classes are generated at read time)."""
    return any(cls.__name__ == type_name for cls in type(obj).__mro__)


def find_objects(nwbfile, type_name: str) -> list:
    """Every object of the file of neurodata type ``type_name`` (or a subtype), in a stable order (by path)."""
    found = [obj for obj in nwbfile.objects.values() if is_type(obj, type_name)]
    return sorted(found, key=object_path)


def object_path(obj) -> str:
    """The object's path inside the file, e.g. ``/acquisition/ElectricalSeries`` (its name if it has no parent)."""
    parts = []
    while obj is not None and getattr(obj, "parent", None) is not None:
        parts.append(obj.name)
        obj = obj.parent
    return "/" + "/".join(reversed(parts))


def in_acquisition(nwbfile, obj) -> bool:
    """Whether ``obj`` sits in the file's ``acquisition`` group."""
    return obj.name in nwbfile.acquisition and nwbfile.acquisition[obj.name] is obj


def num_samples(series) -> int:
    """The number of samples (first axis) of a series."""
    return int(series.data.shape[0])


def sample_times(series, start: int, stop: int) -> np.ndarray:
    """The times (s) of samples ``start:stop`` of a series, from its rate or from a slice of its timestamps."""
    if series.timestamps is not None:
        return np.asarray(series.timestamps[start:stop], dtype=float)
    return series.starting_time + np.arange(start, stop) / series.rate


def time_range(series) -> tuple[float, float]:
    """The first and last sample times (s) of a series."""
    count = num_samples(series)
    if count == 0:
        return (0.0, 0.0)
    if series.timestamps is not None:
        return float(series.timestamps[0]), float(series.timestamps[count - 1])
    return float(series.starting_time), float(series.starting_time + (count - 1) / series.rate)


def index_at(series, time: float) -> int:
    """The index of the first sample at or after ``time``, within ``0..len``; bisects the stored timestamps."""
    count = num_samples(series)
    if series.timestamps is not None:
        return bisect.bisect_left(series.timestamps, time, 0, count)
    return int(min(max(np.ceil((time - series.starting_time) * series.rate - 1e-9), 0), count))


def scale(series, values: np.ndarray) -> np.ndarray:
    """Stored values of a series in its unit (``conversion`` and ``offset`` applied), as float64."""
    offset = getattr(series, "offset", 0.0) or 0.0
    return np.asarray(values, dtype=float) * series.conversion + offset


def display_unit(series) -> tuple[float, str]:
    """The factor from the series' unit to the one shown, and its label (mV for volts, pA for amperes)."""
    return DISPLAY_UNITS.get(series.unit, (1.0, series.unit))


@dataclass
class Window:
    """A few seconds of a series, read from the file.

    Attributes
    ----------
    times : numpy.ndarray
        Sample times (s).
    values : numpy.ndarray
        Values in the series' unit, samples on the first axis.
    """

    times: np.ndarray
    values: np.ndarray


def read_window(series, start_time: float, stop_time: float, *, columns: slice | None = None) -> Window:
    """Read the samples of ``series`` within ``[start_time, stop_time)``, optionally a column range only."""
    start, stop = index_at(series, start_time), index_at(series, stop_time)
    selection = (slice(start, stop),) if columns is None else (slice(start, stop), columns)
    return Window(times=sample_times(series, start, stop), values=scale(series, series.data[selection]))


def envelope(times: np.ndarray, values: np.ndarray, bins: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a long 1-D trace to its minimum and maximum per bin (interleaved), so spikes survive the drawing.

    Returns the trace as is when it has fewer than ``2 * bins`` samples.
    """
    if len(values) < 2 * bins:
        return times, values
    usable = len(values) // bins * bins
    shaped = values[:usable].reshape(bins, -1)
    bin_times = times[:usable].reshape(bins, -1)
    low, high = shaped.argmin(axis=1), shaped.argmax(axis=1)
    first, second = np.minimum(low, high), np.maximum(low, high)
    rows = np.arange(bins)
    interleaved_times = np.column_stack([bin_times[rows, first], bin_times[rows, second]]).ravel()
    interleaved_values = np.column_stack([shaped[rows, first], shaped[rows, second]]).ravel()
    return interleaved_times, interleaved_values


def busiest_window(event_times: np.ndarray, width: float, start: float, stop: float) -> tuple[float, float]:
    """The ``width``-second window within ``[start, stop]`` holding the most events (the earliest such window)."""
    if stop - start <= width or len(event_times) == 0:
        return start, min(stop, start + width)
    event_times = np.sort(event_times)
    events = event_times[(event_times >= start) & (event_times <= stop - width)]
    if len(events) == 0:
        return start, start + width
    counts = np.searchsorted(event_times, events + width, side="left") - np.searchsorted(event_times, events)
    first = float(events[int(np.argmax(counts))])
    window_start = max(start, first - 0.1 * width)
    return window_start, window_start + width


def column_values(table, name: str) -> np.ndarray | None:
    """A whole (small) column of a table as an array, or None when the table has no such column."""
    if table is None or name not in table.colnames:
        return None
    return np.asarray(table[name].data[:])


def ragged_column(table, name: str) -> tuple:
    """The stored values and the stored index (each row's end) of a ragged column, both lazy.

    ``table[name]`` of a ragged column is its ``VectorIndex``, whose ``target`` holds the values.
    """
    index = table[name]
    return index.target.data, index.data


def row_bounds(index_data) -> np.ndarray:
    """(rows, 2) start and stop of each row of a ragged column in its values, from the stored index."""
    stops = np.asarray(index_data[:], dtype=np.int64)
    return np.column_stack([np.concatenate([[0], stops[:-1]]), stops])


def unit_spike_times(units, row: int) -> np.ndarray:
    """One unit's spike times (s), read as one slice of the ragged column."""
    values, index = ragged_column(units, "spike_times")
    start = int(index[row - 1]) if row > 0 else 0
    return np.asarray(values[start : int(index[row])], dtype=float)


def ground_truth_spike_times(nwbfile) -> np.ndarray | None:
    """The spike times of the file's ground-truth cell: its units table's only unit, else None."""
    units = nwbfile.units
    if units is None or len(units) != 1:
        return None
    return unit_spike_times(units, 0)
