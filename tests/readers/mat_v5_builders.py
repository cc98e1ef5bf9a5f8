"""Hand-built MATLAB 5 files, element by element (MathWorks, "MAT-File Format"), for the readers' tests and fuzzers:
layouts scipy never writes (big-endian, small elements, char encodings, class objects, sparse matrices) and damage
placed exactly (a huge dimension, a short payload, a repeated name)."""

from __future__ import annotations

import struct
import zlib

import numpy as np

MI_INT8, MI_UINT8, MI_UINT16, MI_INT32, MI_UINT32, MI_DOUBLE = 1, 2, 4, 5, 6, 9
MI_MATRIX, MI_COMPRESSED, MI_UTF8, MI_UTF16 = 14, 15, 16, 17
CELL, STRUCT, OBJECT, CHAR, SPARSE, DOUBLE, SINGLE, UINT8 = 1, 2, 3, 4, 5, 6, 7, 9
FUNCTION, OPAQUE = 16, 17
LOGICAL, COMPLEX = 0x02, 0x08

#: numpy dtype → MATLAB class and the data type that stores it.
CLASS_OF = {"f8": (6, 9), "f4": (7, 7), "i1": (8, 1), "u1": (9, 2), "i2": (10, 3), "u2": (11, 4), "i4": (12, 5),
            "u4": (13, 6), "i8": (14, 12), "u8": (15, 13)}


def element(kind: int, payload: bytes, order: str = "<", *, small: bool = False) -> bytes:
    """A data element; padded to 8 bytes except compressed ones (as MATLAB and scipy write them)."""
    if small:  # the 4-byte small data element format: one 32-bit word, byte count in its upper half
        return struct.pack(f"{order}I", (len(payload) << 16) | kind) + payload.ljust(4, b"\0")
    padding = 0 if kind == MI_COMPRESSED else -len(payload) % 8
    return struct.pack(f"{order}II", kind, len(payload)) + payload + b"\0" * padding


def array(matlab_class: int, dims, name: str, *parts: bytes, flags: int = 0, order: str = "<",
          small_name: bool = False) -> bytes:
    """An ``miMATRIX``: flags, dimensions (none for an opaque object), name, then ``parts`` (the class's content,
    already as elements)."""
    body = element(MI_UINT32, struct.pack(f"{order}II", matlab_class | (flags << 8), 0), order)
    if matlab_class != OPAQUE:
        body += element(MI_INT32, struct.pack(f"{order}{len(dims)}i", *dims), order)
    body += element(MI_INT8, name.encode(), order, small=small_name and len(name) <= 4)
    return element(MI_MATRIX, body + b"".join(parts), order)


def matrix(name: str, dims, data_kind: int, data: bytes, *, matlab_class=DOUBLE, flags=0, order="<",
           small_name=False) -> bytes:
    """A numeric array whose data element is ``data`` of type ``data_kind``."""
    return array(matlab_class, dims, name, element(data_kind, data, order), flags=flags, order=order,
                 small_name=small_name)


def numbers(name: str, values, order: str = "<") -> bytes:
    """A numeric array of ``values`` (at least 2-D), stored in its own type, column-major."""
    values = np.atleast_2d(np.asarray(values))
    matlab_class, kind = CLASS_OF[values.dtype.str[1:]]
    data = np.asfortranarray(values).astype(values.dtype.newbyteorder(order)).tobytes(order="F")
    return matrix(name, values.shape, kind, data, matlab_class=matlab_class, order=order)


def chars(name: str, text: str, kind: int = MI_UINT16, order: str = "<", dims=None) -> bytes:
    """A char row (or ``dims``, column-major) stored as UTF-16 code units, UTF-8 or 8-bit bytes."""
    if kind == MI_UINT16:
        data = np.array([ord(c) for c in text], dtype=f"{order}u2").tobytes()
    elif kind == MI_UTF16:
        data = text.encode("utf-16-le" if order == "<" else "utf-16-be")
    else:
        data = text.encode("utf-8" if kind == MI_UTF8 else "ascii")
    return array(CHAR, dims or (1, len(text)), name, element(kind, data, order), order=order)


def cell(name: str, dims, *items: bytes, order: str = "<") -> bytes:
    """A cell array of ``items`` (arrays built with an empty name), column-major."""
    return array(CELL, dims, name, *items, order=order)


def struct_array(name: str, dims, fields: list[str], *values: bytes, order: str = "<", length: int = 32) -> bytes:
    """A struct (array): field names padded to ``length`` bytes, then each element's fields in turn."""
    names = b"".join(field.encode().ljust(length, b"\0") for field in fields)
    return array(STRUCT, dims, name, element(MI_INT32, struct.pack(f"{order}i", length), order, small=True),
                 element(MI_INT8, names, order), *values, order=order)


def compressed(matrix_element: bytes, order: str = "<") -> bytes:
    """An ``miCOMPRESSED`` element holding one array."""
    return element(MI_COMPRESSED, zlib.compress(matrix_element), order)


def mat_file(*elements: bytes, order: str = "<") -> bytes:
    """A MATLAB 5 file: the 128-byte header, then the elements."""
    header = b"MATLAB 5.0 MAT-file, hand-built".ljust(116) + b"\0" * 8
    header += struct.pack(f"{order}H", 0x0100) + (b"IM" if order == "<" else b"MI")
    return header + b"".join(elements)
