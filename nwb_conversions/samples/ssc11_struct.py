"""The synthetic ``sess`` struct of one sample SSC-11 subvolume (the fields the research notes list).

``caTSA`` holds ids, time in ms, timeUnit 1, raw F and ΔF/F as ROI × time matrices, one ``roiArray`` entry per plane
with 1-based column-major pixel indices, ``caPeakEventSeriesArray`` and ``cellFeatures`` as keys/values; beside it
are whisker θ / κ / Δκ time series, classified touches, pole in reach, licks in ``behavESA`` and the trial fields.
The signals are GCaMP-like transients at planted events. :func:`build_session_struct` draws every random number in
one fixed order, so a seed always gives the same struct (and file bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    return {"idStr": label, "eventTimes": times_ms.reshape(1, -1),
            "eventTrials": trials.astype(np.float64).reshape(1, -1), "timeUnit": 1.0}


@dataclass(frozen=True)
class TrialClock:
    """When the frames and trials are (ms): frames are imaged trial by trial, with gaps between trials (a merged
    file is not one regular clock).

    Attributes
    ----------
    trial_starts : ndarray
    block_ms : float
        The longest trial's imaging time; every trial is given that long.
    time_ms : ndarray
        Each frame's time.
    trial_of_frame : ndarray
        Each frame's trial, 1-based.
    trial_ids : ndarray
    """

    trial_starts: np.ndarray
    block_ms: float
    time_ms: np.ndarray
    trial_of_frame: np.ndarray
    trial_ids: np.ndarray

    @classmethod
    def build(cls, num_frames: int, num_trials: int) -> TrialClock:
        """``num_frames`` shared out over ``num_trials`` trials, the first starting at 2 s."""
        frames_per_trial = np.diff(np.linspace(0, num_frames, num_trials + 1).astype(int))
        block_ms = frames_per_trial.max() * FRAME_PERIOD_MS
        trial_starts = 2_000.0 + np.arange(num_trials) * (block_ms + TRIAL_GAP_MS)
        time_ms = np.concatenate([start + 50.0 + np.arange(count) * FRAME_PERIOD_MS
                                  for start, count in zip(trial_starts, frames_per_trial)])
        return cls(trial_starts=trial_starts, block_ms=block_ms, time_ms=time_ms,
                   trial_of_frame=np.repeat(np.arange(1, num_trials + 1), frames_per_trial),
                   trial_ids=100 + np.arange(1, num_trials + 1))

    @property
    def duration_ms(self) -> float:
        """Every trial's block, end to end."""
        return len(self.trial_starts) * self.block_ms


def roi_planes(rng: np.random.Generator, subvolume: int, rois_per_plane: tuple[int, ...]) -> tuple[list, list]:
    """The ``roiArray`` entries (one per plane) and the ROI ids in plane order; ROIs are random discs but for the
    first of plane 1 (the image's top-left corner, pixel index 1) and the last of the last plane (its last pixel)."""
    roi_array, ids = [], []
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
        roi_array.append({"roiIds": np.array([plane_ids], dtype=np.float64), "rois": rois, "imageBounds":
                          np.array([[IMAGE_SIZE, IMAGE_SIZE]], dtype=np.float64)})
        ids.extend(plane_ids)
    return roi_array, ids


def planted_transients(rng: np.random.Generator, dff: np.ndarray, ids: list, clock: TrialClock) -> list[dict]:
    """Add 1–4 GCaMP-like transients to each ROI's row of ``dff`` (in place); return each ROI's event series."""
    num_frames = dff.shape[1]
    event_series = []
    for row in range(len(ids)):
        frames = np.sort(rng.choice(np.arange(5, num_frames - 5), size=int(rng.integers(1, 5)), replace=False))
        for frame in frames:
            lag = np.arange(num_frames - frame)
            dff[row, frame:] += rng.uniform(0.5, 1.5) * np.exp(-lag / 8.0)
        event_series.append({"id": float(ids[row]), "eventTimes": clock.time_ms[frames].reshape(1, -1),
                             "eventTrials": clock.trial_ids[clock.trial_of_frame[frames] - 1].astype(np.float64)
                             .reshape(1, -1), "timeUnit": 1.0})
    return event_series


def cell_features(rng: np.random.Generator, event_series: list[dict], clock: TrialClock) -> dict:
    """``cellFeatures`` as keys/values: the event rate, a trial-average matrix and two GLM scores (one NaN)."""
    num_rois = len(event_series)
    event_rate = np.array([[series["eventTimes"].size / (clock.duration_ms / 1000) for series in event_series]])
    glm_score = rng.uniform(0, 1, size=(1, num_rois))
    glm_score[0, 2] = np.nan
    return {
        "keys": ["eventRateHz", "dffBased_HitLTrialAvg", "eventBasedDff_k16t14_MeanWhiskerAmplitudeGLMScore",
                 "eventBasedDff_k16t14_c2AbsMaxKappaZeroNotouchGLMScore"],
        "values": [event_rate, rng.normal(size=(70, num_rois)), rng.uniform(0, 1, size=(1, num_rois)), glm_score],
    }


