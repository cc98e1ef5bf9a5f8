"""Block-wise threshold spike detection: exact peaks, block-boundary handling, refractory thinning, polarity."""

from __future__ import annotations

import numpy as np
import pytest

from nwb_conversions.analysis.spike_detection import DetectionParameters, detect_spikes, thin_by_refractory
from nwb_conversions.samples import spike_waveform

RATE = 30_000.0


def trace_with_spikes(peaks, *, amplitude=1.0, noise=0.02, length=60_000, seed=1):
    rng = np.random.default_rng(seed)
    trace = rng.normal(0.0, noise, size=length) + 3.0  # a DC level the detection must ignore
    shape = -spike_waveform(45, width=3.0)  # positive unit peak at index 15
    for peak in peaks:
        trace[peak - 15 : peak + 30] += amplitude * shape
    return trace


PEAKS = np.array([500, 2_999, 3_000 + 3_000, 11_990, 30_000, 45_017, 59_000])


@pytest.mark.parametrize("block_seconds", [0.01, 0.1, 0.4, 10.0])
def test_every_planted_peak_is_found_once_whatever_the_block_size(block_seconds):
    # 0.01 s = 300-sample blocks: spikes at 2999, 11990 and 30000 straddle block boundaries
    trace = trace_with_spikes(PEAKS)
    result = detect_spikes(trace, sampling_frequency=RATE, parameters=DetectionParameters(block_seconds=block_seconds))
    whole = detect_spikes(trace, sampling_frequency=RATE, parameters=DetectionParameters(block_seconds=10.0))
    np.testing.assert_array_equal(result.spike_samples, whole.spike_samples)
    np.testing.assert_allclose(result.spike_samples, PEAKS, atol=1)  # noise may move a peak by one sample
    clean = detect_spikes(trace_with_spikes(PEAKS, noise=0.002), sampling_frequency=RATE,
                          parameters=DetectionParameters(block_seconds=block_seconds))
    np.testing.assert_array_equal(clean.spike_samples, PEAKS)
    assert result.sign == "positive"
    assert result.baseline_volts == pytest.approx(3.0, abs=0.01)
    assert result.noise_volts == pytest.approx(0.02, rel=0.1)
    assert result.threshold_volts == pytest.approx(8 * result.noise_volts)


def test_negative_spikes_scaled_from_counts():
    counts = np.round(32768 - trace_with_spikes(PEAKS) / 1e-3).astype(np.uint16)  # inverted, 1 mV per count
    result = detect_spikes(counts, sampling_frequency=RATE, conversion=1e-3, offset=-32.768)
    assert result.sign == "negative"
    np.testing.assert_allclose(result.spike_samples, PEAKS, atol=1)


def test_forced_sign_and_absolute_threshold():
    trace = trace_with_spikes(PEAKS)
    wrong_sign = detect_spikes(trace, sampling_frequency=RATE, parameters=DetectionParameters(sign="negative"))
    # forced negative: only the spikes' undershoots (0.35 of the peak, ~9 samples later) cross the threshold
    lags = wrong_sign.spike_samples - PEAKS
    assert np.all((lags > 5) & (lags < 15))
    high = detect_spikes(trace, sampling_frequency=RATE, parameters=DetectionParameters(threshold_volts=2.0))
    assert len(high.spike_samples) == 0 and high.threshold_volts == 2.0


def test_refractory_keeps_the_larger_of_close_peaks():
    kept = thin_by_refractory(np.array([100, 110, 125, 200]), np.array([1.0, 3.0, 2.0, 1.0]), 30)
    np.testing.assert_array_equal(kept, [110, 200])


def test_constant_trace_has_no_spikes():
    result = detect_spikes(np.full(10_000, 32768, dtype=np.uint16), sampling_frequency=RATE)
    assert len(result.spike_samples) == 0
