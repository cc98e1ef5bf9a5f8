"""Hostile pickles for the tests that prove a reader never unpickles: written here, never loaded.

A :class:`MarkerPayload` creates a file when unpickled, so a test can assert that the file does not exist after the
reader refused the source. The ``.npy`` bytes are assembled from NumPy's header and a pickle *dump*; nothing here
loads a pickle.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np


class MarkerPayload:
    """Unpickling this creates ``marker``: proof that a pickle was (or was not) run."""

    def __init__(self, marker: str | Path):
        self.marker = Path(marker)

    def __reduce__(self):
        return Path.touch, (self.marker,)

    def run(self) -> None:
        """Do what unpickling would do, without unpickling (to show the payload works)."""
        function, arguments = self.__reduce__()
        function(*arguments)


def object_npy_bytes(array: np.ndarray) -> bytes:
    """The bytes ``np.save`` writes for an object array: the ``.npy`` header, then the pickled array."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, np.lib.format.header_data_from_array_1_0(array))
    pickle.dump(array, buffer, protocol=3)
    return buffer.getvalue()


def payload_npy_bytes(marker: str | Path, count: int = 1) -> bytes:
    """An object ``.npy`` of ``count`` :class:`MarkerPayload` s."""
    array = np.empty(count, dtype=object)
    array[:] = [MarkerPayload(marker) for _ in range(count)]
    return object_npy_bytes(array)
