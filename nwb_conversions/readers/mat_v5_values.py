"""One MATLAB 5 array (an ``miMATRIX`` element) decoded into the plain values of :mod:`.matlab_values`.

The values are those of :mod:`nwb_conversions.readers.matlab`'s table: a 1 × 1 struct is a ``dict``, a struct
array a :class:`~.matlab_values.StructArray`, a cell array a ``list`` (column-major order), chars a ``str`` (or a
list of row strings), logicals ``bool`` arrays, numbers arrays of the MATLAB class's dtype in MATLAB's shape
(column-major data), complex numbers complex arrays. A real numeric array of :data:`LAZY_MIN_BYTES` or more, when
the bytes come from a file, stays there as a :class:`~.matlab_values.LazyMatlabArray` over a
:class:`~.mat_v5_disk.DiskArray`.

MATLAB class objects (``object``, ``function_handle``, ``opaque``/MCOS) are refused with
:class:`~.matlab_values.MatlabObjectError`, sparse matrices with a :class:`~nwb_conversions.errors.SourceFormatError`.
Nesting is bounded (:data:`MAX_DEPTH`), and a cell or struct array may not declare more elements than its bytes
can hold, so a damaged file is an error, never a deep recursion or a long loop.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .mat_v5_disk import DiskArray
from .mat_v5_elements import (
    CELL_CLASS,
    CHAR_CLASS,
    COMPLEX_FLAG,
    FUNCTION_CLASS,
    LOGICAL_FLAG,
    MAX_NAME_BYTES,
    MI_INT8,
    MI_INT32,
    MI_MATRIX,
    MI_UINT8,
    MI_UINT16,
    MI_UTF8,
    MI_UTF16,
    MI_UTF32,
    NUMERIC_CLASSES,
    OBJECT_CLASS,
    OPAQUE_CLASS,
    SPARSE_CLASS,
    STRUCT_CLASS,
    ArrayHeader,
    ByteSource,
    Damaged,
    FileSource,
    Tag,
    numeric_part,
    read_array_header,
    read_tag,
    small_numbers,
)
from .matlab_values import EXPECTED, LazyMatlabArray, MatlabObjectError, StructArray, char_rows
from .source_access import printable

#: Real numeric arrays of at least this many bytes (in their class's type) stay on disk.
LAZY_MIN_BYTES = 1 << 20

#: Deepest nesting of structs and cells read.
MAX_DEPTH = 64

#: Largest char array read, and largest struct array without fields (nothing in the file bounds its size).
MAX_CHARACTERS = 16 << 20
MAX_FIELDLESS_ELEMENTS = 1 << 16

OBJECT_KINDS = {OBJECT_CLASS: "object", FUNCTION_CLASS: "function handle", OPAQUE_CLASS: "opaque"}


@dataclass
class Decoder:
    """Decodes arrays whose bytes are in ``source`` (byte order ``order``); large arrays stay on disk when the
    source is a :class:`~.mat_v5_elements.FileSource` (a file, or the spill of a compressed variable)."""

    source: ByteSource
    order: str
    file_path: Path

    def value(self, tag: Tag, where: str, depth: int = 0):
        """The plain value of the ``miMATRIX`` element ``tag`` (``where`` names it: ``sess.trial{2}.id``)."""
        if depth > MAX_DEPTH:
            raise SourceFormatError(self.file_path, f"{where} nests deeper than {MAX_DEPTH} levels",
                                    f"structs and cells nested at most {MAX_DEPTH} deep")
        if tag.kind != MI_MATRIX:
            raise Damaged(f"an element of data type {tag.kind} stands where an array belongs", where)
        if not tag.count:  # an empty miMATRIX: MATLAB's [] in a cell or field
            return np.zeros((0, 0))
        try:
            return self._content(read_array_header(self.source, self.order, tag.start, tag.start + tag.count),
                                 where, depth)
        except Damaged as damage:
            damage.where = damage.where or where
            raise

    def _content(self, header: ArrayHeader, where: str, depth: int):
        kind = header.matlab_class
        if kind in OBJECT_KINDS:
            raise self._object_error(header, where)
        if kind == SPARSE_CLASS:
            raise SourceFormatError(self.file_path, f"{where} is a sparse matrix", "dense numeric arrays")
        if kind == CELL_CLASS:
            return self._cell(header, where, depth)
        if kind == STRUCT_CLASS:
            return self._struct(header, where, depth)
        if kind == CHAR_CLASS:
            return self._char(header)
        if kind in NUMERIC_CLASSES:
            return self._numeric(header)
        raise Damaged(f"unknown array class {kind}")

    def _object_error(self, header: ArrayHeader, where: str) -> MatlabObjectError:
        """The refusal of a class object, naming its class where the file says it (object: class name; opaque:
        type system and class name)."""
        names, position = [], header.position
        if header.matlab_class != FUNCTION_CLASS:
            try:
                for _ in range(1 if header.matlab_class == OBJECT_CLASS else 2):
                    raw, position = small_numbers(self.source, self.order, position, header.end,
                                                  kinds=(MI_INT8, MI_UINT8), max_bytes=MAX_NAME_BYTES)
                    names.append(printable(raw.astype(np.uint8).tobytes().decode("ascii", "replace")))
            except Damaged:
                pass
        detail = " ".join(name for name in names if name) or OBJECT_KINDS[header.matlab_class]
        return MatlabObjectError(
            self.file_path, f"{where} is a MATLAB class object ({detail}), which only MATLAB can read", EXPECTED
        )

    def _elements(self, header: ArrayHeader, position: int, count: int, where_of, depth: int) -> list:
        """``count`` arrays one after another from ``position``; ``where_of(index)`` names each."""
        if count * 8 > header.end - position:
            raise Damaged(f"declares {count} elements in {header.end - position} bytes")
        values = []
        for index in range(count):
            tag = read_tag(self.source, self.order, position, header.end)
            values.append(self.value(tag, where_of(index), depth + 1))
            position = tag.end
        return values

    def _cell(self, header: ArrayHeader, where: str, depth: int) -> list:
        return self._elements(header, header.position, header.size, lambda index: f"{where}{{{index + 1}}}", depth)

    def _struct(self, header: ArrayHeader, where: str, depth: int):
        fields, position = self._field_names(header, where)
        if not fields and header.size > MAX_FIELDLESS_ELEMENTS:
            raise Damaged(f"a struct array of {header.size} elements without fields")
        scalar = header.dims == (1, 1)
        prefix = (lambda index: where) if scalar else (lambda index: f"{where}({index + 1})")
        values = self._elements(header, position, header.size * len(fields),
                                lambda index: f"{prefix(index // len(fields))}.{fields[index % len(fields)]}", depth)
        elements = [dict(zip(fields, values[start : start + len(fields)]))
                    for start in range(0, len(values), len(fields))] if fields else [{} for _ in range(header.size)]
        return elements[0] if scalar else StructArray(elements, header.dims)

    def _field_names(self, header: ArrayHeader, where: str) -> tuple[list[str], int]:
        lengths, position = small_numbers(self.source, self.order, header.position, header.end, kinds=(MI_INT32,),
                                          max_bytes=4)
        if lengths.size != 1 or not 0 < int(lengths[0]) <= MAX_NAME_BYTES:
            raise Damaged(f"field name length {lengths.tolist()}")
        length = int(lengths[0])
        raw, position = small_numbers(self.source, self.order, position, header.end, kinds=(MI_INT8, MI_UINT8),
                                      max_bytes=header.end - position)
        if raw.size % length:
            raise Damaged(f"{raw.size} bytes of field names of {length} bytes each")
        raw = raw.astype(np.uint8).tobytes()
        fields = [printable(raw[start : start + length].split(b"\0", 1)[0].decode("ascii", "replace"))
                  for start in range(0, len(raw), length)]
        if "" in fields:
            raise Damaged("a field name is empty")
        repeated = sorted(field for field, count in Counter(fields).items() if count > 1)
        if repeated:
            raise SourceFormatError(self.file_path, f"{where} has two fields named '{repeated[0]}'",
                                    "each field of a struct named once")
        return fields, position

    def _char(self, header: ArrayHeader):
        size = header.size
        if size > MAX_CHARACTERS:
            raise SourceFormatError(self.file_path, f"a char array of {size} characters",
                                    f"char arrays of at most {MAX_CHARACTERS} characters")
        if size == 0 and header.position >= header.end:
            return ""
        tag = read_tag(self.source, self.order, header.position, header.end)
        if tag.count > 4 * size:
            raise Damaged(f"declares {size} characters but stores {tag.count} bytes")
        text = self._decode_text(tag) if tag.count else " " * size  # no bytes: blanks, as scipy reads it
        if len(text) != size:
            raise Damaged(f"declares {size} characters but stores {len(text)}")
        if not size:
            return ""
        chars = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<U1")
        return char_rows(chars.reshape(header.dims, order="F"))

    def _decode_text(self, tag: Tag) -> str:
        data = self.source.read(tag.start, tag.count)
        codecs = {MI_UTF8: "utf-8", MI_UTF16: "utf-16", MI_UTF32: "utf-32", MI_INT8: "ascii", MI_UINT8: "ascii"}
        if tag.kind == MI_UINT16:  # UTF-16 code units, one per character (as MATLAB stores them)
            codes = np.frombuffer(data[: len(data) // 2 * 2], dtype=f"{self.order}u2").astype("<u4")
            return codes.tobytes().decode("utf-32-le", "surrogatepass")
        if tag.kind not in codecs:
            raise Damaged(f"char data of data type {tag.kind}")
        codec = codecs[tag.kind]
        if codec in ("utf-16", "utf-32"):
            codec += "-le" if self.order == "<" else "-be"
        try:
            return data.decode(codec, "surrogatepass" if codec.startswith("utf-16") else "strict")
        except UnicodeDecodeError as exc:
            raise Damaged(f"characters that are not {codec} ({exc.reason} at byte {exc.start})") from None

    def _numeric(self, header: ArrayHeader):
        size, dtype = header.size, np.dtype(NUMERIC_CLASSES[header.matlab_class])
        if size == 0 and header.position >= header.end:
            return np.zeros(header.dims, dtype=bool if header.flags & LOGICAL_FLAG else dtype)
        real = numeric_part(self.source, self.order, header.position, header.end, size, "the array")
        if header.flags & COMPLEX_FLAG:
            imaginary = numeric_part(self.source, self.order, real.end, header.end, size, "its imaginary part")
            values = real.read(self.source).astype(dtype) + 1j * imaginary.read(self.source).astype(dtype)
        elif header.flags & LOGICAL_FLAG:
            values = real.read(self.source).astype(bool)
        elif isinstance(self.source, FileSource) and size * dtype.itemsize >= LAZY_MIN_BYTES:
            self.source.lent = True
            disk = DiskArray(self.source, real.start, real.dtype, header.dims[::-1], dtype, self.file_path)
            return LazyMatlabArray(disk, dtype)
        else:
            values = real.read(self.source).astype(dtype)
        return values.reshape(header.dims, order="F")
