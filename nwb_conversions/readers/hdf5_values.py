"""Strict reading of plain numbers from HDF5 files: the file's signature, numeric vectors and scalars.

A vector may be stored 1-D, 1 × N or N × 1 (MATLAB and many loaders write row or column vectors), a scalar as a
0-D dataset or a 1-element array. Before reading, a dataset's declared size is checked against
:data:`MAX_VECTOR_BYTES` and, when stored contiguously, against the bytes the file holds for it, so a damaged header
is one :class:`~nwb_conversions.errors.SourceFormatError` rather than a huge allocation. Each function names the
dataset by its key in the messages.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from ..errors import SourceFormatError
from .source_access import check_regular_file, reading

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

#: Largest vector read into memory (2 GiB: 268 million float64 samples, hours of ephys at tens of kHz).
MAX_VECTOR_BYTES = 2**31


def check_is_hdf5(file_path: Path, expected: str) -> None:
    """Raise unless ``file_path`` is a readable regular file with the HDF5 signature.

    Raises
    ------
    SourceFormatError
        If the file is missing, not a regular file, unreadable, or not HDF5; ``expected`` says what it should be.
    """
    if not file_path.exists() and not file_path.is_symlink():
        raise SourceFormatError(file_path, "no such file", expected)
    check_regular_file(file_path, expected)
    with reading(file_path, expected):
        with open(file_path, "rb") as stream:  # permission denied is reported here, not as "not HDF5"
            signature = stream.read(len(HDF5_SIGNATURE))
        # the signature opens the file, unless a user block precedes it (then let HDF5 look for it)
        is_hdf5 = signature == HDF5_SIGNATURE or h5py.is_hdf5(file_path)
    if not is_hdf5:
        raise SourceFormatError(file_path, "not an HDF5 file (no HDF5 signature)", expected)


def _numeric(value: np.ndarray, key: str, file_path: Path, expected: str) -> np.ndarray:
    """Return ``value`` if it holds real numbers (integers or floats); raise otherwise."""
    if value.dtype.kind not in "iuf":
        raise SourceFormatError(file_path, f"'{key}' holds {value.dtype} values", expected)
    return value


def check_storage(dataset: h5py.Dataset, key: str, file_path: Path, expected: str) -> None:
    """Raise before reading a dataset that declares more than :data:`MAX_VECTOR_BYTES`, a non-numeric type, or
    (when stored contiguously) more bytes than the file holds for it: a damaged header, not data."""
    if dataset.shape is None:
        raise SourceFormatError(file_path, f"'{key}' is an empty dataspace", expected)
    if dataset.dtype.kind not in "iuf":
        raise SourceFormatError(file_path, f"'{key}' holds {dataset.dtype} values", expected)
    declared = int(np.prod(dataset.shape, dtype=object)) * dataset.dtype.itemsize
    if declared > MAX_VECTOR_BYTES:
        raise SourceFormatError(file_path, f"'{key}' declares {declared} bytes", f"{expected}, of at most 2 GiB")
    if dataset.chunks is None and declared and dataset.id.get_storage_size() != declared:
        raise SourceFormatError(
            file_path,
            f"'{key}' declares {declared} bytes but {dataset.id.get_storage_size()} are stored",
            f"{expected}, stored whole",
        )


def read_vector(dataset: h5py.Dataset, key: str, file_path: Path) -> np.ndarray:
    """Read a vector stored 1-D, 1 × N or N × 1, as a 1-D array (a view of what was read, not a copy)."""
    expected = f"'{key}' to be a numeric vector (1-D, or 2-D of shape 1 × N or N × 1)"
    check_storage(dataset, key, file_path, expected)
    value = np.asarray(dataset[()])
    if value.ndim == 1:
        vector = value
    elif value.ndim == 2 and 1 in value.shape:
        vector = value.reshape(-1)
    elif value.ndim == 0:
        raise SourceFormatError(file_path, f"'{key}' is a scalar, not a vector", expected)
    else:
        shape = " × ".join(str(n) for n in value.shape)
        raise SourceFormatError(file_path, f"'{key}' has shape {shape}, which is not a vector", expected)
    return _numeric(vector, key, file_path, expected)


def read_scalar(dataset: h5py.Dataset, key: str, file_path: Path) -> float:
    """Read a number stored as a scalar or a 1-element array."""
    expected = f"'{key}' to be one number (a scalar or a 1-element array)"
    check_storage(dataset, key, file_path, expected)
    value = np.asarray(dataset[()])
    if value.size != 1:
        raise SourceFormatError(file_path, f"'{key}' holds {value.size} values", expected)
    return float(_numeric(value, key, file_path, expected).reshape(-1)[0])
