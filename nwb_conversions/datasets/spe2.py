"""SPE-2 (Neto et al. 2016): one pair folder ``YYYY_MM_DD_Pair_N_M/`` of a polytrode + juxtacellular recording.

Files (copies may carry ``-002``-style suffixes): ``amplifier<YYYY-MM-DDTHH_MM_SS>.bin`` (the 32- or 128-channel
polytrode), ``adc<YYYY-MM-DDTHH_MM_SS>.bin`` (the Intan auxiliary ADC inputs, the juxtacellular amplifier on one of
them) and ``READ ME.docx`` (dtypes, channel counts, scaling; see :mod:`nwb_conversions.readers.readme_docx`).
Without a ``READ ME.docx`` the common format is assumed and the channel count taken from the file sizes
(:mod:`nwb_conversions.readers.spe2_layout`); the file's notes say so.

Both files come from the same Intan board, so they share the sample clock: the ADC must hold as many samples as the
amplifier. The spike times of the juxtacellular cell are not in the release; they are detected on the ADC trace
(:mod:`nwb_conversions.spike_detection`) and written as one ``units`` row marked as this tool's.

Session start: the amplifier file's timestamp (the lab's "cell capture time", the acquisition software's clock).
The release does not document the time zone, so the clock time is stored labelled UTC **[assumption]**, and the
file's notes say so.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

from neuroconv import NWBConverter

from ..errors import SourceFormatError
from ..interfaces.intan_amplifier_binary import IntanAmplifierBinaryInterface
from ..interfaces.juxtacellular_spikes import JuxtacellularSpikeDetectionInterface
from ..interfaces.juxtacellular_trace import JuxtacellularTraceInterface
from ..metadata import assemble_metadata
from ..readers.readme_docx import RecordingParameters, read_readme_docx
from ..readers.session_files import find_session_file
from ..readers.spe2_layout import infer_common_format
from ..spike_detection import DetectionParameters
from . import Conversion, Dataset, natural_key, release_root_folder

#: The timestamp in the binaries' names, e.g. ``2014-11-25T23_00_08``.
TIMESTAMP_PATTERN = r"\d{4}-\d{2}-\d{2}T\d{2}_\d{2}_\d{2}"

#: ``2014_11_25_Pair_3_0``: date, cell, sub-recording.
PAIR_FOLDER_PATTERN = re.compile(r"^(\d{4}_\d{2}_\d{2})_Pair_(\d+)_(\d+)$")

#: A readable form of the binaries' names, for error messages.
TIMESTAMP_EXAMPLE = "YYYY-MM-DDTHH_MM_SS"

#: The release does not document the time zone of the file names' clock: the clock time is stored labelled UTC.
CLOCK_TIMEZONE = timezone.utc

#: Volts per stored value of a float amplifier file: 2014_03_26_Pair_2_0 stores µV (Barnett; paired_32ch.py) [C].
FLOAT_AMPLIFIER_VOLTS_PER_UNIT = 1e-6


class SPE2Converter(NWBConverter):
    """Polytrode recording, juxtacellular trace and detected ground-truth spikes of one SPE-2 pair."""

    data_interface_classes = dict(
        Recording=IntanAmplifierBinaryInterface,
        Juxta=JuxtacellularTraceInterface,
        GroundTruth=JuxtacellularSpikeDetectionInterface,
    )


def find_pair_files(pair_dir: Path) -> dict[str, Path | None]:
    """Locate a pair's amplifier and ADC binaries (required) and its ``READ ME.docx`` (optional)."""
    if not pair_dir.is_dir():
        raise SourceFormatError(
            pair_dir, "not a folder", "an SPE-2 pair folder such as 2014_11_25_Pair_3_0/ holding amplifier*.bin"
        )
    return dict(
        amplifier=find_session_file(
            pair_dir, rf"amplifier{TIMESTAMP_PATTERN}", ".bin", example=f"amplifier{TIMESTAMP_EXAMPLE}.bin"
        ),
        adc=find_session_file(pair_dir, rf"adc{TIMESTAMP_PATTERN}", ".bin", example=f"adc{TIMESTAMP_EXAMPLE}.bin"),
        readme=find_session_file(pair_dir, r"READ ME", ".docx", required=False),
    )


def amplifier_scaling(parameters: RecordingParameters) -> tuple[float, float, str]:
    """Return ``(conversion, offset, description)`` of the amplifier's stored values."""
    dtype = parameters.amplifier_dtype.name
    if parameters.amplifier_dtype.kind == "f":
        return (
            FLOAT_AMPLIFIER_VOLTS_PER_UNIT,
            0.0,
            f"extracellular voltage as stored ({dtype}, in µV, as in 2014_03_26_Pair_2_0); volts = data × 1e-6",
        )
    step, zero = parameters.amplifier_volts_per_count, parameters.amplifier_zero_count
    return (
        step,
        -zero * step,
        f"raw extracellular voltage in Intan amplifier counts ({dtype}); volts = (data − {zero:g}) × {step:g} "
        "(READ ME.docx Probe_y_digitization, Probe_voltage_step_size); no filtering or referencing applied",
    )


