"""What the calcium-imaging interfaces build alike: the optical channel and imaging plane, and processing modules.

pynwb requires an ``emission_lambda`` and an ``excitation_lambda``; a release that does not document them gets NaN,
and the channel's or plane's description says so (unless the metadata gives the wavelength).
"""

from __future__ import annotations

import math

from pynwb import NWBFile
from pynwb.ophys import ImagingPlane, OpticalChannel

from .schemas import named_block

#: An ``OpticalChannel`` block.
OPTICAL_CHANNEL_SCHEMA = named_block("name", "description", positive_numbers=("emission_lambda",))

NOT_DOCUMENTED_WAVELENGTH = "{field} is NaN: the wavelength is not documented in the {release} release"


def sentences(*parts: str) -> str:
    """Join text parts as sentences: each ends with one period, empty parts are left out."""
    return " ".join(part.strip().rstrip(".") + "." for part in parts if part and part.strip())


def with_wavelength(block: dict, field: str, *, release: str) -> dict:
    """Return a copy of a metadata block with its wavelength ``field`` (nm) as a float.

    Parameters
    ----------
    block : dict
        An ``OpticalChannel`` or ``ImagingPlane`` block.
    field : str
        ``emission_lambda`` or ``excitation_lambda``.
    release : str
        The release named when the wavelength is not given: it is then NaN, and the description says so.
    """
    block = dict(block)
    value = block.pop(field, None)
    description = block.get("description", "")
    if value is None or math.isnan(value):
        block[field] = math.nan
        block["description"] = sentences(description, NOT_DOCUMENTED_WAVELENGTH.format(field=field, release=release))
    else:
        block[field], block["description"] = float(value), description
    return block


def add_imaging_plane(
    nwbfile: NWBFile, device, channel_block: dict, plane_block: dict, *, release: str, **fields
) -> ImagingPlane:
    """Create an imaging plane and its optical channel, wavelengths as :func:`with_wavelength` gives them.

    Parameters
    ----------
    nwbfile : NWBFile
    device : Device
        The microscope.
    channel_block, plane_block : dict
        The ``OpticalChannel`` and ``ImagingPlane`` metadata blocks.
    release : str
        Named in the descriptions of undocumented wavelengths.
    **fields
        What the interface knows of the plane beyond its block (name, imaging rate, grid spacing, origin).
    """
    channel = with_wavelength(channel_block, "emission_lambda", release=release)
    plane = with_wavelength(plane_block, "excitation_lambda", release=release)
    return nwbfile.create_imaging_plane(optical_channel=OpticalChannel(**channel), device=device, **fields, **plane)


def processing_module(nwbfile: NWBFile, name: str, description: str):
    """Return the processing module ``name``, creating it if the file lacks it."""
    if name in nwbfile.processing:
        return nwbfile.processing[name]
    return nwbfile.create_processing_module(name=name, description=description)
