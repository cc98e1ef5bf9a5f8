"""HDF5's byte shuffle, made outside HDF5: the bytes of a chunk's elements grouped by significance.

:func:`byte_shuffle` lays a chunk out exactly as HDF5's shuffle filter does (all first bytes, then all second bytes,
...), so that :mod:`nwb_conversions.writing.encode` can deflate shuffled chunks in parallel threads and HDF5 reads
them back. Each thread works in its own reusable buffers (:func:`thread_buffer`).
"""

from __future__ import annotations

import math
import sys
import threading

import numpy as np

#: Each encoding thread's reusable buffers (the shuffled chunk, a small gather buffer), so that no chunk-sized array
#: is allocated, and page-faulted in, per chunk.
_scratch = threading.local()


def thread_buffer(name: str, nbytes: int) -> np.ndarray:
    """Return this thread's uint8 buffer ``name`` of at least ``nbytes`` (grown when needed), first ``nbytes`` only."""
    buffer = getattr(_scratch, name, None)
    if buffer is None or buffer.size < nbytes:
        buffer = np.empty(nbytes, dtype=np.uint8)
        setattr(_scratch, name, buffer)
    return buffer[:nbytes]


#: Elements of a strided block gathered at a time before they are shuffled (256 KiB of int16: stays in cache).
GATHER_ELEMENTS = 131_072


def byte_shuffle(block: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Byte-shuffle ``block`` like HDF5's shuffle filter: return (item size × elements) uint8, all first bytes first.

    Plane ``j`` holds byte ``j`` (in memory order) of every element in C order, cut out of the elements with a
    shift and a truncating cast, which numpy vectorizes. A strided block (e.g. 64 of 384 channels) is gathered
    :data:`GATHER_ELEMENTS` at a time into a small contiguous buffer first: casting a strided view runs numpy's
    buffered inner loop once per row (64 elements), and gather-then-shuffle is ~2.5× faster. ``out``, a C-contiguous
    uint8 array of (item size, elements), receives the planes instead of a new array.
    """
    itemsize = block.dtype.itemsize
    if out is None:
        out = np.empty((itemsize, block.size), dtype=np.uint8)
    if block.flags.c_contiguous:
        _shuffle_contiguous(block.reshape(-1), out)
        return out
    row_elements = math.prod(block.shape[1:])
    rows_per_part = max(1, GATHER_ELEMENTS // max(1, row_elements))
    staging = thread_buffer("gather", rows_per_part * row_elements * itemsize).view(block.dtype)
    for first_row in range(0, block.shape[0], rows_per_part):
        part = block[first_row : first_row + rows_per_part]
        contiguous = staging[: part.size].reshape(part.shape)
        np.copyto(contiguous, part)
        first, stop = first_row * row_elements, first_row * row_elements + part.size
        _shuffle_contiguous(contiguous.reshape(-1), out[:, first:stop])
    return out


def _shuffle_contiguous(elements: np.ndarray, planes: np.ndarray) -> None:
    """Write byte ``j`` of each of the 1-D, contiguous ``elements`` to ``planes[j]`` (item size × len(elements))."""
    itemsize = elements.dtype.itemsize
    byte_order = elements.dtype.byteorder if elements.dtype.byteorder in "<>" else "="
    unsigned = elements.view(np.dtype(f"u{itemsize}").newbyteorder(byte_order))
    little_endian = is_little_endian(elements.dtype)
    for plane_index in range(itemsize):
        shift = 8 * (plane_index if little_endian else itemsize - 1 - plane_index)
        if shift == 0:
            np.copyto(planes[plane_index], unsigned, casting="unsafe")
        else:
            np.right_shift(unsigned, shift, out=planes[plane_index], casting="unsafe")


def is_little_endian(dtype: np.dtype) -> bool:
    """Whether the least significant byte of ``dtype`` comes first in memory."""
    return dtype.byteorder == "<" or (dtype.byteorder in "=|" and sys.byteorder == "little")
