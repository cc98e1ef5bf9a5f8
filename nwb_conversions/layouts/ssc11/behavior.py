"""Behaviour and trials of an SSC-11 ``sess`` struct: whisker kinematics, touches, licks, pole in reach, trials.

Every field is optional: a field the struct lacks is skipped and named in a note, never filled in. Field names
are those of the Peron lab's session class (research notes, imaging_opto.md §1.3–1.4; that the struct keeps them
is an assumption of the notes):

- time series (``valueMatrix`` rows = whiskers, ``time``, ``timeUnit``): ``whiskerAngleTSA`` (θ),
  ``whiskerCurvatureTSA`` (κ), ``whiskerCurvatureChangeTSA`` (Δκ);
- event series (``eventTimes``, optional ``eventTrials`` and ``timeUnit``): ``whiskerBarContactClassifiedESA.esa``
  ({protraction, retraction} touches; else ``whiskerBarContactESA.esa{1}``, all touches),
  ``whiskerBarInReachES`` (pole in reach), ``behavESA.esa{k}`` named by ``idStr`` ('Left lick', 'Right lick', ...);
- trials: ``trialIds``, ``trialStartTimes`` (ms), ``trialTypeMat`` (type × trial, logical), ``trialTypeStr``, and
  per trial ``trial{t}`` (``endTime``, ``behavParams`` hash with ``polePositionAP``), read by
  :mod:`nwb_conversions.layouts.ssc11.trials`.

Facts stated twice must agree (:mod:`.agreement`): a whisker series' ``ids`` and ``idStrs`` with its matrix rows,
an event series' ``eventTrials`` with its ``eventTimes``. Times must be finite (a long whisker time vector, maybe on
disk, is checked a block at a time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.matlab_values import LazyMatlabArray
from .agreement import check_count, check_finite
from .struct import LoadedSession, TimeUnit, as_list, event_series, strings, time_unit_of
from .trials import TrialTable, read_trials

#: Whisker time series: struct field → (NWB name, description, unit).
WHISKER_SERIES = {
    "whiskerAngleTSA": ("WhiskerAngle", "whisker angle θ per tracked whisker (sess.whiskerAngleTSA)", "degrees"),
    "whiskerCurvatureTSA": (
        "WhiskerCurvature",
        "whisker curvature κ per tracked whisker (sess.whiskerCurvatureTSA); the unit is not documented",
        "unknown",
    ),
    "whiskerCurvatureChangeTSA": (
        "WhiskerCurvatureChange",
        "change of whisker curvature Δκ from its baseline (sess.whiskerCurvatureChangeTSA); the unit is not documented",
        "unknown",
    ),
}

#: Times checked for NaN at a time (a whisker time vector may be long, and stay on disk).
FINITE_CHECK_BLOCK = 1 << 20

#: Lick event series of ``behavESA``, by lower-cased ``idStr``.
LICK_SERIES = {"left lick": "LickLeft", "right lick": "LickRight"}


@dataclass
class ScaledVector:
    """A lazy 1-D time vector in seconds: a MATLAB vector (maybe on disk) in its time unit."""

    source: object
    unit: TimeUnit

    @property
    def shape(self) -> tuple[int]:
        return (int(np.prod(self.source.shape)),)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, selection) -> np.ndarray:
        if isinstance(self.source, LazyMatlabArray):
            dataset = self.source.dataset
            values = dataset[selection, 0] if dataset.shape[1] == 1 else dataset[0, selection]
        else:
            values = np.asarray(self.source).reshape(-1)[selection]
        return self.unit.to_seconds(values)

    def __array__(self, dtype=None, copy=None):
        return self[:]


@dataclass
class WhiskerSeries:
    """One whisker time series: data ``(time, whisker)`` (lazy from v7.3 files) and timestamps in seconds."""

    name: str
    description: str
    unit: str
    data: object
    timestamps: ScaledVector
    whisker_labels: list


@dataclass
class BehaviorEvents:
    """Point events: times in seconds (sorted) and, when the struct has them, the trial of each event."""

    name: str
    description: str
    times: np.ndarray
    trials: np.ndarray | None


@dataclass
class Behavior:
    """Everything behavioural in the struct, and notes on what is missing."""

    whisker_series: list = field(default_factory=list)
    events: list = field(default_factory=list)
    trials: TrialTable | None = None
    notes: list = field(default_factory=list)


def read_behavior(loaded: LoadedSession, *, session_end: float | None = None) -> Behavior:
    """Read the behavioural fields of a session struct.

    Parameters
    ----------
    loaded : LoadedSession
    session_end : float, optional
        The last sample's time (s); the last trial ends there when the struct gives no trial end times.

    Raises
    ------
    SourceFormatError
        A field present but malformed: a time vector of another length than its matrix, trial vectors of
        mismatched lengths.
    """
    file_path, sess = loaded.file_path, loaded.sess
    behavior = Behavior()
    name = file_path.name
    for struct_field, (series_name, description, unit) in WHISKER_SERIES.items():
        if struct_field in sess:
            behavior.whisker_series.append(
                _whisker_series(sess[struct_field], file_path, struct_field, series_name, description, unit)
            )
        else:
            behavior.notes.append(f"{name}: no sess.{struct_field}: no {series_name} series")
    behavior.events.extend(_touches(sess, file_path, behavior.notes))
    if isinstance(sess.get("whiskerBarInReachES"), dict):
        behavior.events.append(
            _events(sess["whiskerBarInReachES"], file_path, "sess.whiskerBarInReachES", "PoleInReach",
                    "times the pole came within reach of the whiskers, as sess.whiskerBarInReachES lists them")
        )
    else:
        behavior.notes.append(f"{name}: no sess.whiskerBarInReachES: no PoleInReach events")
    behavior.events.extend(_behavioral_event_series(sess, file_path, behavior.notes))
    if "trialStartTimes" in sess:
        behavior.trials = read_trials(sess, file_path, behavior.notes, session_end)
    else:
        behavior.notes.append(f"{name}: no sess.trialStartTimes: no trials table")
    return behavior


def _whisker_series(struct, file_path: Path, where: str, name: str, description: str, data_unit: str) -> WhiskerSeries:
    if not isinstance(struct, dict) or "valueMatrix" not in struct or "time" not in struct:
        raise SourceFormatError(file_path, f"sess.{where} has no valueMatrix/time", f"sess.{where} as a time series")
    matrix, time = struct["valueMatrix"], struct["time"]
    if len(matrix.shape) != 2:
        raise SourceFormatError(file_path, f"sess.{where}.valueMatrix is not a matrix", "whiskers x time")
    count = int(np.prod(time.shape))
    if min(time.shape) > 1 or count != matrix.shape[1]:
        raise SourceFormatError(
            file_path,
            f"sess.{where}.time has {count} entries but sess.{where}.valueMatrix has {matrix.shape[1]} time points",
            "one time per matrix column",
        )
    unit = time_unit_of(struct.get("timeUnit"), file_path, f"sess.{where}.timeUnit")
    labels = struct.get("idStrs")
    labels = strings(labels, file_path, f"sess.{where}.idStrs") if labels is not None else []
    rows = (f"sess.{where}.valueMatrix", matrix.shape[0], "rows (whiskers)")
    if labels:
        check_count(file_path, (f"sess.{where}.idStrs", len(labels), "names"), rows, "one name per whisker")
    if struct.get("ids") is not None and np.size(struct["ids"]):
        check_count(file_path, (f"sess.{where}.ids", int(np.size(struct["ids"])), "ids"), rows, "one id per whisker")
    timestamps = ScaledVector(time, unit)
    _check_finite_in_blocks(timestamps, file_path, f"sess.{where}.time")
    return WhiskerSeries(name, description, data_unit, matrix.T, timestamps, labels)


def _check_finite_in_blocks(values: ScaledVector, file_path: Path, where: str) -> None:
    """Refuse a NaN or infinite time, reading a long (lazy) vector a block at a time."""
    for start in range(0, len(values), FINITE_CHECK_BLOCK):
        check_finite(values[start : start + FINITE_CHECK_BLOCK], file_path, where, first=start)


def _events(struct, file_path: Path, where: str, name: str, description: str) -> BehaviorEvents:
    times, trials = event_series(struct, file_path, where)
    order = np.argsort(times, kind="stable")
    return BehaviorEvents(name, description, times[order], None if trials is None else trials[order])


def _touches(sess: dict, file_path: Path, notes: list) -> list[BehaviorEvents]:
    classified = sess.get("whiskerBarContactClassifiedESA")
    if isinstance(classified, dict) and "esa" in classified:
        series = as_list(classified["esa"])
        if len(series) != 2:
            raise SourceFormatError(
                file_path,
                f"sess.whiskerBarContactClassifiedESA.esa has {len(series)} series",
                "two (protraction, retraction touches)",
            )
        return [
            _events(series[0], file_path, "sess.whiskerBarContactClassifiedESA.esa{1}", "TouchProtraction",
                    "onsets of protraction touches of the whisker on the pole"),
            _events(series[1], file_path, "sess.whiskerBarContactClassifiedESA.esa{2}", "TouchRetraction",
                    "onsets of retraction touches of the whisker on the pole"),
        ]
    contact = sess.get("whiskerBarContactESA")
    if isinstance(contact, dict) and "esa" in contact:
        notes.append(f"{file_path.name}: touches are not classified into protraction/retraction: one Touch series")
        return [_events(as_list(contact["esa"])[0], file_path, "sess.whiskerBarContactESA.esa{1}", "Touch",
                        "onsets of touches of the whisker on the pole")]
    notes.append(f"{file_path.name}: no sess.whiskerBarContactClassifiedESA or whiskerBarContactESA: no touches")
    return []


def _behavioral_event_series(sess: dict, file_path: Path, notes: list) -> list[BehaviorEvents]:
    behav = sess.get("behavESA")
    if not isinstance(behav, dict) or "esa" not in behav:
        notes.append(f"{file_path.name}: no sess.behavESA: no lick events")
        return []
    found, names = [], set()
    for index, struct in enumerate(as_list(behav["esa"])):
        where = f"sess.behavESA.esa{{{index + 1}}}"
        label = struct.get("idStr", "") if isinstance(struct, dict) else ""
        label = label if isinstance(label, str) else ""
        name = LICK_SERIES.get(label.strip().lower()) or _camel_case(label) or f"BehavioralEvent{index + 1}"
        if name in names:
            name = f"{name}{index + 1}"
        names.add(name)
        found.append(_events(struct, file_path, where, name, f"'{label}' events of sess.behavESA"))
    missing = [name for name in LICK_SERIES.values() if name not in names]
    if missing:
        notes.append(f"{file_path.name}: sess.behavESA has no {' / '.join(missing)} series ('Left lick', 'Right lick')")
    return found


def _camel_case(label: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^0-9A-Za-z]+", label) if word)
