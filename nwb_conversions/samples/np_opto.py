"""Sample Neuropixels Opto sessions and releases, laid out as the real release (dataset README, analysis notebook).

A release holds ``laser_calibration.json``/``.mat`` (and, as in the notebook's listing, ``calibration.json``/``.mat``)
beside the session folders, either in ``sessions/`` (README layout ``data/sessions/<id>/``) or directly (``flat``,
the notebook's layout). A session folder holds ``session.json`` and the ALF files with the README's names and dtypes
(``spikes.times`` float64, ``spikes.clusters`` int32, ``clusters.*`` float64 / bool / int32, ``stim.emissionSites``
int32, ``clusters.waveformType.txt``, ``clusters.KSLabel.csv``).

The spikes are synthetic: most clusters fire regularly (±5 % jitter), so light does not change their rate; two
clusters carry planted responses (:data:`ACTIVATED`, :data:`INACTIVATED`), which the response analysis must find and
nothing else. One cluster has no spike at all, one has no peak channel (−1) and NaN QC metrics. The calibration
files' content is made up (the real schema is not documented); the converter keeps them verbatim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import spike_waveform, write_sample_metadata

SAMPLING_RATE = 30_000
NUM_CHANNELS = 384
TEMPLATE_SAMPLES = 61
NUM_EMITTERS = 14

#: Pulse parameters of the sample: every (emitter, power) condition is repeated this often, one pulse a second.
POWERS_MW = (0.5, 2.0)
PULSE_DURATION_S = 0.2
PULSE_PERIOD_S = 1.0
REPEATS = 6
FIRST_PULSE_S = 5.0

#: Cluster ids with planted responses, and a cluster without spikes and one without a peak channel.
ACTIVATED_CLUSTER = 2
INACTIVATED_CLUSTER = 5
SILENT_CLUSTER = 7
NO_PEAK_CLUSTER = 9
#: The planted responses, as (cluster id, 1-based emitter id, power in mW): the activated cluster fires at +60 Hz
#: during strong pulses of the three emitters nearest the tip; the inactivated one (20 Hz) stops during every
#: strong pulse.
ACTIVATED = {(ACTIVATED_CLUSTER, emitter, 2.0) for emitter in (1, 2, 3)}
INACTIVATED = {(INACTIVATED_CLUSTER, emitter, 2.0) for emitter in range(1, NUM_EMITTERS + 1)}

#: Subject facts for the sample only: synthetic values so that the example passes DANDI's checks.
SAMPLE_METADATA = {
    "Subject": {"sex": "U", "age": "P90D"},
    "NWBFile": {"experimenter": ["Sample, Synthetic"]},
}

DEFAULT_SESSION_ID = "AL0034_2024-12-05_en1_p0"


@dataclass(frozen=True)
class SampleSize:
    """How big a sample session is."""

    num_clusters: int = 24
    mean_rate_hz: float = 6.0
    repeats: int = REPEATS


def neuropixels_positions(num_channels: int = NUM_CHANNELS) -> np.ndarray:
    """Neuropixels 1.0-style checkerboard site positions (x, y) in µm, 20 µm rows."""
    channel = np.arange(num_channels)
    x = np.array([43.0, 11.0, 59.0, 27.0])[channel % 4]
    y = 20.0 * (channel // 2) + 20.0
    return np.column_stack([x, y])


def stimulation_table(rng: np.random.Generator, repeats: int, *, emission_site_base: int = 1) -> dict[str, np.ndarray]:
    """Pulses of every (emitter, power) condition in random order, one per :data:`PULSE_PERIOD_S`."""
    conditions = [(site, power) for site in range(NUM_EMITTERS) for power in POWERS_MW] * repeats
    order = rng.permutation(len(conditions))
    sites = np.array([conditions[index][0] for index in order], dtype=np.int32) + emission_site_base
    power = np.array([conditions[index][1] for index in order], dtype=np.float64)
    times = FIRST_PULSE_S + PULSE_PERIOD_S * np.arange(len(conditions)) + rng.uniform(0, 0.05, len(conditions))
    return {
        "times": np.round(times * SAMPLING_RATE) / SAMPLING_RATE,
        "emissionSites": sites,
        "powerMW": power,
        "durations": np.full(len(conditions), PULSE_DURATION_S),
    }


def regular_train(rng: np.random.Generator, rate_hz: float, duration_s: float) -> np.ndarray:
    """Spike times at ``rate_hz`` with 5 % jitter of the interval, over ``[0, duration_s)``."""
    count = int(rate_hz * duration_s) + 2
    intervals = (1.0 / rate_hz) * rng.uniform(0.95, 1.05, count)
    times = rng.uniform(0, 1.0 / rate_hz) + np.cumsum(intervals)
    return times[times < duration_s]


def planted_spike_trains(
    rng: np.random.Generator, size: SampleSize, stim: dict[str, np.ndarray], duration_s: float, emission_site_base: int
) -> list[np.ndarray]:
    """One spike train per cluster, with the planted responses; the silent cluster gets none."""
    rates = rng.uniform(0.5, 2.0, size.num_clusters) * size.mean_rate_hz
    rates[INACTIVATED_CLUSTER] = 20.0
    rates[ACTIVATED_CLUSTER] = 4.0
    trains = [regular_train(rng, rate, duration_s) for rate in rates]
    trains[SILENT_CLUSTER] = np.empty(0)
    onsets, stops = stim["times"], stim["times"] + stim["durations"]
    emitters = stim["emissionSites"] - emission_site_base + 1
    strong = stim["powerMW"] == 2.0
    activated = strong & np.isin(emitters, [emitter for _, emitter, _ in ACTIVATED])
    extra = [rng.uniform(start, stop, rng.poisson(60.0 * (stop - start)) + 6) for start, stop in
             zip(onsets[activated], stops[activated])]
    trains[ACTIVATED_CLUSTER] = np.sort(np.concatenate([trains[ACTIVATED_CLUSTER], *extra]))
    train = trains[INACTIVATED_CLUSTER]
    during = np.zeros(train.size, dtype=bool)
    for start, stop in zip(onsets[strong], stops[strong]):
        during |= (train >= start) & (train < stop)
    trains[INACTIVATED_CLUSTER] = train[~during]
    return trains


def templates_for(rng: np.random.Generator, peak_channels: np.ndarray) -> np.ndarray:
    """(K, T, C) float64 templates: a spike shape on the peak channel and its neighbours, zero elsewhere."""
    templates = np.zeros((len(peak_channels), TEMPLATE_SAMPLES, NUM_CHANNELS))
    shape = spike_waveform(TEMPLATE_SAMPLES, width=2.0)
    for cluster, peak in enumerate(peak_channels):
        if peak < 0:
            continue
        for offset in range(-4, 5):
            channel = peak + offset
            if 0 <= channel < NUM_CHANNELS:
                templates[cluster, :, channel] = rng.uniform(40, 120) * np.exp(-abs(offset) / 2) * shape
    return templates


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
    session_id = session_id or session_dir.name
    stim = stimulation_table(rng, size.repeats, emission_site_base=emission_site_base)
    duration_s = float(stim["times"][-1] + 3.0)
    trains = planted_spike_trains(rng, size, stim, duration_s, emission_site_base)
    times = np.concatenate(trains)
    clusters = np.concatenate([np.full(train.size, cluster, dtype=np.int32) for cluster, train in enumerate(trains)])
    times = np.round(times * SAMPLING_RATE) / SAMPLING_RATE
    order = np.argsort(times, kind="stable")
    times, clusters = times[order], clusters[order]

    num_clusters = size.num_clusters
    positions = neuropixels_positions()
    peak_channels = rng.integers(0, 160, num_clusters).astype(np.int32)
    peak_channels[NO_PEAK_CLUSTER] = -1
    template_depths = np.where(peak_channels >= 0, positions[np.maximum(peak_channels, 0), 1], np.nan)
    top_of_shank_um = 2130.0
    qc = {
        "presenceRatio": rng.uniform(0.6, 1.0, num_clusters),
        "isiViolationsRatio": rng.uniform(0.0, 0.8, num_clusters),
        "amplitudeCutoff": rng.uniform(0.0, 0.2, num_clusters),
    }
    for values in qc.values():
        values[NO_PEAK_CLUSTER] = np.nan
    qc_pass = (qc["presenceRatio"] > 0.8) & (qc["isiViolationsRatio"] < 0.5) & (qc["amplitudeCutoff"] < 0.1)
    trough_to_peak = rng.uniform(0.2, 0.9, num_clusters)
    trough_to_peak[NO_PEAK_CLUSTER] = np.nan

    arrays = {
        "spikes.times": times,
        "spikes.clusters": clusters,
        "clusters.templates": templates_for(rng, peak_channels),
        "clusters.channelPositions": positions,
        "clusters.templateDepths": template_depths,
        "clusters.depthsFromSurface": np.abs(top_of_shank_um - template_depths),
        "clusters.qcPass": qc_pass,
        "clusters.presenceRatio": qc["presenceRatio"],
        "clusters.isiViolationsRatio": qc["isiViolationsRatio"],
        "clusters.amplitudeCutoff": qc["amplitudeCutoff"],
        "clusters.troughToPeak": trough_to_peak,
        "clusters.peakChannel": peak_channels,
        **{f"stim.{name}": values for name, values in stim.items()},
    }
    for name, values in arrays.items():
        np.save(session_dir / f"{name}.npy", values)
    waveform_types = np.where(trough_to_peak < 0.4, "FS", "RS")
    (session_dir / "clusters.waveformType.txt").write_text("\n".join(waveform_types) + "\n", encoding="utf-8")
    labels = rng.choice(["good", "mua"], num_clusters)
    (session_dir / "clusters.KSLabel.csv").write_text(
        "cluster_id,KSLabel\n" + "".join(f"{cluster},{label}\n" for cluster, label in enumerate(labels)),
        encoding="utf-8",
    )
    subject, session_date, experiment, probe = session_id.split("_")
    session = {
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
        "n_clusters": num_clusters,
        "n_channels": NUM_CHANNELS,
        "n_trials": int(stim["times"].size),
        "top_of_shank_um": top_of_shank_um,
        "calibration_slope_mW": 0.001234,
        "calibration_intercept_mW": 0.000123,
        "spike_time_range_s": [float(times.min()), float(times.max())],
        "stim_time_range_s": [float(stim["times"].min()), float(stim["times"].max())],
        "n_qc_pass": int(qc_pass.sum()),
        "n_qc_fail": int((~qc_pass).sum()),
        "qc_thresholds": {"presence_ratio_min": 0.8, "isi_violations_ratio_max": 0.5, "amplitude_cutoff_max": 0.1},
    }
    (session_dir / "session.json").write_text(json.dumps(session, indent=2), encoding="utf-8")
    return session_dir


#: Made-up calibration content (the real files' structure is not documented).
SAMPLE_CALIBRATION = {
    "laser_calibration": {"units": "mW", "lasers": {"red": {"command_V": [0.0, 1.0, 2.0], "power_mW": [0.0, 1.1, 2.3]}}},
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
        write_np_opto_session(holder / session_id, size=size, seed=index) for index, session_id in enumerate(session_ids)
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