def juxta_scaling(parameters: RecordingParameters) -> tuple[float, float, str]:
    """Return ``(conversion, offset, description)`` of the juxtacellular ADC channel.

    conversion = Juxta_y_range / (Juxta_y_digitization × Juxta_Gain) volts at the pipette per count. The ADC's zero
    is not documented (the lab subtracts the trace's mean): the offset puts 0 V at mid-scale, count
    Juxta_y_digitization / 2 (32768) **[assumption]**.
    """
    conversion = parameters.juxta_volts_per_count
    mid_scale = parameters.juxta_digitization / 2
    description = (
        f"juxtacellular amplifier output on Intan ADC channel {parameters.juxta_channel}, in ADC counts "
        f"({parameters.adc_dtype.name}); volts at the pipette = (data − {mid_scale:g}) × {conversion:.6g} "
        f"(= {parameters.juxta_range_volts:g} V range / ({parameters.juxta_digitization:g} levels × gain "
        f"{parameters.juxta_gain:g}), READ ME.docx). ASSUMPTION: 0 V at mid-scale ({mid_scale:g}); the ADC's zero is "
        "not documented and the lab subtracts the trace's mean, so treat the DC level as arbitrary"
    )
    return conversion, -mid_scale * conversion, description


def session_start(amplifier_path: Path) -> datetime:
    """The timestamp in the amplifier file's name: the acquisition clock's time, labelled UTC (zone undocumented)."""
    stamp = re.search(TIMESTAMP_PATTERN, amplifier_path.name).group(0)
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H_%M_%S").replace(tzinfo=CLOCK_TIMEZONE)
    except ValueError:
        raise SourceFormatError(
            amplifier_path, f"the timestamp {stamp} in the file name is not a date and time", f"{TIMESTAMP_EXAMPLE}"
            " with a real date and a 24-hour time, e.g. amplifier2014-11-25T23_00_08.bin"
        ) from None


def timestamp_mismatch_note(files: dict) -> str | None:
    """The amplifier and ADC files of one recording carry the same timestamp; say so when they do not."""
    stamps = {key: re.search(TIMESTAMP_PATTERN, files[key].name).group(0) for key in ("amplifier", "adc")}
    if stamps["amplifier"] == stamps["adc"]:
        return None
    return (
        f"{files['adc'].parent}: {files['amplifier'].name} and {files['adc'].name} carry different timestamps "
        f"({stamps['amplifier']} vs {stamps['adc']}); they were converted as one recording, as their sample counts "
        "agree, and the amplifier's timestamp is the session start"
    )


def pair_metadata(pair_dir: Path, parameters: RecordingParameters) -> dict:
    """Per-pair metadata: session id, scaling descriptions, the pipette's ADC channel."""
    session_id = pair_dir.name
    _, _, amplifier_description = amplifier_scaling(parameters)
    _, _, juxta_description = juxta_scaling(parameters)
    return {
        "NWBFile": {"session_id": session_id},
        "Extracellular": {"ElectricalSeries": {"description": amplifier_description}},
        "Icephys": {
            "IntracellularElectrode": {
                "description": (
                    f"juxtacellular pipette; its amplifier (gain {parameters.juxta_gain:g}) recorded on Intan ADC "
                    f"channel {parameters.juxta_channel}"
                ),
                "cell_id": session_id,
            },
            "PatchClampSeries": {"description": juxta_description},
        },
        "GroundTruthUnit": {
            "description": f"ground truth: the juxtacellularly recorded cell of {session_id}",
        },
    }


def start_time_default(amplifier_path: Path, pair_dir: Path) -> tuple[datetime, str]:
    """The session start from the amplifier's timestamp, and the note that says what was assumed."""
    start = session_start(amplifier_path)
    note = (
        f"session_start_time {start.isoformat()} is the timestamp in {amplifier_path.name} (the lab's cell capture "
        "time); the release does not document the time zone, so the clock time is stored as UTC [assumption]."
    )
    folder = PAIR_FOLDER_PATTERN.match(pair_dir.name)
    if folder and folder.group(1) != start.strftime("%Y_%m_%d"):
        note += f" The folder name's date ({folder.group(1)}) differs from the file's; the file's is used."
    return start, note


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
    options = {name: {"stub_test": stub_test} for name in converter.data_interface_objects}
    return Conversion(converter=converter, metadata=metadata, conversion_options=options, notes=notes, sources=[pair_dir])


def quiet_trace_note(detector: JuxtacellularSpikeDetectionInterface, metadata: dict, stub_test: bool) -> str | None:
    """Detect the juxtacellular spikes now (the result is reused when the file is written) and return the note
    for a trace with none; None if spikes were found or the parameters are invalid (the schema check says so)."""
    try:
        parameters = DetectionParameters(**metadata.get("JuxtaSpikeDetection", {}))
    except (TypeError, ValueError):
        return None
    return detector.quiet_trace_note(detector.detect(parameters, stub_test=stub_test))


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


def write_sample(folder: Path) -> tuple[Path, Path]:
    """Write a small sample SPE-2 pair folder and its sample metadata; see :mod:`nwb_conversions.samples.spe2`."""
    from ..samples.spe2 import write_spe2_sample

    return write_spe2_sample(folder)


def write_sample_release(folder: Path, num_sessions: int = 3) -> tuple[Path, list[Path]]:
    """Write a sample release of ``num_sessions`` pair folders; see :mod:`nwb_conversions.samples.spe2`."""
    from ..samples.spe2 import write_spe2_sample_release

    return write_spe2_sample_release(folder, num_sessions)


DATASET = Dataset(
    key="spe2",
    summary="SPE-2 polytrode + juxtacellular pair (Neto et al. 2016)",
    source_help="an SPE-2 pair folder (YYYY_MM_DD_Pair_N_M/) holding amplifier*.bin, adc*.bin and READ ME.docx",
    build=build_conversion,
    write_sample=write_sample,
    find_sessions=find_sessions,
    write_sample_release=write_sample_release,
)
