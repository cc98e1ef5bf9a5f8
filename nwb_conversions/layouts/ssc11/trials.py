"""The trials of an SSC-11 ``sess`` struct: ids, start and end times, trial types and outcomes, pole positions.

Fields (Peron lab session class, struct-ified; see :mod:`nwb_conversions.layouts.ssc11.behavior`): ``trialIds``,
``trialStartTimes`` (ms), ``trialTypeMat`` (type × trial, logical), ``trialTypeStr``, and per trial ``trial{t}``
(``endTime``, ``behavParams`` hash with ``polePositionAP``).

Trial types: the lab names them ``HitL``, ``HitR``, ``ErrL``, ``ErrR``, ``NoLickL``, ``NoLickR`` (L/R = the
correct side). Correctness and the side licked follow from those names (Hit = correct, licked the named side;
Err = licked the other side; NoLick = no lick); with other names these two columns are left out, with a note.

What a ``trial{t}`` states again must agree with the session's vectors (:mod:`.agreement`): its ``id`` with
``trialIds(t)``, its ``startTime`` with ``trialStartTimes(t)``, its ``typeIds`` with ``trialTypeMat(:, t)``; trial ids
are unique and times finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from .agreement import TIME_TOLERANCE_S, check_finite, check_stated, check_unique
from .struct import TimeUnit, as_list, hash_entries, strings, time_unit_of, vector

#: Trial type name → (correct, side licked); L/R in the name is the correct side.
TRIAL_TYPE_OUTCOMES = {
    "hitl": (True, "left"),
    "hitr": (True, "right"),
    "errl": (False, "right"),
    "errr": (False, "left"),
    "nolickl": (False, "none"),
    "nolickr": (False, "none"),
}


@dataclass
class TrialTable:
    """One row per trial. Optional columns are None when the struct does not give them."""

    trial_ids: np.ndarray
    start_times: np.ndarray
    stop_times: np.ndarray
    trial_types: list
    correct: np.ndarray | None = None
    lick_side: list | None = None
    pole_position_ap: np.ndarray | None = None


def read_trials(sess: dict, file_path: Path, notes: list, session_end: float | None) -> TrialTable:
    """Read the trials table of a session struct that has ``trialStartTimes``; append to ``notes`` what is missing.

    The last trial ends at ``session_end`` (s) when the struct gives no trial end times.

    Raises
    ------
    SourceFormatError
        Trial fields of mismatched lengths, or trial type names that do not match ``trialTypeMat``'s rows.
    """
    name = file_path.name
    starts = TimeUnit().to_seconds(vector(sess["trialStartTimes"], file_path, "sess.trialStartTimes"))  # ms
    check_finite(starts, file_path, "sess.trialStartTimes")
    count = starts.size
    lengths = {"sess.trialStartTimes": count}
    trial_ids = np.arange(1, count + 1)
    if "trialIds" in sess:
        trial_ids = vector(sess["trialIds"], file_path, "sess.trialIds", dtype=np.int64)
        lengths["sess.trialIds"] = trial_ids.size
    type_matrix = sess.get("trialTypeMat")
    if type_matrix is not None:
        type_matrix = np.atleast_2d(np.asarray(type_matrix))
        lengths["sess.trialTypeMat columns"] = type_matrix.shape[1]
    trial_structs = sess.get("trial")
    if trial_structs is not None:
        trial_structs = as_list(trial_structs)
        lengths["sess.trial"] = len(trial_structs)
    if len(set(lengths.values())) != 1:
        described = ", ".join(f"{key} {value}" for key, value in lengths.items())
        raise SourceFormatError(
            file_path, f"the trial fields have mismatched lengths ({described})", "one entry per trial"
        )
    check_unique(trial_ids, file_path, "sess.trialIds", "trial id")
    if trial_structs is not None:
        _check_trial_structs(trial_structs, trial_ids, starts, type_matrix, file_path)
    trial_types = [""] * count
    correct = lick_side = None
    if type_matrix is not None and "trialTypeStr" in sess:
        type_names = strings(sess["trialTypeStr"], file_path, "sess.trialTypeStr")
        if len(type_names) != type_matrix.shape[0]:
            raise SourceFormatError(
                file_path,
                f"sess.trialTypeMat has {type_matrix.shape[0]} rows but sess.trialTypeStr {len(type_names)} names",
                "one trial type name per row of sess.trialTypeMat",
            )
        flags = type_matrix.astype(bool)
        trial_types = [";".join(type_names[row] for row in np.flatnonzero(flags[:, trial])) for trial in range(count)]
        outcomes = [TRIAL_TYPE_OUTCOMES.get(trial_type.lower()) for trial_type in trial_types]
        if all(outcome is not None for outcome in outcomes):
            correct = np.array([outcome[0] for outcome in outcomes])
            lick_side = [outcome[1] for outcome in outcomes]
        else:
            notes.append(f"{name}: trial types other than HitL/HitR/ErrL/ErrR/NoLickL/NoLickR (or none): no correct / "
                         "lick_side columns")
    else:
        notes.append(f"{name}: no sess.trialTypeMat / trialTypeStr: trial types are not written")
    stops = _trial_ends(trial_structs, starts, file_path, notes, session_end)
    pole = _pole_positions(trial_structs, file_path)
    if pole is None:
        notes.append(f"{name}: no trial{{t}}.behavParams polePositionAP: no pole_position_ap column")
    return TrialTable(trial_ids, starts, stops, trial_types, correct, lick_side, pole)


def _check_trial_structs(trial_structs: list, trial_ids: np.ndarray, starts: np.ndarray, type_matrix, file_path: Path):
    """What each ``trial{t}`` states again must agree with the session's vectors: its ``id`` with ``trialIds(t)``,
    its ``startTime`` (in its ``timeUnit``) with ``trialStartTimes(t)``, its ``typeIds`` with the rows of
    ``trialTypeMat(:, t)`` that are set."""
    expected = "a fact stated twice to agree"
    for index, trial in enumerate(trial_structs):
        where = f"sess.trial{{{index + 1}}}"
        if not isinstance(trial, dict):
            continue
        if "id" in trial:
            check_stated(file_path, f"{where}.id", np.asarray(trial["id"], dtype=np.float64),
                         f"sess.trialIds({index + 1})", trial_ids[index], expected)
        if "startTime" in trial:
            unit = time_unit_of(trial.get("timeUnit"), file_path, f"{where}.timeUnit")
            stated = unit.to_seconds(vector(trial["startTime"], file_path, f"{where}.startTime"))
            check_stated(file_path, f"{where}.startTime", stated, f"sess.trialStartTimes({index + 1})", starts[index],
                         expected, tolerance=TIME_TOLERANCE_S, unit=" s")
        if "typeIds" in trial and type_matrix is not None:
            stated = sorted(set(vector(trial["typeIds"], file_path, f"{where}.typeIds", dtype=np.int64).tolist()))
            flagged = (np.flatnonzero(type_matrix[:, index].astype(bool)) + 1).tolist()
            if stated != flagged:
                raise SourceFormatError(
                    file_path, f"{where}.typeIds is {stated} but sess.trialTypeMat(:, {index + 1}) sets rows {flagged}",
                    "each trial's types stated once")


def _trial_ends(trial_structs, starts, file_path: Path, notes: list, session_end: float | None) -> np.ndarray:
    if trial_structs and all(isinstance(trial, dict) and "endTime" in trial for trial in trial_structs):
        ends = np.array([
            time_unit_of(trial.get("timeUnit"), file_path, "sess.trial{t}.timeUnit").to_seconds(
                vector(trial["endTime"], file_path, "sess.trial{t}.endTime")[0])
            for trial in trial_structs
        ])
        return check_finite(ends, file_path, "the trials' endTime")
    notes.append(
        f"{file_path.name}: the struct gives no trial end times: each trial is taken to end where the next starts, "
        "the last at the session's last sample"
    )
    if not starts.size:
        return starts
    last = max(starts[-1], session_end) if session_end is not None else starts[-1]
    return np.append(starts[1:], last)


def _pole_positions(trial_structs, file_path: Path) -> np.ndarray | None:
    if not trial_structs:
        return None
    positions = []
    for trial in trial_structs:
        params = trial.get("behavParams") if isinstance(trial, dict) else None
        entries = hash_entries(params, file_path, "sess.trial{t}.behavParams") if isinstance(params, dict) else {}
        value = entries.get("polePositionAP")
        positions.append(float(np.asarray(value).ravel()[0]) if value is not None and np.size(value) else np.nan)
    positions = np.array(positions)
    return None if np.all(np.isnan(positions)) else positions
