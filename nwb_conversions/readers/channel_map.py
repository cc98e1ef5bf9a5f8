"""Probe channel maps: Kilosort-style ``chanMap.mat`` and headerless ``channel,x,y`` CSV files.

Coordinates are in µm and must be finite and within :data:`PLAUSIBLE_COORDINATE_UM` of the origin.
:func:`degenerate_geometry_note` reports a map that is valid but useless (every site at one point, or no site with
a known position), for the dataset to put in the file's notes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .mat import read_mat_variables
from .source_access import decode_utf8, format_number, one_line, read_source_bytes

#: Largest plausible distance of a site from the probe's origin, in µm (10 cm: longer than any probe).
PLAUSIBLE_COORDINATE_UM = 100_000.0

#: Largest channel-map CSV read (the 384-channel map is 6 kB).
MAX_CSV_BYTES = 1024 * 1024


def _check_coordinates(positions: np.ndarray, file_path: str | Path, expected: str) -> None:
    """Raise if a known coordinate is not finite or is implausibly far from the origin (NaN = unknown is kept)."""
    known = positions[~np.isnan(positions)]
    if known.size and not np.all(np.isfinite(known)):
        raise SourceFormatError(file_path, "infinite coordinates", expected)
    if known.size and np.abs(known).max() > PLAUSIBLE_COORDINATE_UM:
        channel, axis = np.unravel_index(int(np.nanargmax(np.abs(positions))), positions.shape)
        raise SourceFormatError(
            file_path,
            f"channel {channel} has {'xy'[axis]} = {format_number(positions[channel, axis])} µm",
            f"coordinates within ±{PLAUSIBLE_COORDINATE_UM:g} µm",
        )


def read_kilosort_channel_map(file_path: str | Path, *, num_channels: int) -> np.ndarray:
    """Read the ``xcoords``/``ycoords`` of a Kilosort ``chanMap.mat`` (v5 or v7.3).

    Returns
    -------
    numpy.ndarray
        Shape ``(num_channels, 2)``, x and y in µm, row i for channel i.

    Raises
    ------
    SourceFormatError
        If the file is unreadable, lacks the coordinates, holds them as something other than numbers (text, cells),
        has another channel count, or a coordinate is not finite or implausible.
    """
    expected = f"a Kilosort chanMap.mat with numeric xcoords and ycoords for {num_channels} channels"
    variables = read_mat_variables(file_path, ("xcoords", "ycoords"), max_elements=max(num_channels, 1) * 16)
    if "xcoords" not in variables or "ycoords" not in variables:
        raise SourceFormatError(file_path, "no xcoords/ycoords variables", expected)
    x, y = (np.asarray(variables[name], dtype=float).ravel() for name in ("xcoords", "ycoords"))
    if x.size != num_channels or y.size != num_channels:
        raise SourceFormatError(file_path, f"{x.size} x and {y.size} y coordinates", expected)
    positions = np.column_stack([x, y])
    if not np.all(np.isfinite(positions)):
        raise SourceFormatError(file_path, "non-finite coordinates", expected)
    _check_coordinates(positions, file_path, expected)
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
        If the file cannot be read, rows are malformed, channels are repeated, a coordinate is not finite or
        implausible, or (unless ``allow_missing``) channels are missing.
    """
    expected = f"{num_channels} rows 'channel,x,y' covering channels 0..{num_channels - 1}"
    text = decode_utf8(read_source_bytes(file_path, expected, max_bytes=MAX_CSV_BYTES), file_path, expected)
    positions = np.full((num_channels, 2), np.nan)
    try:
        for line, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if not row:
                continue
            if len(row) != 3:
                raise ValueError(f"line {line} has {len(row)} fields")
            channel, x, y = int(row[0]), float(row[1]), float(row[2])
            if not 0 <= channel < num_channels or not np.isnan(positions[channel, 0]):
                raise ValueError(f"line {line}: channel {channel} out of range or repeated")
            if not (np.isfinite(x) and np.isfinite(y)):
                raise ValueError(f"line {line}: channel {channel} has non-finite coordinates")
            positions[channel] = (x, y)
    except (ValueError, csv.Error) as exc:
        raise SourceFormatError(file_path, f"unreadable channel map ({one_line(exc)[:200]})", expected) from None
    _check_coordinates(positions, file_path, expected)
    if np.isnan(positions).any() and not allow_missing:
        raise SourceFormatError(file_path, f"{int(np.isnan(positions[:, 0]).sum())} channels missing", expected)
    return positions


def degenerate_geometry_note(positions: np.ndarray, file_path: str | Path) -> str | None:
    """Describe a channel map whose geometry carries no information; None when it is usable.

    Parameters
    ----------
    positions : numpy.ndarray
        ``(num_channels, 2)`` site positions in µm; NaN for a site without a known position.
    file_path : str or Path
        The map the positions come from, named in the note.

    Returns
    -------
    str or None
        One line when no site has a known position, or every site with one sits at the same point (more than one
        site); None otherwise.
    """
    positions = np.asarray(positions, dtype=float)
    known = positions[~np.isnan(positions).any(axis=1)]
    if positions.shape[0] and not known.shape[0]:
        return f"{file_path}: no channel has a known position, so the electrodes carry no geometry"
    if known.shape[0] > 1 and np.all(known == known[0]):
        x, y = (format_number(value) for value in known[0])
        return (
            f"{file_path}: all {known.shape[0]} channels with a position sit at the same point ({x}, {y}) µm, "
            "so the geometry carries no information; it was written as it is"
        )
    return None
