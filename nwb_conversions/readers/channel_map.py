"""Probe channel maps: Kilosort-style ``chanMap.mat`` and headerless ``channel,x,y`` CSV files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .mat import read_mat_variables


def read_kilosort_channel_map(file_path: str | Path, *, num_channels: int) -> np.ndarray:
    """Read the ``xcoords``/``ycoords`` of a Kilosort ``chanMap.mat`` (v5 or v7.3).

    Returns
    -------
    numpy.ndarray
        Shape ``(num_channels, 2)``, x and y in µm, row i for channel i.

    Raises
    ------
    SourceFormatError
        If the file is unreadable, lacks the coordinates, or has another channel count.
    """
    expected = f"a Kilosort chanMap.mat with xcoords and ycoords for {num_channels} channels"
    variables = read_mat_variables(file_path, ("xcoords", "ycoords"))
    if "xcoords" not in variables or "ycoords" not in variables:
        raise SourceFormatError(file_path, "no xcoords/ycoords variables", expected)
    x, y = (np.asarray(variables[name], dtype=float).ravel() for name in ("xcoords", "ycoords"))
    if x.size != num_channels or y.size != num_channels:
        raise SourceFormatError(file_path, f"{x.size} x and {y.size} y coordinates", expected)
    positions = np.column_stack([x, y])
    if not np.all(np.isfinite(positions)):
        raise SourceFormatError(file_path, "non-finite coordinates", expected)
    return positions


def read_channel_map_csv(file_path: str | Path, *, num_channels: int, allow_missing: bool = False) -> np.ndarray:
    """Read a headerless ``channel,x,y`` CSV (0-based channels, µm) into a ``(num_channels, 2)`` array.

    Parameters
    ----------
    file_path : str or Path
        The CSV file.
    num_channels : int
        Channels of the recording; rows must lie in ``0..num_channels - 1``.
    allow_missing : bool, default: False
        Accept channels without a row (a probe's site with no known position); their x/y are NaN.

    Raises
    ------
    SourceFormatError
        If rows are malformed, channels are repeated, or (unless ``allow_missing``) channels are missing.
    """
    expected = f"{num_channels} rows 'channel,x,y' covering channels 0..{num_channels - 1}"
    positions = np.full((num_channels, 2), np.nan)
    try:
        with open(file_path, newline="", encoding="utf-8") as stream:
            for row in csv.reader(stream):
                if not row:
                    continue
                channel, x, y = int(row[0]), float(row[1]), float(row[2])
                if not 0 <= channel < num_channels or not np.isnan(positions[channel, 0]):
                    raise ValueError(f"channel {channel} out of range or repeated")
                positions[channel] = (x, y)
    except (OSError, ValueError, IndexError) as exc:
        raise SourceFormatError(file_path, f"unreadable channel map ({exc})", expected)
    if np.isnan(positions).any() and not allow_missing:
        raise SourceFormatError(file_path, f"{int(np.isnan(positions[:, 0]).sum())} channels missing", expected)
    return positions
