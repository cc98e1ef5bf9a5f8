"""The calcium imaging of an SSC-11 ``sess`` struct (Peron et al. 2020): ROIs per plane, raw F, ΔF/F, events.

Field names follow the Peron lab's session classes, struct-ified (research notes, imaging_opto.md §1.3–1.4):

- ``sess.caTSA.ids`` (ROI id per matrix row), ``.time`` (frame times), ``.timeUnit``, ``.trialIndices`` (trial of
  each frame), ``.valueMatrix`` (raw F, ROI × time), ``.dffTimeSeriesArray`` (ΔF/F: ``valueMatrix``, ``ids``,
  ``time``, ``timeUnit``), ``.caPeakEventSeriesArray.esa{r}`` (detected events of ROI r: ``eventTimes``, optionally
  ``eventTrials`` and ``id``; ids in ``.caPeakEventSeriesArray.ids``);
- ``sess.caTSA.roiArray{v}``, one per imaging plane (:mod:`.rois`);
- ``sess.caTSA.cellFeatures.keys`` / ``.values`` (a flattened hash: per-ROI features in ``caTSA.ids`` order).

Facts stated twice must agree (:mod:`.agreement`): the matrices' rows and ``ids``, their columns and ``time``,
``trialIndices`` and ``time``, the ΔF/F's ``ids`` and ``time`` and the raw F's, each event series' ``id`` and
``caPeakEventSeriesArray.ids``, its ``eventTrials`` and ``eventTimes``. Frame and event times must be finite.

Large matrices stay on disk: ``raw_f`` and ``dff`` are ``(time, ROI)`` views, read in time blocks
(:class:`~.traces.PlaneTraces`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from .agreement import TIME_TOLERANCE_S, check_count, check_finite, check_same, check_stated, check_unique
from .rois import read_planes
from .struct import LoadedSession, as_list, event_series, field_of, hash_entries, time_unit_of, vector


@dataclass
class CalciumImaging:
    """What ``sess.caTSA`` holds, checked for consistency.

    Attributes
    ----------
    timestamps : ndarray
        Frame times in seconds.
    roi_ids : ndarray of int64
        One per matrix row.
    raw_f, dff : array-like, shape (time, ROI)
        Lazy for v7.3 files. ``dff`` None when the struct has no ``dffTimeSeriesArray``.
    planes : list of PlaneRois
    event_times : list of ndarray or None
        Detected calcium events per ROI (matrix-row order), in seconds.
    event_trials : list of ndarray or None
    cell_features : dict
        Feature name → per-ROI float values (matrix-row order).
    notes : list of str
    """

    timestamps: np.ndarray
    roi_ids: np.ndarray
    raw_f: object
    dff: object
    planes: list
    event_times: list | None = None
    event_trials: list | None = None
    cell_features: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def frame_times(loaded: LoadedSession) -> np.ndarray:
    """The imaging frames' times in seconds (``sess.caTSA.time`` in its ``timeUnit``; finite)."""
    ca = field_of(loaded.sess, "caTSA", loaded.file_path)
    return _times(ca, loaded.file_path, "sess.caTSA")


def _times(struct: dict, file_path: Path, where: str) -> np.ndarray:
    unit = time_unit_of(struct.get("timeUnit"), file_path, f"{where}.timeUnit")
    seconds = unit.to_seconds(vector(field_of(struct, "time", file_path), file_path, f"{where}.time"))
    return check_finite(seconds, file_path, f"{where}.time")


def read_calcium_imaging(loaded: LoadedSession) -> CalciumImaging:
    """Check and return the calcium imaging part of a session struct.

    Raises
    ------
    SourceFormatError
        Missing fields, ROI ids that do not match the matrices' rows, a time vector of another length, pixel
        indices outside the image, a fact stated twice that disagrees, NaN times.
    """
    file_path, sess = loaded.file_path, loaded.sess
    ca = field_of(sess, "caTSA", file_path)
    roi_ids = vector(field_of(ca, "ids", file_path), file_path, "sess.caTSA.ids", dtype=np.int64)
    timestamps = frame_times(loaded)
    raw = field_of(ca, "valueMatrix", file_path)
    _check_matrix(raw, roi_ids, timestamps, file_path, "sess.caTSA.valueMatrix")
    if "trialIndices" in ca:
        check_count(file_path, ("sess.caTSA.trialIndices", np.size(ca["trialIndices"]), "entries"),
                    ("sess.caTSA.time", timestamps.size, "frames"), "one trial index per frame")
    notes = []
    dff = _read_dff(ca.get("dffTimeSeriesArray"), roi_ids, timestamps, file_path, notes)
    planes = read_planes(ca, roi_ids, file_path)
    imaging = CalciumImaging(timestamps=timestamps, roi_ids=roi_ids, raw_f=raw.T, dff=None if dff is None else dff.T,
                             planes=planes, notes=notes)
    _read_events(ca, imaging, file_path)
    _read_cell_features(ca, imaging, file_path)
    return imaging


