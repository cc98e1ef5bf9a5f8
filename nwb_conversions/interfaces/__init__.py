"""NeuroConv data interfaces, one per source format. Each reads its format and adds NWB objects; nothing else."""

from .juxtacellular_trace import JuxtacellularTraceInterface
from .neuropixels_binary import NeuropixelsBinaryInterface
from .spike_samples import SpikeSamplesInterface
from .sync_channel import SyncChannelInterface

__all__ = [
    "JuxtacellularTraceInterface",
    "NeuropixelsBinaryInterface",
    "SpikeSamplesInterface",
    "SyncChannelInterface",
]
