"""SPE-2 (Neto et al. 2016): one pair folder ``YYYY_MM_DD_Pair_N_M/`` of a polytrode + juxtacellular recording.

Files (copies may carry ``-002``-style suffixes): ``amplifier<YYYY-MM-DDTHH_MM_SS>.bin`` (the 32- or 128-channel
polytrode), ``adc<YYYY-MM-DDTHH_MM_SS>.bin`` (the Intan auxiliary ADC inputs, the juxtacellular amplifier on one of
them) and ``READ ME.docx`` (dtypes, channel counts, scaling; see :mod:`nwb_conversions.layouts.spe2.readme_docx`).
Without a ``READ ME.docx`` the common format is assumed and the channel count taken from the file sizes
(:mod:`nwb_conversions.layouts.spe2.inferred_format`); the file's notes say so.

Both files come from the same Intan board, so they share the sample clock: the ADC must hold as many samples as the
amplifier. The spike times of the juxtacellular cell are not in the release; they are detected on the ADC trace
(:mod:`nwb_conversions.analysis.spike_detection`) and written as one ``units`` row marked as this tool's.

Session start: the amplifier file's timestamp (the lab's "cell capture time", the acquisition software's clock).
The release does not document the time zone, so the clock time is stored labelled UTC **[assumption]**, and the
file's notes say so.
"""

from __future__ import annotations

import os
from pathlib import Path

from neuroconv import NWBConverter

from ...errors import SourceFormatError
from ...interfaces.intan_amplifier_binary import IntanAmplifierBinaryInterface
from ...interfaces.juxtacellular_spikes import JuxtacellularSpikeDetectionInterface
from ...interfaces.juxtacellular_trace import JuxtacellularTraceInterface
from ...layouts.spe2.inferred_format import infer_common_format
from ...layouts.spe2.readme_docx import read_readme_docx
from ...metadata.assembly import assemble_metadata
from ...readers.session_files import find_session_file
from .. import Conversion, Dataset, natural_key, release_root_folder, sample_writers, stub_conversion
from . import ENTRY
from .pair import (
    PAIR_FOLDER_PATTERN,
    TIMESTAMP_PATTERN,
    amplifier_scaling,
    find_pair_files,
    juxta_scaling,
    pair_metadata,
    quiet_trace_note,
    session_start,
    start_time_default,
    timestamp_mismatch_note,
)

__all__ = ["DATASET", "SPE2Converter", "build_conversion", "find_sessions", "session_start"]


class SPE2Converter(NWBConverter):
    """Polytrode recording, juxtacellular trace and detected ground-truth spikes of one SPE-2 pair."""

    data_interface_classes = dict(
        Recording=IntanAmplifierBinaryInterface,
        Juxta=JuxtacellularTraceInterface,
        GroundTruth=JuxtacellularSpikeDetectionInterface,
    )


def build_conversion(pair_dir: Path, user_metadata: dict, stub_test: bool = False) -> Conversion:
    """Assemble the converter and metadata for one SPE-2 pair folder.

    Raises
    ------
    SourceFormatError
        On missing files, a bad ``READ ME.docx``, sizes that do not match the declared layout, a channel count with
        no known probe geometry, or ADC and amplifier sample counts that disagree.
    """
    pair_dir = Path(pair_dir)
    files = find_pair_files(pair_dir)
    notes = [note for note in (timestamp_mismatch_note(files),) if note]
    if files["readme"] is not None:
        parameters = read_readme_docx(files["readme"])
    else:
        parameters = infer_common_format(files)
        notes.append(
            f"{pair_dir}: no READ ME.docx, so the common SPE-2 format was assumed: amplifier uint16, "
            f"{parameters.amplifier_channels} channels (from the file sizes), 0.195 µV per count, 0 V at 32768; ADC "
            "uint16 × 8 channels, juxtacellular pipette on channel 0, gain 100, 10 V range, 65536 levels."
        )
    if parameters.amplifier_dtype.kind == "f" and parameters.amplifier_volts_per_count not in (None, 1e-6):
        notes.append(
            f"{files['readme']}: Probe_dtype {parameters.amplifier_dtype.name} is stored in µV (as in "
            f"2014_03_26_Pair_2_0); Probe_voltage_step_size {parameters.amplifier_volts_per_count:g} was not applied."
        )
    amplifier_conversion, amplifier_offset, _ = amplifier_scaling(parameters)
    juxta_conversion, juxta_offset, _ = juxta_scaling(parameters)
    adc_source = dict(
        file_path=files["adc"],
        sampling_frequency=parameters.sampling_frequency,
        conversion=juxta_conversion,
        offset=juxta_offset,
        dtype=parameters.adc_dtype.name,
        num_channels=parameters.adc_channels,
        channel=parameters.juxta_channel,
    )
    converter = SPE2Converter(
        source_data=dict(
            Recording=dict(
                file_path=files["amplifier"],
                num_channels=parameters.amplifier_channels,
                dtype=parameters.amplifier_dtype.name,
                sampling_frequency=parameters.sampling_frequency,
                conversion=amplifier_conversion,
                offset=amplifier_offset,
            ),
            Juxta=dict(adc_source, recording_mode="current_clamp"),
            GroundTruth=adc_source,
        )
    )
    amplifier_samples = converter.data_interface_objects["Recording"].num_samples
    adc_samples = converter.data_interface_objects["Juxta"].num_samples
    if adc_samples != amplifier_samples:
        raise SourceFormatError(
            files["adc"],
            f"{adc_samples} samples of {parameters.adc_channels} {parameters.adc_dtype.name} channels",
            f"{amplifier_samples} samples, as in {files['amplifier'].name} (both are recorded on the same Intan "
            "clock); check Juxta_numChannels / Juxta_dtype in READ ME.docx",
        )
    metadata, notes = assemble_metadata(
        converter.get_metadata(),
        "spe2",
        session=pair_metadata(pair_dir, parameters),
        user=user_metadata,
        notes=notes,
        default_start_time=start_time_default(files["amplifier"], pair_dir),
    )
    quiet = quiet_trace_note(converter.data_interface_objects["GroundTruth"], metadata, stub_test)
    if quiet:
        notes.append(quiet)
        metadata["NWBFile"]["notes"] = f"{metadata['NWBFile']['notes']}\n{quiet}"
    return stub_conversion(converter, metadata, notes=notes, sources=[pair_dir], stub_test=stub_test)


def find_sessions(release_root: Path) -> list[Path]:
    """The pair folders ``YYYY_MM_DD_Pair_N_M/`` anywhere under the release root (each holding an amplifier file)."""
    release_root = release_root_folder(release_root)
    pairs = []
    for folder, subfolders, _ in os.walk(release_root):
        subfolders.sort()
        folder = Path(folder)
        if PAIR_FOLDER_PATTERN.match(folder.name) and find_session_file(
            folder, rf"amplifier{TIMESTAMP_PATTERN}", ".bin", required=False
        ):
            pairs.append(folder)
    return sorted(pairs, key=natural_key)


DATASET = Dataset(
    ENTRY,
    build=build_conversion,
    find_sessions=find_sessions,
    **sample_writers("spe2", sample="write_spe2_sample", release="write_spe2_sample_release"),
)
