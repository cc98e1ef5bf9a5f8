"""The SPE-1 Neuropixels binary: bit-exact samples, gain, geometry and reference sites, read back two ways."""

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwb_conversions.conversion import convert_session
from nwb_conversions.datasets.spe1.dataset import DATASET as SPE1
from nwb_conversions.interfaces.neuropixels_binary import REFERENCE_SITES
from nwb_conversions.resources import shipped_metadata_dir

from ..spe1_helpers import SUBJECT_YAML, read_npx, sample_release


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("npx")
    cell_dir, _ = sample_release(tmp_path)
    metadata = tmp_path / "subject.yaml"
    metadata.write_text(SUBJECT_YAML)
    output = tmp_path / "c14.nwb"
    convert_session(SPE1, cell_dir, output, metadata_path=metadata)
    return cell_dir, output


def test_samples_round_trip_bit_exact_with_the_neuropixels_gain(converted):
    cell_dir, output = converted
    with NWBHDF5IO(str(output), "r") as io:
        series = io.read().acquisition["ElectricalSeries"]
        assert series.data.dtype == np.int16
        np.testing.assert_array_equal(series.data[:], read_npx(cell_dir))
        assert series.conversion == 2.34375e-6
        assert series.offset == 0.0
        assert series.rate == 30000.0


def test_all_384_positions_equal_the_channel_map_and_reference_sites_are_flagged(converted):
    _, output = converted
    channel_map = np.loadtxt(shipped_metadata_dir() / "spe1_channel_map.csv", delimiter=",")
    with NWBHDF5IO(str(output), "r") as io:
        electrodes = io.read().electrodes.to_dataframe()
    assert len(electrodes) == 384
    np.testing.assert_array_equal(electrodes["rel_x"].to_numpy(), channel_map[:, 1])
    np.testing.assert_array_equal(electrodes["rel_y"].to_numpy(), channel_map[:, 2])
    assert electrodes.loc[159, ["rel_x", "rel_y"]].tolist() == [27.0, 1600.0]
    assert sorted(np.flatnonzero(electrodes["is_reference_site"].to_numpy())) == list(REFERENCE_SITES)


def test_spikeinterface_reads_the_same_traces_and_locations(converted):
    from spikeinterface.extractors import read_nwb_recording

    cell_dir, output = converted
    recording = read_nwb_recording(str(output), electrical_series_path="acquisition/ElectricalSeries")
    assert recording.get_num_channels() == 384 and recording.get_sampling_frequency() == 30000.0
    np.testing.assert_array_equal(recording.get_traces(), read_npx(cell_dir))
    channel_map = np.loadtxt(shipped_metadata_dir() / "spe1_channel_map.csv", delimiter=",")
    np.testing.assert_array_equal(recording.get_channel_locations(), channel_map[:, 1:])
    np.testing.assert_allclose(recording.get_channel_gains(), 2.34375)
