"""What is suspicious but valid in an Allen Dataset II recording: non-finite samples, spikes off the trace or far from
a threshold crossing. Each finding is one line of :func:`consistency_notes`; the recording is written as it is.
"""

from __future__ import annotations

import numpy as np

from ...readers.trace_checks import non_finite_note
from .recording import OephysRecording

#: Spikes farther than this from any sample at or beyond the threshold are reported.
THRESHOLD_CROSSING_WINDOW_S = 1e-3


def spikes_outside_ephys(recording: OephysRecording) -> np.ndarray:
    """Return the spike times that fall outside the ephys trace (beyond half a sample from its first/last sample)."""
    half = recording.ephys_period / 2
    last_sample_time = (recording.ephys_raw.shape[0] - 1) * recording.ephys_period
    times = recording.spike_times
    return times[(times < -half) | (times > last_sample_time + half)]


def spikes_far_from_threshold(
    recording: OephysRecording, *, window_s: float = THRESHOLD_CROSSING_WINDOW_S
) -> np.ndarray:
    """Return the spike times with no baseline-subtracted sample at or beyond the threshold within ``window_s``.

    The threshold's polarity is not documented (cell-attached spikes may be negative-going), so a sample counts
    when its magnitude reaches the threshold's magnitude. Spikes outside the trace are left to
    :func:`spikes_outside_ephys`.
    """
    trace = recording.ephys_baseline_subtracted
    num_samples = trace.shape[0]
    samples = np.rint(recording.spike_times / recording.ephys_period).astype(np.int64)
    inside = (samples >= 0) & (samples < num_samples)
    samples = samples[inside]
    window = max(1, int(round(window_s / recording.ephys_period)))
    reaches = np.abs(trace) >= abs(recording.spike_threshold)
    counts = np.concatenate(([0], np.cumsum(reaches, dtype=np.int64)))
    hits = counts[np.minimum(samples + window + 1, num_samples)] - counts[np.maximum(samples - window, 0)]
    return recording.spike_times[inside][hits == 0]


def non_finite_trace_notes(recording: OephysRecording) -> list[str]:
    """One line per trace (``dff``, ``ephys_raw``, ``ephys_baseline_subtracted``) holding NaN or infinite samples."""
    notes = []
    for key in ("dff", "ephys_raw", "ephys_baseline_subtracted"):
        note = non_finite_note(getattr(recording, key), recording.file_path, name=f"'{key}'", num_blocks=None)
        if note:
            notes.append(f"{note}; they are written as they are")
    return notes


def consistency_notes(recording: OephysRecording) -> list[str]:
    """Describe what is suspicious but valid in a recording: one line per finding; empty when all is consistent."""
    notes = non_finite_trace_notes(recording)
    total = recording.spike_times.shape[0]
    if total == 0:
        notes.append(f"{recording.file_path}: 'sptimes' holds no spike times, so the file has no units table")
    outside = spikes_outside_ephys(recording)
    if outside.size:
        notes.append(
            f"{recording.file_path}: {outside.size} of {total} spike times (sptimes) fall outside the ephys trace "
            f"[0, {recording.ephys_duration:g} s) (first: {outside[0]:g} s); they are written as they are"
        )
    far = spikes_far_from_threshold(recording)
    if far.size:
        notes.append(
            f"{recording.file_path}: {far.size} of {total} spike times (sptimes) have no sample of "
            f"ephys_baseline_subtracted with |value| >= |{recording.threshold_key}| = "
            f"{abs(recording.spike_threshold):g} V "
            f"within ±{THRESHOLD_CROSSING_WINDOW_S * 1e3:g} ms (first: {far[0]:g} s); they are written as they are"
        )
    return notes
