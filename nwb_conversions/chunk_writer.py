"""Fill an empty, chunked HDF5 dataset from a large source array: compress chunks in parallel, write them directly.

The fast path, for datasets whose filter pipeline is the standard HDF5 shuffle + gzip (or gzip alone, or none):

1. the main thread reads one chunk row of the source (e.g. 1 s × all channels) by slicing it (lazy readers such as
   :class:`nwb_conversions.readers.binary.InterleavedBinary` read just those samples from disk);
2. a pool of threads pads each chunk of that row to the full chunk shape (edge chunks), byte-shuffles it exactly
   as HDF5's shuffle filter does and deflates it into a zlib stream with fast encoders (ISA-L, libdeflate or zlib;
   all release the GIL), which is what HDF5's gzip filter decodes, so every HDF5 reader opens the file without
   plugins (:mod:`nwb_conversions.chunk_encoding`);
3. the main thread writes the finished chunks in order with ``write_direct_chunk``, bypassing HDF5's own
   (single-threaded) filters. Only one thread ever calls h5py.

At most a few chunks per worker are in flight, so memory stays flat in the recording's length. Any other filter
pipeline (Blosc/zstd from hdf5plugin, fletcher32, ...) is written through h5py's normal path, a chunk row at a time.
A failure in a worker or in reading the source cancels the chunks not yet started and re-raises.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import h5py
import numpy as np

from .chunk_encoding import ChunkEncoder, direct_chunk_encoder

#: Environment variable that overrides the number of compression threads (default: the usable CPU cores).
WORKERS_ENVIRONMENT_VARIABLE = "NWB_CONVERSIONS_WORKERS"

#: Chunks submitted but not yet written, per compression thread: bounds memory (~4 MB each for 1 s × 64 channels of
#: int16). 1 leaves threads idle while the writer waits; 2 and 3 measured the same; 3 gives slack on a busy machine.
CHUNKS_IN_FLIGHT_PER_WORKER = 3


def default_worker_count() -> int:
    """Return the number of compression threads: ``$NWB_CONVERSIONS_WORKERS``, else the usable CPU cores."""
    configured = os.environ.get(WORKERS_ENVIRONMENT_VARIABLE)
    if configured:
        return max(1, int(configured))
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _progress_bar(total: int, description: str, enabled: bool | None):
    """Return a tqdm bar (bytes) when enabled, or when ``enabled`` is None and stderr is a terminal."""
    from tqdm.auto import tqdm

    if enabled is None:
        enabled = sys.stderr.isatty()
    return tqdm(total=total, unit="B", unit_scale=True, desc=description, disable=not enabled, leave=False)


def fill_dataset(
    dataset: h5py.Dataset,
    source,
    *,
    compression: str = "gzip",
    progress: bool | None = None,
    workers: int | None = None,
) -> None:
    """Copy ``source`` into ``dataset`` (same shape and dtype), one chunk row at a time.

    Parameters
    ----------
    dataset : h5py.Dataset
        An empty chunked dataset with its filters set.
    source : array-like
        Sliceable along the first axis (a lazy reader such as ``InterleavedBinary``, an ``h5py.Dataset``, an array).
    compression : str
        The ``--compression`` choice the dataset was created with; picks the encoder and level for gzip.
    progress : bool, optional
        Show a progress bar; default: when stderr is a terminal.
    workers : int, optional
        Compression threads; default: :func:`default_worker_count`.

    Raises
    ------
    ValueError
        If the shapes of ``dataset`` and ``source`` differ.
    """
    if tuple(dataset.shape) != tuple(source.shape):
        raise ValueError(f"dataset shape {dataset.shape} differs from the source's {source.shape}")
    total_bytes = int(np.prod(source.shape, dtype=np.int64)) * dataset.dtype.itemsize
    description = dataset.name.rsplit("/", 2)[-2] if dataset.name.count("/") > 1 else dataset.name
    encoder = direct_chunk_encoder(dataset, compression)
    with _progress_bar(total_bytes, description, progress) as bar:
        if encoder is None:
            _write_through_h5py(dataset, source, bar)
        else:
            _write_chunks_in_parallel(dataset, source, encoder, bar, workers or default_worker_count())


def _write_through_h5py(dataset: h5py.Dataset, source, bar) -> None:
    """Write chunk rows with h5py's normal path (HDF5 applies the filters itself)."""
    rows_per_write = dataset.chunks[0] if dataset.chunks else 65_536
    for row_start, rows in _read_chunk_rows(source, rows_per_write, dataset.dtype):
        dataset[row_start : row_start + rows.shape[0]] = rows
        bar.update(rows.nbytes)


@dataclass
class _PendingChunk:
    """A chunk submitted for encoding: where it goes and how many source bytes it holds."""

    offset: tuple[int, ...]
    source_bytes: int
    future: Future


def _write_chunks_in_parallel(dataset: h5py.Dataset, source, encoder: ChunkEncoder, bar, workers: int) -> None:
    """Encode chunks in a thread pool and write them in order from this thread, a bounded window at a time."""
    chunk_shape = tuple(dataset.chunks)
    window = max(1, workers * CHUNKS_IN_FLIGHT_PER_WORKER)
    pending: deque[_PendingChunk] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chunk-encoder") as executor:
        try:
            for row_start, rows in _read_chunk_rows(source, chunk_shape[0], dataset.dtype):
                for offset, block in _chunks_of_row(rows, row_start, chunk_shape):
                    future = executor.submit(encoder.encode, block, chunk_shape)
                    pending.append(_PendingChunk(offset, block.nbytes, future))
                    while len(pending) >= window:
                        _write_oldest(dataset, pending, bar)
            while pending:
                _write_oldest(dataset, pending, bar)
        except BaseException:
            for chunk in pending:
                chunk.future.cancel()
            raise


def _write_oldest(dataset: h5py.Dataset, pending: deque[_PendingChunk], bar) -> None:
    """Wait for the oldest submitted chunk and write it (re-raises its worker's exception)."""
    chunk = pending.popleft()
    dataset.id.write_direct_chunk(chunk.offset, chunk.future.result(), 0)
    bar.update(chunk.source_bytes)




def _chunks_of_row(
    rows: np.ndarray, row_start: int, chunk_shape: tuple[int, ...]
) -> Iterator[tuple[tuple[int, ...], np.ndarray]]:
    """Yield ``(chunk offset in the dataset, view of rows)`` for every chunk in one chunk row."""
    trailing_starts = [range(0, length, step) for length, step in zip(rows.shape[1:], chunk_shape[1:])]
    for starts in itertools.product(*trailing_starts):
        selection = (slice(None),) + tuple(slice(start, start + step) for start, step in zip(starts, chunk_shape[1:]))
        yield (row_start,) + starts, rows[selection]


def _read_chunk_rows(source, rows_per_read: int, dtype: np.dtype) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first row, rows as an array of dtype)`` along the first axis of ``source``.

    Rows are used as the source's slicing returns them (no copy when they already have the dtype). Lazy readers
    such as :class:`nwb_conversions.readers.binary.InterleavedBinary` keep memory flat; a ``numpy.memmap`` works
    too, but every page it touches stays counted in the process's resident memory until the map is closed.
    """
    for row_start in range(0, source.shape[0], rows_per_read):
        rows = source[row_start : row_start + rows_per_read]
        if not isinstance(rows, np.ndarray) or rows.dtype != dtype:
            rows = np.asarray(rows, dtype=dtype)
        yield row_start, rows
