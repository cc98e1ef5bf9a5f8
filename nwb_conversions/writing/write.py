"""Fill an empty, chunked HDF5 dataset from a large source array: compress chunks in parallel, write them directly.

The fast path, for datasets whose filter pipeline is the standard HDF5 shuffle + gzip (or gzip alone, or none), is a
pipeline of three stages that run at the same time, so that none waits on another:

1. a reader thread fills a few preallocated chunk-row buffers (e.g. 1 s × all channels) from the source: through its
   ``read_into(start, stop, out)`` when it has one (:class:`nwb_conversions.readers.binary.InterleavedBinary`
   ``readinto``-s the file straight into the buffer), ``read_direct`` for an ``h5py.Dataset``, else by slicing
   (:mod:`nwb_conversions.writing.row_reader`);
2. a pool of threads pads each chunk of a row to the full chunk shape (edge chunks), byte-shuffles it exactly as
   HDF5's shuffle filter does and deflates it into a zlib stream with fast encoders (ISA-L, libdeflate or zlib;
   all release the GIL), which is what HDF5's gzip filter decodes, so every HDF5 reader opens the file without
   plugins (:mod:`nwb_conversions.writing.encode`);
3. the calling thread writes the finished chunks in order with ``write_direct_chunk``, bypassing HDF5's own
   (single-threaded) filters, and hands a row's buffer back to the reader once its last chunk is written. Only
   this thread ever calls h5py on the output.

Memory is bounded by the row buffers, the threads' work buffers and the chunks in flight, which share one budget
(:mod:`nwb_conversions.writing.in_flight`), flat in the recording's length and in the number of cores. The encoder
is picked from the data: the first chunks are also compressed unshuffled and with a faster recipe. The rest of the
dataset is stored unshuffled if that came out over 1 % smaller (those chunks carry a filter mask that tells HDF5 to
skip the shuffle when reading), else with the faster recipe if its chunks were at most 1 % larger than the preferred
recipe's, else with the preferred recipe. Any other filter pipeline (Blosc/zstd from hdf5plugin, fletcher32, ...) is
written through h5py's normal path, a chunk row at a time. A failure in the reader, a worker or a write cancels the
chunks not yet started, stops the reader and re-raises.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator

import h5py
import numpy as np

from .cores import usable_cores
from .encode import FAST_RECIPE_SIZE_TOLERANCE, ChunkEncoder, direct_chunk_encoder, fast_alternative
from .in_flight import InFlight, memory_budget_bytes, plan_in_flight
from .recycle import WrittenPageRecycler
from .row_reader import Row, RowReader

#: Environment variable that overrides the number of compression threads (default: the usable CPU cores).
WORKERS_ENVIRONMENT_VARIABLE = "NWB_CONVERSIONS_WORKERS"

#: Chunks of the first row compressed both shuffled and unshuffled to choose how to store the dataset.
PROBE_CHUNKS = 4

#: Unshuffled chunks are chosen only when the probed chunks come out at least this much smaller than shuffled ones:
#: shuffled is the layout every reader expects, so a negligible gain does not justify the per-chunk filter mask.
MINIMUM_GAIN_WITHOUT_SHUFFLE = 0.01


def default_worker_count() -> int:
    """Return the number of compression threads: ``$NWB_CONVERSIONS_WORKERS``, else the usable CPU cores (affinity
    and control-group quota, :func:`nwb_conversions.writing.cores.usable_cores`)."""
    configured = os.environ.get(WORKERS_ENVIRONMENT_VARIABLE)
    if configured:
        return max(1, int(configured))
    return usable_cores()


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
    memory_mb: float | None = None,
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
        Compression threads at most; default: :func:`default_worker_count`.
    memory_mb : float, optional
        The budget for data in flight, in MB (:func:`nwb_conversions.writing.in_flight.memory_budget_bytes`); fewer
        threads are used when their buffers would not fit.

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
    recycler = WrittenPageRecycler.for_h5py_file(dataset.file)  # either way, written pages are recycled
    with _progress_bar(total_bytes, description, progress) as bar:
        if encoder is None:
            _write_through_h5py(dataset, source, bar, recycler)
        else:
            fast = fast_alternative(encoder, compression)
            plan = _plan_for(dataset, source, workers or default_worker_count(), memory_budget_bytes(memory_mb))
            _write_chunks_in_parallel(dataset, source, encoder, fast, bar, recycler, plan)


def _write_through_h5py(dataset: h5py.Dataset, source, bar, recycler: WrittenPageRecycler) -> None:
    """Write chunk rows with h5py's normal path (HDF5 applies the filters itself)."""
    rows_per_write = dataset.chunks[0] if dataset.chunks else 65_536
    for row_start in range(0, source.shape[0], rows_per_write):
        rows = source[row_start : row_start + rows_per_write]
        if not isinstance(rows, np.ndarray) or rows.dtype != dataset.dtype:
            rows = np.asarray(rows, dtype=dataset.dtype)
        dataset[row_start : row_start + rows.shape[0]] = rows
        bar.update(rows.nbytes)
        recycler.file_grew()


def _plan_for(dataset: h5py.Dataset, source, threads: int, budget_bytes: int) -> InFlight:
    """The threads, row buffers and window of chunks for writing ``source`` into ``dataset`` within the budget."""
    chunk_shape = tuple(dataset.chunks)
    row_bytes = math.prod((chunk_shape[0],) + tuple(source.shape[1:])) * dataset.dtype.itemsize
    chunk_bytes = math.prod(chunk_shape) * dataset.dtype.itemsize
    chunks_per_row = math.prod(math.ceil(length / step) for length, step in zip(source.shape[1:], chunk_shape[1:]))
    return plan_in_flight(budget_bytes, row_bytes, chunk_bytes, chunks_per_row, threads)


