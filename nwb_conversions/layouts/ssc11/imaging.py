"""The calcium imaging of an SSC-11 ``sess`` struct (Peron et al. 2020): ROIs per plane, raw F, ΔF/F, events.

Field names follow the Peron lab's session classes, struct-ified (research notes, imaging_opto.md §1.3–1.4):

- ``sess.caTSA.ids`` (ROI id per matrix row), ``.time`` (frame times), ``.timeUnit``, ``.valueMatrix`` (raw F,
  ROI × time), ``.dffTimeSeriesArray.valueMatrix`` (ΔF/F, ROI × time), ``.caPeakEventSeriesArray.esa{r}``
  (detected events of ROI r: ``eventTimes``, optionally ``eventTrials``; ids in ``.caPeakEventSeriesArray.ids``);
- ``sess.caTSA.roiArray{v}`` one per imaging plane v of the subvolume, with ``.roiIds`` and ``.rois{r}.indices``
  (the ROI's pixels as 1-based column-major linear indices into a 512 × 512 image);
- ``sess.caTSA.cellFeatures.keys`` / ``.values`` (a flattened hash: per-ROI features in ``caTSA.ids`` order).

Large matrices stay lazy (from v7.3 files): ``raw_f`` and ``dff`` are ``(time, ROI)`` views, read in time blocks
(:class:`PlaneTraces`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from .struct import LoadedSession, as_list, field_of, hash_entries, time_unit_of, vector

#: Side of the imaged field in pixels (``image_bounds = [512 512]`` in the lab's analysis code).
IMAGE_SIZE = 512

@dataclass
class PlaneRois:
    """The ROIs of one imaging plane of the subvolume.

    Attributes
    ----------
    plane_number : int
        1-based, the index of ``caTSA.roiArray``.
    roi_ids : ndarray of int64
    matrix_rows : ndarray of int
        Each ROI's row in the caTSA matrices (its column in the ``(time, ROI)`` views).
    pixel_masks : list of ndarray
        Per ROI, an ``(n, 3)`` array of ``(x, y, weight)``: x the 0-based image column, y the 0-based row.
    """

    plane_number: int
    roi_ids: np.ndarray
    matrix_rows: np.ndarray
    pixel_masks: list


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


def decode_pixel_indices(indices, file_path: Path, where: str) -> np.ndarray:
    """MATLAB 1-based column-major linear indices into a 512 × 512 image → ``(x, y, weight)`` rows (weight 1).

    ``x`` is the 0-based column (``ceil(i / 512) - 1``), ``y`` the 0-based row (``mod(i - 1, 512)``).
    """
    values = vector(indices, file_path, where)
    if values.size and (np.any(values != np.round(values)) or values.min() < 1 or values.max() > IMAGE_SIZE**2):
        bad = values[(values != np.round(values)) | (values < 1) | (values > IMAGE_SIZE**2)][0]
        raise SourceFormatError(
            file_path,
            f"{where} holds pixel index {bad:g}, outside 1..{IMAGE_SIZE**2}",
            f"1-based linear pixel indices of a {IMAGE_SIZE} x {IMAGE_SIZE} image",
        )
    zero_based = values.astype(np.int64) - 1
    columns, rows = np.divmod(zero_based, IMAGE_SIZE)
    return np.column_stack([columns, rows, np.ones(values.size)]).astype(np.float64)


def frame_times(loaded: LoadedSession) -> np.ndarray:
    """The imaging frames' times in seconds (``sess.caTSA.time`` in its ``timeUnit``)."""
    file_path = loaded.file_path
    ca = field_of(loaded.sess, "caTSA", file_path)
    unit = time_unit_of(ca.get("timeUnit"), file_path, "sess.caTSA.timeUnit")
    return unit.to_seconds(vector(field_of(ca, "time", file_path), file_path, "sess.caTSA.time"))


