"""The SPE-1 converter: the Neuropixels recording, the patch trace, sync channels and ground truth of one cell,
with the patch clock's rate set from the two streams' lengths."""

from __future__ import annotations

from datetime import timezone

from neuroconv import NWBConverter

from ...interfaces import (
    JuxtacellularTraceInterface,
    NeuropixelsBinaryInterface,
    SpikeSamplesInterface,
    SyncChannelInterface,
)
from ...interfaces.neuropixels_binary import NUM_CHANNELS, SAMPLING_FREQUENCY

#: Neither the time of day nor the time zone is documented: the Data Summary gives the date only.
PLACEHOLDER_TIMEZONE = timezone.utc

#: Largest relative difference allowed between the length-ratio patch rate and the Data Summary's (0.1 %: whole
#: sample cropping of a 1 s recording stays far below it; a patch file cut to half its length does not).
PATCH_RATE_TOLERANCE = 1e-3

#: Schema of the ``Cell`` block: per-cell facts from the Data Summary, or from the user for a cell absent from it.
CELL_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "patch_type": {"type": "string", "pattern": r"^\s*(?i:juxta|wc)\s*,\s*(?i:vc|ic)\s*$"},
        "cell_type": {"type": "string"},
        "chan_predicted": {"type": "integer", "minimum": 0, "maximum": NUM_CHANNELS - 1},
        "chan_highest": {"type": "integer", "minimum": 0, "maximum": NUM_CHANNELS - 1},
        "distance_um": {"type": "number", "minimum": 0},
        "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "patch_sampling_frequency": {"type": "number", "minimum": 1000, "maximum": 1e6},
    },
}


class SPE1Converter(NWBConverter):
    """Neuropixels recording, patch trace, sync channels and ground-truth spikes of one SPE-1 cell."""

    data_interface_classes = dict(
        Recording=NeuropixelsBinaryInterface,
        Patch=JuxtacellularTraceInterface,
        SyncNeuropixels=SyncChannelInterface,
        SyncPatch=SyncChannelInterface,
        GroundTruth=SpikeSamplesInterface,
    )

    def get_metadata_schema(self) -> dict:
        """Add the ``Cell`` block (per-cell facts) to the interfaces' schemas."""
        schema = super().get_metadata_schema()
        schema["properties"]["Cell"] = CELL_SCHEMA
        return schema

    def patch_sampling_frequency(self) -> float:
        """30 kHz × len(patch) / len(npx): the streams are pre-aligned and span the same time."""
        interfaces = self.data_interface_objects
        return SAMPLING_FREQUENCY * interfaces["Patch"].num_samples / interfaces["Recording"].num_samples

    def temporally_align_data_interfaces(self, metadata: dict | None = None, conversion_options: dict | None = None):
        """Put the patch-clock streams (trace, patch sync, spike samples) on the length-ratio rate."""
        rate = self.patch_sampling_frequency()
        for name in ("Patch", "SyncPatch", "GroundTruth"):
            if name in self.data_interface_objects:
                self.data_interface_objects[name].sampling_frequency = rate


