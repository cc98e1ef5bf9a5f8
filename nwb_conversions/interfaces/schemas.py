"""Metadata schemas of the pynwb objects the interfaces create, derived from pynwb's own signatures.

NeuroConv's :func:`~neuroconv.utils.get_schema_from_hdmf_class` reads a class's docval, so a schema here cannot
drift from pynwb. Links to other objects (``device``) are dropped: the interface makes them. Devices follow NWB 2.9:
manufacturer and model number live on a ``DeviceModel`` (the ``model`` block), not on the deprecated ``Device``
fields.
"""

from __future__ import annotations

from neuroconv.utils import get_schema_from_hdmf_class
from pynwb.device import Device, DeviceModel
from pynwb.ecephys import ElectrodeGroup
from pynwb.icephys import IntracellularElectrode

#: Device fields that NWB 2.9 deprecates in favour of ``DeviceModel``.
DEPRECATED_DEVICE_FIELDS = ("manufacturer", "model_number", "model_name")


def pynwb_schema(neurodata_type: type, *, drop: tuple[str, ...] = (), required: tuple[str, ...] | None = None) -> dict:
    """Return the JSON schema of a pynwb class's constructor arguments.

    Parameters
    ----------
    neurodata_type : type
        A pynwb class, e.g. ``IntracellularElectrode``.
    drop : tuple of str
        Arguments the interface sets itself (links such as ``device``) or that are deprecated.
    required : tuple of str, optional
        The required arguments; default: pynwb's, less the dropped ones.
    """
    schema = get_schema_from_hdmf_class(neurodata_type)
    schema.pop("tag", None)
    for name in drop:
        schema["properties"].pop(name, None)
    schema["required"] = list(required if required is not None else (n for n in schema["required"] if n not in drop))
    return schema


def block_schema(**properties: dict) -> dict:
    """Schema of a metadata block that holds these properties (name → schema) and nothing else."""
    return {"type": "object", "additionalProperties": False, "properties": properties}


def named_block(*strings: str, positive_numbers: tuple[str, ...] = ()) -> dict:
    """Schema of a block of free-text fields and positive numbers, nothing else (e.g. a series' name/description)."""
    properties = {name: {"type": "string"} for name in strings}
    properties.update({name: {"type": "number", "exclusiveMinimum": 0} for name in positive_numbers})
    return block_schema(**properties)


#: ``model:`` inside a ``Device`` block; its name defaults to ``<device name>Model``.
DEVICE_MODEL_SCHEMA = pynwb_schema(DeviceModel, required=("manufacturer",))

#: A ``Device`` block: pynwb's Device less its deprecated fields, plus ``model`` (a DeviceModel).
DEVICE_SCHEMA = pynwb_schema(Device, drop=DEPRECATED_DEVICE_FIELDS)
DEVICE_SCHEMA["properties"]["model"] = DEVICE_MODEL_SCHEMA

#: An ``IntracellularElectrode`` block (the device is linked by the interface).
INTRACELLULAR_ELECTRODE_SCHEMA = pynwb_schema(IntracellularElectrode, drop=("device",), required=("name",))

#: An ``ElectrodeGroup`` block (the device is linked by the interface).
ELECTRODE_GROUP_SCHEMA = pynwb_schema(ElectrodeGroup, drop=("device", "position"))
