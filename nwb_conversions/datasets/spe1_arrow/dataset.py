"""SPE-1 Arrow (Zhao et al. 2026 benchmark): one cell's Hugging Face DatasetDict folder ``cNN/``.

The cell folder holds ``dataset_dict.json``, ``train/`` and ``test/`` (Arrow shards of ~3 s preprocessed segments),
``templates.npz``, ``patch.npz``, ``conversion_metadata.json`` and ``dataset_stats.json``; the release root beside
it holds ``Data Summary.xlsx`` / ``.csv`` (else the project's copy is used). The Data Summary's ``Patch Type`` types
the patch trace. ``raw_cell_dir`` (``--raw CELL_DIR``) adds the raw SPE-1 recording of the same cell (the ``spe1``
interfaces) to the same file: the segments start at ``sample_id`` on that recording's clock.
"""

from __future__ import annotations

from pathlib import Path

from neuroconv import NWBConverter

from ...errors import SourceFormatError
from ...interfaces.spe1_arrow_cell import SPE1ArrowCellInterface
from ...layouts.spe1.data_summary import CELL_KEYS
from ...metadata.assembly import assemble_metadata, deep_update
from ...readers.dataset_dict import read_json_object
from ...resources import shipped_metadata_dir
from .. import Conversion, Dataset, find_cell_folders, sample_writers, stub_conversion
from ..spe1 import dataset as spe1
from . import ENTRY

#: ``patch.npz`` ``patch_type`` labels and the Data Summary patch types they fit.
PATCH_LABELS = {"juxta": ("juxta",), "wc-ic": ("wc",), "wc": ("wc",)}


class SPE1ArrowConverter(NWBConverter):
    """The benchmark cell; with ``--raw``, the raw SPE-1 interfaces are placed before it (they share electrodes)."""

    data_interface_classes = dict(Benchmark=SPE1ArrowCellInterface)

    def get_metadata_schema(self) -> dict:
        """Add the ``Cell`` block (per-cell facts) to the interfaces' schemas."""
        schema = super().get_metadata_schema()
        schema["properties"]["Cell"] = spe1.CELL_SCHEMA
        return schema


def cell_id_of(cell_dir: Path) -> str:
    """The cell id: ``conversion_metadata.json`` ``source_metadata.cell_id``, else the folder's name."""
    path = cell_dir / "conversion_metadata.json"
    recorded = read_json_object(path, "the cell's conversion_metadata.json").get("source_metadata", {})
    cell_id = recorded.get("cell_id") if isinstance(recorded, dict) else None
    return str(cell_id) if cell_id else cell_dir.name


def consistency_notes(cell_id: str, facts: dict, interface: SPE1ArrowCellInterface) -> list[str]:
    """Say where the release's files and the Data Summary disagree (kept as the files say; nothing is changed)."""
    notes = []
    metadata = interface.cell_metadata
    for key, value, name in (("chan_predicted", metadata.gt_electrode, "gt_electrode_chan_idx"),
                             ("chan_highest", metadata.peak_channels[0], "unit_peak_channel")):
        if facts.get(key) is not None and facts[key] != value:
            notes.append(f"{cell_id}: conversion_metadata.json {name} is {value} but the Data Summary {key} is "
                         f"{facts[key]}; the file keeps both")
    label = interface.patch.patch_type.strip().lower()
    kind = facts["patch_type"].split(",")[0].strip().lower()
    if kind not in PATCH_LABELS.get(label, ()):
        notes.append(f"{cell_id}: patch.npz patch_type is {label!r} but the Data Summary says {facts['patch_type']!r}; "
                     "the trace is typed by the Data Summary")
    if interface.recording_mode == "voltage_clamp":
        notes.append(f"{cell_id}: 'Juxta, VC' cell: patch.npz patch_v holds a current in pA (the release calls it "
                     "a voltage in mV); written as a VoltageClampSeries in pA")
    if interface.sample_id_origin:
        notes.append(f"{cell_id}: the segments' sample_id counts from the window's start (the first is 0), not the "
                     f"raw recording's: times are shifted by source_metadata.skip_seconds "
                     f"({interface.sample_id_origin} samples); BenchmarkSegments keeps the sample_id as stated")
    return notes


