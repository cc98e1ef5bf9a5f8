"""A sample Allen Dataset II recording ``<recording_id>.h5``, laid out as the real files are.

Keys ``dff``, ``dte``, ``dto``, ``ephys_baseline_subtracted``, ``ephys_raw``, ``genotype`` (a bytes scalar),
``quiroga`` (or the dataset page's misspelling ``quiroma``) and ``sptimes``; float64 throughout. Vectors are 1-D, or
with ``two_d`` stored MATLAB-style as 1 × N (traces) and N × 1 (spike times), with 1 × 1 sampling periods.

The signals are synthetic. The ephys period (1e-4 s, 10 kHz) is this sample's choice: the real rate is an open
question of the research notes. The ophys period is ~1/30 s, the Allen Brain Observatory's imaging rate. Spikes are
planted in the cell-attached voltage as positive deflections well above the threshold, which is the Quian Quiroga
estimate 4 × median(|x|) / 0.6745 of the baseline-subtracted trace; ``sptimes`` are the planted peaks' sample
times (multiples of ``dte``), and each spike adds a GCaMP-like transient to ΔF/F.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from . import planted_spike_indices, spike_waveform, start_sample_release, write_sample_metadata

#: Sampling periods of the sample (s): 10 kHz ephys (synthetic choice), ~30 Hz ophys.
SAMPLE_EPHYS_PERIOD = 1e-4
SAMPLE_OPHYS_PERIOD = 1 / 30.0

#: Subject facts for the sample only: synthetic values so that the example passes DANDI's checks.
SAMPLE_METADATA = {
    "Subject": {"subject_id": "sample-mouse-01", "sex": "U", "age": "P90D"},
    "NWBFile": {"experimenter": ["Sample, Synthetic"]},
}


def synthetic_cell_attached_voltage(
    rng: np.random.Generator, num_samples: int, spike_samples: np.ndarray, *, period: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return raw and baseline-subtracted voltage (V): 30 µV noise, a slow drifting baseline, 1 mV spikes.

    Each spike's positive peak lands on its sample in ``spike_samples``.
    """
    time = np.arange(num_samples) * period
    baseline = -0.012 + 0.0008 * np.sin(2 * np.pi * 0.15 * time) + 0.0003 * np.sin(2 * np.pi * 0.9 * time + 1.0)
    subtracted = rng.normal(0.0, 30e-6, size=num_samples)
    shape = -spike_waveform(30, width=2.0)
    peak = int(np.argmax(shape))
    for sample in spike_samples:
        start = sample - peak
        subtracted[start : start + shape.size] += 1e-3 * rng.uniform(0.8, 1.2) * shape
    return baseline + subtracted, subtracted


def synthetic_dff(
    rng: np.random.Generator, num_frames: int, spike_times: np.ndarray, *, period: float, decay_s: float = 1.0
) -> np.ndarray:
    """Return a GCaMP-like ΔF/F0: each spike adds a 0.15 transient (50 ms rise, ``decay_s`` decay), plus noise."""
    frame_times = np.arange(num_frames) * period
    dff = rng.normal(0.0, 0.02, size=num_frames)
    for spike_time in spike_times:
        lag = frame_times - spike_time
        after = lag >= 0
        dff[after] += 0.15 * (1 - np.exp(-lag[after] / 0.05)) * np.exp(-lag[after] / decay_s)
    return dff


def write_allen_oephys_recording(
    folder: str | Path,
    *,
    recording_id: str = "103991",
    two_d: bool = False,
    misspelled_threshold_key: bool = False,
    genotype: str = "Emx1-IRES-Cre;Camk2a-tTA;Ai94",
    duration_s: float = 20.0,
    ephys_period: float = SAMPLE_EPHYS_PERIOD,
    ophys_period: float = SAMPLE_OPHYS_PERIOD,
    num_spikes: int = 40,
    seed: int = 0,
) -> Path:
    """Write one recording file ``<folder>/<recording_id>.h5`` and return its path.

    Parameters
    ----------
    folder : str or Path
        Created if needed.
    recording_id : str
        The file's stem (the real ids are numbers such as 103991).
    two_d : bool, default: False
        Store vectors as 1 × N (traces) and N × 1 (spike times) and the periods as 1 × 1 arrays, as MATLAB writes.
    misspelled_threshold_key : bool, default: False
        Name the threshold ``quiroma`` (the dataset page's spelling) instead of ``quiroga``.
    genotype : str
        Stored as a UTF-8 bytes scalar.
    duration_s : float
        Length of both traces.
    ephys_period, ophys_period : float
        ``dte`` and ``dto`` in seconds.
    num_spikes : int
        Spikes planted in the voltage and ΔF/F.
    seed : int
        Random seed; the same arguments give the same bytes.
    """
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    num_samples = int(round(duration_s / ephys_period))
    num_frames = int(round(duration_s / ophys_period))
    gap = max(1, int(0.2 / ephys_period))
    spike_samples = planted_spike_indices(rng, num_samples, num_spikes, margin=gap, gap=gap)
    raw, subtracted = synthetic_cell_attached_voltage(rng, num_samples, spike_samples, period=ephys_period)
    spike_times = spike_samples * ephys_period
    dff = synthetic_dff(rng, num_frames, spike_times, period=ophys_period)
    threshold = 4 * np.median(np.abs(subtracted)) / 0.6745

    def vector(values: np.ndarray, *, column: bool = False) -> np.ndarray:
        if not two_d:
            return values
        return values.reshape(-1, 1) if column else values.reshape(1, -1)

    def scalar(value: float) -> np.ndarray:
        return np.full((1, 1) if two_d else (), value, dtype=np.float64)

    path = folder / f"{recording_id}.h5"
    with h5py.File(path, "w") as h5:
        h5.create_dataset("dff", data=vector(dff))
        h5.create_dataset("dte", data=scalar(ephys_period))
        h5.create_dataset("dto", data=scalar(ophys_period))
        h5.create_dataset("ephys_baseline_subtracted", data=vector(subtracted))
        h5.create_dataset("ephys_raw", data=vector(raw))
        h5.create_dataset("genotype", data=np.bytes_(genotype.encode("utf-8")))
        h5.create_dataset("quiroma" if misspelled_threshold_key else "quiroga", data=scalar(threshold))
        h5.create_dataset("sptimes", data=vector(spike_times, column=True))
    return path


def write_sample(folder: str | Path, **recording_options) -> tuple[Path, Path]:
    """Write a sample recording and its sample metadata YAML.

    Returns
    -------
    tuple of Path
        The recording file, and ``sample_metadata.yaml`` (synthetic subject facts) to pass with ``--metadata``.
    """
    folder = Path(folder)
    h5_path = write_allen_oephys_recording(folder, **recording_options)
    metadata_path = write_sample_metadata(folder, SAMPLE_METADATA)
    return h5_path, metadata_path


def write_sample_release(folder: str | Path, num_sessions: int = 3) -> tuple[Path, list[Path]]:
    """Write ``num_sessions`` recordings ``<recording_id>.h5`` (ids from 103991 on) side by side, as the release
    ships them, with a file that is not a recording and the sample metadata.

    Returns
    -------
    tuple
        The release root, and the recording files sorted by name.
    """
    root = start_sample_release(
        folder, SAMPLE_METADATA, {"README.txt": "Allen Institute Dataset II sample release (synthetic)\n"}
    )
    recordings = [
        write_allen_oephys_recording(root, recording_id=str(103991 + index), seed=index)
        for index in range(num_sessions)
    ]
    return root, sorted(recordings)
