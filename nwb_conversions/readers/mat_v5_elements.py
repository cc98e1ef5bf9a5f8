"""The building blocks of MATLAB 5 ``.mat`` files, read from any :class:`ByteSource` with every length checked.

Shared by the numeric-variable reader of channel maps (:mod:`.mat_v5`) and the streamed reader of whole structs
(:mod:`.mat_v5_file`). The layout is MathWorks' "MAT-File Format" (version 5):

- a 128-byte header whose last two bytes, ``IM`` or ``MI``, give the byte order;
- data elements, each an 8-byte tag (type, byte count) or a 4-byte "small element" tag holding at most 4 bytes,
  padded to 8 bytes (``miCOMPRESSED`` elements are not padded);
- an array (``miMATRIX``): array flags (class, complex, logical), dimensions (``miINT32``; an opaque object has
  none), name (``miINT8``), then what its class holds; the numeric data's storage type may be smaller than the
  class (MATLAB stores a double array of small integers as ``miUINT8``).

Nothing is read before its length is checked against the bytes of the enclosing element, so a damaged length is a
:class:`Damaged` error, never a large allocation or a read past the end.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import SourceFormatError
from .source_access import printable

#: Data types of data elements (``miINT8`` … ``miUINT64``) that hold numbers, as numpy type letters.
NUMERIC_STORAGE = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}

MI_INT8, MI_UINT8, MI_UINT16, MI_INT32, MI_UINT32 = 1, 2, 4, 5, 6
MI_MATRIX, MI_COMPRESSED, MI_UTF8, MI_UTF16, MI_UTF32 = 14, 15, 16, 17, 18

#: MATLAB array classes: numeric ones map to numpy dtypes, the others are named in errors.
NUMERIC_CLASSES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
CLASS_NAMES = {
    1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 6: "double", 7: "single", 8: "int8", 9: "uint8",
    10: "int16", 11: "uint16", 12: "int32", 13: "uint32", 14: "int64", 15: "uint64", 16: "function_handle",
    17: "opaque",
}
CELL_CLASS, STRUCT_CLASS, OBJECT_CLASS, CHAR_CLASS, SPARSE_CLASS = 1, 2, 3, 4, 5
FUNCTION_CLASS, OPAQUE_CLASS = 16, 17

COMPLEX_FLAG = 0x08
LOGICAL_FLAG = 0x02

#: Most dimensions an array may declare, and longest name (MATLAB's limits are far lower: 63 characters).
MAX_DIMENSIONS = 64
MAX_NAME_BYTES = 4096

EXPECTED = "a MATLAB 5 .mat file"


class Damaged(Exception):
    """The bytes are not laid out as the format says; ``where`` names the variable or field, once known."""

    def __init__(self, problem: str, where: str | None = None):
        super().__init__(problem)
        self.problem = problem
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}" if self.where else self.problem


def damaged_file(file_path: str | Path, damage: Damaged, expected: str = EXPECTED) -> SourceFormatError:
    """The one-line error for a damaged MATLAB 5 file."""
    return SourceFormatError(file_path, f"damaged MATLAB 5 file ({damage})", expected)


def byte_order(header: bytes, file_path: str | Path, expected: str = EXPECTED) -> str:
    """The numpy byte order (``<`` or ``>``) a MATLAB 5 file's 128-byte ``header`` states (its last two bytes)."""
    if len(header) < 128 or header[:6] != b"MATLAB" or header[126:128] not in (b"IM", b"MI"):
        raise SourceFormatError(file_path, "no MATLAB 5 header (128 bytes ending in IM or MI)", expected)
    return "<" if header[126:128] == b"IM" else ">"


def padded(length: int) -> int:
    return (length + 7) // 8 * 8


def pread_exactly(descriptor: int, length: int, offset: int) -> bytes:
    """``length`` bytes at ``offset`` of an open file (several reads where the system returns fewer), or fewer at
    its end."""
    parts, done = [], 0
    while done < length:
        part = os.pread(descriptor, min(length - done, 1 << 30), offset + done)
        if not part:
            break
        parts.append(part)
        done += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


