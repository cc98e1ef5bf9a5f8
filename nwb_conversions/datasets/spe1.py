"""SPE-1 (Marques-Smith et al. 2018): one cell folder ``cNN/`` of a Neuropixels + patch-clamp paired recording.

Files (matched by suffix; copies may carry ``-001``): ``cNN_npx_raw.bin`` (required), ``cNN_patch_ch1.bin``
(required), ``cNN_wc_spike_samples.npy``, ``cNN_npx_sync.bin``, ``cNN_patch_sync.bin``, ``cNN_expt_meta.csv``.
The release root (the cell folder's parent) may hold ``Data Summary.xlsx`` and ``chanMap.mat``; without them the
project's copies in ``metadata/`` are used.

The two streams are pre-aligned and cropped to the same span, so the patch rate is 30 kHz × len(patch)/len(npx).
That must agree with the Data Summary's "Patch Samp. Freq." (within :data:`PATCH_RATE_TOLERANCE`): a patch file cut
short, or a typo in the sheet, would otherwise scale every spike time silently.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from neuroconv import NWBConverter

from ..errors import MetadataError, SourceFormatError
from ..interfaces import (
    JuxtacellularTraceInterface,
    NeuropixelsBinaryInterface,
    SpikeSamplesInterface,
    SyncChannelInterface,
)
from ..interfaces.neuropixels_binary import NUM_CHANNELS, SAMPLING_FREQUENCY
from ..metadata import assemble_metadata, deep_update, placeholder_note, shipped_metadata_dir
from ..readers.channel_map import degenerate_geometry_note
from ..readers.data_summary import (
    CELL_KEYS,
    PATCH_RATE_COLUMN,
    data_summary_path,
    parse_patch_type,
    read_cell_facts,
)
from ..readers.expt_meta import check_binaries_against_expt_meta
from ..readers.session_files import find_session_file
from ..readers.trace_checks import non_finite_note
from . import Conversion, Dataset, natural_key, release_root_folder

#: Neither the time of day nor the time zone is documented: the Data Summary gives the date only.
PLACEHOLDER_TIMEZONE = timezone.utc

#: Largest relative difference allowed between the length-ratio patch rate and the Data Summary's (0.1 %: whole
#: sample cropping of a 1 s recording stays far below it; a patch file cut to half its length does not).
PATCH_RATE_TOLERANCE = 1e-3

#: Schema of the ``Cell`` block: per-cell facts from the Data Summary, or from the user for a cell absent from it.
CELL_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "patch_type": {"type": "string", "pattern": r"^\s*(?i:juxta|wc)\s*,\s*(?i:vc|ic)\s*$"},
        "cell_type": {"type": "string"},
        "chan_predicted": {"type": "integer", "minimum": 0, "maximum": NUM_CHANNELS - 1},
        "chan_highest": {"type": "integer", "minimum": 0, "maximum": NUM_CHANNELS - 1},
        "distance_um": {"type": "number", "minimum": 0},
        "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "patch_sampling_frequency": {"type": "number", "minimum": 1000, "maximum": 1e6},
    },
}


class SPE1Converter(NWBConverter):
    """Neuropixels recording, patch trace, sync channels and ground-truth spikes of one SPE-1 cell."""

    data_interface_classes = dict(
        Recording=NeuropixelsBinaryInterface,
        Patch=JuxtacellularTraceInterface,
        SyncNeuropixels=SyncChannelInterface,
        SyncPatch=SyncChannelInterface,
        GroundTruth=SpikeSamplesInterface,
    )

    def get_metadata_schema(self) -> dict:
        """Add the ``Cell`` block (per-cell facts) to the interfaces' schemas."""
        schema = super().get_metadata_schema()
        schema["properties"]["Cell"] = CELL_SCHEMA
        return schema

    def patch_sampling_frequency(self) -> float:
        """30 kHz × len(patch) / len(npx): the streams are pre-aligned and span the same time."""
        interfaces = self.data_interface_objects
        return SAMPLING_FREQUENCY * interfaces["Patch"].num_samples / interfaces["Recording"].num_samples

    def temporally_align_data_interfaces(self, metadata: dict | None = None, conversion_options: dict | None = None):
        """Put the patch-clock streams (trace, patch sync, spike samples) on the length-ratio rate."""
        rate = self.patch_sampling_frequency()
        for name in ("Patch", "SyncPatch", "GroundTruth"):
            if name in self.data_interface_objects:
                self.data_interface_objects[name].sampling_frequency = rate


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
        :data:`~nwb_conversions.readers.data_summary.CELL_KEYS` facts; ``patch_type`` is always present.
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


def sync_source_data(files: dict) -> dict:
    """The sync channels present in the cell folder, as converter source data."""
    source_data = {}
    if files["npx_sync"]:
        source_data["SyncNeuropixels"] = dict(
            file_path=files["npx_sync"],
            dtype="int16",
            series_name="SyncNeuropixels",
            description="Neuropixels sync channel (periodic digital pulses shared with the patch rig), stored values",
            sampling_frequency=SAMPLING_FREQUENCY,
        )
    if files["patch_sync"]:
        source_data["SyncPatch"] = dict(
            file_path=files["patch_sync"],
            dtype="float64",
            series_name="SyncPatch",
            description="patch-rig sync channel (periodic digital pulses shared with Neuropixels), stored values",
        )
    return source_data


