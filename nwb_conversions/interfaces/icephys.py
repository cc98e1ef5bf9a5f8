"""What the pipette interfaces share: the series class of each recording mode and the ``Icephys`` metadata block."""

from __future__ import annotations

from pynwb.icephys import CurrentClampSeries, VoltageClampSeries

from .schemas import DEVICE_SCHEMA, INTRACELLULAR_ELECTRODE_SCHEMA, block_schema, named_block

#: Recording mode → series class: voltage clamp records a current, current clamp a voltage.
SERIES_TYPES = {"voltage_clamp": VoltageClampSeries, "current_clamp": CurrentClampSeries}

ICEPHYS_METADATA_SCHEMA = block_schema(
    Device=DEVICE_SCHEMA,
    IntracellularElectrode=INTRACELLULAR_ELECTRODE_SCHEMA,
    PatchClampSeries=named_block("name", "description", "stimulus_description"),
)


def series_type_of(recording_mode: str) -> type:
    """Return the series class of a recording mode (:data:`SERIES_TYPES`).

    Raises
    ------
    ValueError
        For any other mode, naming the known ones.
    """
    if recording_mode not in SERIES_TYPES:
        raise ValueError(f"recording_mode must be one of {sorted(SERIES_TYPES)}, not {recording_mode!r}")
    return SERIES_TYPES[recording_mode]
