"""NeuroConv data interfaces, one per source format. Each reads its format and adds NWB objects; nothing else.

The interfaces are imported on first use (``from nwb_conversions.interfaces import X`` imports X's module only), so
a conversion does not pay for the libraries of every other format (ndx-optogenetics, SpikeInterface's sorting
machinery, pyarrow, ...).
"""

from __future__ import annotations

import importlib

#: Each interface's module in this package.
MODULES = {
    "AlfSortingInterface": "alf_sorting",
    "AllenOephysRecordingInterface": "allen_oephys_h5",
    "IntanAmplifierBinaryInterface": "intan_amplifier_binary",
    "JuxtacellularSpikeDetectionInterface": "juxtacellular_spikes",
    "JuxtacellularTraceInterface": "juxtacellular_trace",
    "NeuropixelsBinaryInterface": "neuropixels_binary",
    "NpOptoStimulationInterface": "optogenetics",
    "PeronSessionBehaviorInterface": "peron_session_behavior",
    "PeronSessionOphysInterface": "peron_session_ophys",
    "SPE1ArrowCellInterface": "spe1_arrow_cell",
    "SpikeSamplesInterface": "spike_samples",
    "SyncChannelInterface": "sync_channel",
}

__all__ = sorted(MODULES)


def __getattr__(name: str):
    if name in MODULES:
        return getattr(importlib.import_module(f"{__name__}.{MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
