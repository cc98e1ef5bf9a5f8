"""SPE-2 ``amplifier<timestamp>.bin``: an Intan RHD2000 polytrode recording, 32 or 128 channels sample-interleaved.

The dtype and scaling come from the recording's ``READ ME.docx`` (see :mod:`nwb_conversions.layouts.spe2.readme_docx`):
most recordings store uint16 counts, volts = (count − 32768) × 0.195e-6; ``2014_03_26_Pair_2_0`` stores float32 µV.
Either way the stored values are written as they are, with NWB's ``conversion``/``offset``.

Probe geometry (``metadata/spe2_probe_32ch.csv``, ``metadata/spe2_probe_128ch.csv``; 0-based Intan channel → x, y
in µm; the file's channel index is an amplifier channel, not a geometric order, so every channel is placed through
the probe's map):

* 32 channels, NeuroNexus poly32nn: **[C]** the full map of spyking-circus ``probes/kampff_32.prb``. Cross-checked
  against A. Barnett's site order from the release's ``Map_32electrodes.pdf`` (sorted by depth, the map gives his
  order exactly) and the channel → position pairs of the project's format notes. **[?]** The column x-offset
  (18 µm in the prb; 21.65 µm in Barnett's scripts).
* 128 channels, IMEC / NeuroSeeker passive probe, 4 × 32 sites at 22.5 µm pitch: **[C]** the 127 positions of
  spyking-circus ``probes/kampff_128.prb``, which all agree with MEAutility ``Neuroseeker-128-Kampff`` (sortlist,
  pitch 22.5). **[?]** Channel 17 has no position in the prb (dead or unconnected is not documented): it is kept,
  with NaN ``rel_x``/``rel_y`` and ``has_known_position`` False. **[I]** MEAutility's sortlist would put it in the
  prb's one vacant slot (67.5, 0); not used. **[?]** Pitch 22.5 µm vs the 25 µm of J. Neto's distance script.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from ..metadata.assembly import deep_update
from ..readers.channel_map import read_channel_map_csv
from ..resources import shipped_metadata_dir
from .binary_recording import InterleavedBinaryRecordingInterface

#: Intan RHD2000 amplifier step: 0.195 µV per count, 0 V at count 32768 (uint16).
INTAN_VOLTS_PER_COUNT = 0.195e-6
INTAN_ZERO_COUNT = 32768


@dataclass(frozen=True)
class ProbeLayout:
    """A polytrode used in SPE-2: its geometry file (under ``metadata/``) and documented description.

    Attributes
    ----------
    geometry_file : str
        Headerless ``channel,x,y`` CSV (µm); channels without a row have no known position.
    device : dict
        ``Device`` metadata (name, description, model).
    group_description : str
        The electrode group's description.
    """

    geometry_file: str
    device: dict
    group_description: str


#: The two probes of SPE-2, by channel count.
PROBE_LAYOUTS = {
    32: ProbeLayout(
        geometry_file="spe2_probe_32ch.csv",
        device=dict(
            name="Poly32nnProbe",
            description=(
                "NeuroNexus poly32nn silicon polytrode: 32 circular sites (7.5 µm radius, about 177 µm²) in 3 "
                "staggered columns with 25 µm vertical pitch; recorded with an Intan RHD2000 amplifier"
            ),
            model=dict(name="poly32nn", manufacturer="NeuroNexus"),
        ),
        group_description=(
            "the poly32nn shank; rel_x/rel_y (µm) from spyking-circus kampff_32.prb (x in {-18, 0, 18}, y from 0 at "
            "channel 0 down to -275)"
        ),
    ),
    128: ProbeLayout(
        geometry_file="spe2_probe_128ch.csv",
        device=dict(
            name="NeuroSeeker128Probe",
            description=(
                "IMEC / NeuroSeeker passive 128-channel silicon probe: 4 columns × 32 rows of 20 × 20 µm square "
                "sites at 22.5 µm pitch; recorded with an Intan RHD2000 amplifier"
            ),
            model=dict(manufacturer="imec"),
        ),
        group_description=(
            "the 128-channel shank; rel_x/rel_y (µm) from spyking-circus kampff_128.prb (x in {0, 22.5, 45, 67.5}, "
            "y 0 to 697.5); channel 17 has no known position (NaN)"
        ),
    ),
}


def probe_layout(num_channels: int, file_path: str | Path) -> ProbeLayout:
    """Return the probe of a channel count.

    Raises
    ------
    SourceFormatError
        If no SPE-2 probe has that many channels (no geometry is known for it).
    """
    if num_channels not in PROBE_LAYOUTS:
        raise SourceFormatError(
            file_path,
            f"{num_channels} amplifier channels, for which no probe geometry is known",
            f"{' or '.join(str(count) for count in PROBE_LAYOUTS)} channels (poly32nn or the 128-channel probe)",
        )
    return PROBE_LAYOUTS[num_channels]


class IntanAmplifierBinaryInterface(InterleavedBinaryRecordingInterface):
    """An SPE-2 amplifier file, with the geometry of its probe (chosen by the channel count).

    Parameters
    ----------
    file_path : str or Path
        ``amplifier<timestamp>.bin``.
    num_channels : int
        32 or 128 (``Probe_numChannels``).
    dtype : str, default: "uint16"
        ``Probe_dtype``: ``uint16`` (Intan counts) or ``float32`` (µV).
    sampling_frequency : float, default: 30000.0
    conversion : float, default: 0.195e-6
        Volts per stored value.
    offset : float, default: -32768 × 0.195e-6
        Volts at stored value 0.
    """

    display_name = "SPE-2 Intan amplifier binary"
    associated_suffixes = (".bin",)
    info = "32- or 128-channel Intan polytrode recording (Neto et al. 2016)."

    def __init__(
        self,
        file_path: str | Path,
        *,
        num_channels: int,
        dtype: str = "uint16",
        sampling_frequency: float = 30_000.0,
        conversion: float = INTAN_VOLTS_PER_COUNT,
        offset: float = -INTAN_ZERO_COUNT * INTAN_VOLTS_PER_COUNT,
        verbose: bool = False,
    ):
        self.probe = probe_layout(num_channels, file_path)
        super().__init__(
            file_path,
            num_channels=num_channels,
            dtype=dtype,
            sampling_frequency=sampling_frequency,
            conversion=conversion,
            offset=offset,
            verbose=verbose,
        )
        self.positions_um = read_channel_map_csv(
            shipped_metadata_dir() / self.probe.geometry_file, num_channels=num_channels, allow_missing=True
        )

    def default_metadata(self) -> dict:
        """Add the probe's device and electrode group (documented descriptions) to the binary recording's defaults."""
        return deep_update(
            super().default_metadata(),
            {
                "Extracellular": {
                    "Device": dict(self.probe.device),
                    "ElectrodeGroup": {
                        "name": "Polytrode",
                        "description": self.probe.group_description,
                        "location": "unknown",
                    },
                }
            },
        )

    def electrode_positions_um(self) -> np.ndarray:
        """x/y in µm per file channel, through the probe's map; NaN for a channel with no known position."""
        return self.positions_um

    def electrode_columns(self) -> dict[str, tuple[str, np.ndarray]]:
        """Flag the channels whose position is known (all but channel 17 of the 128-channel probe)."""
        return {
            "has_known_position": (
                "False for a channel with no position in the probe's geometry file (channel 17 of the 128-channel "
                "probe is excluded from kampff_128.prb; whether it is dead or unconnected is not documented)",
                np.isfinite(self.positions_um).all(axis=1),
            )
        }