def calcium_series(rng: np.random.Generator, clock: TrialClock, roi_array: list, ids: list,
                   rois_per_plane: tuple[int, ...]) -> dict:
    """``caTSA``: raw F and ΔF/F of every ROI, the planes' ROIs, the planted events and the cell features."""
    num_rois, num_frames = len(ids), clock.time_ms.size
    baseline = rng.uniform(80, 400, size=(num_rois, 1))
    dff = rng.normal(0, 0.03, size=(num_rois, num_frames))
    event_series = planted_transients(rng, dff, ids, clock)
    ids_row = np.array([ids], dtype=np.float64)
    return {
        "ids": ids_row,
        "time": clock.time_ms.reshape(1, -1),
        "timeUnit": 1.0,
        "trialIndices": clock.trial_ids[clock.trial_of_frame - 1].astype(np.float64).reshape(1, -1),
        "valueMatrix": baseline * (1 + dff),
        "numFOVs": float(len(rois_per_plane)),
        "roiFOVidx": np.concatenate([[plane] * count for plane, count in enumerate(rois_per_plane, 1)]).reshape(1, -1)
        .astype(np.float64),
        "roiArray": roi_array,
        "dffTimeSeriesArray": {"ids": ids_row, "time": clock.time_ms.reshape(1, -1), "timeUnit": 1.0,
                               "valueMatrix": dff},
        "caPeakEventSeriesArray": {"ids": ids_row, "esa": event_series},
        "cellFeatures": cell_features(rng, event_series, clock),
    }


def whisker_series(rng: np.random.Generator, clock: TrialClock) -> dict:
    """The whisker's angle θ, curvature κ and curvature change Δκ, sampled within each trial's block."""
    whisker_time = np.concatenate([start + 100.0 + np.arange(0, clock.block_ms - 100.0, 1000 / WHISKER_RATE_HZ)
                                   for start in clock.trial_starts])
    theta = 10 * np.sin(2 * np.pi * 8 * whisker_time / 1000) + rng.normal(0, 0.5, whisker_time.size)
    kappa = 0.001 * rng.normal(size=whisker_time.size)

    def whisker_tsa(values):
        return {"ids": np.array([[1.0]]), "idStrs": ["c2"], "time": whisker_time.reshape(1, -1), "timeUnit": 1.0,
                "valueMatrix": values.reshape(1, -1)}

    return {
        "whiskerAngleTSA": whisker_tsa(theta),
        "whiskerCurvatureTSA": whisker_tsa(kappa + 0.01),
        "whiskerCurvatureChangeTSA": whisker_tsa(kappa),
    }


def trial_fields(rng: np.random.Generator, clock: TrialClock) -> dict:
    """The trial ids, start times, type matrix and names, and one ``trial`` struct per trial (the trial types in
    turn, a random pole position)."""
    num_trials = len(clock.trial_ids)
    type_of_trial = [index % len(TRIAL_TYPES) for index in range(num_trials)]
    type_matrix = np.zeros((len(TRIAL_TYPES), num_trials), dtype=bool)
    type_matrix[type_of_trial, np.arange(num_trials)] = True
    trials = [
        {"id": float(clock.trial_ids[index]), "typeIds": float(type_of_trial[index] + 1), "timeUnit": 1.0,
         "startTime": float(clock.trial_starts[index]),
         "endTime": float(clock.trial_starts[index] + clock.block_ms + 500.0),
         "behavParams": {"keys": ["polePositionAP", "polePositionML"],
                         "values": [float(rng.integers(60_000, 140_000)), 0.0]}}
        for index in range(num_trials)
    ]
    return {
        "trialIds": clock.trial_ids.astype(np.float64).reshape(1, -1),
        "trialStartTimes": clock.trial_starts.reshape(1, -1),
        "trialTypeMat": type_matrix,
        "trialTypeStr": list(TRIAL_TYPES),
        "trial": trials,
    }


def events_in_trials(rng: np.random.Generator, clock: TrialClock, per_trial: int) -> tuple[np.ndarray, np.ndarray]:
    """``per_trial`` random event times within each trial's block, sorted, and the trial id of each."""
    times = np.sort(np.concatenate([start + rng.uniform(0.05, 0.95, per_trial) * clock.block_ms
                                    for start in clock.trial_starts]))
    trials = clock.trial_ids[np.searchsorted(clock.trial_starts, times, side="right") - 1]
    return times, trials


def behaviour_events(rng: np.random.Generator, clock: TrialClock) -> dict:
    """Classified touches, pole in reach, licks and pole movement, as event series."""
    touches = [events_in_trials(rng, clock, 3), events_in_trials(rng, clock, 2)]
    licks = [events_in_trials(rng, clock, 2), events_in_trials(rng, clock, 2), events_in_trials(rng, clock, 1)]
    pole = events_in_trials(rng, clock, 1)
    return {
        "whiskerBarContactClassifiedESA": {
            "esa": [_event_series(*touches[0], "Protraction contacts for c2"),
                    _event_series(*touches[1], "Retraction contacts for c2")]
        },
        "whiskerBarInReachES": _event_series(*pole, "Pole in reach"),
        "behavESA": {"esa": [_event_series(*licks[0], "Left lick"), _event_series(*licks[1], "Right lick"),
                             _event_series(*licks[2], "Pole movement")]},
    }


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
    clock = TrialClock.build(num_frames, num_trials)
    roi_array, ids = roi_planes(rng, subvolume, rois_per_plane)
    # The draws' order is the seed's contract: ROIs, calcium, whisker, trials, then the behaviour's events.
    ca_tsa = calcium_series(rng, clock, roi_array, ids, rois_per_plane)
    whisker = whisker_series(rng, clock)
    trials = trial_fields(rng, clock)
    events = behaviour_events(rng, clock)
    return {"whiskerTag": ["C2"], "caTSA": ca_tsa, **whisker, **events, **trials}
