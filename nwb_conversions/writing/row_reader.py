"""The reader stage of the parallel chunk writer: a thread that reads a source's chunk rows into reused buffers.

:class:`RowReader` fills a fixed set of preallocated chunk-row buffers (e.g. 1 s × all channels) in order, ahead of
the writer, with the fastest copy the source offers (:func:`row_filler`): its ``read_into(start, stop, out)`` (the
:class:`nwb_conversions.readers.binary.InterleavedBinary` ``readinto``-s the file straight into the buffer),
``read_direct`` for an ``h5py.Dataset``, else slicing. A buffer is read into again only once the writer hands it
back, so memory stays flat in the source's length.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import h5py
import numpy as np


def row_filler(source, dtype: np.dtype) -> Callable[[int, int, np.ndarray], None]:
    """Return ``fill(start, stop, out)`` copying source rows ``[start, stop)`` into the preallocated ``out``.

    Uses the source's ``read_into(start, stop, out)`` when it has one, ``read_direct`` for an ``h5py.Dataset`` of the
    same dtype, else first-axis slicing (any array-like: numpy arrays and memory maps, other lazy readers).
    """
    if callable(getattr(source, "read_into", None)) and np.dtype(source.dtype) == dtype:
        return lambda start, stop, out: source.read_into(start, stop, out)
    if isinstance(source, h5py.Dataset) and source.dtype == dtype:
        return lambda start, stop, out: source.read_direct(out, np.s_[start:stop], np.s_[0 : stop - start])

    def fill_by_slicing(start: int, stop: int, out: np.ndarray) -> None:
        rows = np.asarray(source[start:stop])
        if rows.shape != out.shape:
            raise ValueError(f"rows {start}:{stop} of the source have shape {rows.shape}; expected {out.shape}")
        np.copyto(out, rows, casting="unsafe")

    return fill_by_slicing


@dataclass
class Row:
    """One chunk row read into a buffer: where it starts, the buffer, and its rows (a view of the buffer)."""

    start: int
    buffer: np.ndarray
    rows: np.ndarray
    chunks_left: int = 0


class RowReader:
    """A thread that reads chunk rows of ``source`` into a fixed set of buffers, in order, ahead of the writer.

    :meth:`rows` yields them; :meth:`release` hands a buffer back once its row is written; :meth:`stop` ends the
    thread early. A read error is re-raised from :meth:`rows`.
    """

    _END = object()

    def __init__(self, source, dtype: np.dtype, rows_per_chunk: int, buffer_count: int):
        self.fill = row_filler(source, dtype)
        self.row_count = source.shape[0]
        self.rows_per_chunk = rows_per_chunk
        self.free: queue.Queue = queue.Queue()
        for _ in range(buffer_count):
            self.free.put(np.empty((rows_per_chunk,) + tuple(source.shape[1:]), dtype=dtype))
        self.filled: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._read_all, name="chunk-row-reader", daemon=True)

    def _read_all(self) -> None:
        try:
            for start in range(0, self.row_count, self.rows_per_chunk):
                buffer = self.free.get()
                if self.stopping.is_set():
                    return
                stop = min(start + self.rows_per_chunk, self.row_count)
                rows = buffer[: stop - start]
                self.fill(start, stop, rows)
                self.filled.put(Row(start, buffer, rows))
            self.filled.put(self._END)
        except BaseException as error:  # handed to the writer thread, which re-raises it
            self.filled.put(error)

    def rows(self) -> Iterator[Row]:
        """Yield the rows in order as they are read."""
        self.thread.start()
        while True:
            item = self.filled.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def release(self, row: Row) -> None:
        """Give the buffer of a written row back to the reader."""
        self.free.put(row.buffer)

    def stop(self) -> None:
        """Make the reader thread finish without reading further, and wait for it."""
        self.stopping.set()
        self.free.put(None)  # wakes it if it waits for a buffer
        if self.thread.is_alive():
            self.thread.join()
