"""One SPE-1 cell: its files, its Data Summary facts, the checks between them, and its per-cell metadata."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from ...errors import MetadataError, SourceFormatError
from ...interfaces.neuropixels_binary import SAMPLING_FREQUENCY
from ...layouts.spe1.data_summary import PATCH_RATE_COLUMN, data_summary_path, read_cell_facts
from ...metadata.assembly import deep_update, placeholder_note
from ...readers.session_files import find_session_file
from ...resources import shipped_metadata_dir
from .converter import PATCH_RATE_TOLERANCE, PLACEHOLDER_TIMEZONE, SPE1Converter


def find_cell_files(cell_dir: Path) -> dict[str, Path | None]:
    """Locate a cell's files by suffix; the Neuropixels and patch binaries are required."""
    if not cell_dir.is_dir():
        raise SourceFormatError(cell_dir, "not a folder", "an SPE-1 cell folder such as c14/ holding cNN_npx_raw.bin")
    return dict(
        npx=find_session_file(cell_dir, r"c\d+_npx_raw", ".bin"),
        patch=find_session_file(cell_dir, r"c\d+_patch_ch1", ".bin"),
        npx_sync=find_session_file(cell_dir, r"c\d+_npx_sync", ".bin", required=False),
        patch_sync=find_session_file(cell_dir, r"c\d+_patch_sync", ".bin", required=False),
        spikes=find_session_file(cell_dir, r"c\d+_wc_spike_samples", ".npy", required=False),
        expt_meta=find_session_file(cell_dir, r"c\d+_expt_meta", ".csv", required=False),
    )


def cell_id_of(npx_path: Path) -> str:
    """The cell id (``c14``) from the Neuropixels file's name."""
    return re.match(r"(c\d+)_", npx_path.name).group(1)


def channel_map_path(cell_dir: Path) -> Path:
    """The release's ``chanMap.mat`` beside the cell folder, else the project's copy of the same map."""
    candidate = cell_dir.parent / "chanMap.mat"
    return candidate if candidate.exists() else shipped_metadata_dir() / "spe1_channel_map.csv"


def recording_date(text: str) -> datetime | None:
    """Parse the cell's recording date (``YYYY-MM-DD``); None if it is not one (the schema check then says so)."""
    try:
        return datetime.fromisoformat(str(text).strip()[:10])
    except ValueError:
        return None


def cell_facts(cell_id: str, release_root: Path, user_metadata: dict) -> tuple[dict, Path]:
    """The cell's Data Summary facts (the release's sheet, else the project's copy) under the user's ``Cell`` block.

    Returns
    -------
    facts : dict
        :data:`~nwb_conversions.layouts.spe1.data_summary.CELL_KEYS` facts; ``patch_type`` is always present.
    summary : Path
        The Data Summary that was read.

    Raises
    ------
    MetadataError
        If the cell is absent from the Data Summary and the user's metadata gives no ``Cell: patch_type``.
    """
    summary = data_summary_path(release_root)
    facts = deep_update(read_cell_facts(summary, cell_id), user_metadata.get("Cell") or {})
    if not facts.get("patch_type"):
        raise MetadataError(
            summary,
            f"cell {cell_id} is not in the Data Summary and no patch type was given",
            "a row for the cell, or --metadata with 'Cell: {patch_type: \"Juxta, VC\"}' (or 'Juxta, IC', 'WC, IC')",
        )
    return facts, summary


#: The ground-truth unit's columns: Data Summary facts, by their ``Cell`` key.
UNIT_COLUMNS = {
    "chan_predicted": "ground-truth electrode: 0-based channel closest to the pipette tip",
    "chan_highest": "0-based channel with the largest juxta-triggered average peak-to-peak amplitude",
    "distance_um": "distance from the pipette tip to the ground-truth electrode (µm)",
    "patch_type": "Data Summary 'Patch Type': Juxta/WC (juxtacellular/whole-cell), VC/IC (clamp mode)",
    "cell_type": "Data Summary 'Cell Type': PC (pyramidal cell) or IN (interneuron)",
}


