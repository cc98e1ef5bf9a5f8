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


def npy_with_header(values: np.ndarray, shape: tuple) -> bytes:
    """A ``.npy`` member whose header declares ``shape`` whatever ``values`` holds."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": values.dtype.str, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + values.tobytes()


def write_zip(path, members: list[tuple[str, bytes]], compression=None) -> None:
    import warnings
    import zipfile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name, which is the point of one test
        with zipfile.ZipFile(path, "w", compression or zipfile.ZIP_STORED) as archive:
            for name, content in members:
                archive.writestr(name, content)


@pytest.mark.parametrize(
    "shape, fragment",
    [
        ((10**12,), "'trace' declares float32 [1000000000000] (4000000000000 bytes) but its member holds 16 bytes"),
        ((2,), "'trace' declares float32 [2] (8 bytes) but its member holds 16 bytes"),
        ((2, 3), "'trace' declares float32 [2, 3] (24 bytes) but its member holds 16 bytes"),
    ],
)
def test_a_header_that_declares_other_than_its_bytes_is_refused_before_any_allocation(tmp_path, shape, fragment):
    write_zip(tmp_path / "e.npz", [("trace.npy", npy_with_header(np.arange(4, dtype="<f4"), shape))])
    with pytest.raises(SourceFormatError, match=fragment.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        NpzArchive(tmp_path / "e.npz", expected="a test archive")


def test_a_member_stored_twice_is_accepted_identical_and_refused_otherwise(tmp_path):
    same = npy_with_header(np.arange(4, dtype="<f4"), (4,))
    write_zip(tmp_path / "same.npz", [("trace.npy", same), ("rate.npy", npy_with_header(np.array([3.0]), ())),
                                      ("trace.npy", same)])
    archive = NpzArchive(tmp_path / "same.npz", expected="a test archive")
    np.testing.assert_array_equal(archive.array("trace"), np.arange(4, dtype="<f4"))
    other = npy_with_header(np.arange(1, 5, dtype="<f4"), (4,))
    write_zip(tmp_path / "other.npz", [("trace.npy", same), ("rate.npy", npy_with_header(np.array([3.0]), ())),
                                       ("trace.npy", other)])
    with pytest.raises(SourceFormatError, match=r"'trace' is stored twice \(zip entries 1 and 3\) with different"):
        NpzArchive(tmp_path / "other.npz", expected="a test archive")


def test_a_damaged_deflate_stream_is_one_error(tmp_path):
    import zipfile

    np.savez_compressed(tmp_path / "f.npz", trace=np.random.default_rng(1).standard_normal(50_000))
    content = bytearray((tmp_path / "f.npz").read_bytes())
    with zipfile.ZipFile(tmp_path / "f.npz") as archive:
        info = archive.getinfo("trace.npy")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    content[start + 2000 : start + 2400] = bytes(400)
    (tmp_path / "f.npz").write_bytes(bytes(content))
    archive = NpzArchive(tmp_path / "f.npz", expected="a test archive")
    with pytest.raises(SourceFormatError, match="'trace' is unreadable"):
        archive.vector("trace")[:]


def test_a_member_too_large_to_read_whole_must_be_read_lazily(tmp_path, monkeypatch):
    import nwb_conversions.readers.npz as npz

    np.savez(tmp_path / "g.npz", trace=np.zeros(1000))
    monkeypatch.setattr(npz, "MAX_WHOLE_MEMBER_BYTES", 4000)
    archive = NpzArchive(tmp_path / "g.npz", expected="a test archive")
    with pytest.raises(SourceFormatError, match="'trace' holds 8000 bytes"):
        archive.array("trace")
    assert len(archive.vector("trace")[:]) == 1000
