"""Reading the tables of an open NWB file for the quicklook: whole small columns, ragged columns and their index,
regions into other tables, and the ground-truth unit's spike times, each checked (:mod:`.checks`).

A ragged column states each row's end twice over: its index ends at the length of its values, and never decreases.
A region's rows lie within the table it points into. Spike times are finite and within any recording's reach.
"""

from __future__ import annotations

import numpy as np

from .checks import (
    NUMBER_KINDS,
    MalformedContent,
    bounded,
    disagreement,
    location,
    read_numbers,
    read_whole,
    require_numbers,
    require_rows,
    require_times,
)
from .reading import object_path


def column_where(table, name: str) -> str:
    """The path of a table's column, e.g. ``/units/spike_times``."""
    return f"{object_path(table)}/{name}"


def column_values(table, name: str) -> np.ndarray | None:
    """A whole (small) column of numbers, or None when the table has no such column."""
    if table is None or name not in table.colnames:
        return None
    return read_whole(table[name].data, column_where(table, name))


def numeric_column(table, name: str) -> np.ndarray | None:
    """A whole column when it holds numbers; None when it is absent or holds anything else (an optional column
    whose meaning the schema does not fix, such as a unit's ``depth``)."""
    if table is None or name not in table.colnames:
        return None
    data = table[name].data
    if np.dtype(getattr(data, "dtype", object)).kind not in NUMBER_KINDS or len(data.shape) != 1:
        return None
    return read_whole(data, column_where(table, name))


def ragged_column(table, name: str, *, numbers: bool = True) -> tuple:
    """The stored values (lazy) of a ragged column and each row's ``(start, stop)`` in them, checked.

    ``table[name]`` of a ragged column is its ``VectorIndex``, whose ``target`` holds the values. The index must be
    whole numbers that never decrease and end at the length of the values (a fact stated twice).
    """
    index = table[name]
    values = index.target.data
    values_where = location(values, column_where(table, name))
    if numbers:
        require_numbers(values, values_where)
    index_where = location(index.data, column_where(table, f"{name}_index"))
    stops = read_whole(index.data, index_where, integers=True).astype(np.int64)
    if len(stops) and (stops[0] < 0 or np.any(np.diff(stops) < 0)):
        row = 0 if stops[0] < 0 else int(np.flatnonzero(np.diff(stops) < 0)[0]) + 1
        raise MalformedContent(index_where, f"goes back to {stops[row]} at row {row}",
                               "row ends that never decrease")
    last = int(stops[-1]) if len(stops) else 0
    if last != len(values):
        raise disagreement(index_where, f"ends at {last}", values_where, f"holds {len(values)} values")
    starts = np.concatenate([[0], stops])[: len(stops)]
    return values, np.column_stack([starts, stops]).astype(np.int64)


def read_rows_of(values, first: int, stop: int, where: str) -> np.ndarray:
    """Values ``first:stop`` of a ragged column's values (a bounded read)."""
    return read_numbers(values, slice(int(first), int(stop)), where, count=int(stop) - int(first))


def spike_times_column(units) -> tuple:
    """The units table's spike times: the stored values (lazy), each unit's ``(start, stop)`` in them (checked,
    :func:`ragged_column`), and the values' path."""
    values, bounds = ragged_column(units, "spike_times")
    return values, bounds, location(values, column_where(units, "spike_times"))


def unit_spike_times(units, row: int) -> np.ndarray:
    """One unit's spike times (s), read as one checked slice of the ragged column."""
    values, bounds, where = spike_times_column(units)
    first, stop = bounds[row]
    return require_times(read_rows_of(values, first, stop, where), where)


def ground_truth_spike_times(nwbfile) -> np.ndarray | None:
    """The spike times of the file's ground-truth cell: its units table's only unit, else None."""
    units = nwbfile.units
    if units is None or len(units) != 1:
        return None
    return unit_spike_times(units, 0)


def region_rows(region, where: str) -> np.ndarray:
    """The rows of a ``DynamicTableRegion``, checked to lie in the table it points into."""
    data_where = location(region.data, where)
    rows = read_whole(region.data, data_where, integers=True)
    table = region.table
    return require_rows(rows, len(table), data_where, f"{object_path(table)}")


def table_length(table) -> int:
    """A table's number of rows, refused (as a note) when too many to read its columns whole."""
    length = len(table)
    bounded(length, object_path(table))
    return length
