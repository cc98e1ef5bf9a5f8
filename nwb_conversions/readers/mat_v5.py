"""A strict reader of numeric variables in MATLAB 5 ``.mat`` files, in pure Python and numpy.

scipy's ``loadmat`` crashes the interpreter (a segmentation fault in its compiled reader) on some damaged files
(found by fuzzing scipy 1.17), which no ``try`` can catch. The few things a channel map needs are simple to read
exactly, so this module reads the documented layout itself (:mod:`.mat_v5_elements`): top-level ``miMATRIX``
elements, or ``miCOMPRESSED`` ones holding a zlib stream of one ``miMATRIX``.

Only full numeric arrays are returned; any other class (``char``, ``cell``, ``struct``, ``sparse``, objects),
complex or logical data is an error naming the variable. Every length is checked against the bytes present, and
decompression is bounded, so a damaged file is one :class:`~nwb_conversions.errors.SourceFormatError`. (Whole
structs are read by :mod:`.mat_v5_file`.)
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .mat_v5_elements import (
    COMPLEX_FLAG,
    EXPECTED,
    LOGICAL_FLAG,
    MI_COMPRESSED,
    MI_MATRIX,
    NUMERIC_CLASSES,
    BufferSource,
    Damaged,
    byte_order,
    damaged_file,
    numeric_part,
    read_array_header,
    read_tag,
)

#: Bytes of a compressed variable decompressed to read its name.
NAME_PEEK_BYTES = 512


def _matrix(buffer: bytes, order: str, start: int, end: int, file_path: Path, max_elements: int,
            wanted: tuple[str, ...]) -> tuple[str, np.ndarray | None]:
    """Parse the ``miMATRIX`` body ``buffer[start:end]``; return its name and, if wanted, its numeric array."""
    source = BufferSource(buffer)  # every read is bounded by ``end``
    header = read_array_header(source, order, start, end)
    name = header.name
    if name not in wanted:
        return name, None
    expected = f"'{name}' to be a numeric array of at most {max_elements} elements"
    if header.matlab_class not in NUMERIC_CLASSES:
        raise SourceFormatError(file_path, f"'{name}' is a MATLAB {header.class_name} variable, not numbers", expected)
    if header.flags & COMPLEX_FLAG:
        raise SourceFormatError(file_path, f"'{name}' holds complex numbers", f"'{name}' to be real numbers")
    if header.flags & LOGICAL_FLAG:
        raise SourceFormatError(file_path, f"'{name}' is a MATLAB logical variable, not numbers", expected)
    if header.size > max_elements:
        raise SourceFormatError(file_path, f"'{name}' has {header.size} elements", expected)
    values = numeric_part(source, order, header.position, end, header.size, f"'{name}'").read(source)
    return name, values.astype(NUMERIC_CLASSES[header.matlab_class]).reshape(header.dims, order="F")


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
    order = byte_order(content[:128], file_path)
    source = BufferSource(content)
    limit = max_elements * 8 + 64 * 1024
    variables: dict[str, np.ndarray] = {}
    position = 128
    try:
        while position < len(content) and len(variables) < len(names):
            if len(content) - position < 8:  # trailing padding
                break
            tag = read_tag(source, order, position, len(content))
            if tag.kind == MI_COMPRESSED:
                compressed = content[tag.start : tag.start + tag.count]
                peek = _decompress(compressed, NAME_PEEK_BYTES)
                inner_kind, inner_count = _inner_tag(peek, order)
                if inner_kind != MI_MATRIX:
                    raise Damaged(f"a compressed element at byte {position} holds data type {inner_kind}")
                name = _peek_name(peek, order, inner_count)
                if name in names and name not in variables:
                    if inner_count > limit:
                        expected = f"'{name}' to hold at most {max_elements} numbers"
                        raise SourceFormatError(file_path, f"'{name}' is {inner_count} bytes", expected)
                    end = 8 + inner_count
                    matrix = _decompress(compressed, end)
                    if len(matrix) < end:
                        raise Damaged(f"the compressed variable '{name}' is truncated")
                    variables[name] = _matrix(matrix, order, 8, end, file_path, max_elements, names)[1]
            elif tag.kind == MI_MATRIX:
                if tag.count:
                    name, value = _matrix(content, order, tag.start, tag.start + tag.count, file_path, max_elements,
                                          names)
                    if value is not None and name not in variables:
                        variables[name] = value
            else:
                raise Damaged(f"a top-level element at byte {position} has data type {tag.kind}")
            position = tag.end
    except Damaged as damage:
        raise damaged_file(file_path, damage) from None
    except zlib.error as exc:
        raise SourceFormatError(file_path, f"damaged compressed variable ({exc})", EXPECTED) from None
    return variables


def _inner_tag(peek: bytes, order: str) -> tuple[int, int]:
    """The data type and byte count of the element a compressed stream starts with (its data may lie beyond)."""
    if len(peek) < 8:
        raise Damaged("a compressed variable holds fewer than 8 bytes")
    first, second = np.frombuffer(peek, dtype=f"{order}u4", count=2).tolist()
    return first, second


def _peek_name(peek: bytes, order: str, count: int) -> str:
    """The name of the matrix whose first bytes are ``peek`` (its tag, flags, dimensions, name)."""
    try:
        return read_array_header(BufferSource(peek), order, 8, len(peek)).name if peek[8:] else ""
    except Damaged:
        if count + 8 <= len(peek):
            raise
        return ""  # the header is longer than the peek: a name this long is not one we look for
