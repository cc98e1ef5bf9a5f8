"""A series' time basis: explicit timestamps, or a start time and a rate when the timestamps are regular."""

from __future__ import annotations

import numpy as np

#: Timestamps whose differences agree to this many decimals (of a second) are regular: nwbinspector's criterion.
REGULAR_DECIMALS = 9


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