class ByteSource:
    """Bytes to parse: ``size``, and ``read(offset, length)`` giving exactly those bytes."""

    size: int

    def read(self, offset: int, length: int) -> bytes:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


class BufferSource(ByteSource):
    """Bytes held in memory (a small file read whole, or a small decompressed variable)."""

    def __init__(self, buffer: bytes):
        self.buffer = buffer
        self.size = len(buffer)

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset + length > self.size:
            raise Damaged(f"{length} bytes at byte {offset} run past the end ({self.size} bytes)")
        return self.buffer[offset : offset + length]


class FileSource(ByteSource):
    """The first ``size`` bytes of an open binary file, read with ``os.pread`` through a small read-ahead block (a
    struct's headers are many small reads close together).

    The source owns the file. Once a lazy array reads from it (``lent``), it is closed when the source is
    garbage-collected, so the array keeps the source, and with it the file, alive; otherwise :meth:`release` closes
    it when the reading is done.
    """

    BLOCK_BYTES = 256 * 1024

    def __init__(self, stream, size: int):
        self.stream = stream
        self.descriptor = stream.fileno()
        self.size = size
        self.lent = False
        self._block_start, self._block = 0, b""

    def __del__(self):
        self.stream.close()

    def release(self) -> None:
        """Close the file now, unless a lazy array reads from it."""
        if not self.lent:
            self.stream.close()

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset + length > self.size:
            raise Damaged(f"{length} bytes at byte {offset} run past the end ({self.size} bytes)")
        relative = offset - self._block_start
        if 0 <= relative and relative + length <= len(self._block):
            return self._block[relative : relative + length]
        if length > self.BLOCK_BYTES // 2:
            return self._checked(pread_exactly(self.descriptor, length, offset), length, offset)
        self._block_start = offset
        self._block = pread_exactly(self.descriptor, min(self.BLOCK_BYTES, self.size - offset), offset)
        return self._checked(self._block[:length], length, offset)

    @staticmethod
    def _checked(data: bytes, length: int, offset: int) -> bytes:
        if len(data) != length:
            raise Damaged(f"the file ends at byte {offset + len(data)}, before the {length} bytes at byte {offset}")
        return data


class Tag(NamedTuple):
    """A data element: its data type, byte count, where its data start and where the next element starts."""

    kind: int
    count: int
    start: int
    end: int


def read_tag(source: ByteSource, order: str, position: int, limit: int) -> Tag:
    """The tag of the element at ``position``, whose data must end by ``limit``."""
    if position + 8 > limit:
        raise Damaged(f"a data element tag at byte {position} runs past the end")
    first, second = struct.unpack(f"{order}II", source.read(position, 8))
    if first >> 16:  # small data element: byte count in the upper half, data in the tag's second word
        kind, count = first & 0xFFFF, first >> 16
        if count > 4:
            raise Damaged(f"a small data element at byte {position} claims {count} bytes")
        return Tag(kind, count, position + 4, position + 8)
    start = position + 8
    if start + second > limit:
        raise Damaged(f"a data element at byte {position} claims {second} bytes, past the end")
    return Tag(first, second, start, start + (second if first == MI_COMPRESSED else padded(second)))


def storage_dtype(tag: Tag, order: str, position: int) -> np.dtype:
    """The numpy dtype of a numeric element (its byte count a whole number of values)."""
    if tag.kind not in NUMERIC_STORAGE:
        raise Damaged(f"a subelement at byte {position} has data type {tag.kind}")
    dtype = np.dtype(f"{order}{NUMERIC_STORAGE[tag.kind]}")
    if tag.count % dtype.itemsize:
        raise Damaged(f"a subelement at byte {position} holds {tag.count} bytes of {dtype.name}")
    return dtype


