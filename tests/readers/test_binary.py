"""Lazy interleaved binaries: slices read exactly the requested samples; bad sizes are rejected."""

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers.binary import open_interleaved_binary


@pytest.fixture
def recording(tmp_path):
    data = np.arange(7 * 5, dtype="<i2").reshape(7, 5)
    path = tmp_path / "rec.bin"
    data.tofile(path)
    return open_interleaved_binary(path, num_channels=5, dtype="int16"), data


def test_slices_channels_and_heads_match_numpy(recording):
    binary, data = recording
    assert binary.shape == (7, 5) and binary.dtype == np.dtype("<i2")
    np.testing.assert_array_equal(binary[2:6], data[2:6])
    np.testing.assert_array_equal(binary[5:100], data[5:])
    np.testing.assert_array_equal(binary[1:7:2, 3], data[1:7:2, 3])
    np.testing.assert_array_equal(binary[-1], data[-1])
    channel = binary.channel(3)
    assert channel.shape == (7,)
    np.testing.assert_array_equal(channel[:], data[:, 3])
    np.testing.assert_array_equal(np.asarray(channel.head(4)), data[:4, 3])
    assert binary.head(100).shape == (7, 5)
    with pytest.raises(SourceFormatError):
        binary.channel(5)


def test_size_must_be_a_whole_number_of_samples(tmp_path):
    path = tmp_path / "odd.bin"
    path.write_bytes(b"\x00" * 11)
    with pytest.raises(SourceFormatError, match="not a whole number of samples"):
        open_interleaved_binary(path, num_channels=5, dtype="int16")
    with pytest.raises(SourceFormatError, match="no such file"):
        open_interleaved_binary(tmp_path / "missing.bin", num_channels=5, dtype="int16")
