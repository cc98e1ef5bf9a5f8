"""NeuroConv data interfaces, one per source format. Each reads its format and adds NWB objects; nothing else."""

from .alf_sorting import AlfSortingInterface
from .allen_oephys_h5 import AllenOephysRecordingInterface
from .intan_amplifier_binary import IntanAmplifierBinaryInterface
from .juxtacellular_spikes import JuxtacellularSpikeDetectionInterface
from .juxtacellular_trace import JuxtacellularTraceInterface
from .neuropixels_binary import NeuropixelsBinaryInterface
from .optogenetics import NpOptoStimulationInterface
from .peron_session_behavior import PeronSessionBehaviorInterface
from .peron_session_ophys import PeronSessionOphysInterface
from .spe1_arrow_cell import SPE1ArrowCellInterface
from .spike_samples import SpikeSamplesInterface
from .sync_channel import SyncChannelInterface

__all__ = [
    "AlfSortingInterface",
    "AllenOephysRecordingInterface",
    "IntanAmplifierBinaryInterface",
    "JuxtacellularSpikeDetectionInterface",
    "JuxtacellularTraceInterface",
    "NeuropixelsBinaryInterface",
    "NpOptoStimulationInterface",
    "PeronSessionBehaviorInterface",
    "PeronSessionOphysInterface",
    "SPE1ArrowCellInterface",
    "SpikeSamplesInterface",
    "SyncChannelInterface",
]
