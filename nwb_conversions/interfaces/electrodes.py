"""Devices, electrode groups and electrodes tables with probe geometry (``rel_x``/``rel_y``), shared by probes."""

from __future__ import annotations

import numpy as np
from pynwb import NWBFile
from pynwb.core import DynamicTableRegion
from pynwb.device import Device


def get_or_create_device(nwbfile: NWBFile, device_metadata: dict) -> Device:
    """Return the device named in ``device_metadata``, creating it (and its ``DeviceModel``) if the file lacks it.

    Parameters
    ----------
    nwbfile : NWBFile
    device_metadata : dict
        A ``Device`` block (:data:`~nwb_conversions.interfaces.schemas.DEVICE_SCHEMA`): ``name``, ``description``,
        ``serial_number`` and ``model`` (``manufacturer``, ``model_number``, ``description``, ``name``; the name
        defaults to ``<device name>Model``).
    """
    name = device_metadata["name"]
    if name in nwbfile.devices:
        return nwbfile.devices[name]
    fields = {key: value for key, value in device_metadata.items() if value is not None}
    model = fields.pop("model", None)
    if model:
        model = {"name": f"{name}Model", **model}
        fields["model"] = (
            nwbfile.device_models[model["name"]]
            if model["name"] in nwbfile.device_models
            else nwbfile.create_device_model(**model)
        )
    return nwbfile.create_device(**fields)


def add_probe_electrodes(
    nwbfile: NWBFile,
    *,
    device_metadata: dict,
    group_metadata: dict,
    positions_um: np.ndarray,
    electrode_location: str = "unknown",
    extra_columns: dict[str, tuple[str, np.ndarray]] | None = None,
    channel_names: list[str] | None = None,
) -> DynamicTableRegion:
    """Add one probe's electrodes (one row per recorded channel, in file order) and return the region of its rows.

    Parameters
    ----------
    nwbfile : NWBFile
        The file to add to.
    device_metadata, group_metadata : dict
        Keyword arguments of ``Device`` and ``ElectrodeGroup`` (``name``, ``description``, ``location``, ...).
    positions_um : numpy.ndarray
        ``(num_channels, 2)`` x/y in µm, written as ``rel_x``/``rel_y``; NaN where a channel has no known position.
    electrode_location : str
        The brain area of each electrode, where known.
    extra_columns : dict, optional
        ``{name: (description, values)}`` columns with one value per channel.
    channel_names : list of str, optional
        One name per channel (SpikeInterface uses them as channel ids); default ``"0"``, ``"1"``, ...
    """
    device = get_or_create_device(nwbfile, device_metadata)
    group = nwbfile.create_electrode_group(device=device, **group_metadata)
    extra_columns = extra_columns or {}
    num_channels = len(positions_um)
    channel_names = channel_names or [str(index) for index in range(num_channels)]
    existing = set(nwbfile.electrodes.colnames) if nwbfile.electrodes is not None else set()
    for name, description in [("channel_name", "the channel's name in the source file")] + [
        (name, description) for name, (description, _) in extra_columns.items()
    ]:
        if name not in existing:
            nwbfile.add_electrode_column(name=name, description=description)
    first_row = len(nwbfile.electrodes) if nwbfile.electrodes is not None else 0
    for channel in range(num_channels):
        nwbfile.add_electrode(
            group=group,
            location=electrode_location,
            rel_x=float(positions_um[channel, 0]),
            rel_y=float(positions_um[channel, 1]),
            channel_name=channel_names[channel],
            **{name: values[channel] for name, (_, values) in extra_columns.items()},
        )
    return nwbfile.create_electrode_table_region(
        region=list(range(first_row, first_row + num_channels)), description=f"electrodes of {group.name}"
    )