def cell_metadata(cell_id: str, facts: dict, pipette: str, rate: float) -> dict:
    """Turn the per-cell facts into NWB metadata: session, pipette description, unit columns."""
    return {
        "NWBFile": {"session_id": cell_id},
        "Icephys": {
            "IntracellularElectrode": {"description": pipette, "cell_id": cell_id},
            "PatchClampSeries": {
                "description": f"{pipette}; no preprocessing; rate = 30 kHz × len(patch)/len(npx) = {rate:.4f} Hz",
            },
        },
        "GroundTruthUnit": {
            "description": f"ground truth: spikes of the patched cell {cell_id} detected on the patch trace",
            "columns": {
                name: {"description": description, "value": facts.get(name)} for name, description in UNIT_COLUMNS.items()
            },
        },
    }


def check_patch_rate(rate: float, facts: dict, summary: Path, files: dict) -> None:
    """Refuse a length-ratio patch rate that disagrees with the Data Summary's "Patch Samp. Freq." (or the user's).

    Raises
    ------
    SourceFormatError
        Naming both sources and both rates.
    """
    documented = facts.get("patch_sampling_frequency")
    if documented is None or abs(rate - documented) <= PATCH_RATE_TOLERANCE * documented:
        return
    raise SourceFormatError(
        files["patch"],
        f"30 kHz × len(patch)/len(npx) gives a patch rate of {rate:.4f} Hz, but {summary.name} ({PATCH_RATE_COLUMN}) "
        f"says {documented:.4f} Hz",
        f"rates within {PATCH_RATE_TOLERANCE:.1%}: whole, untruncated {files['patch'].name} and "
        f"{files['npx'].name}, and the cell's row of the Data Summary",
    )


def start_time_default(facts: dict) -> tuple[datetime, str]:
    """The recording date at 00:00 UTC (time of day and zone undocumented), or 1900-01-01 without a date."""
    date = recording_date(facts.get("date", ""))
    if date:
        start = date.replace(tzinfo=PLACEHOLDER_TIMEZONE)
        return start, placeholder_note(
            start, "The Data Summary gives the recording date only (time of day and time zone are not documented)"
        )
    start = datetime(1900, 1, 1, tzinfo=PLACEHOLDER_TIMEZONE)
    return start, placeholder_note(start)


#: The sync channels a cell folder may hold: files key, series name, dtype, description, and the rate (None: the
#: patch clock, set by the converter's alignment).
SYNC_CHANNELS = (
    (
        "npx_sync",
        "SyncNeuropixels",
        "int16",
        "Neuropixels sync channel (periodic digital pulses shared with the patch rig), stored values",
        SAMPLING_FREQUENCY,
    ),
    (
        "patch_sync",
        "SyncPatch",
        "float64",
        "patch-rig sync channel (periodic digital pulses shared with Neuropixels), stored values",
        None,
    ),
)


def sync_source_data(files: dict) -> dict:
    """The sync channels present in the cell folder, as converter source data."""
    source_data = {}
    for key, series_name, dtype, description, rate in SYNC_CHANNELS:
        if files[key]:
            source_data[series_name] = dict(
                file_path=files[key], dtype=dtype, series_name=series_name, description=description
            )
            if rate is not None:
                source_data[series_name]["sampling_frequency"] = rate
    return source_data


def check_sync_lengths(converter: SPE1Converter, files: dict, npx_samples: int, patch_samples: int) -> None:
    """Each sync channel has one value per sample of the stream it belongs to."""
    for name, key, expected in (("SyncNeuropixels", "npx_sync", npx_samples), ("SyncPatch", "patch_sync", patch_samples)):
        interface = converter.data_interface_objects.get(name)
        if interface is not None and interface.num_samples != expected:
            raise SourceFormatError(
                files[key], f"{interface.num_samples} samples", f"{expected}, one per sample of the stream it belongs to"
            )