def small_numbers(source: ByteSource, order: str, position: int, limit: int, *, kinds: tuple[int, ...] | None,
                  max_bytes: int) -> tuple[np.ndarray, int]:
    """The numeric element at ``position`` (of a type in ``kinds``, at most ``max_bytes``) and the next position."""
    tag = read_tag(source, order, position, limit)
    if kinds is not None and tag.kind not in kinds:
        raise Damaged(f"a subelement at byte {position} has data type {tag.kind}")
    dtype = storage_dtype(tag, order, position)
    if tag.count > max_bytes:
        raise Damaged(f"a subelement at byte {position} claims {tag.count} bytes, more than {max_bytes}")
    return np.frombuffer(source.read(tag.start, tag.count), dtype=dtype), tag.end


@dataclass(frozen=True)
class ArrayHeader:
    """What precedes an array's content: class, flag bits, dimensions, name, and where the content starts."""

    matlab_class: int
    flags: int
    dims: tuple[int, ...]
    name: str
    position: int
    end: int

    @property
    def size(self) -> int:
        """The number of elements (an exact Python integer, however large the dimensions)."""
        size = 1
        for length in self.dims:
            size *= length
        return size

    @property
    def class_name(self) -> str:
        if self.flags & LOGICAL_FLAG and self.matlab_class in NUMERIC_CLASSES:
            return "logical"
        return CLASS_NAMES.get(self.matlab_class, f"class-{self.matlab_class}")


def _header_part(source: ByteSource, order: str, position: int, end: int, kinds: tuple[int, ...],
                 max_bytes: int) -> tuple[bytes, int]:
    """The bytes and next position of a header element of a type in ``kinds``."""
    tag = read_tag(source, order, position, end)
    if tag.kind not in kinds:
        raise Damaged(f"a subelement at byte {position} has data type {tag.kind}")
    if tag.count > max_bytes:
        raise Damaged(f"a subelement at byte {position} claims {tag.count} bytes, more than {max_bytes}")
    return source.read(tag.start, tag.count), tag.end


def read_array_header(source: ByteSource, order: str, start: int, end: int) -> ArrayHeader:
    """Parse the flags, dimensions and name of the ``miMATRIX`` whose content is ``[start, end)``."""
    flags, position = _header_part(source, order, start, end, (MI_UINT32,), 8)
    if len(flags) < 8:
        raise Damaged("the array flags are shorter than 8 bytes")
    first = struct.unpack(f"{order}I", flags[:4])[0]
    matlab_class, flag_bits = first & 0xFF, (first >> 8) & 0xFF
    if matlab_class == OPAQUE_CLASS:  # no dimensions: the name, then the type system's and the class's names
        dims = (1, 1)
    else:
        raw, position = _header_part(source, order, position, end, (MI_INT32,), 4 * MAX_DIMENSIONS)
        if len(raw) % 4:
            raise Damaged(f"dimensions of {len(raw)} bytes")
        dims = struct.unpack(f"{order}{len(raw) // 4}i", raw)
    if len(dims) < 2 or min(dims) < 0:
        raise Damaged(f"dimensions {list(dims)}")
    name, position = _header_part(source, order, position, end, (MI_INT8, MI_UINT8), MAX_NAME_BYTES)
    return ArrayHeader(matlab_class, flag_bits, dims, printable(name.decode("ascii", "replace")), position, end)


@dataclass(frozen=True)
class NumericPart:
    """A numeric part of an array (real or imaginary): storage dtype, where its values start, the next position."""

    dtype: np.dtype
    start: int
    count: int
    end: int

    def read(self, source: ByteSource) -> np.ndarray:
        return np.frombuffer(source.read(self.start, self.count * self.dtype.itemsize), dtype=self.dtype)


def numeric_part(source: ByteSource, order: str, position: int, limit: int, size: int, what: str) -> NumericPart:
    """The numeric element at ``position``, checked to hold exactly ``size`` values (``what`` names the array)."""
    tag = read_tag(source, order, position, limit)
    dtype = storage_dtype(tag, order, position)
    stored = tag.count // dtype.itemsize
    if stored != size:
        raise Damaged(f"{what} declares {size} elements but stores {stored} ({tag.count} bytes of {dtype.name})")
    return NumericPart(dtype, tag.start, stored, tag.end)
