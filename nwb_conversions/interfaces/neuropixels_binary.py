"""SPE-1 Neuropixels binary ``cNN_npx_raw.bin``: 384 channels of int16, sample-interleaved, 30 kHz, no header.

Gain: 10-bit ADC, ±0.6 V range, AP gain 500, so 1.2 V / 1024 / 500 = 2.34375 µV per count; the release is already
offset-subtracted, so offset 0. Geometry comes from a Kilosort ``chanMap.mat`` or a ``channel,x,y`` CSV.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from ..metadata.assembly import deep_update
from ..readers.channel_map import read_channel_map_csv, read_kilosort_channel_map
from .binary_recording import InterleavedBinaryRecordingInterface

NUM_CHANNELS = 384
SAMPLING_FREQUENCY = 30_000.0
VOLTS_PER_COUNT = 1.2 / 1024 / 500  # 2.34375e-6

#: Neuropixels 3A internal reference sites (0-based); Kilosort marks them unconnected.
REFERENCE_SITES = (36, 75, 112, 151, 188, 227, 264, 303, 340, 379)


class NeuropixelsBinaryInterface(InterleavedBinaryRecordingInterface):
    """The SPE-1 Neuropixels AP-band binary, with its channel map.

    Parameters
    ----------
    file_path : str or Path
        ``cNN_npx_raw.bin``.
    channel_map_path : str or Path
        A Kilosort ``chanMap.mat`` or a headerless ``channel,x,y`` CSV (µm) for the 384 channels.
    """

    display_name = "SPE-1 Neuropixels binary"
    associated_suffixes = (".bin",)
    info = "384-channel int16 Neuropixels AP band (Marques-Smith et al. 2018)."

    def __init__(self, file_path: str | Path, channel_map_path: str | Path, verbose: bool = False):
        super().__init__(
            file_path,
            num_channels=NUM_CHANNELS,
            dtype="int16",
            sampling_frequency=SAMPLING_FREQUENCY,
            conversion=VOLTS_PER_COUNT,
            verbose=verbose,
        )
        self.source_data["channel_map_path"] = str(channel_map_path)
        channel_map_path = Path(channel_map_path)
        if channel_map_path.suffix.lower() == ".mat":
            self.positions_um = read_kilosort_channel_map(channel_map_path, num_channels=NUM_CHANNELS)
        elif channel_map_path.suffix.lower() == ".csv":
            self.positions_um = read_channel_map_csv(channel_map_path, num_channels=NUM_CHANNELS)
        else:
            raise SourceFormatError(channel_map_path, "unknown channel map format", "a chanMap.mat or a .csv")

    def default_metadata(self) -> dict:
        """Name the probe and its shank (the release's documented device; details in ``metadata/spe1.yaml``)."""
        return deep_update(
            super().default_metadata(),
            {
                "Extracellular": {
                    "Device": {
                        "name": "NeuropixelsProbe",
                        "description": "Neuropixels probe: 384 recorded sites, AP band at 30 kHz",
                        "model": {"manufacturer": "imec"},
                    },
                    "ElectrodeGroup": {"name": "NeuropixelsShank", "description": "the probe's single shank"},
                }
            },
        )

    def electrode_positions_um(self) -> np.ndarray:
        """The channel map's x/y in µm."""
        return self.positions_um

    def electrode_columns(self) -> dict[str, tuple[str, np.ndarray]]:
        """Flag the 10 Neuropixels 3A internal reference sites."""
        is_reference = np.zeros(NUM_CHANNELS, dtype=bool)
        is_reference[list(REFERENCE_SITES)] = True
        return {
            "is_reference_site": (
                "True for the 10 Neuropixels 3A internal reference sites (0-based 36 75 112 151 188 227 264 303 340 "
                "379), which carry no neural signal",
                is_reference,
            )
        }
