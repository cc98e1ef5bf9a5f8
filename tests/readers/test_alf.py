"""The strict ALF readers: .npy arrays (pickles refused), objects of equal-length attributes, JSON, text lines."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers.alf import load_npy, read_alf_object, read_lines

from ..pickle_payloads import payload_npy_bytes


def test_a_pickled_array_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    (tmp_path / "spikes.clusters.npy").write_bytes(payload_npy_bytes(marker))
    with pytest.raises(SourceFormatError, match="holds Python objects"):
        load_npy(tmp_path / "spikes.clusters.npy", kinds="iu")
    assert not marker.exists()


def test_a_column_vector_is_flattened_and_dtype_and_shape_are_checked(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(5.0).reshape(5, 1))
    np.testing.assert_array_equal(load_npy(tmp_path / "a.npy", kinds="f"), np.arange(5.0))
    with pytest.raises(SourceFormatError, match=r"holds float64 values; expected a \.npy array of integer values"):
        load_npy(tmp_path / "a.npy", kinds="iu")
    np.save(tmp_path / "b.npy", np.zeros((2, 3)))
    with pytest.raises(SourceFormatError,
                       match=r"has shape \(2, 3\); expected a \.npy array of floating point values, 1-D"):
        load_npy(tmp_path / "b.npy", kinds="f")
    (tmp_path / "c.npy").write_bytes(b"not numpy")
    with pytest.raises(SourceFormatError, match="not a NumPy .npy file"):
        load_npy(tmp_path / "c.npy", kinds="f")
    np.savez(tmp_path / "d.npy", a=np.arange(3))
    with pytest.raises(SourceFormatError, match="a zip archive"):
        load_npy(tmp_path / "d.npy.npz", kinds="iu")


def test_an_object_must_have_one_row_count(tmp_path):
    np.save(tmp_path / "stim.times.npy", np.arange(4.0))
    np.save(tmp_path / "stim.durations.npy", np.ones(4))
    arrays, rows = read_alf_object(tmp_path, "stim", {"times": dict(kinds="f"), "durations": dict(kinds="f")})
    assert rows == 4 and sorted(arrays) == ["durations", "times"]
    arrays, rows = read_alf_object(
        tmp_path, "stim", {"times": dict(kinds="f"), "missing": dict(kinds="f")}, optional=("missing",)
    )
    assert sorted(arrays) == ["times"]
    np.save(tmp_path / "stim.durations.npy", np.ones(3))
    with pytest.raises(SourceFormatError, match="stim.durations.npy: has 3 rows but stim.times.npy has 4"):
        read_alf_object(tmp_path, "stim", {"times": dict(kinds="f"), "durations": dict(kinds="f")})


def test_lines_keep_empty_values_but_not_a_final_newline(tmp_path):
    path = tmp_path / "clusters.waveformType.txt"
    path.write_text("RS\nFS \n\nRS\n")
    assert read_lines(path, expected="lines") == ["RS", "FS", "", "RS"]


@pytest.mark.parametrize(
    "shape, ndim, data_bytes, message",
    [((2**40,), 1, 64, "truncated: the header declares 8796093022208 data bytes, the file holds 64"),
     ((-2, -4), 2, 64, "damaged .npy header (negative length in shape (-2, -4))"),
     ((4, 2), 2, 128, "longer than declared: the header declares 64 data bytes, the file holds 128"),
     ((8,), 1, 64, None)],
)
def test_the_header_is_checked_before_any_data_is_read(tmp_path, shape, ndim, data_bytes, message):
    path = tmp_path / "spikes.times.npy"
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (-(len(header) + 11) % 64) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(data_bytes))
    if message is None:
        np.testing.assert_array_equal(load_npy(path, kinds="f", ndim=ndim), np.zeros(8))
    else:
        with pytest.raises(SourceFormatError, match=re.escape(message)):
            load_npy(path, kinds="f", ndim=ndim)


def test_a_fortran_ordered_array_keeps_its_values(tmp_path):
    array = np.asfortranarray(np.arange(24.0).reshape(2, 3, 4))
    np.save(tmp_path / "clusters.templates.npy", array)
    np.testing.assert_array_equal(load_npy(tmp_path / "clusters.templates.npy", kinds="f", ndim=3), array)
    np.save(tmp_path / "big_endian.npy", np.arange(5, dtype=">i4"))
    np.testing.assert_array_equal(load_npy(tmp_path / "big_endian.npy", kinds="iu"), np.arange(5))