def read_calcium_imaging(loaded: LoadedSession) -> CalciumImaging:
    """Check and return the calcium imaging part of a session struct.

    Raises
    ------
    SourceFormatError
        Missing fields, ROI ids that do not match the matrices' rows, a time vector of another length, pixel
        indices outside the image.
    """
    file_path, sess = loaded.file_path, loaded.sess
    ca = field_of(sess, "caTSA", file_path)
    roi_ids = vector(field_of(ca, "ids", file_path), file_path, "sess.caTSA.ids", dtype=np.int64)
    timestamps = frame_times(loaded)
    raw = field_of(ca, "valueMatrix", file_path)
    _check_matrix(raw, roi_ids, timestamps, file_path, "sess.caTSA.valueMatrix")
    notes = []
    dff_struct = ca.get("dffTimeSeriesArray")
    dff = None
    if isinstance(dff_struct, dict) and "valueMatrix" in dff_struct:
        dff = dff_struct["valueMatrix"]
        _check_matrix(dff, roi_ids, timestamps, file_path, "sess.caTSA.dffTimeSeriesArray.valueMatrix")
        if "ids" in dff_struct:
            dff_ids = vector(dff_struct["ids"], file_path, "sess.caTSA.dffTimeSeriesArray.ids", dtype=np.int64)
            if not np.array_equal(dff_ids, roi_ids):
                raise SourceFormatError(
                    file_path,
                    "the ROI ids of sess.caTSA.dffTimeSeriesArray differ from sess.caTSA.ids",
                    "one ROI id per row of the ΔF/F matrix, the same as the raw F matrix's",
                )
    else:
        notes.append(f"{file_path.name}: no sess.caTSA.dffTimeSeriesArray.valueMatrix: no ΔF/F series is written")
    planes = _read_planes(ca, roi_ids, file_path)
    imaging = CalciumImaging(timestamps=timestamps, roi_ids=roi_ids, raw_f=raw.T, dff=None if dff is None else dff.T,
                             planes=planes, notes=notes)
    _read_events(ca, imaging, file_path)
    _read_cell_features(ca, imaging, file_path)
    return imaging


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


def _read_planes(ca: dict, roi_ids: np.ndarray, file_path: Path) -> list[PlaneRois]:
    roi_array = field_of(ca, "roiArray", file_path)
    roi_array = as_list(roi_array)
    row_of_id = {int(roi_id): row for row, roi_id in enumerate(roi_ids)}
    if len(row_of_id) != roi_ids.size:
        raise SourceFormatError(file_path, "sess.caTSA.ids repeats an ROI id", "unique ROI ids")
    planes, seen = [], set()
    for plane_index, plane in enumerate(roi_array):
        where = f"sess.caTSA.roiArray{{{plane_index + 1}}}"
        if not isinstance(plane, dict):
            raise SourceFormatError(file_path, f"{where} is not a struct", f"{where} as a struct with roiIds and rois")
        ids = vector(field_of(plane, "roiIds", file_path), file_path, f"{where}.roiIds", dtype=np.int64)
        rois = field_of(plane, "rois", file_path)
        rois = as_list(rois)
        if len(rois) != ids.size:
            raise SourceFormatError(file_path, f"{where} has {ids.size} roiIds but {len(rois)} rois", "one ROI per id")
        _check_ids_known(
            ids, row_of_id, file_path, lambda roi_id: f"{where}.roiIds has ROI id {roi_id} that sess.caTSA.ids lacks",
            "every ROI of a plane to have a row in the ΔF/F and raw F matrices",
        )
        masks = []
        for roi_index, roi in enumerate(rois):
            roi_where = f"{where}.rois{{{roi_index + 1}}}"
            if not isinstance(roi, dict) or "indices" not in roi:
                raise SourceFormatError(file_path, f"{roi_where} has no indices", f"{roi_where}.indices (pixel indices)")
            if "id" in roi and int(np.asarray(roi["id"]).ravel()[0]) != ids[roi_index]:
                raise SourceFormatError(file_path, f"{roi_where}.id differs from {where}.roiIds", "the same ROI ids")
            masks.append(decode_pixel_indices(roi["indices"], file_path, f"{roi_where}.indices"))
        repeated = [int(roi_id) for roi_id in ids if int(roi_id) in seen]
        if repeated or np.unique(ids).size != ids.size:
            raise SourceFormatError(
                file_path, f"{where}.roiIds repeats ROI id {(repeated or ids.tolist())[0]}", "each ROI in one plane, once"
            )
        seen.update(int(roi_id) for roi_id in ids)
        rows = np.array([row_of_id[int(roi_id)] for roi_id in ids], dtype=np.int64)
        planes.append(PlaneRois(plane_index + 1, ids, rows, masks))
    _check_ids_known(
        roi_ids, seen, file_path,
        lambda roi_id: f"sess.caTSA.ids lists ROI id {roi_id} that no plane of sess.caTSA.roiArray holds",
        "every matrix row to be an ROI of one plane",
    )
    return planes


