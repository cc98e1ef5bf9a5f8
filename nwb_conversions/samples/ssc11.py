"""Sample SSC-11 sessions: ``an*sess_struct.mat`` files (v5 or v7.3) in the release's folder layout.

The ``sess`` struct carries the fields the research notes list (imaging_opto.md §1.3–1.4): ``caTSA`` (ids, time in
ms, timeUnit 1, raw F and ΔF/F as ROI × time matrices, one ``roiArray`` entry per plane with 1-based column-major
pixel indices, ``caPeakEventSeriesArray``, ``cellFeatures`` as keys/values), whisker θ / κ / Δκ time series,
classified touches, pole in reach, licks in ``behavESA``, and the trial fields. The signals are synthetic
(GCaMP-like transients at the planted events); the layout follows the notes. Plane 1 holds an ROI in the image's
top-left corner (pixel index 1) and plane 3 one reaching its last pixel (index 512²).

A release (:func:`write_sample_release`) is ``an<ID>/session_neuropilone_{pre,post}ablate_merged/`` with one file
per subvolume, the NYU-style ``<date>_ablation/manualCurationData.mat`` and, beside each struct file, the class-object
``an*sess.mat`` file the release also holds (which the converter refuses).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..readers.matlab import StructArray
from . import write_sample_metadata
from .matlab_files import write_mat_v5, write_mat_v73

#: Subject facts for the sample only: synthetic values so that the example passes DANDI's checks.
SAMPLE_METADATA = {
    "Subject": {"sex": "U", "age": "P90D"},
    "NWBFile": {"experimenter": ["Sample, Synthetic"]},
}

SAMPLE_ANIMAL = "an274424"
FRAME_PERIOD_MS = 1000 / 7.0
IMAGE_SIZE = 512
TRIAL_TYPES = ["HitL", "HitR", "ErrL", "ErrR", "NoLickL", "NoLickR"]
WHISKER_RATE_HZ = 500.0
TRIAL_GAP_MS = 2_000.0


def roi_id(subvolume: int, plane: int, index: int) -> int:
    """Sample ROI ids: subvolume, plane and a running number, e.g. 1020003."""
    return subvolume * 1_000_000 + plane * 10_000 + index


def disc_indices(center_row: int, center_col: int, radius: int) -> np.ndarray:
    """MATLAB 1-based column-major linear indices of a disc's pixels (clipped to the image), as a column vector."""
    rows, cols = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    inside = rows**2 + cols**2 <= radius**2
    rows, cols = rows[inside] + center_row, cols[inside] + center_col
    keep = (rows >= 0) & (rows < IMAGE_SIZE) & (cols >= 0) & (cols < IMAGE_SIZE)
    indices = np.sort(cols[keep] * IMAGE_SIZE + rows[keep] + 1)
    return indices.astype(np.float64).reshape(-1, 1)


def _event_series(times_ms: np.ndarray, trials: np.ndarray, label: str) -> dict:
    return {"idStr": label, "eventTimes": times_ms.reshape(1, -1), "eventTrials": trials.astype(np.float64).reshape(1, -1),
            "timeUnit": 1.0}


