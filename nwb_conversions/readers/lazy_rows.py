"""What every lazy ``(samples, ...)`` reader shares: numpy-style indexing along the first axis, read on demand."""

from __future__ import annotations

import numpy as np


class LazyRows:
    """First-axis indexing, ``len``, ``ndim`` and ``numpy.asarray`` for a reader that reads samples on demand.

    A subclass provides ``num_samples``, ``shape`` and ``read(start, stop)`` (samples ``[start, stop)`` as a numpy
    array); indexing reads just the samples asked for (``reader[start:stop]``, optionally with an index or slice
    of the other axes as further keys).
    """

    num_samples: int

    def read(self, start: int, stop: int) -> np.ndarray:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return len(self.shape)

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, key):
        rows, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if isinstance(rows, (int, np.integer)):
            index = int(rows) + (self.num_samples if rows < 0 else 0)
            if not 0 <= index < self.num_samples:
                raise IndexError(f"sample {rows} out of range for {self.num_samples} samples")
            block = self.read(index, index + 1)[0]
            return block[rest] if rest else block
        if not isinstance(rows, slice):
            raise TypeError("index the first axis with an integer or a slice")
        start, stop, step = rows.indices(self.num_samples)
        block = self.read(start, stop)[::step] if step > 0 else np.asarray(self)[rows]
        return block[(slice(None),) + rest] if rest else block

    def __array__(self, dtype=None, copy=None):
        data = self.read(0, self.num_samples)
        return data.astype(dtype) if dtype is not None else data
