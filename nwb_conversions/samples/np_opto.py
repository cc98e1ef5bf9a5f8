"""Sample Neuropixels Opto sessions and releases, laid out as the real release (dataset README, analysis notebook).

A release holds ``laser_calibration.json``/``.mat`` (and, as in the notebook's listing, ``calibration.json``/``.mat``)
beside the session folders, either in ``sessions/`` (README layout ``data/sessions/<id>/``) or directly (``flat``,
the notebook's layout). A session folder holds ``session.json`` and the ALF files with the README's names and dtypes
(``spikes.times`` float64, ``spikes.clusters`` int32, ``clusters.*`` float64 / bool / int32, ``stim.emissionSites``
int32, ``clusters.waveformType.txt``, ``clusters.KSLabel.csv``).

The spikes are synthetic, with planted light responses (:mod:`.np_opto_spikes`). The calibration files' content is
made up (the real schema is not documented); the converter keeps them verbatim.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import write_sample_metadata
from .np_opto_spikes import (
    NUM_CHANNELS,
    NUM_EMITTERS,
    SAMPLING_RATE,
    TOP_OF_SHANK_UM,
    SampleSize,
    cluster_metrics,
    planted_spike_trains,
    sorted_spikes,
    stimulation_table,
    templates_for,
)

#: Subject facts for the sample only: synthetic values so that the example passes DANDI's checks.
SAMPLE_METADATA = {
    "Subject": {"sex": "U", "age": "P90D"},
    "NWBFile": {"experimenter": ["Sample, Synthetic"]},
}

DEFAULT_SESSION_ID = "AL0034_2024-12-05_en1_p0"


def write_np_opto_session(
    session_dir: str | Path,
    *,
    session_id: str | None = None,
    size: SampleSize = SampleSize(),
    emission_site_base: int = 1,
    seed: int = 0,
) -> Path:
    """Write one session folder and return it.

    Parameters
    ----------
    session_dir : str or Path
        Created; its name should be the session id (``<subject>_<date>_en<N>_p<P>``).
    session_id : str, optional
        Default: the folder's name.
    size : SampleSize
        Number of clusters, mean firing rate and repeats per condition.
    emission_site_base : int, default: 1
        Write emitter ids 1–14 (the README's) or 0–13.
    seed : int
        The same arguments give the same bytes.
    """
    rng = np.random.default_rng(seed)
    session_dir = Path(session_dir)
    session_dir.mkdir(parents=True, exist_ok=True)
    stim = stimulation_table(rng, size.repeats, emission_site_base=emission_site_base)
    duration_s = float(stim["times"][-1] + 3.0)
    times, clusters = sorted_spikes(planted_spike_trains(rng, size, stim, duration_s, emission_site_base))
    metrics = cluster_metrics(rng, size.num_clusters)
    arrays = {
        "spikes.times": times,
        "spikes.clusters": clusters,
        "clusters.templates": templates_for(rng, metrics["clusters.peakChannel"]),
        **metrics,
        **{f"stim.{name}": values for name, values in stim.items()},
    }
    for name, values in arrays.items():
        np.save(session_dir / f"{name}.npy", values)
    write_cluster_labels(session_dir, rng, metrics["clusters.troughToPeak"])
    record = session_record(session_id or session_dir.name, times, stim, metrics["clusters.qcPass"])
    (session_dir / "session.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return session_dir


def update_session_record(session_dir: str | Path) -> Path:
    """Rewrite ``session.json`` from the session's arrays as they are now (after a test changed them), so that its
    counts and ranges agree with them again; return its path."""
    session_dir = Path(session_dir)
    path = session_dir / "session.json"
    session_id = json.loads(path.read_text(encoding="utf-8"))["session_id"]
    arrays = {name: np.load(session_dir / f"{name}.npy") for name in ("spikes.times", "clusters.qcPass")}
    stim = {name: np.load(session_dir / f"stim.{name}.npy") for name in ("times", "emissionSites", "powerMW",
                                                                         "durations")}
    record = session_record(session_id, arrays["spikes.times"], stim, arrays["clusters.qcPass"])
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return path


def write_cluster_labels(session_dir: Path, rng: np.random.Generator, trough_to_peak: np.ndarray) -> None:
    """Write ``clusters.waveformType.txt`` (FS below 0.4 ms trough-to-peak, else RS) and ``clusters.KSLabel.csv``
    (a random Kilosort label per cluster)."""
    waveform_types = np.where(trough_to_peak < 0.4, "FS", "RS")
    (session_dir / "clusters.waveformType.txt").write_text("\n".join(waveform_types) + "\n", encoding="utf-8")
    labels = rng.choice(["good", "mua"], len(trough_to_peak))
    (session_dir / "clusters.KSLabel.csv").write_text(
        "cluster_id,KSLabel\n" + "".join(f"{cluster},{label}\n" for cluster, label in enumerate(labels)),
        encoding="utf-8",
    )


def session_record(session_id: str, times: np.ndarray, stim: dict[str, np.ndarray], qc_pass: np.ndarray) -> dict:
    """The content of ``session.json``: the ids its name encodes, the recording's facts and counts."""
    subject, session_date, experiment, probe = session_id.split("_")
    return {
        "session_id": session_id,
        "subject": f"{subject[:2]}_{subject[2:]}",
        "date": session_date,
        "en": int(experiment[2:]),
        "probe_index": int(probe[1:]),
        "top_chan": 212,
        "calibration": "quantifi",
        "power_level_scaling": 1.0,
        "sampling_rate": SAMPLING_RATE,
        "n_spikes": int(times.size),
        "n_clusters": len(qc_pass),
        "n_channels": NUM_CHANNELS,
        "n_trials": int(stim["times"].size),
        "top_of_shank_um": TOP_OF_SHANK_UM,
        "calibration_slope_mW": 0.001234,
        "calibration_intercept_mW": 0.000123,
        "spike_time_range_s": time_range(times),
        "stim_time_range_s": time_range(stim["times"]),
        "n_qc_pass": int(qc_pass.sum()),
        "n_qc_fail": int((~qc_pass).sum()),
        "qc_thresholds": {"presence_ratio_min": 0.8, "isi_violations_ratio_max": 0.5, "amplitude_cutoff_max": 0.1},
    }


def time_range(times: np.ndarray) -> list[float] | None:
    """``[first, last]`` of ``times`` in seconds, None (JSON null) when there is none."""
    return [float(times.min()), float(times.max())] if times.size else None


#: Made-up calibration content (the real files' structure is not documented).
SAMPLE_CALIBRATION = {
    "laser_calibration": {
        "units": "mW", "lasers": {"red": {"command_V": [0.0, 1.0, 2.0], "power_mW": [0.0, 1.1, 2.3]}}
    },
    "calibration": {"probe": "sample", "emitters": list(range(1, NUM_EMITTERS + 1)), "transmission": 0.42},
}


def write_calibration_files(folder: Path) -> list[Path]:
    """Write ``laser_calibration.json``/``.mat`` and ``calibration.json``/``.mat`` into ``folder``."""
    from scipy.io import savemat

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, content in SAMPLE_CALIBRATION.items():
        path = folder / f"{stem}.json"
        path.write_text(json.dumps(content, indent=2), encoding="utf-8")
        savemat(folder / f"{stem}.mat", {"calibration_json": json.dumps(content)})
        paths.append(path)
    return paths


def write_np_opto_release(
    root: str | Path, session_ids: list[str], *, layout: str = "sessions", size: SampleSize = SampleSize()
) -> tuple[Path, list[Path]]:
    """Write calibration files and sessions in the ``sessions`` (``root/sessions/<id>/``) or ``flat``
    (``root/<id>/``) layout; return the release root and the session folders."""
    if layout not in ("sessions", "flat"):
        raise ValueError(f"unknown layout {layout!r}")
    root = Path(root)
    write_calibration_files(root)
    holder = root / "sessions" if layout == "sessions" else root
    sessions = [
        write_np_opto_session(holder / session_id, size=size, seed=index)
        for index, session_id in enumerate(session_ids)
    ]
    return root, sessions


def write_sample(folder: str | Path, *, layout: str = "sessions", **session_options) -> tuple[Path, Path]:
    """Write a sample release with one session and the sample metadata; return the session folder and the YAML."""
    folder = Path(folder)
    root = folder / "data"
    write_calibration_files(root)
    holder = root / "sessions" if layout == "sessions" else root
    session = write_np_opto_session(holder / DEFAULT_SESSION_ID, **session_options)
    return session, write_sample_metadata(folder, SAMPLE_METADATA)


#: Session ids of the real release (notebook listing); a sample release uses the first ones.
RELEASE_SESSION_IDS = (
    "AL0033_2025-07-21_en3_p1",
    "AL0033_2025-07-22_en1_p0",
    "AL0033_2025-07-22_en3_p0",
    "AL0034_2024-12-05_en1_p0",
    "AL0034_2024-12-06_en1_p1",
    "AL0039_2025-07-23_en1_p0",
    "AL0039_2025-07-23_en3_p2",
    "AL0039_2025-07-24_en3_p1",
    "AL0039_2025-07-24_en5_p2",
)


def write_sample_release(folder: str | Path, num_sessions: int = 3) -> tuple[Path, list[Path]]:
    """Write a release of ``num_sessions`` (at most 9) small sessions in the README's ``sessions/`` layout."""
    if num_sessions > len(RELEASE_SESSION_IDS):
        raise ValueError(f"a sample release holds at most {len(RELEASE_SESSION_IDS)} sessions")
    ids = list(RELEASE_SESSION_IDS[:num_sessions])
    root, sessions = write_np_opto_release(Path(folder) / "data", ids, size=SampleSize(num_clusters=12, repeats=1))
    write_sample_metadata(root, SAMPLE_METADATA)
    return root, sorted(sessions)