def build_session_struct(
    *,
    subvolume: int = 1,
    num_frames: int = 300,
    rois_per_plane: tuple[int, ...] = (12, 11, 13),
    num_trials: int = 6,
    seed: int = 0,
) -> dict:
    """Return the plain ``sess`` struct of one sample subvolume (see :mod:`nwb_conversions.readers.matlab`)."""
    rng = np.random.default_rng(seed)
    # Frames are imaged trial by trial, with gaps between trials (a merged file is not one regular clock).
    frames_per_trial = np.diff(np.linspace(0, num_frames, num_trials + 1).astype(int))
    block_ms = frames_per_trial.max() * FRAME_PERIOD_MS
    trial_starts = 2_000.0 + np.arange(num_trials) * (block_ms + TRIAL_GAP_MS)
    time_ms = np.concatenate([start + 50.0 + np.arange(count) * FRAME_PERIOD_MS
                              for start, count in zip(trial_starts, frames_per_trial)])
    trial_of_frame = np.repeat(np.arange(1, num_trials + 1), frames_per_trial)
    trial_ids = 100 + np.arange(1, num_trials + 1)
    duration_ms = num_trials * block_ms
    roi_array, ids, masks = [], [], []
    for plane, count in enumerate(rois_per_plane, start=1):
        plane_ids = [roi_id(subvolume, plane, index) for index in range(1, count + 1)]
        rois = []
        for index, current in enumerate(plane_ids):
            if plane == 1 and index == 0:
                indices = disc_indices(0, 0, 3)  # the top-left corner: pixel index 1
            elif plane == len(rois_per_plane) and index == count - 1:
                indices = disc_indices(IMAGE_SIZE - 1, IMAGE_SIZE - 1, 4)  # reaches the last pixel, 512²
            else:
                indices = disc_indices(int(rng.integers(10, 500)), int(rng.integers(10, 500)), int(rng.integers(3, 7)))
            rois.append({"id": float(current), "indices": indices})
            masks.append(indices)
        roi_array.append({"roiIds": np.array([plane_ids], dtype=np.float64), "rois": rois, "imageBounds":
                          np.array([[IMAGE_SIZE, IMAGE_SIZE]], dtype=np.float64)})
        ids.extend(plane_ids)
    num_rois = len(ids)

    baseline = rng.uniform(80, 400, size=(num_rois, 1))
    dff = rng.normal(0, 0.03, size=(num_rois, num_frames))
    event_series = []
    for row in range(num_rois):
        frames = np.sort(rng.choice(np.arange(5, num_frames - 5), size=int(rng.integers(1, 5)), replace=False))
        for frame in frames:
            lag = np.arange(num_frames - frame)
            dff[row, frame:] += rng.uniform(0.5, 1.5) * np.exp(-lag / 8.0)
        event_series.append({"id": float(ids[row]), "eventTimes": time_ms[frames].reshape(1, -1),
                             "eventTrials": trial_ids[trial_of_frame[frames] - 1].astype(np.float64).reshape(1, -1),
                             "timeUnit": 1.0})
    raw = baseline * (1 + dff)
    ids_row = np.array([ids], dtype=np.float64)
    event_rate = np.array([[series["eventTimes"].size / (duration_ms / 1000) for series in event_series]])
    glm_score = rng.uniform(0, 1, size=(1, num_rois))
    glm_score[0, 2] = np.nan
    cell_features = {
        "keys": ["eventRateHz", "dffBased_HitLTrialAvg", "eventBasedDff_k16t14_MeanWhiskerAmplitudeGLMScore",
                 "eventBasedDff_k16t14_c2AbsMaxKappaZeroNotouchGLMScore"],
        "values": [event_rate, rng.normal(size=(70, num_rois)), rng.uniform(0, 1, size=(1, num_rois)), glm_score],
    }
    ca_tsa = {
        "ids": ids_row,
        "time": time_ms.reshape(1, -1),
        "timeUnit": 1.0,
        "trialIndices": trial_ids[trial_of_frame - 1].astype(np.float64).reshape(1, -1),
        "valueMatrix": raw,
        "numFOVs": float(len(rois_per_plane)),
        "roiFOVidx": np.concatenate([[plane] * count for plane, count in enumerate(rois_per_plane, 1)]).reshape(1, -1)
        .astype(np.float64),
        "roiArray": roi_array,
        "dffTimeSeriesArray": {"ids": ids_row, "time": time_ms.reshape(1, -1), "timeUnit": 1.0, "valueMatrix": dff},
        "caPeakEventSeriesArray": {"ids": ids_row, "esa": event_series},
        "cellFeatures": cell_features,
    }

    whisker_time = np.concatenate([start + 100.0 + np.arange(0, block_ms - 100.0, 1000 / WHISKER_RATE_HZ)
                                   for start in trial_starts])
    theta = 10 * np.sin(2 * np.pi * 8 * whisker_time / 1000) + rng.normal(0, 0.5, whisker_time.size)
    kappa = 0.001 * rng.normal(size=whisker_time.size)

    def whisker_tsa(values):
        return {"ids": np.array([[1.0]]), "idStrs": ["c2"], "time": whisker_time.reshape(1, -1), "timeUnit": 1.0,
                "valueMatrix": values.reshape(1, -1)}

    def events_in_trials(per_trial: int):
        times = np.sort(np.concatenate([start + rng.uniform(0.05, 0.95, per_trial) * block_ms for start in trial_starts]))
        trials = trial_ids[np.searchsorted(trial_starts, times, side="right") - 1]
        return times, trials

    type_of_trial = [index % len(TRIAL_TYPES) for index in range(num_trials)]
    type_matrix = np.zeros((len(TRIAL_TYPES), num_trials), dtype=bool)
    type_matrix[type_of_trial, np.arange(num_trials)] = True
    trials = [
        {"id": float(trial_ids[index]), "typeIds": float(type_of_trial[index] + 1), "timeUnit": 1.0,
         "startTime": float(trial_starts[index]), "endTime": float(trial_starts[index] + block_ms + 500.0),
         "behavParams": {"keys": ["polePositionAP", "polePositionML"],
                         "values": [float(rng.integers(60_000, 140_000)), 0.0]}}
        for index in range(num_trials)
    ]
    touches = [events_in_trials(3), events_in_trials(2)]
    licks = [events_in_trials(2), events_in_trials(2), events_in_trials(1)]
    pole = events_in_trials(1)
    return {
        "whiskerTag": ["C2"],
        "caTSA": ca_tsa,
        "whiskerAngleTSA": whisker_tsa(theta),
        "whiskerCurvatureTSA": whisker_tsa(kappa + 0.01),
        "whiskerCurvatureChangeTSA": whisker_tsa(kappa),
        "whiskerBarContactClassifiedESA": {
            "esa": [_event_series(*touches[0], "Protraction contacts for c2"),
                    _event_series(*touches[1], "Retraction contacts for c2")]
        },
        "whiskerBarInReachES": _event_series(*pole, "Pole in reach"),
        "behavESA": {"esa": [_event_series(*licks[0], "Left lick"), _event_series(*licks[1], "Right lick"),
                             _event_series(*licks[2], "Pole movement")]},
        "trialIds": trial_ids.astype(np.float64).reshape(1, -1),
        "trialStartTimes": trial_starts.reshape(1, -1),
        "trialTypeMat": type_matrix,
        "trialTypeStr": list(TRIAL_TYPES),
        "trial": trials,
    }


