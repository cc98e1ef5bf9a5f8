"""The ``(time, ROI)`` traces of one imaging plane of an SSC-11 subvolume, read lazily in blocks of time from the
``caTSA`` matrices (an HDF5 dataset of a v7.3 file, a MATLAB 5 file's bytes on disk, or an array in memory)."""

from __future__ import annotations

import numpy as np


class PlaneTraces:
    """The ``(time, ROI)`` traces of one plane's ROIs, read lazily in blocks of time.

    Parameters
    ----------
    matrix : array-like, shape (time, ROI)
        ``CalciumImaging.raw_f`` or ``.dff``: read on demand when large (an HDF5 dataset of a v7.3 file, a
        :class:`~nwb_conversions.readers.mat_v5_disk.DiskArray` of a MATLAB 5 file), else a numpy view.
    columns : ndarray of int
        The plane's ROIs' columns, in the plane's ROI order.
    num_frames : int, optional
        Only the first frames (``--stub``).
    """

    def __init__(self, matrix, columns: np.ndarray, num_frames: int | None = None):
        self.matrix = matrix
        self.columns = np.asarray(columns, dtype=np.int64)
        frames = int(matrix.shape[0]) if num_frames is None else min(int(num_frames), int(matrix.shape[0]))
        self.shape = (frames, self.columns.size)
        self.dtype = np.dtype(matrix.dtype)
        columns = self.columns
        contiguous = columns.size and np.array_equal(columns, np.arange(columns[0], columns[-1] + 1))
        self._column_slice = slice(int(self.columns[0]), int(self.columns[-1]) + 1) if contiguous else None

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, selection) -> np.ndarray:
        rows = range(self.shape[0])[selection]
        if not isinstance(rows, range) or rows.step != 1:
            raise IndexError("PlaneTraces supports contiguous row slices only")
        block = slice(rows.start, rows.stop)
        if self._column_slice is not None:
            return np.asarray(self.matrix[block, self._column_slice], dtype=self.dtype)
        return np.asarray(self.matrix[block], dtype=self.dtype)[:, self.columns]

    def __array__(self, dtype=None, copy=None):
        values = self[:]
        return values.astype(dtype) if dtype is not None else values
