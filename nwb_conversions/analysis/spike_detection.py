"""Threshold spike detection on a long pipette trace, read block by block (ground truth for paired recordings).

The method follows the Kampff lab's own juxtacellular detection (Neto et al. 2016 analysis scripts): a threshold on
the scaled trace, the spike at the extremum of each threshold crossing, and a minimum separation of 1 ms. What this
module adds is a robust default threshold and streaming:

1. Baseline and noise are estimated on up to ``noise_blocks`` one-second blocks spread evenly over the trace:
   baseline = median, noise σ = median absolute deviation / 0.6745 (Quiroga et al. 2004). On a quiet, quantized
   trace half or more of the samples can equal the median, making that σ 0, so the threshold 0 and every spike
   missed; σ then falls back to the mean absolute deviation / 0.7979, and never below one stored step
   (``conversion``). With ``sign="auto"`` the polarity is that of the larger excursion from the baseline in
   those blocks.
2. The trace is read in blocks of ``block_samples`` and centred (and flipped for negative spikes). Each run of samples
   at or beyond the threshold gives one candidate at its extremum; a run that reaches the end of a block is carried
   into the next, so a spike on a block boundary is found once.
3. Candidates closer than the refractory period are thinned, largest first (as ``scipy.signal.find_peaks`` does with
   ``distance``).

Memory: one block (default 10 s, 2.4 MB of float64 at 30 kHz) plus the noise sample (at most 30 s, 7.2 MB), whatever
the trace's length.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass
from typing import Iterator, Literal

import numpy as np

#: MAD of unit-variance Gaussian noise: σ = MAD / 0.6745.
MAD_PER_SIGMA = 0.6745

#: Mean absolute deviation of unit-variance Gaussian noise, √(2/π): the fallback when the MAD is 0.
MEAN_ABSOLUTE_DEVIATION_PER_SIGMA = 0.7979

#: A run above threshold longer than this many seconds is closed at the block end (a DC step, not a spike).
MAX_RUN_SECONDS = 1.0


@dataclass(frozen=True)
class DetectionParameters:
    """How spikes are detected.

    Attributes
    ----------
    sign : {"auto", "positive", "negative"}
        Spike polarity; "auto" takes the larger excursion from the baseline in the noise blocks.
    threshold_k : float
        Threshold as a multiple of the robust noise σ (MAD / 0.6745); used when ``threshold_volts`` is None.
    threshold_volts : float, optional
        Absolute threshold in volts, as a distance from the baseline (the lab used 0.2 to 3.5 mV per cell).
    refractory_ms : float
        Minimum separation of two spikes.
    block_seconds : float
        Length of the blocks read at once.
    noise_blocks : int
        One-second blocks used to estimate the baseline and noise.
    """

    sign: Literal["auto", "positive", "negative"] = "auto"
    threshold_k: float = 8.0
    threshold_volts: float | None = None
    refractory_ms: float = 1.0
    block_seconds: float = 10.0
    noise_blocks: int = 30

    def __post_init__(self):
        if self.sign not in ("auto", "positive", "negative"):
            raise ValueError(f"sign must be 'auto', 'positive' or 'negative', not {self.sign!r}")
        if self.threshold_k <= 0 or (self.threshold_volts is not None and self.threshold_volts <= 0):
            raise ValueError("thresholds must be positive")
        if self.refractory_ms < 0 or self.block_seconds <= 0 or self.noise_blocks < 1:
            raise ValueError("refractory_ms must be ≥ 0, block_seconds > 0 and noise_blocks ≥ 1")

    def as_dict(self) -> dict:
        """The parameters as a plain mapping (for descriptions and metadata)."""
        return asdict(self)


@dataclass(frozen=True)
class DetectionResult:
    """What the detection found, and the values it used.

    Attributes
    ----------
    spike_samples : numpy.ndarray
        Sorted sample indices of the spike peaks (int64).
    sign : {"positive", "negative"}
        The polarity used.
    baseline_volts, noise_volts, threshold_volts : float
        The baseline (median), robust noise σ, and threshold (distance from the baseline) in volts.
    parameters : DetectionParameters
    """

    spike_samples: np.ndarray
    sign: str
    baseline_volts: float
    noise_volts: float
    threshold_volts: float
    parameters: DetectionParameters


def scaled_block(trace, start: int, stop: int, conversion: float, offset: float) -> np.ndarray:
    """Read ``trace[start:stop]`` (stored values) as float64 volts."""
    return np.asarray(trace[start:stop], dtype=np.float64) * conversion + offset


def estimate_baseline_and_noise(
    trace, *, conversion: float, offset: float, block_samples: int, num_blocks: int
) -> tuple[float, float, float, float]:
    """Estimate the baseline, noise and largest excursions on ``num_blocks`` blocks spread over the trace.

    Returns
    -------
    tuple of float
        ``(baseline, noise_sigma, positive_excursion, negative_excursion)`` in volts; the excursions are the
        largest distances above and below the baseline in the sampled blocks.
    """
    length = len(trace)
    if length <= block_samples * num_blocks:
        sample = scaled_block(trace, 0, length, conversion, offset)
    else:
        starts = np.linspace(0, length - block_samples, num_blocks).astype(np.int64)
        sample = np.concatenate([scaled_block(trace, s, s + block_samples, conversion, offset) for s in starts])
    baseline = float(np.median(sample))
    deviations = np.abs(sample - baseline)
    noise = float(np.median(deviations) / MAD_PER_SIGMA)
    if noise == 0:  # a quantized, mostly flat trace: half or more of the samples sit on the median
        noise = max(float(np.mean(deviations)) / MEAN_ABSOLUTE_DEVIATION_PER_SIGMA, abs(conversion))
    return baseline, noise, float(sample.max() - baseline), float(baseline - sample.min())


def find_run_peaks(blocks: Iterator[np.ndarray], threshold: float, *, max_run: int) -> tuple[np.ndarray, np.ndarray]:
    """Find the peak of every run of consecutive samples ``>= threshold`` in a signal given as consecutive blocks.

    Parameters
    ----------
    blocks : iterator of numpy.ndarray
        Consecutive 1-D blocks of the (centred, sign-corrected) signal.
    threshold : float
    max_run : int
        A run carried over from block to block is closed once it is this long, so memory stays bounded.

    Returns
    -------
    tuple of numpy.ndarray
        Peak indices (absolute, int64) and peak values.
    """
    peaks: list[int] = []
    heights: list[float] = []
    carry = np.empty(0)
    position = 0  # absolute index of the first sample of the next block

    def close_run(run: np.ndarray, run_start: int) -> None:
        index = int(np.argmax(run))
        peaks.append(run_start + index)
        heights.append(float(run[index]))

    for block in blocks:
        signal = np.concatenate([carry, block]) if carry.size else block
        base = position - carry.size
        position += len(block)
        above = signal >= threshold
        edges = np.diff(above.astype(np.int8), prepend=0, append=0)  # the sample before a carry is below threshold
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        carry = np.empty(0)
        if above[-1]:  # the last run may continue into the next block
            last_start = starts[-1]
            starts, stops = starts[:-1], stops[:-1]
            if len(signal) - last_start < max_run:
                carry = signal[last_start:]
            else:
                close_run(signal[last_start:], base + last_start)
        for start, stop in zip(starts, stops):
            close_run(signal[start:stop], base + start)
    if carry.size:
        close_run(carry, position - carry.size)
    return np.asarray(peaks, dtype=np.int64), np.asarray(heights, dtype=np.float64)


def thin_by_refractory(peaks: np.ndarray, heights: np.ndarray, min_distance: int) -> np.ndarray:
    """Keep the largest peaks so that no two kept peaks are closer than ``min_distance`` samples; return them sorted."""
    if min_distance <= 1 or len(peaks) < 2:
        return np.sort(peaks)
    kept: list[int] = []
    for index in np.argsort(-heights, kind="stable"):
        candidate = int(peaks[index])
        position = bisect.bisect_left(kept, candidate)
        left_ok = position == 0 or candidate - kept[position - 1] >= min_distance
        right_ok = position == len(kept) or kept[position] - candidate >= min_distance
        if left_ok and right_ok:
            kept.insert(position, candidate)
    return np.asarray(kept, dtype=np.int64)


def detect_spikes(
    trace,
    *,
    sampling_frequency: float,
    conversion: float = 1.0,
    offset: float = 0.0,
    parameters: DetectionParameters | None = None,
) -> DetectionResult:
    """Detect threshold-crossing spikes on a 1-D trace of stored values, reading it block by block.

    Parameters
    ----------
    trace : array-like
        1-D stored values (e.g. one column of a memory-mapped binary); never loaded whole.
    sampling_frequency : float
        Samples per second.
    conversion, offset : float
        Volts = stored × conversion + offset (the offset does not change the result: the trace is centred).
    parameters : DetectionParameters, optional
        Default: :class:`DetectionParameters` ().

    Returns
    -------
    DetectionResult
    """
    parameters = parameters or DetectionParameters()
    second = max(1, int(round(sampling_frequency)))
    baseline, noise, positive, negative = estimate_baseline_and_noise(
        trace, conversion=conversion, offset=offset, block_samples=second, num_blocks=parameters.noise_blocks
    )
    sign = parameters.sign if parameters.sign != "auto" else ("positive" if positive >= negative else "negative")
    if parameters.threshold_volts is not None:
        threshold = float(parameters.threshold_volts)
    else:
        threshold = parameters.threshold_k * noise
    flip = 1.0 if sign == "positive" else -1.0
    block_samples = max(1, int(round(parameters.block_seconds * sampling_frequency)))

    def centred_blocks() -> Iterator[np.ndarray]:
        for start in range(0, len(trace), block_samples):
            yield flip * (scaled_block(trace, start, start + block_samples, conversion, offset) - baseline)

    if threshold <= 0:  # a constant trace: nothing crosses
        peaks = np.empty(0, dtype=np.int64)
    else:
        peaks, heights = find_run_peaks(
            centred_blocks(), threshold, max_run=max(1, int(MAX_RUN_SECONDS * sampling_frequency))
        )
        peaks = thin_by_refractory(peaks, heights, int(round(parameters.refractory_ms * 1e-3 * sampling_frequency)))
    return DetectionResult(
        spike_samples=peaks,
        sign=sign,
        baseline_volts=baseline,
        noise_volts=noise,
        threshold_volts=threshold,
        parameters=parameters,
    )