def write_session_file(path: str | Path, sess: dict, *, version: str = "7.3") -> Path:
    """Write ``sess`` as the variable ``sess`` of a MAT file of ``version`` ("5" or "7.3")."""
    writer = write_mat_v73 if version == "7.3" else write_mat_v5
    return writer(path, {"sess": sess})


def ablated_roi_ids(sess: dict, count: int = 4) -> list[int]:
    """The sample's ablated neurons: the first ``count`` ROIs of plane 2."""
    return [int(value) for value in sess["caTSA"]["roiArray"][1]["roiIds"].ravel()[:count]]


def write_nyu_ablation(animal_folder: Path, roi_ids: list[int], *, date: str = "2019_04_07", version: str = "5") -> Path:
    """Write ``<date>_ablation/manualCurationData.mat``: the targets, one of them failed (plus a repeated target)."""
    failed = 9_999_999
    targets = np.array([roi_ids + [failed, roi_ids[0]]], dtype=np.float64)
    successful = np.array([[True] * len(roi_ids) + [False, True]])
    writer = write_mat_v73 if version == "7.3" else write_mat_v5
    return writer(animal_folder / f"{date}_ablation" / "manualCurationData.mat",
                  {"ablationTargetIds": targets, "ablationSuccessful": successful})


def write_jrc_ablation(animal_folder: Path, subject: str, roi_ids: list[int], *, date: str = "2014_09_17") -> Path:
    """Write the JRC-style ``an<ID>_<date>.mat`` with ``ablated_ids``."""
    return write_mat_v5(animal_folder / f"{subject}_{date}.mat", {"ablated_ids": np.array([roi_ids], dtype=np.float64)})


def write_class_object_v73(path: str | Path) -> Path:
    """An ``an*sess.mat`` as MATLAB v7.3 saves a classdef object: variable ``s`` of class ``session.session``."""
    import h5py

    path = write_mat_v73(path, {"placeholder": np.zeros((1, 1))})
    with h5py.File(path, "a") as mat:
        del mat["placeholder"]
        objects = mat.create_dataset("s", data=np.array([[3707764736, 2, 1, 1, 1, 1]], dtype=np.uint32).T)
        objects.attrs["MATLAB_class"] = np.bytes_("session.session")
        objects.attrs["MATLAB_object_decode"] = np.int32(3)
    return path


