"""Facts an SSC-11 ``sess`` struct states twice must agree: one line naming both places, or the conversion stops.

The lab's session classes keep many facts in two places: a matrix's rows and the ids listing them, a time vector and
the matrix columns it times, ``dffTimeSeriesArray.ids`` and ``caTSA.ids``, ``trial{t}.id`` and ``trialIds(t)``, a
key listed twice in a flattened hash. Duplicates that agree are accepted; the first disagreement is reported with
both places and both values (entries counted from 1, as MATLAB does). Numbers that must be finite (times, ids) are
checked here too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import SourceFormatError

#: Two times of one event, stated in two fields (maybe in different units), agree within this many seconds.
TIME_TOLERANCE_S = 1e-6


def number(value) -> str:
    """A number as a message shows it: integers without a decimal point, others with up to 10 digits."""
    value = np.asarray(value).item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:.10g}" if isinstance(value, float) else str(value)


def check_count(file_path: Path, first: tuple[str, int, str], second: tuple[str, int, str], expected: str) -> None:
    """Refuse unless two counts of one thing agree; each is ``(place, count, noun)``, e.g.
    ``("sess.caTSA.time", 700, "frames")`` → "sess.caTSA.time has 700 frames but ..."."""
    (where_a, count_a, noun_a), (where_b, count_b, noun_b) = first, second
    if count_a != count_b:
        raise SourceFormatError(file_path, f"{where_a} has {count_a} {noun_a} but {where_b} has {count_b} {noun_b}",
                                expected)


def check_same(file_path: Path, where_a: str, a, where_b: str, b, expected: str, *, tolerance: float = 0.0,
               unit: str = "") -> None:
    """Refuse unless two vectors stating the same facts are equal (within ``tolerance``), naming the first entry
    that differs (its values followed by ``unit``, e.g. " s" for times compared in seconds)."""
    a, b = np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)
    check_count(file_path, (where_a, a.size, "entries"), (where_b, b.size, "entries"), expected)
    agree = (a == b) | (np.abs(a - b) <= tolerance) if tolerance else a == b
    differ = np.flatnonzero(~agree)
    if differ.size:
        index = int(differ[0])
        raise SourceFormatError(
            file_path,
            f"{where_a}({index + 1}) is {number(a[index])}{unit} but "
            f"{where_b}({index + 1}) is {number(b[index])}{unit}",
            expected,
        )


def check_stated(file_path: Path, where: str, stated, other_where: str, other, expected: str, *,
                 tolerance: float = 0.0, unit: str = "") -> None:
    """Refuse unless ``stated`` (a field stating one fact again, as a vector) is one value equal to ``other``
    (within ``tolerance``), showing both (``stated`` in full, or "empty"; followed by ``unit``)."""
    stated = np.asarray(stated).reshape(-1)
    if stated.size != 1 or not (abs(stated[0] - other) <= tolerance if tolerance else stated[0] == other):
        shown = " ".join(map(number, stated)) or "empty"
        raise SourceFormatError(file_path, f"{where} is {shown}{unit} but {other_where} is {number(other)}{unit}",
                                expected)


def check_finite(values: np.ndarray, file_path: Path, where: str, *, first: int = 0) -> np.ndarray:
    """Return ``values`` if none is NaN or infinite; otherwise refuse, naming the first (``values`` being entries
    ``first + 1, ...`` of ``where``)."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise SourceFormatError(file_path, f"{where}({first + int(bad[0]) + 1}) is {values[bad[0]]}",
                                f"{where} as finite numbers")
    return values


def check_unique(values: np.ndarray, file_path: Path, where: str, what: str) -> None:
    """Refuse a repeated entry of ``values`` (ids), naming both of its positions."""
    seen: dict = {}
    for index, value in enumerate(values.tolist()):
        if value in seen:
            raise SourceFormatError(
                file_path, f"{where}({seen[value] + 1}) and {where}({index + 1}) are both {number(value)}",
                f"each {what} once",
            )
        seen[value] = index


def same_value(a, b) -> bool:
    """Whether two plain values read from a MAT file are equal (arrays by shape and values, NaN equal to NaN)."""
    if hasattr(a, "shape") or hasattr(b, "shape"):  # arrays, lazy ones too
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind
                                                          in "fc"))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_value(a[key], b[key]) for key in a)
    return type(a) is type(b) and a == b
