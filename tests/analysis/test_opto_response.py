"""The light-response analysis against scipy's paired t-test and the dataset's class definitions."""

from __future__ import annotations

import numpy as np
from scipy import stats

from nwb_conversions.analysis.opto_response import Pulses, ResponseParameters, classify, unit_responses


def pulses_at(starts, site_rows, powers, duration=0.2):
    starts = np.asarray(starts, dtype=float)
    return Pulses(
        starts=starts,
        stops=starts + duration,
        site_rows=np.asarray(site_rows),
        site_ids=np.asarray(site_rows) + 1,
        power_mw=np.asarray(powers, dtype=float),
    )


def test_rates_percent_change_and_t_test_match_a_direct_computation():
    rng = np.random.default_rng(1)
    pulses = pulses_at(np.arange(12) * 2.0 + 1.0, [0, 3] * 6, [1.0] * 6 + [2.0] * 6)
    train = np.sort(rng.uniform(0, 26, 300))
    result = unit_responses([train], pulses)
    assert len(result["unit"]) == 4  # conditions (site 0, 1 mW), (0, 2), (3, 1), (3, 2)
    for row in range(4):
        site, power = result["site_row"][row], result["power_in_mW"][row]
        chosen = (pulses.site_rows == site) & (pulses.power_mw == power)
        during = np.array([np.sum((train >= s) & (train < s + 0.2)) / 0.2 for s in pulses.starts[chosen]])
        before = np.array([np.sum((train >= s - 0.5) & (train < s)) / 0.5 for s in pulses.starts[chosen]])
        assert result["num_pulses"][row] == chosen.sum() == 3
        assert result["emission_site_id"][row] == site + 1
        np.testing.assert_allclose(result["stimulus_rate_hz"][row], during.mean())
        np.testing.assert_allclose(result["baseline_rate_hz"][row], before.mean())
        expected = stats.ttest_rel(during, before)
        np.testing.assert_allclose(result["t_statistic"][row], expected.statistic, equal_nan=True)
        np.testing.assert_allclose(result["p_value"][row], expected.pvalue, equal_nan=True)
        np.testing.assert_allclose(result["percent_change"][row], 100 * (during.mean() / before.mean() - 1))


def test_classes_follow_the_dataset_definition():
    parameters = ResponseParameters()
    stimulus = np.array([31.0, 29.0, 4.0, 0.9, 0.5, 5.0, 0.0])
    baseline = np.array([10.0, 10.0, 10.0, 1.9, 0.0, 0.0, 0.0])
    percent, classes = classify(stimulus, baseline, parameters)
    assert list(classes) == ["activated", "none", "inactivated", "none", "activated", "activated", "none"]
    assert np.isinf(percent[4]) and np.isnan(percent[6])


def test_a_unit_without_spikes_and_a_single_pulse_give_nan_statistics():
    pulses = pulses_at([1.0, 3.0, 5.0], [0, 0, 1], [1.0, 1.0, 1.0])
    result = unit_responses([np.empty(0)], pulses)
    assert np.isnan(result["p_value"]).all() and list(result["response"]) == ["none", "none"]
    assert not result["significant"].any()
