"""Lazy interleaved binaries: slices read exactly the requested samples; bad sizes are rejected."""

import os

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


def test_read_into_fills_the_callers_array(recording):
    binary, data = recording
    out = np.full((4, 5), -1, dtype="<i2")
    assert binary.read_into(2, 6, out) is out
    np.testing.assert_array_equal(out, data[2:6])
    column = np.empty(7, dtype="<i2")
    binary.channel(3).read_into(0, 7, column)
    np.testing.assert_array_equal(column, data[:, 3])
    with pytest.raises(ValueError, match="shape"):
        binary.read_into(0, 3, out)
    with pytest.raises(ValueError, match="inside"):
        binary.read_into(5, 9, np.empty((4, 5), dtype="<i2"))


def test_a_file_truncated_after_opening_is_a_source_error(recording):
    binary, _ = recording
    with open(binary.file_path, "r+b") as stream:
        stream.truncate(3 * 5 * 2)
    with pytest.raises(SourceFormatError, match="ended after 3 samples"):
        binary[0:7]


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise on this platform")
def test_each_read_asks_the_kernel_for_the_next_block(recording, monkeypatch):
    """Streaming reads prefetch the block after the one just read (advice only: the data read are unchanged)."""
    from nwb_conversions.readers import binary as binary_module

    binary, data = recording
    advice = []
    monkeypatch.setattr(
        binary_module.os, "posix_fadvise", lambda fd, offset, length, kind: advice.append((offset, length, kind))
    )
    out = np.empty((2, 5), dtype="<i2")
    for start in (0, 2, 4):
        np.testing.assert_array_equal(binary.read_into(start, start + 2, out), data[start : start + 2])
    frame_bytes = 5 * 2
    assert advice == [((start + 2) * frame_bytes, 2 * frame_bytes, os.POSIX_FADV_WILLNEED) for start in (0, 2, 4)]

    def refusing(*args):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(binary_module.os, "posix_fadvise", refusing)
    np.testing.assert_array_equal(binary[0:7], data)
