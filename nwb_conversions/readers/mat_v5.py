"""A strict reader of numeric variables in MATLAB 5 ``.mat`` files, in pure Python and numpy.

scipy's ``loadmat`` crashes the interpreter (a segmentation fault in its compiled reader) on some damaged files
(found by fuzzing scipy 1.17), which no ``try`` can catch. The few things a channel map needs are simple to read
exactly, so this module parses the documented layout itself (MathWorks, "MAT-File Format", version 5):

- a 128-byte header whose last two bytes, ``IM`` or ``MI``, give the byte order;
- data elements, each an 8-byte tag (type, byte count) or a 4-byte "small element" tag, padded to 8 bytes;
- top-level ``miMATRIX`` elements, or ``miCOMPRESSED`` ones holding a zlib stream of one ``miMATRIX``;
- in a matrix: array flags (class, complex, logical), dimensions, name, then the real part, whose storage type may
  be smaller than the class (MATLAB stores a double array of small integers as ``miUINT8``).

Only full numeric arrays are returned; any other class (``char``, ``cell``, ``struct``, ``sparse``, objects),
complex or logical data is an error naming the variable. Every length is checked against the bytes present, and
decompression is bounded, so a damaged file is one :class:`~nwb_conversions.errors.SourceFormatError`.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .source_access import printable

#: Data types of data elements (``miINT8`` … ``miUINT64``) that hold numbers, as numpy type letters.
NUMERIC_STORAGE = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}

MI_MATRIX = 14
MI_COMPRESSED = 15

#: MATLAB array classes: numeric ones map to numpy dtypes, the others are named in errors.
NUMERIC_CLASSES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
CLASS_NAMES = {
    1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 6: "double", 7: "single", 8: "int8", 9: "uint8",
    10: "int16", 11: "uint16", 12: "int32", 13: "uint32", 14: "int64", 15: "uint64", 16: "function handle",
    17: "opaque",
}

COMPLEX_FLAG = 0x08
LOGICAL_FLAG = 0x02

#: Bytes of a compressed variable decompressed to read its name.
NAME_PEEK_BYTES = 512

EXPECTED = "a MATLAB 5 .mat file"


class _Damaged(Exception):
    """Internal: the file is not laid out as the format says."""


def _padded(length: int) -> int:
    return (length + 7) // 8 * 8


class _Elements:
    """Reads data elements from a byte buffer in the file's byte order."""

    def __init__(self, buffer: bytes, order: str):
        self.buffer = buffer
        self.order = order

    def tag(self, position: int) -> tuple[int, int, int, int]:
        """Return ``(type, byte count, data start, next element)`` of the element at ``position``."""
        if position + 8 > len(self.buffer):
            raise _Damaged(f"a data element tag at byte {position} runs past the end")
        first, second = np.frombuffer(self.buffer, dtype=f"{self.order}u4", count=2, offset=position).tolist()
        if first >> 16:  # small data element: byte count in the upper half, data in the tag's second word
            kind, count = first & 0xFFFF, first >> 16
            if count > 4:
                raise _Damaged(f"a small data element at byte {position} claims {count} bytes")
            return kind, count, position + 4, position + 8
        start = position + 8
        if start + second > len(self.buffer):
            raise _Damaged(f"a data element at byte {position} claims {second} bytes, past the end")
        return first, second, start, start + (second if first == MI_COMPRESSED else _padded(second))

    def numbers(self, position: int, expected_kind: int | None = None) -> tuple[np.ndarray, int]:
        """Return the numeric subelement at ``position`` and the position after it."""
        kind, count, start, following = self.tag(position)
        if kind not in NUMERIC_STORAGE or (expected_kind is not None and kind != expected_kind):
            raise _Damaged(f"a subelement at byte {position} has data type {kind}")
        dtype = np.dtype(f"{self.order}{NUMERIC_STORAGE[kind]}")
        if count % dtype.itemsize:
            raise _Damaged(f"a subelement at byte {position} holds {count} bytes of {dtype.name}")
        return np.frombuffer(self.buffer, dtype=dtype, count=count // dtype.itemsize, offset=start), following


def _matrix_header(elements: _Elements, start: int, end: int):
    """Parse a matrix's flags, dimensions and name; return ``(class, flags, dims, name, next position)``."""
    flags, position = elements.numbers(start, expected_kind=6)
    if flags.size < 2:
        raise _Damaged("the array flags are shorter than 8 bytes")
    matlab_class, flag_bits = int(flags[0]) & 0xFF, (int(flags[0]) >> 8) & 0xFF
    dims, position = elements.numbers(position, expected_kind=5)
    if dims.size < 2 or np.any(dims < 0):
        raise _Damaged(f"dimensions {dims.tolist()}")
    name_bytes, position = elements.numbers(position, expected_kind=None)
    if position > end:
        raise _Damaged("a matrix's header runs past the matrix")
    name = printable(name_bytes.astype(np.uint8, copy=False).tobytes().decode("ascii", "replace"))
    return matlab_class, flag_bits, tuple(int(size) for size in dims), name, position


def _matrix(buffer: bytes, order: str, start: int, end: int, file_path: Path, max_elements: int,
            wanted: tuple[str, ...]) -> tuple[str, np.ndarray | None]:
    """Parse the ``miMATRIX`` body ``buffer[start:end]``; return its name and, if wanted, its numeric array."""
    elements = _Elements(buffer[:end], order)
    matlab_class, flag_bits, dims, name, position = _matrix_header(elements, start, end)
    if name not in wanted:
        return name, None
    expected = f"'{name}' to be a numeric array of at most {max_elements} elements"
    if matlab_class not in NUMERIC_CLASSES:
        kind = CLASS_NAMES.get(matlab_class, f"class-{matlab_class}")
        raise SourceFormatError(file_path, f"'{name}' is a MATLAB {kind} variable, not numbers", expected)
    if flag_bits & COMPLEX_FLAG:
        raise SourceFormatError(file_path, f"'{name}' holds complex numbers", f"'{name}' to be real numbers")
    if flag_bits & LOGICAL_FLAG:
        raise SourceFormatError(file_path, f"'{name}' is a MATLAB logical variable, not numbers", expected)
    size = int(np.prod(dims, dtype=object))
    if size > max_elements:
        raise SourceFormatError(file_path, f"'{name}' has {size} elements", expected)
    values, _ = elements.numbers(position)
    if values.size != size:
        raise _Damaged(f"'{name}' declares {size} elements but stores {values.size}")
    return name, values.astype(NUMERIC_CLASSES[matlab_class]).reshape(dims, order="F")


def _decompress(data: bytes, limit: int) -> bytes:
    """Inflate at most ``limit`` bytes of a zlib stream (a truncated stream gives what it holds)."""
    return zlib.decompressobj().decompress(data, limit)


def read_v5_variables(
    content: bytes, file_path: str | Path, names: tuple[str, ...], *, max_elements: int
) -> dict[str, np.ndarray]:
    """Read the numeric top-level variables ``names`` from the bytes of a MATLAB 5 ``.mat`` file.

    Parameters
    ----------
    content : bytes
        The whole file.
    file_path : str or Path
        Named in errors.
    names : tuple of str
        The variables to read; others are skipped without being decoded.
    max_elements : int
        Largest number of elements a requested variable may have.

    Returns
    -------
    dict
        ``{name: array}`` in MATLAB's shape (column-major data reshaped with ``order="F"``), for the requested
        variables present in the file (the first of duplicated names).

    Raises
    ------
    SourceFormatError
        If the file is damaged, or a requested variable is not a real, non-logical numeric array of at most
        ``max_elements`` elements.
    """
    file_path = Path(file_path)
    indicator = content[126:128]
    if len(content) < 128 or content[:6] != b"MATLAB" or indicator not in (b"IM", b"MI"):
        raise SourceFormatError(file_path, "no MATLAB 5 header (128 bytes ending in IM or MI)", EXPECTED)
    order = "<" if indicator == b"IM" else ">"
    elements = _Elements(content, order)
    limit = max_elements * 8 + 64 * 1024
    variables: dict[str, np.ndarray] = {}
    position = 128
    try:
        while position < len(content) and len(variables) < len(names):
            if len(content) - position < 8:  # trailing padding
                break
            kind, count, start, following = elements.tag(position)
            if kind == MI_COMPRESSED:
                compressed = content[start : start + count]
                peek = _decompress(compressed, NAME_PEEK_BYTES)
                inner = _Elements(peek, order)
                inner_kind, inner_count, inner_start, _ = _tag_allowing_truncation(inner, peek)
                if inner_kind != MI_MATRIX:
                    raise _Damaged(f"a compressed element at byte {position} holds data type {inner_kind}")
                name = _peek_name(peek, order, inner_start, inner_count)
                if name in names and name not in variables:
                    if inner_count > limit:
                        expected = f"'{name}' to hold at most {max_elements} numbers"
                        raise SourceFormatError(file_path, f"'{name}' is {inner_count} bytes", expected)
                    end = inner_start + inner_count
                    matrix = _decompress(compressed, end)
                    if len(matrix) < end:
                        raise _Damaged(f"the compressed variable '{name}' is truncated")
                    variables[name] = _matrix(matrix, order, inner_start, end, file_path, max_elements, names)[1]
            elif kind == MI_MATRIX:
                if count:
                    name, value = _matrix(content, order, start, start + count, file_path, max_elements, names)
                    if value is not None and name not in variables:
                        variables[name] = value
            else:
                raise _Damaged(f"a top-level element at byte {position} has data type {kind}")
            position = following
    except _Damaged as damage:
        raise SourceFormatError(file_path, f"damaged MATLAB 5 file ({damage})", EXPECTED) from None
    except zlib.error as exc:
        raise SourceFormatError(file_path, f"damaged compressed variable ({exc})", EXPECTED) from None
    return variables


def _tag_allowing_truncation(elements: _Elements, buffer: bytes) -> tuple[int, int, int, int]:
    """The tag of the matrix at the start of a decompressed peek (its data may lie beyond the peek)."""
    if len(buffer) < 8:
        raise _Damaged("a compressed variable holds fewer than 8 bytes")
    first, second = np.frombuffer(buffer, dtype=f"{elements.order}u4", count=2).tolist()
    return first, second, 8, 8 + second


def _peek_name(peek: bytes, order: str, start: int, count: int) -> str:
    """The name of the matrix whose first bytes are ``peek`` (flags, dimensions, name)."""
    elements = _Elements(peek, order)
    try:
        return _matrix_header(elements, start, len(peek))[3] if peek[start:] else ""
    except _Damaged:
        if count + start <= len(peek):
            raise
        return ""  # the header is longer than the peek: a name this long is not one we look for