def _check_ids_known(ids: np.ndarray, known, file_path: Path, problem, expected: str) -> None:
    """Raise unless every id of ``ids`` is in ``known``; ``problem(roi_id)`` words the first one that is not."""
    unknown = [int(roi_id) for roi_id in ids if int(roi_id) not in known]
    if unknown:
        raise SourceFormatError(file_path, problem(unknown[0]), expected)


def _read_events(ca: dict, imaging: CalciumImaging, file_path: Path) -> None:
    events = ca.get("caPeakEventSeriesArray")
    if not isinstance(events, dict) or "esa" not in events:
        imaging.notes.append(f"{file_path.name}: no sess.caTSA.caPeakEventSeriesArray: no detected calcium events written")
        return
    series = as_list(events["esa"])
    where = "sess.caTSA.caPeakEventSeriesArray"
    ids = vector(events["ids"], file_path, f"{where}.ids", dtype=np.int64) if "ids" in events else imaging.roi_ids
    if ids.size != len(series) or set(ids.tolist()) != set(imaging.roi_ids.tolist()):
        raise SourceFormatError(
            file_path, f"{where} does not hold one event series per ROI of sess.caTSA.ids", "one event series per ROI"
        )
    by_id = dict(zip(ids.tolist(), series))
    times, trials = [], []
    for roi_id in imaging.roi_ids.tolist():
        event_series = by_id[roi_id]
        unit = time_unit_of(event_series.get("timeUnit"), file_path, f"{where}.esa.timeUnit")
        event_times = vector(event_series.get("eventTimes", np.zeros((0, 0))), file_path, f"{where}.esa.eventTimes")
        times.append(unit.to_seconds(event_times))
        trials.append(event_series.get("eventTrials"))
    imaging.event_times = times
    if all(trial is not None and np.size(trial) == time.size for trial, time in zip(trials, times)):
        imaging.event_trials = [vector(trial, file_path, f"{where}.esa.eventTrials", dtype=np.int64) for trial in trials]


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



class PlaneTraces:
    """The ``(time, ROI)`` traces of one plane's ROIs, read lazily in blocks of time.

    Parameters
    ----------
    matrix : array-like, shape (time, ROI)
        ``CalciumImaging.raw_f`` or ``.dff`` (an ``h5py.Dataset`` for v7.3 files, a numpy view for v5).
    columns : ndarray of int
        The plane's ROIs' columns, in the plane's ROI order.
    num_frames : int, optional
        Only the first frames (``--stub``).
    """

    def __init__(self, matrix, columns: np.ndarray, num_frames: int | None = None):
        self.matrix = matrix
        self.columns = np.asarray(columns, dtype=np.int64)
        frames = int(matrix.shape[0]) if num_frames is None else min(int(num_frames), int(matrix.shape[0]))
        self.shape = (frames, self.columns.size)
        self.dtype = np.dtype(matrix.dtype)
        contiguous = self.columns.size and np.array_equal(self.columns, np.arange(self.columns[0], self.columns[-1] + 1))
        self._column_slice = slice(int(self.columns[0]), int(self.columns[-1]) + 1) if contiguous else None

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, selection) -> np.ndarray:
        rows = range(self.shape[0])[selection]
        if not isinstance(rows, range) or rows.step != 1:
            raise IndexError("PlaneTraces supports contiguous row slices only")
        block = slice(rows.start, rows.stop)
        if self._column_slice is not None:
            return np.asarray(self.matrix[block, self._column_slice], dtype=self.dtype)
        return np.asarray(self.matrix[block], dtype=self.dtype)[:, self.columns]

    def __array__(self, dtype=None, copy=None):
        values = self[:]
        return values.astype(dtype) if dtype is not None else values
