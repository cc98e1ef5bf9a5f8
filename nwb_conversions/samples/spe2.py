"""Sample SPE-2 pair folders in the three documented layouts, with a real ``READ ME.docx`` (python-docx).

* ``common32``: ``2014_11_25_Pair_3_0``, 32-channel poly32nn, amplifier uint16 (0.195 µV/count, 0 V at 32768), ADC
  uint16 × 8 channels, juxtacellular pipette on ADC channel 0, gain 100 (the 2014-11 and 2015 format).
* ``common128``: ``2015_09_03_Pair_9_0``, the 128-channel probe, otherwise the same format.
* ``float32``: ``2014_03_26_Pair_2_0``, amplifier float32 in µV, ADC uint32 × 8 channels, pipette on channel 1,
  gain 1000 (the heterogeneous older recording).

Signals are synthetic: Gaussian noise, extracellular spikes on a few sites, and juxtacellular spikes of 1.5 mV at the
pipette planted at known samples (their peaks), positive or negative per layout. The timestamps of
``2014-11-25T23_00_08`` and ``2015-09-03T21_18_47`` are the real recordings'; the float32 layout's is made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import PLACEHOLDER_PDF, planted_spike_indices, spike_waveform, start_sample_release, write_sample_metadata

SAMPLING_FREQUENCY = 30_000
ADC_CHANNELS = 8

#: Subject facts for the sample only: synthetic values so that the example passes DANDI's checks.
SAMPLE_METADATA = {
    "Subject": {"subject_id": "sample-rat-spe2", "sex": "U", "age": "P60D"},
    "NWBFile": {"experimenter": ["Sample, Synthetic"]},
}


@dataclass(frozen=True)
class SampleLayout:
    """One documented SPE-2 recording layout."""

    folder: str
    timestamp: str
    amplifier_channels: int
    amplifier_dtype: str
    adc_dtype: str
    juxta_channel: int
    juxta_gain: float
    juxta_sign: float


LAYOUTS = {
    "common32": SampleLayout("2014_11_25_Pair_3_0", "2014-11-25T23_00_08", 32, "uint16", "uint16", 0, 100, 1.0),
    "common128": SampleLayout("2015_09_03_Pair_9_0", "2015-09-03T21_18_47", 128, "uint16", "uint16", 0, 100, -1.0),
    "float32": SampleLayout("2014_03_26_Pair_2_0", "2014-03-26T18_30_00", 32, "float32", "uint32", 1, 1000, 1.0),
}

#: Juxtacellular spike size and noise at the pipette (volts).
JUXTA_SPIKE_VOLTS = 1.5e-3
JUXTA_NOISE_VOLTS = 20e-6
#: Extracellular noise and spike size (µV).
EXTRACELLULAR_NOISE_UV = 10.0
EXTRACELLULAR_SPIKE_UV = 120.0


def readme_values(layout: SampleLayout) -> dict[str, str]:
    """The ``READ ME.docx`` keys of a layout, written as the real files write them (``30 000``, ``np.uint16``)."""
    values = {
        "Probe_numChannels": str(layout.amplifier_channels),
        "Sampling_frequency": "30 000",
        "Probe_dtype": f"np.{layout.amplifier_dtype}",
    }
    if layout.amplifier_dtype == "uint16":
        values.update(Probe_voltage_step_size="0.195e-6", Probe_y_digitization="32768")
    values.update(
        Juxta_numChannels=str(ADC_CHANNELS),
        Juxta_dtype=f"np.{layout.adc_dtype}",
        Juxta_ADC_used_channel=str(layout.juxta_channel),
        Juxta_Gain=f"{layout.juxta_gain:g}",
        Juxta_y_digitization="65536",
        Juxta_y_range="10",
    )
    return values


def write_readme_docx(file_path: str | Path, values: dict[str, str], *, title: str = "READ ME") -> Path:
    """Write a ``READ ME.docx``: a title, a line of free text, then one ``key = value`` paragraph per entry."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    document.add_paragraph("Paired recording: extracellular probe (amplifier file), juxtacellular pipette (adc file).")
    for key, value in values.items():
        document.add_paragraph(f"{key} = {value}")
    document.save(str(file_path))
    return Path(file_path)


def juxta_adc_counts(rng, num_samples: int, spikes: np.ndarray, layout: SampleLayout) -> np.ndarray:
    """The ADC channel of the pipette in counts: mid-scale plus noise and spikes (volts × gain / (10 V / 65536))."""
    volts = rng.normal(0.0, JUXTA_NOISE_VOLTS, size=num_samples) + 40e-6  # a small DC offset
    shape = -spike_waveform(45, width=3.0)  # unit positive peak at index 15
    for peak in spikes:
        volts[peak - 15 : peak + 30] += layout.juxta_sign * JUXTA_SPIKE_VOLTS * shape
    volts_per_count = 10.0 / (65536 * layout.juxta_gain)
    return np.round(32768 + volts / volts_per_count)