@dataclass
class _PendingChunk:
    """A chunk submitted for encoding: its row, where it goes, how many source bytes it holds, its encodings."""

    row: Row
    offset: tuple[int, ...]
    source_bytes: int
    future: Future
    filter_mask: int
    probes: dict[str, Future] = field(default_factory=dict)


def _write_chunks_in_parallel(
    dataset: h5py.Dataset,
    source,
    encoder: ChunkEncoder,
    fast: ChunkEncoder | None,
    bar,
    recycler: WrittenPageRecycler,
    plan: InFlight,
) -> None:
    """Read rows in a thread, encode chunks in a pool, write them in order from this thread, a bounded window.

    The first :data:`PROBE_CHUNKS` chunks are also compressed unshuffled and with the ``fast`` encoder;
    :func:`_choose_encoder` picks the encoder for the rest from those sizes.
    """
    chunk_shape = tuple(dataset.chunks)
    reader = RowReader(source, dataset.dtype, chunk_shape[0], plan.row_buffers)
    probe_encoders = {"unshuffled": encoder.without_shuffle(), "fast": fast}
    probe_encoders = {name: probe for name, probe in probe_encoders.items() if probe not in (None, encoder)}
    pending: deque[_PendingChunk] = deque()
    with ThreadPoolExecutor(max_workers=plan.threads, thread_name_prefix="chunk-encoder") as executor:
        try:
            for row in reader.rows():
                probed = []
                for offset, block in _chunks_of_row(row.rows, row.start, chunk_shape):
                    row.chunks_left += 1
                    future = executor.submit(encoder.encode, block, chunk_shape)
                    chunk = _PendingChunk(row, offset, block.nbytes, future, encoder.filter_mask)
                    if row.start == 0 and probe_encoders and len(probed) < PROBE_CHUNKS:
                        for name, probe in probe_encoders.items():
                            chunk.probes[name] = executor.submit(probe.encode, block, chunk_shape)
                        probed.append(chunk)
                    pending.append(chunk)
                if probed:
                    encoder = _choose_encoder(encoder, probe_encoders, probed)
                    for chunk in probed:
                        chunk.probes.clear()  # the probes' chunks are not needed any more: free their memory
                while len(pending) >= plan.window:
                    _write_oldest(dataset, pending, bar, reader)
                recycler.file_grew()
            while pending:
                _write_oldest(dataset, pending, bar, reader)
        except BaseException:
            for chunk in pending:
                for future in (chunk.future, *chunk.probes.values()):
                    future.cancel()
            raise
        finally:
            reader.stop()


def _choose_encoder(
    preferred: ChunkEncoder, probe_encoders: dict[str, ChunkEncoder], probed: list[_PendingChunk]
) -> ChunkEncoder:
    """Return the encoder for the rest of the dataset from the probed chunks' sizes.

    Unshuffled, if those chunks came out clearly smaller that way (they are then stored unshuffled too); else the
    fast encoder if its chunks are at most :data:`FAST_RECIPE_SIZE_TOLERANCE` larger than ``preferred``'s; else
    ``preferred``.
    """

    def total(name: str) -> int:
        if name == "preferred":
            return sum(len(chunk.future.result()) for chunk in probed)
        results = [chunk.probes[name].result() for chunk in probed]
        return sum(result if isinstance(result, int) else len(result) for result in results)

    preferred_bytes = total("preferred")
    if "unshuffled" in probe_encoders and total("unshuffled") < (1 - MINIMUM_GAIN_WITHOUT_SHUFFLE) * preferred_bytes:
        unshuffled = probe_encoders["unshuffled"]
        for chunk in probed:
            chunk.future, chunk.filter_mask = chunk.probes["unshuffled"], unshuffled.filter_mask
        return unshuffled
    if "fast" in probe_encoders and total("fast") <= (1 + FAST_RECIPE_SIZE_TOLERANCE) * preferred_bytes:
        return probe_encoders["fast"]
    return preferred


def _write_oldest(dataset: h5py.Dataset, pending: deque[_PendingChunk], bar, reader: RowReader) -> None:
    """Wait for the oldest submitted chunk and write it (re-raises its worker's exception); free its row if done."""
    chunk = pending.popleft()
    dataset.id.write_direct_chunk(chunk.offset, chunk.future.result(), chunk.filter_mask)
    bar.update(chunk.source_bytes)
    chunk.row.chunks_left -= 1
    if chunk.row.chunks_left == 0:
        reader.release(chunk.row)


def _chunks_of_row(
    rows: np.ndarray, row_start: int, chunk_shape: tuple[int, ...]
) -> Iterator[tuple[tuple[int, ...], np.ndarray]]:
    """Yield ``(chunk offset in the dataset, view of rows)`` for every chunk in one chunk row."""
    trailing_starts = [range(0, length, step) for length, step in zip(rows.shape[1:], chunk_shape[1:])]
    for starts in itertools.product(*trailing_starts):
        selection = (slice(None),) + tuple(slice(start, start + step) for start, step in zip(starts, chunk_shape[1:]))
        yield (row_start,) + starts, rows[selection]