def check_sync_lengths(converter: SPE1Converter, files: dict, npx_samples: int, patch_samples: int) -> None:
    """Each sync channel has one value per sample of the stream it belongs to."""
    for name, key, expected in (("SyncNeuropixels", "npx_sync", npx_samples), ("SyncPatch", "patch_sync", patch_samples)):
        interface = converter.data_interface_objects.get(name)
        if interface is not None and interface.num_samples != expected:
            raise SourceFormatError(
                files[key], f"{interface.num_samples} samples", f"{expected}, one per sample of the stream it belongs to"
            )


def build_conversion(cell_dir: Path, user_metadata: dict, stub_test: bool = False) -> Conversion:
    """Assemble the converter and metadata for one SPE-1 cell folder.

    Raises
    ------
    SourceFormatError
        On missing or inconsistent files, or a patch rate that disagrees with the Data Summary.
    MetadataError
        If the cell is absent from the Data Summary and the user's metadata gives no ``Cell: patch_type``.
    """
    cell_dir = Path(cell_dir)
    files = find_cell_files(cell_dir)
    cell_id = cell_id_of(files["npx"])
    facts, summary = cell_facts(cell_id, cell_dir.parent, user_metadata)
    recording_mode, conversion, pipette = parse_patch_type(facts["patch_type"], summary)
    channel_map = channel_map_path(cell_dir)
    source_data = dict(
        Recording=dict(file_path=files["npx"], channel_map_path=channel_map),
        Patch=dict(file_path=files["patch"], recording_mode=recording_mode, conversion=conversion),
        **sync_source_data(files),
    )
    converter = SPE1Converter(source_data=source_data)
    npx_samples = converter.data_interface_objects["Recording"].num_samples
    patch_samples = converter.data_interface_objects["Patch"].num_samples
    check_binaries_against_expt_meta(files, npx_samples, patch_samples)
    check_sync_lengths(converter, files, npx_samples, patch_samples)
    check_patch_rate(converter.patch_sampling_frequency(), facts, summary, files)
    notes = [
        note
        for note in (
            degenerate_geometry_note(converter.data_interface_objects["Recording"].positions_um, channel_map),
            non_finite_note(converter.data_interface_objects["Patch"].trace, files["patch"], name="the patch trace"),
        )
        if note
    ]
    if files["spikes"]:  # added once the patch length is known: every spike sample must fall inside the trace
        converter.data_interface_objects["GroundTruth"] = SpikeSamplesInterface(
            file_path=files["spikes"], num_clock_samples=patch_samples
        )
        notes += converter.data_interface_objects["GroundTruth"].notes
    else:
        notes.append(f"{cell_dir}: no cNN_wc_spike_samples.npy, so the file has no ground-truth unit")
    if files["expt_meta"] is None and find_session_file(cell_dir, r"c\d+_expt_meta", ".npy", required=False):
        notes.append(
            f"{cell_dir}: cNN_expt_meta.npy (an early, pickled version) is not read, as loading pickles is unsafe; "
            "the binaries' shapes were not cross-checked against it"
        )
    converter.temporally_align_data_interfaces()
    rate = converter.patch_sampling_frequency()
    metadata, notes = assemble_metadata(
        converter.get_metadata(),
        "spe1",
        session=cell_metadata(cell_id, facts, pipette, rate),
        user={key: value for key, value in user_metadata.items() if key != "Cell"},
        notes=notes,
        default_start_time=start_time_default(facts),
    )
    metadata["Cell"] = {key: facts[key] for key in CELL_KEYS if facts.get(key) is not None}
    options = {name: {"stub_test": stub_test} for name in converter.data_interface_objects}
    sources = [cell_dir, summary, channel_map]
    return Conversion(converter=converter, metadata=metadata, conversion_options=options, notes=notes, sources=sources)


def find_sessions(release_root: Path) -> list[Path]:
    """The cell folders ``cNN/`` of a release (each holding a ``cNN_npx_raw.bin``), in cell order."""
    release_root = release_root_folder(release_root)
    cells = [
        folder
        for folder in release_root.iterdir()
        if folder.is_dir()
        and re.fullmatch(r"c\d+", folder.name)
        and find_session_file(folder, r"c\d+_npx_raw", ".bin", required=False)
    ]
    return sorted(cells, key=natural_key)


def write_sample(folder: Path) -> tuple[Path, Path]:
    """Write a small sample SPE-1 release (cell c14) and its sample metadata; see :mod:`nwb_conversions.samples`."""
    from ..samples.spe1 import write_spe1_release

    return write_spe1_release(folder)


def write_sample_release(folder: Path, num_sessions: int = 3) -> tuple[Path, list[Path]]:
    """Write a sample release of ``num_sessions`` cells; see :mod:`nwb_conversions.samples.spe1`."""
    from ..samples.spe1 import write_spe1_sample_release

    return write_spe1_sample_release(folder, num_sessions)


DATASET = Dataset(
    key="spe1",
    summary="SPE-1 Neuropixels + patch-clamp cell (Marques-Smith et al. 2018)",
    source_help="an SPE-1 cell folder (cNN/) holding cNN_npx_raw.bin and cNN_patch_ch1.bin",
    build=build_conversion,
    write_sample=write_sample,
    find_sessions=find_sessions,
    write_sample_release=write_sample_release,
)
