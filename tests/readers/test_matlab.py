"""MATLAB v5 and v7.3 files read into the same plain structure; v7.3 written in MATLAB's true layout; bad files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers import matlab_hdf5
from nwb_conversions.readers.mat import mat_version
from nwb_conversions.readers.mat import read_mat_variables as read_numeric_variables
from nwb_conversions.readers.matlab import read_mat_variables, variable_classes
from nwb_conversions.readers.matlab_values import LazyMatlabArray, MatlabObjectError, StructArray, materialize
from nwb_conversions.samples.matlab_files import BlockMatrix, write_mat_v5, write_mat_v73
from nwb_conversions.samples.ssc11 import write_class_object_v5, write_class_object_v73

from .scipy_reference import assert_same_structure


def sample_variables() -> dict:
    roi_by_time = np.arange(12.0).reshape(3, 4)  # MATLAB 3 x 4: 3 ROIs, 4 time points
    return {
        "sess": {
            "matrix": roi_by_time,
            "ids": np.array([[7, 8, 9]], dtype=np.int32),
            "column": np.array([[1.5], [2.5]]),
            "flags": np.array([[True, False, True]]),
            "name": "C2",
            "empty_char": "",
            "empty_cell": [],
            "empty_matrix": np.zeros((0, 0)),
            "cell": ["Left lick", np.array([[1.0, 2.0]]), {"inner": "x", "value": np.array([[3.0]])}],
            "hash": {"keys": ["eventRateHz", "kernel"], "values": [np.array([[0.1, 0.2, 0.3]]), np.ones((2, 3))]},
            "array": StructArray([{"p": np.array([[1.0]]), "q": "a"}, {"p": np.array([[2.0]]), "q": "bc"}], (1, 2)),
            "single": np.array([[1.25, -2.5]], dtype=np.float32),
            "uint8": np.array([[0, 255]], dtype=np.uint8),
        },
        "top_scalar": np.array([[42.0]]),
    }


@pytest.fixture(scope="module")
def both_versions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mat")
    variables = sample_variables()
    return variables, write_mat_v5(folder / "v5.mat", variables), write_mat_v73(folder / "v73.mat", variables)


def test_both_kinds_read_into_the_same_plain_structure(both_versions):
    variables, v5, v73 = both_versions
    assert mat_version(v5) == "5" and mat_version(v73) == "7.3"
    from_v5, from_v73 = read_mat_variables(v5), materialize(read_mat_variables(v73))
    assert_same_structure(from_v5, from_v73, ordered=False)
    assert list(from_v73["sess"]) == sorted(from_v73["sess"])  # HDF5's order
    assert_same_structure(from_v5, variables)
    sess = from_v73["sess"]
    assert sess["matrix"].shape == (3, 4) and sess["matrix"][2, 0] == 8.0  # MATLAB's orientation from both
    assert sess["flags"].dtype == bool and sess["cell"][0] == "Left lick"
    assert dict(zip(sess["hash"]["keys"], sess["hash"]["values"]))["kernel"].shape == (2, 3)


def test_v73_sample_has_matlabs_layout(both_versions):
    _, _, v73 = both_versions
    header = v73.read_bytes()[:128]
    assert header.startswith(b"MATLAB 7.3 MAT-file") and header[124:128] == b"\x00\x02IM"
    with h5py.File(v73, "r") as mat:
        assert mat.userblock_size == 512
        sess = mat["sess"]
        assert sess.attrs["MATLAB_class"] == b"struct"
        assert sess["matrix"].shape == (4, 3)  # a MATLAB ROI x time matrix is a (time, ROI) dataset
        assert sess["name"].dtype == np.uint16 and sess["name"].attrs["MATLAB_class"] == b"char"
        assert sess["name"].attrs["MATLAB_int_decode"] == 2
        assert sess["flags"].dtype == np.uint8 and sess["flags"].attrs["MATLAB_class"] == b"logical"
        assert sess["cell"].dtype == h5py.ref_dtype and sess["cell"].attrs["MATLAB_class"] == b"cell"
        assert mat[sess["cell"][0, 0]].name.startswith("/#refs#/")
        assert "MATLAB_class" not in sess["array"]["p"].attrs and sess["array"]["p"].dtype == h5py.ref_dtype
        assert sess["empty_matrix"].attrs["MATLAB_empty"] == 1
    assert variable_classes(v73) == {"sess": "struct", "top_scalar": "double"}


def test_large_v73_arrays_stay_on_disk_and_transpose_lazily(tmp_path, monkeypatch):
    monkeypatch.setattr(matlab_hdf5, "LAZY_MIN_BYTES", 1024)
    values = np.random.default_rng(0).normal(size=(20, 300))  # 20 ROIs x 300 time points
    blocks = BlockMatrix((20, 300), np.dtype(np.float64), lambda start, stop: values[:, start:stop].T, 64)
    path = write_mat_v73(tmp_path / "big.mat", {"sess": {"valueMatrix": blocks}})
    lazy = read_mat_variables(path)["sess"]["valueMatrix"]
    assert isinstance(lazy, LazyMatlabArray) and lazy.shape == (20, 300)
    assert isinstance(lazy.T, matlab_hdf5.CheckedDataset) and lazy.T.shape == (300, 20)
    np.testing.assert_array_equal(lazy.T[100:164], values[:, 100:164].T)
    np.testing.assert_array_equal(np.asarray(lazy), values)


def test_the_chanmap_reader_still_reads_both_kinds(both_versions):
    _, v5, v73 = both_versions
    for path in (v5, v73):
        assert read_numeric_variables(path, ("top_scalar", "absent")) == {"top_scalar": np.array([[42.0]])}


@pytest.mark.parametrize("writer", [write_class_object_v5, write_class_object_v73], ids=["v5-MCOS", "v7.3"])
def test_a_class_object_is_refused(tmp_path, writer):
    path = writer(tmp_path / "an274424_vol_01_sess.mat")
    with pytest.raises(MatlabObjectError, match="MATLAB class object"):
        read_mat_variables(path)


def test_an_old_style_v5_object_is_refused(tmp_path):
    from scipy.io import savemat
    from scipy.io.matlab import MatlabObject

    record = np.zeros((1, 1), dtype=[("field", object)])
    record[0, 0]["field"] = np.array([[1.0]])
    savemat(tmp_path / "object.mat", {"s": MatlabObject(record, classname="session")})
    with pytest.raises(MatlabObjectError, match=r"s is a MATLAB class object \(session\)"):
        read_mat_variables(tmp_path / "object.mat")


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_truncated_files_are_refused(both_versions, tmp_path, version):
    _, v5, v73 = both_versions
    source = v5 if version == "5" else v73
    truncated = tmp_path / "truncated.mat"
    truncated.write_bytes(source.read_bytes()[: source.stat().st_size * 2 // 3])
    with pytest.raises(SourceFormatError, match="damaged MATLAB 5 file" if version == "5" else "unreadable MAT 7.3"):
        read_mat_variables(truncated)


def test_not_a_mat_file_is_refused(tmp_path):
    path = tmp_path / "notes.mat"
    path.write_text("just some text, long enough to fill a MAT header of 128 bytes " * 4)
    with pytest.raises(SourceFormatError, match="not a MATLAB file"):
        read_mat_variables(path)


def every_kind_of_value() -> dict:
    """Values of every kind scipy writes: nested structs, struct arrays, cells, chars, logicals, all numeric classes,
    empty and N-D arrays, and arrays large enough to stay on disk."""
    numeric = {f"n_{dtype}": np.arange(6, dtype=dtype).reshape(2, 3) for dtype in
               ("f8", "f4", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8")}
    return {
        **numeric,
        "cube": np.arange(24.0).reshape(2, 3, 4),
        "empty_rows": np.zeros((0, 5)),
        "char_rows": np.array(["abc", "def"]),
        "text": "héllo € ΔF/F",
        "empty_text": "",
        "cells": np.array([[1.0, "a"], [np.zeros((1, 2)), "bc"]], dtype=object),
        "empty_cells": np.empty((0, 3), dtype=object),
        "pairs": np.array([[(1.0, "a"), (2.0, "b"), (3.0, "c")], [(4.0, "d"), (5.0, "e"), (6.0, "f")]],
                          dtype=[("f", object), ("g", object)]),
        "no_pairs": np.empty((0, 0), dtype=[("f", object)]),
        "flags": np.array([[True, False, True]]),
        "no_flags": np.zeros((0, 0), bool),
        "huge_int": np.array([[2**62]], dtype=np.int64),
        "nested": {"a": {"b": {"c": [np.array([[1, 2]]), {"d": "x"}]}}},
        "large": np.arange(3 * 50_000, dtype=np.float64).reshape(3, -1),  # 1.2 MB: stays on disk
    }


@pytest.mark.parametrize("compress", [True, False], ids=["v7-compressed", "v6-uncompressed"])
def test_the_streamed_v5_reader_gives_scipys_values(tmp_path, compress):
    from scipy.io import savemat

    from .scipy_reference import scipy_read_variables, scipy_variable_classes

    path = tmp_path / "every.mat"
    savemat(path, every_kind_of_value(), do_compression=compress, long_field_names=True)
    ours = read_mat_variables(path)
    assert isinstance(ours["large"], LazyMatlabArray) and ours["large"].shape == (3, 50_000)
    assert_same_structure(materialize(ours), scipy_read_variables(path))
    assert variable_classes(path) == scipy_variable_classes(path)
    assert read_mat_variables(path, ("text", "absent")) == {"text": "héllo € ΔF/F"}


@pytest.mark.parametrize("version", ["5", "6"])
def test_the_ssc11_sample_reads_as_scipy_reads_it(tmp_path, version):
    from nwb_conversions.samples.ssc11 import write_session_file
    from nwb_conversions.samples.ssc11_struct import build_session_struct

    from .scipy_reference import scipy_read_variables

    sess = build_session_struct(num_frames=42, rois_per_plane=(2, 3, 2), num_trials=3)
    path = write_session_file(tmp_path / "an274424_vol_01_sess_struct.mat", sess, version=version)
    assert_same_structure(read_mat_variables(path), scipy_read_variables(path))


def test_v5_and_v73_lazy_arrays_read_alike(tmp_path, monkeypatch):
    from nwb_conversions.readers import mat_v5_values

    monkeypatch.setattr(matlab_hdf5, "LAZY_MIN_BYTES", 1024)
    monkeypatch.setattr(mat_v5_values, "LAZY_MIN_BYTES", 1024)
    values = np.random.default_rng(1).normal(size=(20, 300))
    both = [read_mat_variables(writer(tmp_path / f"big{index}.mat", {"m": values}))["m"]
            for index, writer in enumerate((write_mat_v73, lambda path, variables: write_mat_v5(path, variables,
                                                                                                 compress=False)))]
    for lazy in both:
        assert isinstance(lazy, LazyMatlabArray) and lazy.shape == (20, 300) and lazy.dtype == np.float64
        np.testing.assert_array_equal(lazy.T[17:40, 2:5], values[2:5, 17:40].T)
        np.testing.assert_array_equal(lazy.T[3], values[:, 3])


def test_a_damaged_v73_chunk_read_later_is_one_error(tmp_path, monkeypatch):
    """A chunk that fails only when a block of time is read (after the struct was read) is still one line."""
    monkeypatch.setattr(matlab_hdf5, "LAZY_MIN_BYTES", 1024)
    values = np.random.default_rng(2).normal(size=(20, 3000))
    path = write_mat_v73(tmp_path / "big.mat", {"m": values}, compression="gzip")
    with h5py.File(path, "r") as mat:
        chunk = mat["m"].id.get_chunk_info(1)
    with open(path, "r+b") as stream:
        stream.seek(chunk.byte_offset + 10)
        stream.write(b"\xff" * 64)
    lazy = read_mat_variables(path)["m"]
    with pytest.raises(SourceFormatError, match=r"unreadable MAT 7.3 file \(m: "):
        lazy.T[:]


@pytest.mark.parametrize(
    "change, phrase",
    [
        (lambda mat: (mat.__delitem__("m"), mat.create_dataset("m", shape=(2**40, 1), dtype="f8", chunks=(1024, 1)),
                      mat["m"].attrs.create("MATLAB_class", np.bytes_("double"))),
         "m declares shape (1, 1099511627776) (8796093022208 bytes) but the file stores 0 bytes of it"),
        (lambda mat: mat["e"].__setitem__(slice(None), [5, 5]), "e is marked empty but has dimensions (5, 5)"),
        (lambda mat: mat["m"].attrs.__setitem__("MATLAB_class", "double"),  # a variable-length string
         "m: attribute MATLAB_class has a variable-length type"),
        (lambda mat: (mat.__delitem__("m"), mat.create_dataset("m", data=np.array(["a", "bc"], dtype=object),
                                                               dtype=h5py.string_dtype())),
         "m has a variable-length type"),
        (lambda mat: (mat.__delitem__("m"), mat.create_dataset("m", data=np.ones((3, 3)), maxshape=(None, None),
                                                               chunks=(4096, 4096)),
                      mat["m"].attrs.create("MATLAB_class", np.bytes_("double"))),
         "m is stored in chunks of shape (4096, 4096) (134217728 bytes each) for 72 bytes of values"),
        (lambda mat: mat["m"].attrs.__setitem__("MATLAB_class", np.zeros(4_000, dtype="u8")),
         "m: attribute MATLAB_class declares 32000 bytes"),  # with a limit of 1000 bytes (below)
    ],
    ids=["huge-dataspace", "empty-with-elements", "variable-length-attribute", "variable-length-dataset",
         "huge-chunks", "huge-attribute"],
)
def test_v73_declared_sizes_are_checked_before_reading(tmp_path, monkeypatch, change, phrase):
    monkeypatch.setattr(matlab_hdf5, "MAX_ATTRIBUTE_BYTES", 1000)  # HDF5 stores no larger attribute without help
    path = write_mat_v73(tmp_path / "declared.mat", {"m": np.ones((3, 3)), "e": np.zeros((0, 3))})
    with h5py.File(path, "a") as mat:
        change(mat)
    with pytest.raises(SourceFormatError) as raised:
        read_mat_variables(path)
    assert phrase in str(raised.value)


def test_a_v73_cell_that_holds_itself_is_refused(tmp_path):
    path = write_mat_v73(tmp_path / "cycle.mat", {"c": [np.ones((1, 1))]})
    with h5py.File(path, "a") as mat:
        mat["c"][0, 0] = mat["c"].ref
    with pytest.raises(SourceFormatError, match="nests deeper than 64 levels"):
        read_mat_variables(path)


def test_a_damaged_global_heap_does_not_hang_the_v73_reader(tmp_path):
    """HDF5 loops forever reading a variable-length attribute (MATLAB_fields) whose global heap holds an object of
    index 0 and size 0; the reader reads no variable-length data, so such a file reads (in a child, with a
    timeout, so that a regression cannot hang the suite)."""
    import subprocess
    import sys

    path = write_mat_v73(tmp_path / "heap.mat", {"sess": {"a": np.ones((1, 1)), "b": "x"}})
    data = bytearray(path.read_bytes())
    heap = data.index(b"GCOL")
    data[heap + 16 : heap + 32] = bytes(16)  # the collection's first object: index 0, size 0
    path.write_bytes(bytes(data))
    script = "import sys; from nwb_conversions.readers.matlab import read_mat_variables; " \
             "print(sorted(read_mat_variables(sys.argv[1])['sess']))"
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "['a', 'b']", done.stderr
