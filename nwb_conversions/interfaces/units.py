"""Ground-truth units: one ``units`` row per recorded cell, with per-cell facts as columns. Shared by datasets."""

from __future__ import annotations

import numpy as np
from pynwb import NWBFile
from pynwb.misc import Units

from .schemas import block_schema

GROUND_TRUTH_UNIT_SCHEMA = block_schema(
    description={"type": "string"},
    columns={
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "required": ["description", "value"],
            "additionalProperties": False,
            "properties": {"description": {"type": "string"}, "value": {}},
        },
    },
)


def add_ground_truth_unit(nwbfile: NWBFile, spike_times: np.ndarray, unit_metadata: dict, *, resolution: float) -> bool:
    """Add one unit with its spike times (s) and the columns of ``unit_metadata["columns"]``.

    A unit without spikes is not written (it says nothing, and nwbinspector's unit checks fail on it); the caller
    says so in a note.

    Parameters
    ----------
    nwbfile : NWBFile
    spike_times : numpy.ndarray
        Sorted spike times in seconds.
    unit_metadata : dict
        ``{"description": str, "columns": {name: {"description": str, "value": scalar}}}``; columns whose value is
        None are left out.

    Returns
    -------
    bool
        Whether the unit was written (False when ``spike_times`` is empty).
    """
    if len(spike_times) == 0:
        return False
    columns = {name: col for name, col in (unit_metadata.get("columns") or {}).items() if col["value"] is not None}
    if nwbfile.units is None:
        nwbfile.units = Units(
            name="units", description=unit_metadata.get("description", "ground-truth units"), resolution=resolution
        )
    for name, column in columns.items():
        if name not in nwbfile.units.colnames:
            nwbfile.add_unit_column(name=name, description=column["description"])
    nwbfile.add_unit(spike_times=np.asarray(spike_times, dtype=float), **{n: c["value"] for n, c in columns.items()})
    return True
