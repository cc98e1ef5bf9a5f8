"""Fill an empty, chunked HDF5 dataset from a large source array, a chunk row at a time.

Memory stays bounded by one row of chunks, whatever the length of the recording.
"""

from __future__ import annotations

import sys

import h5py
import numpy as np


def _progress_bar(total: int, description: str, enabled: bool | None):
    """Return a tqdm bar (bytes) when enabled, or when ``enabled`` is None and stderr is a terminal."""
    from tqdm.auto import tqdm

    if enabled is None:
        enabled = sys.stderr.isatty()
    return tqdm(total=total, unit="B", unit_scale=True, desc=description, disable=not enabled, leave=False)


def fill_dataset(dataset: h5py.Dataset, source, *, compression: str = "gzip", progress: bool | None = None) -> None:
    """Copy ``source`` into ``dataset`` (same shape and dtype), one chunk row at a time.

    Parameters
    ----------
    dataset : h5py.Dataset
        An empty chunked dataset with its filters set.
    source : array-like
        Sliceable along the first axis (``numpy.memmap`` or a view of one).
    compression : str
        The ``--compression`` choice the dataset was created with.
    progress : bool, optional
        Show a progress bar; default: when stderr is a terminal.
    """
    if tuple(dataset.shape) != tuple(source.shape):
        raise ValueError(f"dataset shape {dataset.shape} differs from the source's {source.shape}")
    rows_per_block = dataset.chunks[0]
    row_bytes = int(np.prod(source.shape[1:], dtype=np.int64)) * dataset.dtype.itemsize
    with _progress_bar(source.shape[0] * row_bytes, dataset.name.rsplit("/", 2)[-2], progress) as bar:
        for start in range(0, source.shape[0], rows_per_block):
            stop = min(start + rows_per_block, source.shape[0])
            dataset[start:stop] = np.asarray(source[start:stop])
            bar.update((stop - start) * row_bytes)
