"""What of a MATLAB 5 file stays on disk: large arrays read on demand, and compressed variables inflated to a spill.

- :class:`DiskArray`: a C-order array at an offset of an open file (the source itself for an uncompressed variable,
  or the spill file of a compressed one), read with ``os.pread`` (thread-safe) one block of rows at a time. MATLAB
  stores an ``R × T`` matrix column-major, so its bytes are the C-order ``(T, R)`` array: a block of time is one
  contiguous read.
- :class:`Inflater`: a compressed variable's zlib stream, inflated incrementally with a bounded output per step, so
  neither a large variable nor a zlib bomb is ever held in memory; :meth:`Inflater.spill` writes the rest of it, in
  one pass, to an unlinked temporary file (``tempfile.TemporaryFile``: nothing is left behind, even after
  ``kill -9``; it lives in ``TMPDIR``).
"""

from __future__ import annotations

import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .lazy_rows import LazyRows
from .mat_v5_elements import Damaged, FileSource, pread_exactly

#: Compressed input read per step, and most output inflated per step.
INPUT_STEP_BYTES = 1 << 20
OUTPUT_STEP_BYTES = 4 << 20

#: Rows read at a time when only a part of each row is wanted.
SUB_BLOCK_BYTES = 4 << 20

#: zlib (deflate) inflates one byte to at most 1032: a variable declaring more than this many times its compressed
#: size (plus a little) is damaged.
MAX_INFLATE_RATIO = 1032


def pread_into(descriptor: int, buffer: np.ndarray, offset: int) -> int:
    """Fill the C-contiguous ``buffer`` from ``offset`` of an open file (no intermediate copy); return the bytes
    read (fewer at its end)."""
    if not buffer.nbytes:
        return 0
    view = memoryview(buffer.reshape(-1)).cast("B")
    done = 0
    while done < len(view):
        count = os.preadv(descriptor, [view[done : done + (1 << 30)]], offset + done)
        if not count:
            break
        done += count
    return done


