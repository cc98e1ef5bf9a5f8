"""The strict ``.npz`` reader: lazy members (stored and deflated), forward and backward reads, object arrays refused."""

from __future__ import annotations

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers.npz import NpzArchive


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_a_lazy_vector_reads_exactly_the_requested_values(tmp_path, save):
    values = np.random.default_rng(0).standard_normal(10_000).astype(">f4")  # big-endian on purpose
    save(tmp_path / "a.npz", trace=values, label=np.array("juxta"), rate=np.float64(30000.0))
    archive = NpzArchive(tmp_path / "a.npz", expected="a test archive")
    vector = archive.vector("trace")
    assert vector.shape == (10_000,) and vector.dtype == np.dtype(">f4")
    np.testing.assert_array_equal(vector[100:2000], values[100:2000])
    np.testing.assert_array_equal(vector[5000:9000], values[5000:9000])  # forward: the open stream continues
    np.testing.assert_array_equal(vector[10:20], values[10:20])  # backward: reopened
    np.testing.assert_array_equal(vector[::3][:5], values[::3][:5])
    assert vector[-1] == values[-1]
    np.testing.assert_array_equal(np.asarray(vector.head(7)), values[:7])
    np.testing.assert_array_equal(vector.shifted(2.5)[0:4], values[0:4] + np.float32(2.5))
    assert archive.scalar("label", str) == "juxta" and archive.scalar("rate", float) == 30000.0


def test_an_object_array_is_refused_before_any_of_its_bytes_are_read(tmp_path):
    np.savez(tmp_path / "b.npz", ok=np.arange(3), bad=np.array([{"a": 1}], dtype=object))
    with pytest.raises(SourceFormatError, match="'bad' is an object array, which only pickle can load"):
        NpzArchive(tmp_path / "b.npz", expected="a test archive")


@pytest.mark.parametrize("content, fragment", [(b"not a zip", "not a readable .npz archive"), (None, "no such file")])
def test_unreadable_archives(tmp_path, content, fragment):
    path = tmp_path / "c.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceFormatError, match=fragment):
        NpzArchive(path, expected="a test archive")


def test_missing_members_and_wrong_shapes_are_named(tmp_path):
    np.savez(tmp_path / "d.npz", grid=np.zeros((2, 2)), many=np.arange(3))
    archive = NpzArchive(tmp_path / "d.npz", expected="a test archive")
    with pytest.raises(SourceFormatError, match="no trace, rate"):
        archive.require("grid", "trace", "rate")
    with pytest.raises(SourceFormatError, match=r"'grid' has shape \(2, 2\)"):
        archive.vector("grid")
    with pytest.raises(SourceFormatError, match="'many' holds 3 values"):
        archive.scalar("many", int)
