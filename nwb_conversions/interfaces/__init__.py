"""NeuroConv data interfaces, one per source format. Each reads its format and adds NWB objects; nothing else."""

from .allen_oephys_h5 import AllenOephysRecordingInterface
from .intan_amplifier_binary import IntanAmplifierBinaryInterface
from .juxtacellular_spikes import JuxtacellularSpikeDetectionInterface
from .juxtacellular_trace import JuxtacellularTraceInterface
from .neuropixels_binary import NeuropixelsBinaryInterface
from .spe1_arrow_cell import SPE1ArrowCellInterface
from .spike_samples import SpikeSamplesInterface
from .sync_channel import SyncChannelInterface

__all__ = [
    "AllenOephysRecordingInterface",
    "IntanAmplifierBinaryInterface",
    "JuxtacellularSpikeDetectionInterface",
    "JuxtacellularTraceInterface",
    "NeuropixelsBinaryInterface",
    "SPE1ArrowCellInterface",
    "SpikeSamplesInterface",
    "SyncChannelInterface",
]
