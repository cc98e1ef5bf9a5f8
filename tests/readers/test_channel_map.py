"""Kilosort ``chanMap.mat`` in MAT v5 and v7.3 give the same geometry; other files are rejected."""

import h5py
import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers.channel_map import read_channel_map_csv, read_kilosort_channel_map
from nwb_conversions.resources import shipped_metadata_dir
from nwb_conversions.samples.spe1 import write_channel_map_mat


@pytest.fixture
def expected():
    return read_channel_map_csv(shipped_metadata_dir() / "spe1_channel_map.csv", num_channels=384)


def write_v73_channel_map(path, positions):
    """A MATLAB 7.3 file: a 512-byte userblock with the MATLAB header, then HDF5; column vectors stored as 1 × N."""
    with h5py.File(path, "w", userblock_size=512) as mat:
        mat["xcoords"] = positions[:, 0].reshape(1, -1)
        mat["ycoords"] = positions[:, 1].reshape(1, -1)
    with open(path, "r+b") as stream:
        stream.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2018 HDF5 schema 1.00 .")


def test_v5_and_v73_give_the_shipped_geometry(tmp_path, expected):
    v5 = write_channel_map_mat(tmp_path / "chanMap.mat")
    np.testing.assert_array_equal(read_kilosort_channel_map(v5, num_channels=384), expected)
    v73 = tmp_path / "chanMap73.mat"
    write_v73_channel_map(v73, expected)
    np.testing.assert_array_equal(read_kilosort_channel_map(v73, num_channels=384), expected)
    assert expected[0].tolist() == [43.0, 20.0] and expected[383].tolist() == [27.0, 3840.0]


def test_wrong_channel_count_and_non_mat_files_are_rejected(tmp_path, expected):
    v73 = tmp_path / "short.mat"
    write_v73_channel_map(v73, expected[:385 - 2])
    with pytest.raises(SourceFormatError, match="383 x and 383 y coordinates"):
        read_kilosort_channel_map(v73, num_channels=384)
    text = tmp_path / "notmat.mat"
    text.write_text("x,y\n")
    with pytest.raises(SourceFormatError, match="not a MATLAB file"):
        read_kilosort_channel_map(text, num_channels=384)
