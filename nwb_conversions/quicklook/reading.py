"""Reading an open NWB file for the quicklook: finding objects by type and reading short windows of series.

Everything here reads slices (``series.data[start:stop]``) of the lazily opened datasets, never a whole raw
series: a window of a few seconds or a column range, each bounded (:mod:`.checks`). Index lookups on timestamps
bisect the stored dataset element by element. A series is checked (:func:`checked_series`) before it is drawn.
"""

from __future__ import annotations

import bisect
import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np

from .checks import (
    MalformedContent,
    disagreement,
    fetch,
    location,
    read_numbers,
    require_numbers,
    require_times,
    values_per_row,
)

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
    """The object's path inside the file, e.g. ``/acquisition/ElectricalSeries``: from the path of its stored
    ``data`` (a series, a column) or ``id`` (a table) where the file gives one, else from its parents' names."""
    for stored in (getattr(obj, "data", None), getattr(getattr(obj, "id", None), "data", None)):
        name = getattr(stored, "name", None)
        if isinstance(name, str) and name.startswith("/") and name.count("/") > 1:
            return name.rsplit("/", 1)[0]
    parts = []
    while obj is not None and getattr(obj, "parent", None) is not None:
        parts.append(obj.name)
        if getattr(obj.parent, "parent", None) is None:  # the file itself: which of its groups holds the object
            parts += [group for group in ROOT_GROUPS if _holds(getattr(obj.parent, group, None), obj)][:1]
        obj = obj.parent
    return "/" + "/".join(reversed(parts))


#: The groups of an NWB file's root that hold objects by name.
ROOT_GROUPS = ("acquisition", "processing", "analysis", "stimulus", "stimulus_template", "intervals")


def _holds(group, obj) -> bool:
    return hasattr(group, "get") and group.get(obj.name) is obj


def finite_number(value) -> bool:
    """Whether an attribute read from the file is one finite real number."""
    return isinstance(value, Real) and not isinstance(value, bool) and bool(np.isfinite(value))


def check_series(series) -> None:
    """Refuse a series the NWB schema forbids or that contradicts itself: no data, values that are not numbers,
    ``conversion``/``offset`` that are not finite numbers, timestamps not one per sample or not finite, or no
    positive finite rate (and a finite starting time) without timestamps."""
    where = object_path(series)
    data = series.data
    if data is not None and data is getattr(type(series), "DEFAULT_DATA", None):  # pynwb's stand-in for none
        raise MalformedContent(where, "has no data dataset", "a data dataset (the NWB schema requires one)")
    if data is None or not hasattr(data, "shape") or not len(data.shape):
        raise MalformedContent(where, "has no data array", "a data dataset with samples on its first axis")
    require_numbers(data, f"{where}/data")
    for name in ("conversion", "offset"):
        value = getattr(series, name, None)
        if value is not None and not finite_number(value):
            raise MalformedContent(location(data, f"{where}/data"), f"has the {name} {value}", "a finite number")
    timestamps = series.timestamps
    if timestamps is not None:
        stamps_where = location(timestamps, f"{where}/timestamps")
        require_numbers(timestamps, stamps_where)
        if len(timestamps.shape) != 1 or timestamps.shape[0] != data.shape[0]:
            raise disagreement(stamps_where, f"holds {' × '.join(map(str, timestamps.shape))} timestamps",
                               location(data, f"{where}/data"), f"{data.shape[0]} samples")
        if len(timestamps):
            require_times(np.array([timestamps[0], timestamps[len(timestamps) - 1]]), stamps_where)
        return
    if not finite_number(series.rate) or series.rate <= 0:
        raise MalformedContent(f"{where}/starting_time", f"has the rate {series.rate}",
                               "a positive, finite rate in Hz (or timestamps)")
    if not finite_number(series.starting_time):
        raise MalformedContent(f"{where}/starting_time", f"is {series.starting_time}", "a finite time in seconds")
    require_times(np.array([series.starting_time]), f"{where}/starting_time")


def checked_series(nwbfile, type_name: str) -> list:
    """Every series of neurodata type ``type_name``, each checked (:func:`check_series`), by path."""
    found = find_objects(nwbfile, type_name)
    for series in found:
        check_series(series)
    return found


def in_acquisition(nwbfile, obj) -> bool:
    """Whether ``obj`` sits in the file's ``acquisition`` group."""
    return obj.name in nwbfile.acquisition and nwbfile.acquisition[obj.name] is obj


def num_samples(series) -> int:
    """The number of samples (first axis) of a series."""
    return int(series.data.shape[0])


def sample_times(series, start: int, stop: int) -> np.ndarray:
    """The times (s) of samples ``start:stop`` of a series, from its rate or from a slice of its timestamps."""
    if series.timestamps is not None:
        return fetch(series.timestamps, slice(start, stop), f"{object_path(series)}/timestamps").astype(float)
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


def read_samples(series, start: int, stop: int) -> np.ndarray:
    """Samples ``start:stop`` of a series (clipped to its length) in its unit, as float64; a bounded read."""
    start = int(min(max(start, 0), num_samples(series)))
    stop = int(min(max(stop, start), num_samples(series)))
    count = (stop - start) * values_per_row(series.data)
    return scale(series, read_numbers(series.data, slice(start, stop), f"{object_path(series)}/data", count=count))


def read_window(series, start_time: float, stop_time: float) -> Window:
    """Read the samples of ``series`` within ``[start_time, stop_time)``."""
    start, stop = index_at(series, start_time), index_at(series, stop_time)
    values = read_samples(series, start, stop)  # bounded: checked before the timestamps are read
    return Window(times=sample_times(series, start, stop), values=values)


def finite_share(values: np.ndarray) -> tuple[int, int]:
    """(finite values, all values) of an array."""
    return int(np.isfinite(values).sum()), int(np.size(values))


def finite_span(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Peak to peak of the finite values along ``axis`` (NaN where there are none), quietly."""
    values = np.where(np.isfinite(values), values, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(values, axis=axis) - np.nanmin(values, axis=axis)


def envelope(times: np.ndarray, values: np.ndarray, bins: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a long 1-D trace to its minimum and maximum per bin (interleaved), so spikes survive the drawing.

    Returns the trace as is when it has fewer than ``2 * bins`` samples. Non-finite values become NaN (gaps); a bin
    without a finite value is a gap.
    """
    values = np.where(np.isfinite(values), values, np.nan)  # NaN and ±inf are gaps in the drawn line
    if len(values) < 2 * bins:
        return times, values
    usable = len(values) // bins * bins
    shaped = values[:usable].reshape(bins, -1)
    bin_times = times[:usable].reshape(bins, -1)
    finite = np.isfinite(shaped)
    low = np.where(finite, shaped, np.inf).argmin(axis=1)
    high = np.where(finite, shaped, -np.inf).argmax(axis=1)
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
