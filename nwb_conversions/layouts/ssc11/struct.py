"""The ``sess`` variable of an SSC-11 ``an*sess_struct.mat`` file, loaded once, and strict accessors of its fields.

Both kinds of MAT file are read by :mod:`nwb_conversions.readers.matlab`; the ``an*sess.mat`` files beside the
struct files hold MATLAB class objects and are refused with a pointer to the struct version. Loads are shared while
anybody holds them (the imaging and the behaviour interfaces read one file; a v5 file is loaded whole only once).

Time units: a ``timeUnit`` field, when present, is MATLAB's ``session.timeSeries`` unit id (1 ms, 2 s, 3 min,
4 h, 5 d) or its name; without one, times are taken to be milliseconds, as in every piece of Peron-lab code read.
Milliseconds become seconds by an exact division by 1000.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.matlab import read_mat_variables, variable_classes
from ...readers.matlab_values import PLAIN_CLASSES, MatlabObjectError
from .agreement import check_count, check_finite, number, same_value
from .release import path_subject

#: MATLAB ``session.timeSeries`` time-unit ids → (multiplier, divisor) to seconds: ms are divided by 1000 exactly.
TIME_UNIT_TO_SECONDS = {1: (1, 1000), 2: (1, 1), 3: (60, 1), 4: (3600, 1), 5: (86400, 1)}
TIME_UNIT_NAMES = {"ms": 1, "millisecond": 1, "milliseconds": 1, "s": 2, "sec": 2, "second": 2, "seconds": 2,
                   "m": 3, "min": 3, "minute": 3, "minutes": 3, "h": 4, "hour": 4, "hours": 4, "d": 5, "day": 5, "days": 5}

EXPECTED_STRUCT = "an an*sess_struct.mat file holding the struct variable 'sess' (Peron et al. 2020, CRCNS ssc-11)"

#: Shared loads: both interfaces of a session read one file, and a v5 file is loaded whole only once.
_LOADED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class LoadedSession:
    """The ``sess`` variable of one file (a weak-referenceable holder, so interfaces can share one load)."""

    def __init__(self, file_path: Path, sess: dict):
        self.file_path = file_path
        self.sess = sess


def load_session_struct(file_path: str | Path) -> LoadedSession:
    """Read the ``sess`` variable of an ``an*sess_struct.mat`` file (shared while anybody holds it).

    Raises
    ------
    SourceFormatError
        Not a MAT file, unreadable, a MATLAB class object (``an*sess.mat``), or no ``sess`` struct.
    """
    file_path = Path(file_path)
    try:
        key = (str(file_path.resolve()), file_path.stat().st_mtime_ns, file_path.stat().st_size)
    except OSError as exc:
        raise SourceFormatError(file_path, f"unreadable ({exc.strerror})", EXPECTED_STRUCT)
    loaded = _LOADED.get(key)
    if loaded is not None:
        return loaded
    object_problem = "the an*sess.mat files hold the lab's session objects"
    object_expected = "the struct version of the same session, an*sess_struct.mat, in the same folder"
    try:
        variables = read_mat_variables(file_path, ("sess",))
    except MatlabObjectError as exc:
        raise MatlabObjectError(file_path, f"{exc.problem} ({object_problem})", object_expected) from None
    if "sess" not in variables:
        classes = variable_classes(file_path)
        objects = sorted(name for name, matlab_class in classes.items() if matlab_class not in PLAIN_CLASSES)
        if objects:
            raise MatlabObjectError(
                file_path,
                f"{objects[0]} is a MATLAB class object ({classes[objects[0]]}), which only MATLAB can read "
                f"({object_problem})",
                object_expected,
            )
        others = ", ".join(sorted(classes)) or "none"
        raise SourceFormatError(file_path, f"no 'sess' variable (variables: {others})", EXPECTED_STRUCT)
    if not isinstance(variables["sess"], dict):
        raise SourceFormatError(file_path, "'sess' is not a 1 x 1 struct", EXPECTED_STRUCT)
    check_mouse_id(file_path, variables["sess"])
    loaded = LoadedSession(file_path, variables["sess"])
    _LOADED[key] = loaded
    return loaded


def check_mouse_id(file_path: Path, sess: dict) -> None:
    """``sess.mouseId`` (the lab's class property, a number or ``an<ID>``), when present, must name the animal of
    the session's path."""
    mouse_id = sess.get("mouseId")
    subject = path_subject(file_path)
    if mouse_id is None or subject is None:
        return
    if isinstance(mouse_id, str):
        digits = re.fullmatch(r"\s*(?:an)?0*(\d+)\s*", mouse_id)
        stated, shown = (digits.group(1) if digits else None), repr(mouse_id)
    else:
        values = np.asarray(mouse_id).reshape(-1)
        whole = values.size == 1 and values.dtype.kind in "iuf" and float(values[0]).is_integer()
        stated = shown = number(values[0]) if whole else None
    if stated is not None and stated != subject[2:].lstrip("0"):
        raise SourceFormatError(file_path, f"sess.mouseId is {shown} but the path says {subject}",
                                "sess.mouseId to name the animal of the session's folder and file name")


def field_of(struct: dict, path: str, file_path: Path, *, required: bool = True):
    """``struct.a.b`` for ``path = "a.b"``; None (or an error when ``required``) if a field is absent."""
    value = struct
    walked = "sess"
    for name in path.split("."):
        walked += f".{name}"
        if not isinstance(value, dict) or name not in value:
            if required:
                raise SourceFormatError(file_path, f"no field {walked}", EXPECTED_STRUCT)
            return None
        value = value[name]
    return value


def vector(value, file_path: Path, where: str, *, dtype=np.float64) -> np.ndarray:
    """A MATLAB vector (1 × n, n × 1 or empty) as a 1-D array."""
    array = np.asarray(value)
    if array.ndim > 2 or (array.ndim == 2 and min(array.shape) > 1):
        raise SourceFormatError(file_path, f"{where} has shape {array.shape}", f"{where} as a vector")
    if array.dtype.kind not in "fiub":
        raise SourceFormatError(file_path, f"{where} is not numeric", f"{where} as a numeric vector")
    values = array.reshape(-1)
    if np.dtype(dtype).kind in "iu" and values.dtype.kind == "f" and not np.all(values == np.round(values)):
        raise SourceFormatError(file_path, f"{where} holds non-integer values", f"{where} as integers (ids)")
    return values.astype(dtype)


@dataclass(frozen=True)
class TimeUnit:
    """A ``timeUnit`` of the lab's classes: converts its times to seconds (ms: divided by 1000)."""

    multiplier: int = 1
    divisor: int = 1000

    def to_seconds(self, values) -> np.ndarray:
        seconds = np.asarray(values, dtype=np.float64)
        if self.multiplier != 1:
            seconds = seconds * self.multiplier
        return seconds / self.divisor if self.divisor != 1 else seconds


def time_unit_of(time_unit, file_path: Path, where: str) -> TimeUnit:
    """The unit of a ``timeUnit`` field (absent → milliseconds, the lab's convention)."""
    if time_unit is None or (isinstance(time_unit, (str, np.ndarray)) and np.size(time_unit) == 0):
        return TimeUnit(*TIME_UNIT_TO_SECONDS[1])
    if isinstance(time_unit, str):
        unit_id = TIME_UNIT_NAMES.get(time_unit.strip().lower())
    else:
        values = np.asarray(time_unit).ravel()
        unit_id = int(values[0]) if values.size == 1 and float(values[0]).is_integer() else None
    if unit_id not in TIME_UNIT_TO_SECONDS:
        raise SourceFormatError(file_path, f"{where} is {time_unit!r}", f"{where} as 1-5 (ms, s, min, h, d) or a unit name")
    return TimeUnit(*TIME_UNIT_TO_SECONDS[unit_id])


def event_series(struct, file_path: Path, where: str, *, required: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """An event series' times in seconds (``eventTimes`` in its ``timeUnit``, finite) and, when it gives them, the
    trial of each event (``eventTrials``: one per event, or the series is refused; empty is taken as absent).

    Without ``eventTimes``: an error when ``required``, else no events.
    """
    if not isinstance(struct, dict) or (required and "eventTimes" not in struct):
        raise SourceFormatError(file_path, f"{where} has no eventTimes", f"{where} as an event series")
    unit = time_unit_of(struct.get("timeUnit"), file_path, f"{where}.timeUnit")
    times = vector(struct.get("eventTimes", np.zeros((0, 0))), file_path, f"{where}.eventTimes")
    times = check_finite(unit.to_seconds(times), file_path, f"{where}.eventTimes")
    trials = struct.get("eventTrials")
    if trials is None or np.size(trials) == 0:
        return times, None
    trials = vector(trials, file_path, f"{where}.eventTrials", dtype=np.int64)
    check_count(file_path, (f"{where}.eventTrials", trials.size, "entries"),
                (f"{where}.eventTimes", times.size, "events"), "one trial per event")
    return times, trials


def as_list(value) -> list:
    """A MATLAB cell or struct array as a list: a list (a ``StructArray`` too) as it is, a lone element in one."""
    return value if isinstance(value, list) else [value]


def strings(value, file_path: Path, where: str) -> list[str]:
    """A cell array of char rows (or one char row) as a list of str."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise SourceFormatError(file_path, f"{where} is not a cell array of strings", f"{where} as a cell of char arrays")


def hash_entries(value, file_path: Path, where: str) -> dict:
    """A flattened MATLAB hash (struct with cell arrays ``keys`` and ``values``) as a dict.

    A key listed twice with the same value is kept once; with two different values it is refused, naming both.
    """
    if not isinstance(value, dict) or "keys" not in value or "values" not in value:
        raise SourceFormatError(file_path, f"{where} has no keys/values", f"{where} as a struct with cells keys, values")
    keys = strings(value["keys"], file_path, f"{where}.keys")
    values = as_list(value["values"])
    if len(keys) != len(values):
        raise SourceFormatError(
            file_path, f"{where} has {len(keys)} keys but {len(values)} values", f"one value per key in {where}"
        )
    entries, positions = {}, {}
    for index, (key, item) in enumerate(zip(keys, values)):
        if key in entries and not same_value(entries[key], item):
            raise SourceFormatError(
                file_path,
                f"{where}.keys{{{positions[key] + 1}}} and {where}.keys{{{index + 1}}} are both '{key}', with "
                f"different values ({where}.values{{{positions[key] + 1}}} and {{{index + 1}}})",
                "a key stated twice to have one value",
            )
        entries.setdefault(key, item)
        positions.setdefault(key, index)
    return entries
