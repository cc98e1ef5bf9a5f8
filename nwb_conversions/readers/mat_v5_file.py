"""MATLAB 5 ``.mat`` files (MATLAB's ``-v6`` and ``-v7``), whole structs read streamed, in pure Python and numpy.

This replaces scipy's ``loadmat`` for :mod:`nwb_conversions.readers.matlab`: ``loadmat`` holds a whole variable in
memory (a 609 MB SSC-11 struct file peaked at 1.09 GB) and its compiled reader crashes the interpreter on some
damaged files. Here the file's top-level elements are walked with ``os.pread``:

- an uncompressed variable (``-v6``) is decoded where it lies, and its large arrays are read from the file itself
  when asked for (:class:`~.mat_v5_disk.DiskArray`);
- a compressed variable (``-v7``, MATLAB's default) is inflated incrementally: up to :data:`IN_MEMORY_BYTES` into
  memory, a larger one in one pass into an unlinked temporary file its large arrays are then read from.

Values are decoded by :mod:`.mat_v5_values`. Every length is checked against the bytes present, decompression is
bounded by what the variable declares and by what zlib can produce, and nesting is bounded, so a damaged file is
one :class:`~nwb_conversions.errors.SourceFormatError`: never a crash, a hang or a large allocation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .mat_v5_disk import Inflater
from .mat_v5_elements import (
    MI_COMPRESSED,
    MI_MATRIX,
    ArrayHeader,
    BufferSource,
    Damaged,
    FileSource,
    Tag,
    byte_order,
    damaged_file,
    pread_exactly,
    read_array_header,
    read_tag,
)
from .mat_v5_values import Decoder
from .matlab_values import EXPECTED
from .source_access import reading

#: Compressed variables that inflate to at most this many bytes are decoded in memory; larger ones are spilled.
IN_MEMORY_BYTES = 1 << 20

#: Bytes of a compressed variable inflated first, to read its header (class, dimensions, name).
HEADER_PEEK_BYTES = 8192


@dataclass
class _Variable:
    """A top-level variable: its header, where its element starts, and how to decode it (once)."""

    header: ArrayHeader
    position: int
    open: Callable[[], tuple[Decoder, Tag]]


def read_variables_v5(file_path: Path, names=None) -> dict:
    """Read a MATLAB 5 file's variables (all, or those in ``names``) as plain values.

    Returns
    -------
    dict
        Variable name → plain value (:mod:`nwb_conversions.readers.matlab`'s table); large numeric arrays are
        :class:`~.matlab_values.LazyMatlabArray` objects reading the file (or a spill file) on demand.

    Raises
    ------
    SourceFormatError
        A damaged file, a variable stored twice, a sparse matrix.
    MatlabObjectError
        A variable read is (or holds) a MATLAB class object.
    """
    file_path = Path(file_path)
    variables = {}
    with reading(file_path, EXPECTED):
        source = _open(file_path)
        try:
            for name, variable in _named_variables(source, file_path):
                if names is None or name in names:
                    decoder, tag = variable.open()
                    try:
                        variables[name] = decoder.value(tag, name)
                    finally:
                        if decoder.source is not source and isinstance(decoder.source, FileSource):
                            decoder.source.release()  # a spill file
        except Damaged as damage:
            raise damaged_file(file_path, damage, EXPECTED) from None
        finally:
            source.release()
    return variables


def variable_classes_v5(file_path: Path) -> dict[str, str]:
    """The MATLAB class of each variable of a MATLAB 5 file, from its header (a class object's: ``object``,
    ``opaque`` or ``function_handle``)."""
    file_path = Path(file_path)
    with reading(file_path, EXPECTED):
        source = _open(file_path)
        try:
            return {name: variable.header.class_name for name, variable in _named_variables(source, file_path)}
        except Damaged as damage:
            raise damaged_file(file_path, damage, EXPECTED) from None
        finally:
            source.release()


def _open(file_path: Path) -> FileSource:
    stream = open(file_path, "rb")
    try:
        return FileSource(stream, os.fstat(stream.fileno()).st_size)
    except BaseException:
        stream.close()
        raise


def _named_variables(source: FileSource, file_path: Path) -> Iterator[tuple[str, _Variable]]:
    """Every named top-level variable (MATLAB's unnamed function workspace is skipped), each name once."""
    order = byte_order(pread_exactly(source.descriptor, 128, 0), file_path, EXPECTED)
    seen: dict[str, int] = {}
    for variable in _variables(source, order, file_path):
        name = variable.header.name
        if name in seen:
            raise SourceFormatError(file_path, f"the variable '{name}' is stored twice (at bytes {seen[name]} and "
                                    f"{variable.position})", "each variable once")
        if name:
            seen[name] = variable.position
            yield name, variable


def _variables(source: FileSource, order: str, file_path: Path) -> Iterator[_Variable]:
    position = 128
    while source.size - position >= 8:  # fewer bytes at the end are padding
        tag = read_tag(source, order, position, source.size)
        if tag.kind == MI_COMPRESSED:
            variable = _compressed(source, tag, order, file_path, position)
        elif tag.kind == MI_MATRIX:
            variable = _uncompressed(source, tag, order, file_path, position)
        else:
            raise Damaged(f"a top-level element at byte {position} has data type {tag.kind}")
        if variable is not None:
            yield variable
        position = tag.end


def _uncompressed(source: FileSource, tag: Tag, order: str, file_path: Path, position: int) -> _Variable | None:
    if not tag.count:
        return None
    header = read_array_header(source, order, tag.start, tag.start + tag.count)
    return _Variable(header, position, lambda: (Decoder(source, order, file_path), tag))


def _compressed(source: FileSource, tag: Tag, order: str, file_path: Path, position: int) -> _Variable | None:
    inflater = Inflater(source.descriptor, tag.start, tag.count)
    head = inflater.take(HEADER_PEEK_BYTES)
    if len(head) < 8:
        raise Damaged(f"the compressed variable at byte {position} holds {len(head)} bytes")
    kind, count = np.frombuffer(head[:8], dtype=f"{order}u4").tolist()
    if kind != MI_MATRIX:
        raise Damaged(f"the compressed variable at byte {position} holds data type {kind}")
    if not count:
        return None
    total = 8 + count
    inflater.check_declared(total)
    head = head[:total]
    header = read_array_header(BufferSource(head), order, 8, len(head))
    matrix = Tag(MI_MATRIX, count, 8, total)

    def open_body() -> tuple[Decoder, Tag]:
        if total > IN_MEMORY_BYTES:
            return Decoder(inflater.spill(head, total, file_path, header.name), order, file_path), matrix
        body = head + inflater.take(total - len(head))
        if len(body) < total:
            raise Damaged(f"inflates to {len(body)} bytes but declares {total}", header.name)
        return Decoder(BufferSource(body), order, file_path), matrix

    return _Variable(header, position, open_body)
