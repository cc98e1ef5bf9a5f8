"""The plain values MATLAB files are read into (:mod:`nwb_conversions.readers.matlab`), shared by both file kinds.

A 1 × 1 struct is a ``dict``, a struct array a :class:`StructArray`, a cell array a ``list``, a char row a ``str``,
numbers a ``numpy.ndarray`` or, for large arrays, a :class:`LazyMatlabArray`. A MATLAB class object
is refused with :class:`MatlabObjectError`.
"""

from __future__ import annotations

import numpy as np

from ..errors import SourceFormatError

#: MATLAB numeric classes and their numpy dtypes.
NUMERIC_CLASSES = {
    "double": np.float64,
    "single": np.float32,
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "uint16": np.uint16,
    "int32": np.int32,
    "uint32": np.uint32,
    "int64": np.int64,
    "uint64": np.uint64,
}

#: MATLAB classes that are plain data (anything else is a class object, a function handle, ...).
PLAIN_CLASSES = frozenset(NUMERIC_CLASSES) | {"struct", "cell", "char", "logical", "sparse"}

EXPECTED = "a MATLAB .mat file (v5/v7 or v7.3) saved with plain structs, cells and arrays"


class StructArray(list):
    """A MATLAB struct array (anything but 1 × 1): a list of dicts in MATLAB's linear order.

    Attributes
    ----------
    matlab_shape : tuple of int
        The array's MATLAB dimensions.
    """

    def __init__(self, elements=(), matlab_shape: tuple[int, ...] | None = None):
        super().__init__(elements)
        self.matlab_shape = tuple(matlab_shape) if matlab_shape is not None else (1, len(self))


class MatlabObjectError(SourceFormatError):
    """A variable is a MATLAB class object, which only MATLAB can read."""


class LazyMatlabArray:
    """A numeric array read on demand, in MATLAB's orientation.

    ``shape`` is MATLAB's; ``T`` is the stored C-order array itself (its rows are MATLAB's columns), so
    ``lazy.T[a:b]`` reads only rows ``a:b`` of the transposed matrix. ``numpy.asarray(lazy)`` reads it whole.

    Parameters
    ----------
    dataset : array-like
        The stored array, shape MATLAB's reversed, read by first-axis indexing: a v7.3 file's HDF5 dataset
        (:class:`~.matlab_hdf5.CheckedDataset`) or a v5 file's bytes (:class:`~.mat_v5_disk.DiskArray`).
    dtype : numpy.dtype
    """

    def __init__(self, dataset, dtype):
        self.dataset = dataset
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(n) for n in dataset.shape[::-1])
        self.ndim = len(self.shape)

    @property
    def T(self):  # noqa: N802 - numpy's name
        """The transpose, lazily: the stored array (MATLAB 2-D arrays only)."""
        if self.ndim != 2:
            raise ValueError("the lazy transpose is defined for 2-D MATLAB arrays only")
        return self.dataset

    def __array__(self, dtype=None, copy=None):
        values = np.asarray(self.dataset[()], dtype=self.dtype).T
        return values.astype(dtype) if dtype is not None else values

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"LazyMatlabArray(shape={self.shape}, dtype={self.dtype})"


def materialize(value):
    """Return ``value`` with every :class:`LazyMatlabArray` read into memory (for comparisons and small files)."""
    if isinstance(value, LazyMatlabArray):
        return np.asarray(value)
    if isinstance(value, StructArray):
        return StructArray([materialize(item) for item in value], value.matlab_shape)
    if isinstance(value, dict):
        return {key: materialize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [materialize(item) for item in value]
    return value


def char_rows(chars: np.ndarray):
    """A MATLAB char array (rows × columns of single characters) as a string, or a list of row strings."""
    if chars.size == 0:
        return ""
    chars = chars.reshape(chars.shape[0], -1) if chars.ndim != 2 else chars
    rows = ["".join(row) for row in chars]
    return rows[0] if len(rows) == 1 else rows
