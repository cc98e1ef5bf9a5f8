"""One contract case per interface in ``nwb_conversions.interfaces.__all__``: how to build it from a sample.

Each case is ``name -> build(folder) -> (interface class, source keyword arguments)``; ``folder`` is a fresh
temporary folder to write the sample into. A new interface adds its case here; the contract test fails for an
interface without one.
"""

from __future__ import annotations

from pathlib import Path

from nwb_conversions.interfaces import (
    AlfSortingInterface,
    AllenOephysRecordingInterface,
    IntanAmplifierBinaryInterface,
    JuxtacellularSpikeDetectionInterface,
    JuxtacellularTraceInterface,
    NeuropixelsBinaryInterface,
    NpOptoStimulationInterface,
    PeronSessionBehaviorInterface,
    PeronSessionOphysInterface,
    SPE1ArrowCellInterface,
    SpikeSamplesInterface,
    SyncChannelInterface,
)
from nwb_conversions.resources import shipped_metadata_dir


def _spe1_cell(folder: Path) -> Path:
    from nwb_conversions.samples.spe1 import write_spe1_cell

    return write_spe1_cell(folder / "c14", duration_s=0.3)


def _spe2_pair(folder: Path) -> Path:
    from nwb_conversions.samples.spe2 import write_spe2_pair

    return write_spe2_pair(folder, duration_s=0.5)[0]


def neuropixels_binary(folder: Path):
    cell = _spe1_cell(folder)
    return NeuropixelsBinaryInterface, dict(
        file_path=cell / "c14_npx_raw.bin", channel_map_path=shipped_metadata_dir() / "spe1_channel_map.csv"
    )


def juxtacellular_trace(folder: Path):
    cell = _spe1_cell(folder)
    return JuxtacellularTraceInterface, dict(
        file_path=cell / "c14_patch_ch1.bin", recording_mode="voltage_clamp", conversion=1e-12, sampling_frequency=50_024.0
    )


def sync_channel(folder: Path):
    cell = _spe1_cell(folder)
    return SyncChannelInterface, dict(
        file_path=cell / "c14_npx_sync.bin",
        dtype="int16",
        series_name="SyncNeuropixels",
        description="sync",
        sampling_frequency=30_000.0,
    )


def spike_samples(folder: Path):
    cell = _spe1_cell(folder)
    patch_samples = (cell / "c14_patch_ch1.bin").stat().st_size // 8
    return SpikeSamplesInterface, dict(
        file_path=cell / "c14_wc_spike_samples.npy", num_clock_samples=patch_samples, sampling_frequency=50_024.0
    )


def intan_amplifier_binary(folder: Path):
    pair = _spe2_pair(folder)
    return IntanAmplifierBinaryInterface, dict(file_path=next(pair.glob("amplifier*.bin")), num_channels=32)


def juxtacellular_spike_detection(folder: Path):
    pair = _spe2_pair(folder)
    return JuxtacellularSpikeDetectionInterface, dict(
        file_path=next(pair.glob("adc*.bin")), sampling_frequency=30_000.0, conversion=1.526e-6, num_channels=8
    )


def allen_oephys_recording(folder: Path):
    from nwb_conversions.samples.allen_oephys import write_allen_oephys_recording

    return AllenOephysRecordingInterface, dict(file_path=write_allen_oephys_recording(folder, duration_s=5.0, num_spikes=10))


def _np_opto_session(folder: Path) -> Path:
    from nwb_conversions.samples.np_opto import write_np_opto_release
    from nwb_conversions.samples.np_opto_spikes import SampleSize

    return write_np_opto_release(folder, ["AL0034_2024-12-05_en1_p0"], size=SampleSize(num_clusters=12, repeats=1))[1][0]


def alf_sorting(folder: Path):
    return AlfSortingInterface, dict(folder_path=_np_opto_session(folder))


def np_opto_stimulation(folder: Path):
    return NpOptoStimulationInterface, dict(folder_path=_np_opto_session(folder))


def peron_session_ophys(folder: Path):
    from nwb_conversions.samples.ssc11 import write_ssc11_session

    session = write_ssc11_session(folder, version="7.3")
    curation = session.parent.parent / "2019_04_07_ablation" / "manualCurationData.mat"
    return PeronSessionOphysInterface, dict(file_path=session, subvolume=1, ablation_file_paths=[str(curation)])


def peron_session_behavior(folder: Path):
    from nwb_conversions.samples.ssc11 import write_ssc11_session

    return PeronSessionBehaviorInterface, dict(file_path=write_ssc11_session(folder, version="5", with_ablation=False))

def spe1_arrow_cell(folder: Path):
    from nwb_conversions.samples.spe1_arrow import write_spe1_arrow_cell

    cell = write_spe1_arrow_cell(folder / "c14", num_segments=4, segment_duration_s=0.05)
    return SPE1ArrowCellInterface, dict(
        folder_path=cell,
        recording_mode="voltage_clamp",
        conversion=1e-12,
        channel_map_path=shipped_metadata_dir() / "spe1_channel_map.csv",
    )


CASES = {
    "AlfSortingInterface": alf_sorting,
    "AllenOephysRecordingInterface": allen_oephys_recording,
    "IntanAmplifierBinaryInterface": intan_amplifier_binary,
    "JuxtacellularSpikeDetectionInterface": juxtacellular_spike_detection,
    "JuxtacellularTraceInterface": juxtacellular_trace,
    "NeuropixelsBinaryInterface": neuropixels_binary,
    "NpOptoStimulationInterface": np_opto_stimulation,
    "PeronSessionBehaviorInterface": peron_session_behavior,
    "PeronSessionOphysInterface": peron_session_ophys,
    "SPE1ArrowCellInterface": spe1_arrow_cell,
    "SpikeSamplesInterface": spike_samples,
    "SyncChannelInterface": sync_channel,
}
