"""Our MATLAB 5 reader on hand-built files: compact storage types, both byte orders, small elements, compression,
and the refusals (logical, struct, damaged lengths, oversized compressed variables)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers.mat_v5 import read_v5_variables

DOUBLE, STRUCT = 6, 2
MI_INT8, MI_UINT8, MI_INT32, MI_UINT32, MI_DOUBLE, MI_MATRIX, MI_COMPRESSED = 1, 2, 5, 6, 9, 14, 15


def element(kind: int, payload: bytes, order: str = "<", *, small: bool = False) -> bytes:
    """A data element; padded to 8 bytes except compressed ones (as MATLAB and scipy write them)."""
    if small:  # the 4-byte small data element format: one 32-bit word, byte count in its upper half
        return struct.pack(f"{order}I", (len(payload) << 16) | kind) + payload.ljust(4, b"\0")
    padding = 0 if kind == MI_COMPRESSED else -len(payload) % 8
    return struct.pack(f"{order}II", kind, len(payload)) + payload + b"\0" * padding


def matrix(name: str, dims, data_kind: int, data: bytes, *, matlab_class=DOUBLE, flags=0, order="<",
           small_name=False) -> bytes:
    body = element(MI_UINT32, struct.pack(f"{order}II", matlab_class | (flags << 8), 0), order)
    body += element(MI_INT32, struct.pack(f"{order}{len(dims)}i", *dims), order)
    body += element(MI_INT8, name.encode(), order, small=small_name)
    body += element(data_kind, data, order)
    return element(MI_MATRIX, body, order)


def mat_file(*elements: bytes, order: str = "<") -> bytes:
    header = b"MATLAB 5.0 MAT-file, hand-built".ljust(116) + b"\0" * 8
    header += struct.pack(f"{order}H", 0x0100) + (b"IM" if order == "<" else b"MI")
    return header + b"".join(elements)


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
    content = mat_file(element(MI_COMPRESSED, zlib.compress(other)), element(MI_COMPRESSED, zlib.compress(wanted)))
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
        (mat_file(element(MI_COMPRESSED, zlib.compress(matrix("xcoords", (1, 200_000), MI_DOUBLE,
                                                               bytes(1_600_000))))), "'xcoords' is 1600"),
        (mat_file(element(MI_DOUBLE, bytes(8))), "top-level element at byte 128 has data type 9"),
        (b"MATLAB 5.0" + bytes(118), "no MATLAB 5 header"),
    ],
    ids=["logical", "struct", "short-data", "truncated", "compressed-too-large", "not-a-matrix", "no-indicator"],
)
def test_refusals(content, phrase):
    with pytest.raises(SourceFormatError) as raised:
        read_v5_variables(content, "chanMap.mat", ("xcoords",), max_elements=1000)
    assert phrase in str(raised.value) and "\n" not in str(raised.value)
