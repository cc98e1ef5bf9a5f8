"""A series' time basis: explicit timestamps, or a start time and a rate when the timestamps are regular.

:func:`time_basis` judges timestamps held in memory; :func:`regular_timing` reads lazy ones (e.g. a ``.npz``
member read in slices) block by block. Both use nwbinspector's criterion (:data:`REGULAR_DECIMALS`).
"""

from __future__ import annotations

import numpy as np

#: Timestamps whose differences agree to this many decimals (of a second) are regular: nwbinspector's criterion.
REGULAR_DECIMALS = 9

#: Timestamps read per step while checking regularity.
TIMESTAMP_BLOCK = 1 << 20


def time_basis(timestamps: np.ndarray) -> dict:
    """Return ``{"starting_time", "rate"}`` for regular timestamps, else ``{"timestamps": timestamps}``.

    NWB's best practice (and nwbinspector's ``check_regular_timestamps``) asks for a rate when the sampling is
    regular to the nanosecond; irregular or gapped clocks (e.g. imaging trial by trial) keep their timestamps.
    """
    timestamps = np.asarray(timestamps, dtype=np.float64)
    if timestamps.size > 2:
        differences = np.unique(np.diff(timestamps).round(REGULAR_DECIMALS))
        if differences.size == 1 and differences[0] > 0:
            rate = (timestamps.size - 1) / (timestamps[-1] - timestamps[0])
            return {"starting_time": float(timestamps[0]), "rate": float(rate)}
    return {"timestamps": timestamps}


def regular_timing(timestamps) -> dict | None:
    """``{starting_time, rate}`` equivalent to ``timestamps`` if their steps are all equal (to
    :data:`REGULAR_DECIMALS` decimals, as nwbinspector judges), else None. Reads the timestamps block by block."""
    count = len(timestamps)
    if count < 3:
        return None
    steps = set()
    for start in range(0, count - 1, TIMESTAMP_BLOCK):
        block = np.asarray(timestamps[start : start + TIMESTAMP_BLOCK + 1], dtype=np.float64)
        steps.update(np.unique(np.round(np.diff(block), REGULAR_DECIMALS)).tolist())
        if len(steps) > 1:
            return None
    first, last = float(timestamps[0]), float(timestamps[count - 1])
    return dict(starting_time=first, rate=(count - 1) / (last - first)) if last > first else None