class DiskArray(LazyRows):
    """A C-order array of ``shape`` stored as ``storage`` values at ``offset`` of an open file, read as ``dtype``.

    Indexing along the first axis reads just those rows (``array[a:b]``, ``array[i, j]``); ``numpy.asarray`` and
    ``array[()]`` read it whole.

    Parameters
    ----------
    file : FileSource
        The open file (kept open while the array lives).
    offset : int
    storage : numpy.dtype
        How the values are stored (byte order and type, maybe smaller than ``dtype``).
    shape : tuple of int
    dtype : numpy.dtype
    file_path : Path
        The source file, named if it shrinks while being read.
    """

    def __init__(self, file: FileSource, offset: int, storage: np.dtype, shape: tuple[int, ...], dtype,
                 file_path: Path):
        self.file = file
        self.offset = offset
        self.storage = np.dtype(storage)
        self.shape = tuple(int(length) for length in shape)
        self.dtype = np.dtype(dtype)
        self.file_path = file_path
        self.num_samples = self.shape[0]
        self.row_values = int(np.prod(self.shape[1:], dtype=np.int64))

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)``."""
        values = np.empty((stop - start,) + self.shape[1:], dtype=self.storage)
        offset = self.offset + start * self.row_values * self.storage.itemsize
        if pread_into(self.file.descriptor, values, offset) != values.nbytes:
            raise SourceFormatError(self.file_path, "shrank while being read", "the file to stay as it was")
        return values.astype(self.dtype, copy=False)

    def __getitem__(self, key):
        if key == () or key is Ellipsis:
            return np.asarray(self)
        if not (isinstance(key, tuple) and len(key) > 1 and isinstance(key[0], slice)):
            return super().__getitem__(key)
        rows, rest = range(self.num_samples)[key[0]], (slice(None),) + key[1:]
        if rows.step != 1:
            return super().__getitem__(key)
        # a part of each row (e.g. one plane's ROIs): read whole rows a few MiB at a time, keep the part
        step = max(1, SUB_BLOCK_BYTES // max(1, self.row_values * self.storage.itemsize))
        part = self.read(rows.start, min(rows.start + step, rows.stop))[rest]
        values = np.empty((len(rows),) + part.shape[1:], dtype=part.dtype)
        values[: len(part)] = part
        for start in range(rows.start + step, rows.stop, step):
            stop = min(start + step, rows.stop)
            values[start - rows.start : stop - rows.start] = self.read(start, stop)[rest]
        return values

    def __repr__(self) -> str:
        return f"DiskArray(shape={self.shape}, dtype={self.dtype})"


class Inflater:
    """The zlib stream of the ``miCOMPRESSED`` element whose ``count`` bytes start at ``start`` of an open file,
    inflated incrementally."""

    def __init__(self, descriptor: int, start: int, count: int):
        self.descriptor = descriptor
        self.position = start
        self.remaining = count
        self.count = count
        self.decompressor = zlib.decompressobj()
        self.tail = b""

    def _step(self, limit: int) -> bytes:
        """At most ``limit`` more bytes of output (empty at the end of the stream or of the input)."""
        while True:
            if self.tail:
                try:
                    output = self.decompressor.decompress(self.tail, limit)
                except zlib.error as exc:
                    raise Damaged(f"a compressed variable's zlib stream is damaged ({exc})") from None
                self.tail = self.decompressor.unconsumed_tail
                if output:
                    return output
                if self.tail:  # no output from input left over: the stream cannot go on
                    raise Damaged("a compressed variable's zlib stream stops making progress")
            if not self.remaining or self.decompressor.eof:
                return b""
            chunk = pread_exactly(self.descriptor, min(INPUT_STEP_BYTES, self.remaining), self.position)
            if not chunk:
                raise Damaged(f"the file ends at byte {self.position}, inside a compressed variable")
            self.position += len(chunk)
            self.remaining -= len(chunk)
            self.tail = chunk

    def _parts(self, length: int) -> Iterator[bytes]:
        """The next ``length`` bytes of output, a bounded step at a time (fewer if the stream ends first)."""
        done = 0
        while done < length:
            part = self._step(min(OUTPUT_STEP_BYTES, length - done))
            if not part:
                return
            done += len(part)
            yield part

    def take(self, length: int) -> bytes:
        """The next ``length`` bytes of output, or fewer if the stream ends first."""
        return b"".join(self._parts(length))

    def check_declared(self, total: int) -> None:
        """Refuse a declared inflated size that zlib cannot produce from the compressed bytes."""
        if total > MAX_INFLATE_RATIO * self.count + 1024:
            raise Damaged(f"a compressed variable of {self.count} bytes declares {total} bytes, more than zlib can "
                          "inflate it to")

    def spill(self, head: bytes, total: int, file_path: Path, name: str) -> FileSource:
        """An unlinked temporary file holding ``head`` and the rest of the output, ``total`` bytes in all (``name``:
        the variable, named if it is damaged)."""
        try:
            spill = tempfile.TemporaryFile(prefix="nwb_conversions_mat_")
        except OSError as exc:
            raise _spill_error(file_path, exc) from None
        try:
            spill.write(head)
            written = len(head)
            for part in self._parts(total - written):
                spill.write(part)
                written += len(part)
            spill.flush()
        except OSError as exc:
            spill.close()
            raise _spill_error(file_path, exc) from None
        except Damaged as damage:
            spill.close()
            damage.where = damage.where or name
            raise
        if written < total:
            spill.close()
            raise Damaged(f"inflates to {written} bytes but declares {total}", name)
        return FileSource(spill, total)


def _spill_error(file_path: Path, exc: OSError) -> SourceFormatError:
    folder = tempfile.gettempdir()
    return SourceFormatError(
        file_path,
        f"its compressed variable could not be inflated into a temporary file in {folder} ({exc.strerror or exc})",
        "room for it there, or TMPDIR set to a folder with room",
    )