def check_raw_matches(raw: Conversion, raw_cell_dir: Path, cell_id: str, interface: SPE1ArrowCellInterface) -> None:
    """The raw recording is the same cell's, holds the whole window, and has the same probe geometry.

    Raises
    ------
    SourceFormatError
    """
    recording = raw.converter.data_interface_objects["Recording"]
    raw_id = spe1.cell_id_of(Path(recording.source_data["file_path"]))
    if raw_id != cell_id:
        raise SourceFormatError(raw_cell_dir, f"holds cell {raw_id}", f"the raw recording of cell {cell_id}")
    window_stop = interface.segments[-1].stop_sample
    if window_stop > recording.num_samples:
        raise SourceFormatError(
            raw_cell_dir, f"the raw recording has {recording.num_samples} samples",
            f"at least {window_stop}, where the benchmark's last segment ends",
        )
    if (recording.electrode_positions_um() != interface.templates.probe_positions).any():
        raise SourceFormatError(raw_cell_dir, "its channel map differs from templates.npz probe_positions",
                                "the same probe geometry in both")


def build_conversion(cell_dir: Path, user_metadata: dict, stub_test: bool = False, *,
                     raw_cell_dir: Path | None = None) -> Conversion:
    """Assemble the converter and metadata for one SPE-1 Arrow cell folder, with the raw recording if given.

    Raises
    ------
    SourceFormatError
        If the folder is not a DatasetDict of segments, its files disagree, or the raw recording does not fit.
    MetadataError
        If the cell is absent from the Data Summary and the user's metadata gives no ``Cell: patch_type``.
    """
    cell_dir = Path(cell_dir)
    if not cell_dir.is_dir():
        raise SourceFormatError(cell_dir, "not a folder", "an SPE-1 Arrow cell folder (a DatasetDict) such as c14/")
    if not (cell_dir / "dataset_dict.json").is_file():
        raise SourceFormatError(cell_dir, "no dataset_dict.json: not a DatasetDict folder",
                                "an SPE-1 Arrow cell folder written by DatasetDict.save_to_disk")
    cell_id = cell_id_of(cell_dir)
    facts, summary = spe1.cell_facts(cell_id, cell_dir.parent, user_metadata)
    recording_mode, conversion, pipette = spe1.parse_patch_type(facts["patch_type"], summary)
    channel_map = shipped_metadata_dir() / "spe1_channel_map.csv"
    converter = SPE1ArrowConverter(source_data=dict(Benchmark=dict(
        folder_path=cell_dir, recording_mode=recording_mode, conversion=conversion, channel_map_path=channel_map)))
    interface = converter.data_interface_objects["Benchmark"]
    notes = consistency_notes(cell_id, facts, interface)
    sources = [cell_dir, summary]
    source_metadata = converter.get_metadata()
    if raw_cell_dir is not None:
        raw = spe1.build_conversion(Path(raw_cell_dir), user_metadata, stub_test)
        check_raw_matches(raw, Path(raw_cell_dir), cell_id, interface)
        converter.data_interface_objects = {**raw.converter.data_interface_objects, "Benchmark": interface}
        raw_metadata = deep_update(raw.metadata, {})
        raw_metadata["NWBFile"].pop("notes", None)
        source_metadata = deep_update(source_metadata, raw_metadata)
        notes = raw.notes + notes
        sources += raw.sources
    session = {
        "NWBFile": {"session_id": cell_id},
        "Icephys": {"IntracellularElectrode": {"description": pipette, "cell_id": cell_id}},
        "GroundTruthUnit": {
            "columns": {name: {"description": text, "value": facts.get(name)} for name, text in spe1.UNIT_COLUMNS.items()}
        },
    }
    metadata, notes = assemble_metadata(
        source_metadata,
        "spe1-arrow",
        session=session,
        user={key: value for key, value in user_metadata.items() if key != "Cell"},
        notes=notes,
        default_start_time=spe1.start_time_default(facts),
    )
    metadata["Cell"] = {key: facts[key] for key in CELL_KEYS if facts.get(key) is not None}
    return stub_conversion(converter, metadata, notes=notes, sources=sources, stub_test=stub_test)


def find_sessions(release_root: Path) -> list[Path]:
    """The cell folders ``cNN/`` of a release that are DatasetDicts (hold ``dataset_dict.json``), in cell order."""
    return find_cell_folders(release_root, lambda folder: (folder / "dataset_dict.json").is_file())


DATASET = Dataset(
    ENTRY,
    build=build_conversion,
    find_sessions=find_sessions,
    **sample_writers("spe1_arrow"),
)
