"""Our MATLAB 5 readers on hand-built files. The numeric reader of channel maps: compact storage types, both byte
orders, small elements, compression, and its refusals. The streamed struct reader: what scipy never writes
(big-endian structs, char encodings, class objects), damage placed exactly (huge dimensions, short data, repeated
names, deep nesting, a zlib bomb, a truncated stream), and what stays on disk (lazy arrays, the unlinked spill)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers import mat_v5_file, mat_v5_values
from nwb_conversions.readers.mat_v5 import read_v5_variables
from nwb_conversions.readers.mat_v5_disk import DiskArray
from nwb_conversions.readers.mat_v5_file import read_variables_v5, variable_classes_v5
from nwb_conversions.readers.matlab_values import LazyMatlabArray, MatlabObjectError, StructArray

from .mat_v5_builders import (
    CHAR,
    COMPLEX,
    DOUBLE,
    FUNCTION,
    LOGICAL,
    MI_COMPRESSED,
    MI_DOUBLE,
    MI_INT8,
    MI_INT32,
    MI_MATRIX,
    MI_UINT8,
    MI_UINT16,
    MI_UTF8,
    MI_UTF16,
    OBJECT,
    OPAQUE,
    SPARSE,
    STRUCT,
    UINT8,
    array,
    cell,
    chars,
    compressed,
    element,
    mat_file,
    matrix,
    numbers,
    struct_array,
)


def test_compact_storage_and_column_major_order():
    content = mat_file(matrix("xcoords", (2, 3), MI_UINT8, bytes(range(6))))
    values = read_v5_variables(content, "chanMap.mat", ("xcoords",), max_elements=10)["xcoords"]
    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, [[0, 2, 4], [1, 3, 5]])


def test_big_endian_and_small_name_elements():
    data = np.array([1.5, -2.0, 1e300], dtype=">f8").tobytes()
    content = mat_file(matrix("xc", (3, 1), MI_DOUBLE, data, order=">", small_name=True), order=">")
    values = read_v5_variables(content, "chanMap.mat", ("xc",), max_elements=10)["xc"]
    np.testing.assert_array_equal(values.ravel(), [1.5, -2.0, 1e300])


def test_compressed_variables_and_skipping_others():
    other = matrix("other", (1, 1), MI_DOUBLE, struct.pack("<d", 7.0))
    wanted = matrix("ycoords", (1, 2), MI_DOUBLE, struct.pack("<2d", 20.0, 40.0))
    content = mat_file(compressed(other), compressed(wanted))
    variables = read_v5_variables(content, "chanMap.mat", ("ycoords",), max_elements=10)
    assert list(variables) == ["ycoords"]
    np.testing.assert_array_equal(variables["ycoords"], [[20.0, 40.0]])


@pytest.mark.parametrize(
    "content, phrase",
    [
        (mat_file(matrix("xcoords", (1, 2), MI_UINT8, b"\1\0", flags=0x02)), "'xcoords' is a MATLAB logical"),
        (mat_file(matrix("xcoords", (1, 1), MI_DOUBLE, bytes(8), matlab_class=STRUCT)), "MATLAB struct variable"),
        (mat_file(matrix("xcoords", (1, 3), MI_DOUBLE, bytes(16))), "declares 3 elements but stores 2"),
        (mat_file(matrix("xcoords", (1, 2), MI_DOUBLE, bytes(16)))[:-4], "past the end"),
        (mat_file(compressed(matrix("xcoords", (1, 200_000), MI_DOUBLE, bytes(1_600_000)))), "'xcoords' is 1600"),
        (mat_file(element(MI_DOUBLE, bytes(8))), "top-level element at byte 128 has data type 9"),
        (b"MATLAB 5.0" + bytes(118), "no MATLAB 5 header"),
    ],
    ids=["logical", "struct", "short-data", "truncated", "compressed-too-large", "not-a-matrix", "no-indicator"],
)
def test_refusals(content, phrase):
    with pytest.raises(SourceFormatError) as raised:
        read_v5_variables(content, "chanMap.mat", ("xcoords",), max_elements=1000)
    assert phrase in str(raised.value) and "\n" not in str(raised.value)


# ---- the streamed struct reader ------------------------------------------------------------------------------------


def read(tmp_path, content: bytes, names=None) -> dict:
    path = tmp_path / "sess_struct.mat"
    path.write_bytes(content)
    return read_variables_v5(path, names)


def refusal(tmp_path, content: bytes, error=SourceFormatError) -> str:
    with pytest.raises(error) as raised:
        read(tmp_path, content)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{tmp_path / 'sess_struct.mat'}: "), message
    return message


def test_a_big_endian_struct_with_small_elements(tmp_path):
    trial = struct_array("", (1, 2), ["id", "tag"], numbers("", np.array([[7.0]]), ">"), chars("", "a", order=">"),
                         numbers("", np.array([[8.0]]), ">"), chars("", "bc", order=">"), order=">")
    sess = struct_array("sess", (1, 1), ["ids", "trial", "note"], numbers("", np.array([[1, 2, 3]], np.int16), ">"),
                        trial, cell("", (1, 2), chars("", "x", order=">"), numbers("", np.eye(2), ">"), order=">"),
                        order=">")
    value = read(tmp_path, mat_file(sess, order=">"))["sess"]
    assert list(value) == ["ids", "trial", "note"]
    assert value["ids"].dtype == np.int16 and value["ids"].tolist() == [[1, 2, 3]]
    assert isinstance(value["trial"], StructArray) and value["trial"].matlab_shape == (1, 2)
    assert value["trial"][1]["tag"] == "bc" and value["trial"][0]["id"].tolist() == [[7.0]]
    assert value["note"][0] == "x" and value["note"][1].tolist() == [[1.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize("kind", [MI_UINT16, MI_UTF8, MI_UTF16], ids=["utf16-units", "utf8", "utf16"])
def test_char_encodings(tmp_path, kind):
    text = "Left lick ΔF/F" if kind != MI_UINT8 else "Left lick"
    assert read(tmp_path, mat_file(chars("label", text, kind)))["label"] == text


def test_a_char_matrix_is_a_list_of_rows(tmp_path):
    content = mat_file(chars("rows", "adbecf", dims=(2, 3)), chars("empty", ""))  # column-major: "abc", "def"
    assert read(tmp_path, content) == {"rows": ["abc", "def"], "empty": ""}


def test_what_scipy_reads_otherwise(tmp_path):
    """Complex numbers keep their imaginary part, a struct without fields is {}, an empty element in a cell is
    (0, 0)."""
    real, imaginary = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    complex_element = array(DOUBLE, (1, 2), "z", element(MI_DOUBLE, real.tobytes()), element(MI_DOUBLE,
                            imaginary.tobytes()), flags=COMPLEX)
    content = mat_file(complex_element, struct_array("nothing", (1, 1), []), cell("c", (1, 1), element(MI_MATRIX, b"")))
    values = read(tmp_path, content)
    assert values["z"].tolist() == [[1 + 0.5j, 2 - 1j]]
    assert values["nothing"] == {} and values["c"][0].shape == (0, 0)


@pytest.mark.parametrize(
    "content, phrase",
    [
        (array(OPAQUE, (1, 1), "s", element(MI_INT8, b"MCOS"), element(MI_INT8, b"session.session")),
         "s is a MATLAB class object (MCOS session.session)"),
        (array(OBJECT, (1, 1), "s", element(MI_INT8, b"session")), "s is a MATLAB class object (session)"),
        (array(FUNCTION, (1, 1), "f"), "f is a MATLAB class object (function handle)"),
        (struct_array("sess", (1, 1), ["a"], cell("", (1, 2), numbers("", [[1.0]]),
                                                  array(OBJECT, (1, 1), "", element(MI_INT8, b"timeSeries")))),
         "sess.a{2} is a MATLAB class object (timeSeries)"),
    ],
    ids=["mcos", "old-style", "function-handle", "nested"],
)
def test_class_objects_are_refused(tmp_path, content, phrase):
    assert phrase in refusal(tmp_path, mat_file(content), MatlabObjectError)


def test_variable_classes_without_reading(tmp_path):
    path = tmp_path / "objects.mat"
    path.write_bytes(mat_file(array(OPAQUE, (1, 1), "s", element(MI_INT8, b"MCOS"), element(MI_INT8, b"c")),
                              matrix("flags", (1, 1), MI_UINT8, b"\1", matlab_class=UINT8, flags=LOGICAL),
                              compressed(struct_array("sess", (1, 1), []))))
    assert variable_classes_v5(path) == {"s": "opaque", "flags": "logical", "sess": "struct"}


@pytest.mark.parametrize(
    "content, phrase",
    [
        (matrix("m", (2**20, 2**20), MI_DOUBLE, bytes(16)), "m: the array declares 1099511627776 elements but stores 2"),
        (compressed(matrix("m", (2**20, 2**20), MI_DOUBLE, bytes(16))), "declares 1099511627776 elements"),
        (cell("c", (2**15, 2**15), numbers("", [[1.0]])), "c: declares 1073741824 elements in 64 bytes"),
        (struct_array("s", (1, 2**30), []), "a struct array of 1073741824 elements without fields"),
        (array(SPARSE, (3, 3), "sp", element(MI_INT32, bytes(4))), "sp is a sparse matrix"),
        (numbers("x", [[1.0]]) + numbers("x", [[2.0]]), "the variable 'x' is stored twice (at bytes 128 and 200)"),
        (struct_array("s", (1, 1), ["a", "a"], numbers("", [[1.0]]), numbers("", [[1.0]])), "s has two fields named 'a'"),
        (struct_array("s", (1, 1), ["a", ""], numbers("", [[1.0]]), numbers("", [[1.0]])), "a field name is empty"),
        (chars("t", "abc", MI_UTF8, dims=(1, 4)), "t: declares 4 characters but stores 3"),
        (array(CHAR, (1, 2), "t", element(MI_UTF8, b"\xff\xfe")), "characters that are not utf-8"),
        (element(MI_DOUBLE, bytes(8)), "a top-level element at byte 128 has data type 9"),
        (matrix("m", (1, 3), MI_DOUBLE, bytes(24))[:-8], "past the end"),
        (element(MI_COMPRESSED, zlib.compress(numbers("z", np.random.default_rng(0).random(100)))[:300]),
         "z: inflates to"),
        (element(MI_COMPRESSED, b"\x78\x9c" + bytes(50)), "zlib stream is damaged"),
        (element(MI_COMPRESSED, zlib.compress(struct.pack("<II", MI_MATRIX, 2**31))), "more than zlib can inflate"),
    ],
    ids=["huge-dims", "huge-dims-compressed", "huge-cell", "huge-fieldless-struct", "sparse", "variable-twice",
         "field-twice", "empty-field-name", "short-text", "bad-utf8", "not-an-array", "truncated",
         "truncated-stream", "corrupt-stream", "zlib-bomb-header"],
)
def test_damage_is_one_line_before_any_allocation(tmp_path, content, phrase):
    import tracemalloc

    tracemalloc.start()
    message = refusal(tmp_path, mat_file(content))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert phrase in message and peak < 4 << 20, (message, peak)


def test_nesting_is_bounded(tmp_path):
    nested = numbers("", [[1.0]])
    for _ in range(70):
        nested = cell("", (1, 1), nested)
    message = refusal(tmp_path, mat_file(cell("deep", (1, 1), nested)))
    assert "deep{1}{1}" in message and "nests deeper than 64 levels" in message


@pytest.mark.parametrize("compress", [False, True], ids=["from-the-file", "from-the-spill"])
def test_large_arrays_stay_on_disk(tmp_path, monkeypatch, compress):
    monkeypatch.setattr(mat_v5_values, "LAZY_MIN_BYTES", 1024)
    monkeypatch.setattr(mat_v5_file, "IN_MEMORY_BYTES", 1024)
    matrix_values = np.arange(40 * 300, dtype=np.float64).reshape(40, 300)  # 40 ROIs x 300 time points
    variable = struct_array("sess", (1, 1), ["valueMatrix", "small"], numbers("", matrix_values),
                            numbers("", [[1.0, 2.0]]))
    sess = read(tmp_path, mat_file(compressed(variable) if compress else variable))["sess"]
    lazy = sess["valueMatrix"]
    assert isinstance(lazy, LazyMatlabArray) and isinstance(lazy.T, DiskArray) and lazy.shape == (40, 300)
    assert isinstance(sess["small"], np.ndarray)
    np.testing.assert_array_equal(lazy.T[100:164], matrix_values[:, 100:164].T)
    np.testing.assert_array_equal(lazy.T[5:9, 3:7], matrix_values[3:7, 5:9].T)
    np.testing.assert_array_equal(np.asarray(lazy), matrix_values)


def test_a_source_that_shrinks_under_a_lazy_array_is_one_error(tmp_path, monkeypatch):
    monkeypatch.setattr(mat_v5_values, "LAZY_MIN_BYTES", 1024)
    lazy = read(tmp_path, mat_file(numbers("m", np.ones((10, 300)))))["m"]
    (tmp_path / "sess_struct.mat").write_bytes(b"MATLAB")
    with pytest.raises(SourceFormatError, match="shrank while being read"):
        lazy.T[0:10]


def test_a_full_temporary_folder_is_one_error(tmp_path, monkeypatch):
    import errno
    import tempfile

    def no_room(**_):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mat_v5_file, "IN_MEMORY_BYTES", 64)
    monkeypatch.setattr(tempfile, "TemporaryFile", no_room)
    message = refusal(tmp_path, mat_file(compressed(numbers("m", np.ones((10, 30))))))
    assert "could not be inflated into a temporary file" in message and "No space left on device" in message


def test_the_spill_file_never_has_a_name_even_after_kill_9(tmp_path):
    """The spill is an unlinked temporary file: killed while reading lazily from it, the process leaves nothing."""
    import os
    import subprocess
    import sys

    source = tmp_path / "sess_struct.mat"
    source.write_bytes(mat_file(compressed(numbers("m", np.ones((10, 30))))))
    spill_folder = tmp_path / "tmp"
    spill_folder.mkdir()
    script = (
        "import os, signal, sys\n"
        "from nwb_conversions.readers import mat_v5_file, mat_v5_values\n"
        "mat_v5_file.IN_MEMORY_BYTES = mat_v5_values.LAZY_MIN_BYTES = 64\n"
        "lazy = mat_v5_file.read_variables_v5(sys.argv[1])['m']\n"
        "assert lazy.T[0:2].shape == (2, 10)\n"
        "print(len(os.listdir(sys.argv[2])), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(source), str(spill_folder)], capture_output=True,
                          text=True, env={**os.environ, "TMPDIR": str(spill_folder)}, timeout=120)
    assert done.returncode == -9 and done.stdout.strip() == "0", done.stderr
    assert list(spill_folder.iterdir()) == []
