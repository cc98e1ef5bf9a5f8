"""The synthetic spikes of a sample Neuropixels Opto session: the light pulses, the clusters' spike trains with the
planted responses, their templates, QC metrics and the probe's sites.

Most clusters fire regularly (±5 % jitter), so light does not change their rate; two clusters carry planted
responses (:data:`ACTIVATED`, :data:`INACTIVATED`), which the response analysis must find and nothing else. One
cluster has no spike at all, one has no peak channel (−1) and NaN QC metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import spike_waveform

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

#: The top of the shank's sites (µm): cluster depths from the brain's surface are measured from it.
TOP_OF_SHANK_UM = 2130.0


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


def sorted_spikes(trains: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``spikes.times`` (on the sampling clock) and ``spikes.clusters`` (int32) of every train, in time order."""
    times = np.concatenate(trains)
    clusters = np.concatenate([np.full(train.size, cluster, dtype=np.int32) for cluster, train in enumerate(trains)])
    times = np.round(times * SAMPLING_RATE) / SAMPLING_RATE
    order = np.argsort(times, kind="stable")
    return times[order], clusters[order]


def cluster_metrics(rng: np.random.Generator, num_clusters: int) -> dict[str, np.ndarray]:
    """The ``clusters.*`` arrays but the templates: the sites, peak channels, depths, QC metrics and verdicts, and
    trough-to-peak widths; :data:`NO_PEAK_CLUSTER` has peak channel −1 and NaN metrics."""
    positions = neuropixels_positions()
    peak_channels = rng.integers(0, 160, num_clusters).astype(np.int32)
    peak_channels[NO_PEAK_CLUSTER] = -1
    template_depths = np.where(peak_channels >= 0, positions[np.maximum(peak_channels, 0), 1], np.nan)
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
    return {
        "clusters.channelPositions": positions,
        "clusters.templateDepths": template_depths,
        "clusters.depthsFromSurface": np.abs(TOP_OF_SHANK_UM - template_depths),
        "clusters.qcPass": qc_pass,
        **{f"clusters.{name}": values for name, values in qc.items()},
        "clusters.troughToPeak": trough_to_peak,
        "clusters.peakChannel": peak_channels,
    }
