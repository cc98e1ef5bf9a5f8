"""NWB objects of the SPE-1 Arrow cell that may meet the raw SPE-1 recording's in one file: the probe's electrodes
(shared with the raw series when both are written) and the benchmark's ground-truth unit with its template."""

from __future__ import annotations

import numpy as np
from neuroconv.tools.nwb_helpers import get_module
from pynwb import NWBFile
from pynwb.core import DynamicTableRegion
from pynwb.misc import Units

from .electrodes import add_probe_electrodes


def probe_electrodes(
    nwbfile: NWBFile, extracellular: dict, positions_um: np.ndarray, columns: dict[str, tuple[str, np.ndarray]]
) -> DynamicTableRegion:
    """Return the region of the probe's electrodes: added now, or the rows another interface (the raw recording)
    added for the same electrode group, with ``columns`` the table lacks added to them.

    Parameters
    ----------
    extracellular : dict
        The ``Extracellular`` block (``Device``, ``ElectrodeGroup``, ``electrode_location``).
    positions_um : numpy.ndarray
        ``(channels, 2)`` x/y in µm; existing rows must hold the same positions.
    columns : dict
        ``{name: (description, one value per channel)}``.

    Raises
    ------
    ValueError
        If the existing group's rows are not the probe's channels at these positions, or are not the whole table.
    """
    group_name = extracellular["ElectrodeGroup"]["name"]
    if group_name not in nwbfile.electrode_groups:
        return add_probe_electrodes(
            nwbfile,
            device_metadata=extracellular["Device"],
            group_metadata=extracellular["ElectrodeGroup"],
            positions_um=positions_um,
            electrode_location=extracellular.get("electrode_location", "unknown"),
            extra_columns=columns,
        )
    table = nwbfile.electrodes
    rows = [row for row, group in enumerate(table["group"].data) if group.name == group_name]
    existing = np.column_stack([np.asarray(table["rel_x"].data)[rows], np.asarray(table["rel_y"].data)[rows]])
    if len(rows) != len(table) or not np.array_equal(existing, positions_um):
        raise ValueError(f"electrode group {group_name} holds other electrodes than this probe's {len(positions_um)}")
    for name, (description, values) in columns.items():
        if name not in table.colnames:
            nwbfile.add_electrode_column(name=name, description=description, data=list(values))
    return nwbfile.create_electrode_table_region(region=rows, description=f"electrodes of {group_name}")


#: The benchmark unit's own columns, from ``conversion_metadata.json``.
BENCHMARK_UNIT_COLUMNS = {
    "gt_electrode": "gt_electrode_chan_idx: 0-based channel closest to the pipette tip (the localization target)",
    "peak_channel": "unit_peak_channel: 0-based channel where the release lists the unit's spikes",
    "location_um": "unit_locations_um: (x, y, z) µm of the ground-truth electrode, the localization target",
}


def add_benchmark_unit(
    nwbfile: NWBFile,
    units_block: dict,
    ground_truth_block: dict,
    *,
    spike_times: np.ndarray,
    template,
    metadata,
    electrode_region: DynamicTableRegion,
) -> Units:
    """Add the ground-truth unit with its template; to ``units``, or to ``processing/ecephys`` if ``units`` is taken.

    Parameters
    ----------
    units_block : dict
        ``Benchmark/Units``: the table's name (used in ``processing/ecephys``) and description.
    ground_truth_block : dict
        ``GroundTruthUnit``: per-cell facts (``columns``) shared with the raw SPE-1 unit.
    spike_times : numpy.ndarray
        Seconds on the recording's clock.
    template : Templates
        ``templates.npz``; ``waveform_mean`` is its first unit, samples × channels, in µV.
    metadata : ConversionMetadata
    electrode_region : DynamicTableRegion
        The probe's electrodes: the unit's ``electrodes`` (the template's channel order).
    """
    rate = metadata.sampling_frequency
    table = Units(
        name="units" if nwbfile.units is None else units_block["name"],
        description=units_block["description"],
        resolution=1.0 / rate,
        waveform_rate=template.sampling_frequency,
        waveform_unit="microvolts",
        waveform_time_before_peak_in_ms=1000.0 * template.nbefore / template.sampling_frequency,
        electrode_table=nwbfile.electrodes,
    )
    if nwbfile.units is None:
        nwbfile.units = table
    else:
        get_module(nwbfile, "ecephys", "processed extracellular electrophysiology").add(table)
    values = {
        "gt_electrode": metadata.gt_electrode,
        "peak_channel": metadata.peak_channels[0],
        "location_um": np.asarray(metadata.locations_um[0], dtype=float),
    }
    descriptions = dict(BENCHMARK_UNIT_COLUMNS)
    for name, column in (ground_truth_block.get("columns") or {}).items():
        if column["value"] is not None and name not in values:
            values[name], descriptions[name] = column["value"], column["description"]
    for name in values:
        table.add_column(name=name, description=descriptions[name])
    table.add_unit(
        spike_times=np.asarray(spike_times, dtype=float),
        electrodes=list(electrode_region.data),
        waveform_mean=np.asarray(template.templates[0]),
        **values,
    )
    return table
