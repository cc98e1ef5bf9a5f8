"""Headerless, sample-interleaved binary recordings, memory-mapped and checked against their declared layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SourceFormatError


def open_interleaved_binary(file_path: str | Path, *, num_channels: int, dtype: str | np.dtype) -> np.memmap:
    """Memory-map a headerless binary written sample-major (all channels of sample 0, then of sample 1, ...).

    Parameters
    ----------
    file_path : str or Path
        The ``.bin`` file.
    num_channels : int
        Channels per sample.
    dtype : str or numpy.dtype
        The stored sample type; little-endian is assumed where the byte order is not given (x86 acquisition).

    Returns
    -------
    numpy.memmap
        Read-only, shape ``(num_samples, num_channels)``. Nothing is loaded until sliced.

    Raises
    ------
    SourceFormatError
        If the file is missing, empty, or its size is not a whole number of samples.
    """
    file_path = Path(file_path)
    dtype = np.dtype(dtype).newbyteorder("<") if np.dtype(dtype).byteorder == "=" else np.dtype(dtype)
    if not file_path.is_file():
        raise SourceFormatError(file_path, "no such file", f"a {dtype.name} binary with {num_channels} channel(s)")
    frame_bytes = num_channels * dtype.itemsize
    size = file_path.stat().st_size
    if size == 0 or size % frame_bytes:
        raise SourceFormatError(
            file_path,
            f"size {size} bytes is not a whole number of samples",
            f"a non-zero multiple of {num_channels} channels × {dtype.itemsize} bytes = {frame_bytes} bytes "
            f"({dtype.name}, sample-interleaved)",
        )
    return np.memmap(file_path, dtype=dtype, mode="r", shape=(size // frame_bytes, num_channels))
