"""What the quicklook checks in what it reads, and the two outcomes of trouble.

* **Malformed**: the file breaks a rule of the NWB schema, or states one fact twice and the two disagree. Numbers
  stored as text or records, a rate that is not a positive finite number, timestamps whose length is not the data's,
  a ragged column's index that does not end at the length of its values, a region naming rows its table lacks, a
  series' channel count that is not its electrodes region's length, spike times that are NaN, infinite or beyond any
  recording. :class:`MalformedContent` is raised; the command prints one ``error:`` line naming the file and the
  object, and writes no PNG.
* **Not drawable**: the file is valid, but one panel cannot show anything useful from it: a series without samples,
  a window whose values are all NaN, a table or window too large to read in one bounded slice. :class:`PanelNote` is
  raised; that panel says so in its place, the rest of the PNG is drawn, and the command warns once per such panel.

Only what the quicklook reads is checked, and every read is bounded (:data:`MAX_VALUES_READ`): a dataset that
declares a huge shape is never loaded.
"""

from __future__ import annotations

import numpy as np

#: The most values one read may return (128 MB as float64); a larger read is a :class:`PanelNote`.
MAX_VALUES_READ = 16_000_000
#: Times further than this from the session's reference time (about 31.7 years) lie beyond any recording.
MAX_TIME_S = 1e9
#: NumPy dtype kinds that hold numbers (booleans, integers, floats).
NUMBER_KINDS = "biuf"


class MalformedContent(Exception):
    """The NWB file breaks its schema or contradicts itself where the quicklook reads it.

    Parameters
    ----------
    where : str
        The object or dataset inside the file, e.g. ``/units/spike_times``.
    problem : str
        What is wrong with it.
    expected : str
        What the NWB schema (or the fact's other statement) requires.
    """

    def __init__(self, where: str, problem: str, expected: str):
        self.where, self.problem, self.expected = where, problem, expected
        super().__init__(f"{where} {problem}; expected {expected}")


class PanelNote(Exception):
    """A valid file from which one panel cannot be drawn usefully; the message is the panel's note."""


class PickledArray(Exception):
    """A Zarr array stored with the pickle codec (raised instead of building the codec: never unpickled)."""


def location(data, fallback: str) -> str:
    """The path of a dataset inside its file (HDF5 and Zarr arrays know it), else ``fallback``."""
    name = getattr(data, "name", None)
    if isinstance(name, str) and name:
        return name if name.startswith("/") else "/" + name
    return fallback


def kind_of(dtype) -> str:
    """NumPy's kind letter of a dtype; ``V`` (records) for hdmf's list of field types, ``?`` without a dtype."""
    if dtype is None:
        return "?"
    try:
        return np.dtype(dtype).kind
    except TypeError:  # hdmf's compound datasets give their dtype as a list of field types
        return "V"


def describe_dtype(dtype) -> str:
    """What a non-numeric dtype holds, in words."""
    words = {"S": "text", "U": "text", "O": "text or object references", "V": "records", "M": "dates",
             "m": "durations", "?": "no typed values"}
    kind = kind_of(dtype)
    if kind == "V" and isinstance(dtype, np.dtype) and not dtype.names:
        return f"opaque bytes (dtype {dtype})"
    return f"{words.get(kind, 'values that are not numbers')} (dtype {dtype})"


def require_numbers(data, where: str) -> None:
    """Refuse a dataset whose stored values are not numbers."""
    dtype = getattr(data, "dtype", None)
    if kind_of(dtype) not in NUMBER_KINDS:
        raise MalformedContent(location(data, where), f"holds {describe_dtype(dtype)}", "numbers")


def require_integers(data, where: str) -> None:
    """Refuse a dataset of row indices whose stored values are not whole numbers."""
    dtype = getattr(data, "dtype", None)
    if kind_of(dtype) not in "iu":
        raise MalformedContent(location(data, where), f"holds {describe_dtype(dtype)}", "whole numbers (row indices)")


def bounded(count: int, what: str) -> None:
    """Refuse (as a note) a read of more than :data:`MAX_VALUES_READ` values."""
    if count > MAX_VALUES_READ:
        raise PanelNote(f"{what} would read {count:,} values, more than the {MAX_VALUES_READ:,} read at once")


def values_per_row(data) -> int:
    """The number of values in one row (first-axis element) of a dataset."""
    return int(np.prod(data.shape[1:], dtype=np.int64)) if len(data.shape) > 1 else 1


def fetch(data, selection, where: str) -> np.ndarray:
    """``data[selection]`` as an array; a read that fails (a damaged HDF5 chunk, a Zarr chunk its codec cannot
    decode) is the file's fault."""
    try:
        return np.asarray(data[selection])
    except (PickledArray, MemoryError):
        raise
    except Exception as error:
        message = " ".join(str(error).split())[:200]
        raise MalformedContent(location(data, where), f"cannot be read ({type(error).__name__}: {message})",
                               "a readable dataset (the file may be damaged)") from error


def read_numbers(data, selection, where: str, *, count: int) -> np.ndarray:
    """Read ``data[selection]`` (``count`` values at most), after checking the values are numbers."""
    require_numbers(data, where)
    bounded(count, location(data, where))
    return fetch(data, selection, where)


def read_whole(data, where: str, *, integers: bool = False) -> np.ndarray:
    """A whole (small) dataset: numbers (or row indices), at most :data:`MAX_VALUES_READ` values."""
    (require_integers if integers else require_numbers)(data, where)
    bounded(int(np.prod(data.shape, dtype=np.int64)), location(data, where))
    return fetch(data, slice(None), where)


def require_times(values: np.ndarray, where: str) -> np.ndarray:
    """Refuse times that are NaN, infinite or beyond any recording (more than :data:`MAX_TIME_S` s); returns them."""
    values = np.asarray(values, dtype=float)
    bad = ~np.isfinite(values) | (np.abs(values) > MAX_TIME_S)
    if bad.any():
        value = values[np.flatnonzero(bad)[0]]
        beyond = "" if not np.isfinite(value) else f" s, beyond any recording (more than {MAX_TIME_S:.0e} s)"
        raise MalformedContent(where, f"holds the time {value:g}{beyond}",
                               f"finite times in seconds, within {MAX_TIME_S:.0e} s of the session's reference time")
    return values


def require_rows(rows: np.ndarray, table_length: int, where: str, table: str) -> np.ndarray:
    """Refuse region rows outside ``[0, table_length)``; returns them as int64."""
    rows = np.asarray(rows, dtype=np.int64)
    outside = (rows < 0) | (rows >= table_length)
    if outside.any():
        raise MalformedContent(where, f"names row {rows[np.flatnonzero(outside)[0]]}, but {table} has "
                               f"{table_length} rows", f"rows of {table}")
    return rows


def disagreement(where: str, stated: str, other_where: str, other_stated: str) -> MalformedContent:
    """One fact stated twice with two values: ``where`` ``stated``, but ``other_where`` ``other_stated``."""
    return MalformedContent(where, f"{stated}, but {other_where} {other_stated}", "the two to agree")
