"""One SPE-2 pair folder: its files, the scaling of its stored values, its clock time and its per-pair metadata."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from ...analysis.spike_detection import DetectionParameters
from ...errors import SourceFormatError
from ...interfaces.juxtacellular_spikes import JuxtacellularSpikeDetectionInterface
from ...layouts.spe2.readme_docx import RecordingParameters
from ...readers.session_files import find_session_file

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


def quiet_trace_note(detector: JuxtacellularSpikeDetectionInterface, metadata: dict, stub_test: bool) -> str | None:
    """Detect the juxtacellular spikes now (the result is reused when the file is written) and return the note
    for a trace with none; None if spikes were found or the parameters are invalid (the schema check says so)."""
    try:
        parameters = DetectionParameters(**metadata.get("JuxtaSpikeDetection", {}))
    except (TypeError, ValueError):
        return None
    return detector.quiet_trace_note(detector.detect(parameters, stub_test=stub_test))