def _read_dff(dff_struct, roi_ids: np.ndarray, timestamps: np.ndarray, file_path: Path, notes: list):
    """``dffTimeSeriesArray.valueMatrix``, checked against the raw F's ids and times (its own, when it states them)."""
    where = "sess.caTSA.dffTimeSeriesArray"
    if not isinstance(dff_struct, dict) or "valueMatrix" not in dff_struct:
        notes.append(f"{file_path.name}: no {where}.valueMatrix: no ΔF/F series is written")
        return None
    dff = dff_struct["valueMatrix"]
    _check_matrix(dff, roi_ids, timestamps, file_path, f"{where}.valueMatrix")
    expected = "the ΔF/F and the raw F matrices to describe the same ROIs and frames"
    if "ids" in dff_struct:
        check_same(file_path, f"{where}.ids", vector(dff_struct["ids"], file_path, f"{where}.ids", dtype=np.int64),
                   "sess.caTSA.ids", roi_ids, expected)
    if "time" in dff_struct:
        check_same(file_path, f"{where}.time", _times(dff_struct, file_path, where), "sess.caTSA.time", timestamps,
                   expected, tolerance=TIME_TOLERANCE_S, unit=" s")
    return dff


def _check_matrix(matrix, roi_ids: np.ndarray, timestamps: np.ndarray, file_path: Path, where: str) -> None:
    shape = getattr(matrix, "shape", None)
    if shape is None or len(shape) != 2 or np.dtype(matrix.dtype).kind not in "fiu":
        raise SourceFormatError(file_path, f"{where} is not a numeric matrix", f"{where} as a ROI x time matrix")
    if shape[0] != roi_ids.size:
        raise SourceFormatError(
            file_path,
            f"{where} has {shape[0]} rows but sess.caTSA.ids lists {roi_ids.size} ROI ids",
            "one ROI id per matrix row",
        )
    if shape[1] != timestamps.size:
        raise SourceFormatError(
            file_path,
            f"sess.caTSA.time has {timestamps.size} entries but {where} has {shape[1]} time points",
            "one time per matrix column",
        )


def _read_events(ca: dict, imaging: CalciumImaging, file_path: Path) -> None:
    events = ca.get("caPeakEventSeriesArray")
    if not isinstance(events, dict) or "esa" not in events:
        imaging.notes.append(f"{file_path.name}: no sess.caTSA.caPeakEventSeriesArray: no detected calcium events written")
        return
    series = as_list(events["esa"])
    where = "sess.caTSA.caPeakEventSeriesArray"
    ids_where = f"{where}.ids" if "ids" in events else "sess.caTSA.ids"
    ids = vector(events["ids"], file_path, ids_where, dtype=np.int64) if "ids" in events else imaging.roi_ids
    check_count(file_path, (f"{where}.esa", len(series), "event series"), (ids_where, ids.size, "ROI ids"),
                "one event series per ROI")
    check_unique(ids, file_path, ids_where, "ROI's event series")
    missing = sorted(set(imaging.roi_ids.tolist()) - set(ids.tolist()))
    if missing:
        raise SourceFormatError(file_path, f"{ids_where} lacks ROI id {missing[0]} of sess.caTSA.ids",
                                "one event series per ROI")
    by_id = {}
    for index, (roi_id, struct) in enumerate(zip(ids.tolist(), series)):
        series_where = f"{where}.esa{{{index + 1}}}"
        if isinstance(struct, dict) and "id" in struct:
            stated = vector(struct["id"], file_path, f"{series_where}.id", dtype=np.int64)
            check_stated(file_path, f"{series_where}.id", stated, f"{ids_where}({index + 1})", roi_id,
                         "each event series' ROI id stated once")
        by_id[roi_id] = event_series(struct, file_path, series_where, required=False)
    imaging.event_times = [by_id[roi_id][0] for roi_id in imaging.roi_ids.tolist()]
    trials = [by_id[roi_id][1] for roi_id in imaging.roi_ids.tolist()]
    if all(trial is not None for trial in trials):
        imaging.event_trials = trials


def _read_cell_features(ca: dict, imaging: CalciumImaging, file_path: Path) -> None:
    if "cellFeatures" not in ca:
        imaging.notes.append(f"{file_path.name}: no sess.caTSA.cellFeatures: no per-ROI feature columns")
        return
    skipped = []
    for key, value in hash_entries(ca["cellFeatures"], file_path, "sess.caTSA.cellFeatures").items():
        array = np.asarray(value) if isinstance(value, np.ndarray) else None
        if array is not None and array.dtype.kind in "fiub" and array.size == imaging.roi_ids.size and (
            array.ndim < 2 or min(array.shape) == 1
        ):
            imaging.cell_features[key] = array.reshape(-1).astype(np.float64)
        else:
            skipped.append(key)
    if skipped:
        imaging.notes.append(
            f"{file_path.name}: cellFeatures that are not one number per ROI are not written: {', '.join(skipped)}"
        )