def write_class_object_v5(path: str | Path) -> Path:
    """An ``an*sess.mat`` as MATLAB v7 saves a classdef object: an ``mxOPAQUE_CLASS`` (MCOS) element."""
    import struct

    def element(data_type: int, payload: bytes) -> bytes:
        padding = (-len(payload)) % 8
        return struct.pack("<II", data_type, len(payload)) + payload + b"\x00" * padding

    mi_int8, mi_uint32, mi_matrix = 1, 6, 14
    metadata = element(mi_uint32, struct.pack("<II", 6, 0))  # array flags: mxUINT32_CLASS
    metadata += element(5, struct.pack("<ii", 6, 1)) + element(mi_int8, b"")  # dims 6 x 1 (miINT32), no name
    metadata += element(mi_uint32, struct.pack("<6I", 3707764736, 2, 1, 1, 1, 1))
    body = element(mi_uint32, struct.pack("<II", 17, 0))  # array flags: mxOPAQUE_CLASS
    body += element(mi_int8, b"s") + element(mi_int8, b"MCOS") + element(mi_int8, b"session")
    body += element(mi_matrix, metadata)
    header = b"MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Mon Apr  8 10:00:00 2019".ljust(116, b" ")
    header += b"\x00" * 8 + struct.pack("<H", 0x0100) + b"IM"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + element(mi_matrix, body))
    return path


def write_ssc11_session(
    folder: str | Path,
    *,
    version: str = "7.3",
    subject: str = SAMPLE_ANIMAL,
    condition_folder: str = "session_neuropilone_postablate_merged",
    subvolume: int = 1,
    with_ablation: bool = True,
    **struct_options,
) -> Path:
    """Write one session file ``<folder>/<subject>/<condition_folder>/<subject>_vol_<NN>_sess_struct.mat``.

    With ``with_ablation``, the animal folder also gets the NYU-style curation file listing
    :func:`ablated_roi_ids` of subvolume 1.
    """
    animal_folder = Path(folder) / subject
    sess = build_session_struct(subvolume=subvolume, seed=subvolume, **struct_options)
    path = animal_folder / condition_folder / f"{subject}_vol_{subvolume:02d}_sess_struct.mat"
    write_session_file(path, sess, version=version)
    if with_ablation and not (animal_folder / "2019_04_07_ablation").exists():
        write_nyu_ablation(animal_folder, ablated_roi_ids(build_session_struct(subvolume=1, seed=1, **struct_options)))
    return path


def write_sample(folder: str | Path, *, version: str = "7.3", **session_options) -> tuple[Path, Path]:
    """Write a sample session (v7.3 unless ``version="5"``) and its sample metadata YAML.

    Returns
    -------
    tuple of Path
        The ``an*sess_struct.mat`` file, and ``sample_metadata.yaml`` (synthetic subject facts) for ``--metadata``.
    """
    folder = Path(folder)
    path = write_ssc11_session(folder, version=version, **session_options)
    return path, write_sample_metadata(folder, SAMPLE_METADATA)


def write_sample_release(folder: str | Path, num_sessions: int = 3) -> tuple[Path, list[Path]]:
    """Write a sample release: ``num_sessions`` struct files over the pre- and post-ablation folders of one animal,
    the ablation curation file, a class-object ``an*sess.mat`` beside each struct file and a README.

    Returns
    -------
    tuple
        The release root, and the struct files sorted by path.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    (root / "README.txt").write_text("SSC-11 sample release (synthetic)\n", encoding="utf-8")
    write_sample_metadata(root, SAMPLE_METADATA)
    sessions = []
    for index in range(num_sessions):
        condition = "session_neuropilone_preablate_merged" if index % 2 == 0 else "session_neuropilone_postablate_merged"
        subvolume = index // 2 + 1
        path = write_ssc11_session(root, condition_folder=condition, subvolume=subvolume, num_frames=60,
                                   rois_per_plane=(3, 3, 3), num_trials=3, version="5" if index % 2 else "7.3")
        write_class_object_v73(path.with_name(path.name.replace("_sess_struct.mat", "_sess.mat")))
        sessions.append(path)
    return root, sorted(sessions)


__all__ = ["StructArray", "build_session_struct", "write_sample", "write_sample_release", "write_session_file"]
