"""Checks of a trace's samples that are cheap enough to run before a conversion: NaN and infinite values.

A float trace may hold NaN or ±inf (a dropped buffer, an amplifier saturation written as inf). They are valid NWB
data, so they are not an error, but the file's notes must say so. :func:`non_finite_note` scans blocks of the
trace through first-axis slicing (any lazy array: ``InterleavedBinary``, ``numpy.memmap``, ``h5py.Dataset``, an
in-memory array): either all of it, or evenly spaced blocks for a cheap sampled check of a large binary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Samples per block read (along the first axis).
BLOCK_SAMPLES = 65_536

#: Blocks read for a sampled check (the first and the last are always among them).
SAMPLED_BLOCKS = 32


def _block_starts(num_samples: int, block_samples: int, num_blocks: int | None) -> np.ndarray:
    starts = np.arange(0, num_samples, block_samples)
    if num_blocks is None or starts.size <= num_blocks:
        return starts
    return starts[np.unique(np.linspace(0, starts.size - 1, num_blocks).round().astype(int))]


def non_finite_note(
    trace,
    file_path: str | Path,
    *,
    name: str = "the trace",
    num_blocks: int | None = SAMPLED_BLOCKS,
    block_samples: int = BLOCK_SAMPLES,
) -> str | None:
    """Describe NaN or infinite samples in a trace in one line; None if every sample read is finite.

    Parameters
    ----------
    trace : array-like
        Anything with ``.shape``, ``.dtype`` and first-axis slicing that returns numpy arrays.
    file_path : str or Path
        The file the trace comes from, named in the note.
    name : str, default: "the trace"
        What the trace is, e.g. ``"'ephys_raw'"`` or ``"the patch trace"``.
    num_blocks : int or None, default: :data:`SAMPLED_BLOCKS`
        Read this many evenly spaced blocks (first and last included); None reads the whole trace.
    block_samples : int, default: :data:`BLOCK_SAMPLES`
        Samples (first-axis rows) per block.

    Returns
    -------
    str or None
        ``"<file>: <name> holds <n> NaN and <m> infinite sample(s) of <k> read (first at sample <i>)"``, saying
        when only a sample of the trace was read; None for integer traces (they cannot hold either).
    """
    dtype = np.dtype(trace.dtype)
    if dtype.kind not in "fc" or not trace.shape or trace.shape[0] == 0:
        return None
    num_samples = int(trace.shape[0])
    starts = _block_starts(num_samples, block_samples, num_blocks)
    nans = infinities = read = 0
    first = None
    for start in starts:
        block = np.asarray(trace[int(start) : int(start) + block_samples])
        read += block.shape[0]
        is_nan = np.isnan(block)
        is_inf = np.isinf(block)
        nans += int(is_nan.sum())
        infinities += int(is_inf.sum())
        if first is None and (nans or infinities):
            bad = (is_nan | is_inf).reshape(block.shape[0], -1).any(axis=1)
            first = int(start) + int(np.flatnonzero(bad)[0])
    if not (nans or infinities):
        return None
    scope = "all" if read == num_samples else f"{read} sampled of {num_samples}"
    return (
        f"{file_path}: {name} holds {nans} NaN and {infinities} infinite value(s) in {scope} samples "
        f"(first at sample {first})"
    )