def amplifier_samples(rng, num_samples: int, spikes: np.ndarray, layout: SampleLayout) -> np.ndarray:
    """The extracellular recording in µV: noise on every channel, the cell's spikes on three channels."""
    microvolts = rng.normal(0.0, EXTRACELLULAR_NOISE_UV, size=(num_samples, layout.amplifier_channels))
    shape = spike_waveform(60, width=4.0)
    for channel, scale in ((1, 1.0), (30, 0.6), (31, 0.4)):
        for peak in spikes:
            microvolts[peak - 20 : peak + 40, channel] += scale * EXTRACELLULAR_SPIKE_UV * shape
    return microvolts


def write_spe2_pair(
    folder: str | Path,
    *,
    layout: str = "common32",
    duration_s: float = 2.0,
    num_spikes: int | None = None,
    copy_suffix: str = "",
    with_readme: bool = True,
    seed: int = 0,
    sub_recording: int | None = None,
) -> tuple[Path, np.ndarray]:
    """Write one pair folder under ``folder``.

    Parameters
    ----------
    folder : str or Path
        Where the pair folder (named as the real one) is created.
    layout : {"common32", "common128", "float32"}
    duration_s : float
    num_spikes : int, optional
        Juxtacellular spikes planted; default 8 per second.
    copy_suffix : str
        Appended to the binaries' stems (e.g. ``"-002"``), as Google-Drive copies are named.
    with_readme : bool
        Write ``READ ME.docx``.
    seed : int
        The same arguments give the same bytes.
    sub_recording : int, optional
        Replaces the last number of the folder name (``..._Pair_3_<sub_recording>``), to write several recordings
        of one layout.

    Returns
    -------
    tuple
        The pair folder, and the planted spikes' peak samples (int64).
    """
    spec = LAYOUTS[layout]
    rng = np.random.default_rng(seed)
    folder_name = spec.folder if sub_recording is None else f"{spec.folder.rsplit('_', 1)[0]}_{sub_recording}"
    pair_dir = Path(folder) / folder_name
    pair_dir.mkdir(parents=True, exist_ok=True)
    num_samples = int(duration_s * SAMPLING_FREQUENCY)
    num_spikes = num_spikes or max(1, int(8 * duration_s))
    spikes = planted_spike_indices(rng, num_samples, num_spikes, margin=200, gap=1_000).astype(np.int64)

    microvolts = amplifier_samples(rng, num_samples, spikes, spec)
    if spec.amplifier_dtype == "uint16":
        amplifier = np.clip(np.round(32768 + microvolts / 0.195), 0, 65535).astype("<u2")
    else:
        amplifier = microvolts.astype("<f4")
    amplifier.tofile(pair_dir / f"amplifier{spec.timestamp}{copy_suffix}.bin")

    adc = np.full((num_samples, ADC_CHANNELS), 32768.0)
    adc += rng.normal(0.0, 3.0, size=adc.shape).round()  # the unused ADC inputs
    adc[:, spec.juxta_channel] = juxta_adc_counts(rng, num_samples, spikes, spec)
    adc.astype(np.dtype(spec.adc_dtype).newbyteorder("<")).tofile(pair_dir / f"adc{spec.timestamp}{copy_suffix}.bin")

    if with_readme:
        write_readme_docx(pair_dir / "READ ME.docx", readme_values(spec))
    return pair_dir, spikes


def write_spe2_sample(folder: str | Path, *, layout: str = "common32") -> tuple[Path, Path]:
    """Write a sample pair folder and its sample metadata YAML (synthetic subject facts, for ``--metadata``)."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    pair_dir, _ = write_spe2_pair(root, layout=layout)
    metadata_path = write_sample_metadata(root, SAMPLE_METADATA)
    return pair_dir, metadata_path


def write_spe2_sample_release(
    folder: str | Path, num_sessions: int = 3, *, duration_s: float = 0.5
) -> tuple[Path, list[Path]]:
    """Write a release of ``num_sessions`` pair folders (the layouts in turn, further sub-recordings after the
    third), with a file the real release holds beside them, and the sample metadata.

    Returns
    -------
    tuple
        The release root, and the pair folders sorted by name.
    """
    root = start_sample_release(folder, SAMPLE_METADATA, {"crcns_spe-2_data_description.pdf": PLACEHOLDER_PDF})
    layouts = list(LAYOUTS)
    pairs = []
    for index in range(num_sessions):
        layout = layouts[index % len(layouts)]
        sub_recording = None if index < len(layouts) else index // len(layouts)
        pair_dir, _ = write_spe2_pair(
            root, layout=layout, duration_s=duration_s, seed=index, sub_recording=sub_recording
        )
        pairs.append(pair_dir)
    return root, sorted(pairs)
