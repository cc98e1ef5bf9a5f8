"""The ``sess`` struct of an SSC-11 ``an*sess_struct.mat`` file (Peron et al. 2020): ROIs, calcium traces, features.

Field names follow the Peron lab's session classes, struct-ified (research notes, imaging_opto.md §1.3–1.4):

- ``sess.caTSA.ids`` (ROI id per matrix row), ``.time`` (frame times), ``.timeUnit``, ``.valueMatrix`` (raw F,
  ROI × time), ``.dffTimeSeriesArray.valueMatrix`` (ΔF/F, ROI × time), ``.caPeakEventSeriesArray.esa{r}``
  (detected events of ROI r: ``eventTimes``, optionally ``eventTrials``; ids in ``.caPeakEventSeriesArray.ids``);
- ``sess.caTSA.roiArray{v}`` one per imaging plane v of the subvolume, with ``.roiIds`` and ``.rois{r}.indices``
  (the ROI's pixels as 1-based column-major linear indices into a 512 × 512 image);
- ``sess.caTSA.cellFeatures.keys`` / ``.values`` (a flattened hash: per-ROI features in ``caTSA.ids`` order).

Time units: a ``timeUnit`` field, when present, is MATLAB's ``session.timeSeries`` unit id (1 ms, 2 s, 3 min,
4 h, 5 d) or its name; without one, times are taken to be milliseconds, as in every piece of Peron-lab code read.

Large matrices stay lazy (from v7.3 files): ``raw_f`` and ``dff`` are ``(time, ROI)`` views, read in time blocks.
The behaviour and trial fields are read by :mod:`nwb_conversions.readers.ssc11_behavior`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .matlab import PLAIN_CLASSES, MatlabObjectError, read_mat_variables, variable_classes

#: Side of the imaged field in pixels (``image_bounds = [512 512]`` in the lab's analysis code).
IMAGE_SIZE = 512

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
    loaded = LoadedSession(file_path, variables["sess"])
    _LOADED[key] = loaded
    return loaded


# --- small accessors shared with the behaviour reader -----------------------------------------------------------


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


def strings(value, file_path: Path, where: str) -> list[str]:
    """A cell array of char rows (or one char row) as a list of str."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise SourceFormatError(file_path, f"{where} is not a cell array of strings", f"{where} as a cell of char arrays")


def hash_entries(value, file_path: Path, where: str) -> dict:
    """A flattened MATLAB hash (struct with cell arrays ``keys`` and ``values``) as a dict."""
    if not isinstance(value, dict) or "keys" not in value or "values" not in value:
        raise SourceFormatError(file_path, f"{where} has no keys/values", f"{where} as a struct with cells keys, values")
    keys = strings(value["keys"], file_path, f"{where}.keys")
    values = value["values"] if isinstance(value["values"], list) else [value["values"]]
    if len(keys) != len(values):
        raise SourceFormatError(
            file_path, f"{where} has {len(keys)} keys but {len(values)} values", f"one value per key in {where}"
        )
    return dict(zip(keys, values))


# --- the calcium imaging part -----------------------------------------------------------------------------------


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
    roi_array = roi_array if isinstance(roi_array, list) else [roi_array]
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
        rois = rois if isinstance(rois, list) else [rois]
        if len(rois) != ids.size:
            raise SourceFormatError(file_path, f"{where} has {ids.size} roiIds but {len(rois)} rois", "one ROI per id")
        missing = [int(roi_id) for roi_id in ids if int(roi_id) not in row_of_id]
        if missing:
            raise SourceFormatError(
                file_path,
                f"{where}.roiIds has ROI id {missing[0]} that sess.caTSA.ids lacks",
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
    unplaced = [int(roi_id) for roi_id in roi_ids if int(roi_id) not in seen]
    if unplaced:
        raise SourceFormatError(
            file_path,
            f"sess.caTSA.ids lists ROI id {unplaced[0]} that no plane of sess.caTSA.roiArray holds",
            "every matrix row to be an ROI of one plane",
        )
    return planes


def _read_events(ca: dict, imaging: CalciumImaging, file_path: Path) -> None:
    events = ca.get("caPeakEventSeriesArray")
    if not isinstance(events, dict) or "esa" not in events:
        imaging.notes.append(f"{file_path.name}: no sess.caTSA.caPeakEventSeriesArray: no detected calcium events written")
        return
    series = events["esa"] if isinstance(events["esa"], list) else [events["esa"]]
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
