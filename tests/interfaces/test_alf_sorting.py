"""Grouping spikes by cluster (one argsort) and the SpikeInterface sorting that keeps the stored seconds."""

from __future__ import annotations

import numpy as np
import pytest

from nwb_conversions.interfaces.alf_sorting import AlfSortingExtractor, group_spikes_by_cluster


@pytest.mark.parametrize("in_time_order", [True, False])
def test_grouping_equals_a_per_cluster_selection(in_time_order):
    rng = np.random.default_rng(0)
    times = rng.uniform(0, 100, 5000)
    if in_time_order:
        times.sort()
    clusters = rng.integers(0, 40, 5000).astype(np.int32)
    clusters[clusters == 17] = 3  # cluster 17 has no spike
    grouped, boundaries = group_spikes_by_cluster(times, clusters, 45)
    assert len(boundaries) == 46 and boundaries[-1] == 5000
    for cluster in range(45):
        expected = np.sort(times[clusters == cluster])
        np.testing.assert_array_equal(grouped[boundaries[cluster] : boundaries[cluster + 1]], expected)


def test_the_sorting_returns_the_stored_seconds_bit_for_bit():
    times = np.array([0.1 + 1e-9, 0.2, 0.30000000000000004, 1 / 3, 2.5])
    clusters = np.array([1, 0, 1, 1, 0])
    sorting = AlfSortingExtractor(times, clusters, num_clusters=3, sampling_frequency=30_000.0)
    assert list(sorting.unit_ids) == [0, 1, 2]
    np.testing.assert_array_equal(sorting.get_unit_spike_train(1, return_times=True), times[[0, 2, 3]])
    assert sorting.get_unit_spike_train(2, return_times=True).size == 0
    np.testing.assert_array_equal(sorting.get_unit_spike_train(0), [6000, 75000])
    assert [train.size for train in sorting.spike_trains_in_seconds()] == [2, 3, 0]
