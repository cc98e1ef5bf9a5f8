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

from pathlib import Path

from ...interfaces import SpikeSamplesInterface
from ...layouts.spe1.data_summary import CELL_KEYS, PATCH_TYPES, parse_patch_type, read_cell_facts
from ...layouts.spe1.expt_meta import check_binaries_against_expt_meta
from ...metadata.assembly import assemble_metadata
from ...readers.channel_map import degenerate_geometry_note
from ...readers.session_files import find_session_file
from ...readers.trace_checks import non_finite_note
from .. import Conversion, Dataset, find_cell_folders, sample_writers, stub_conversion
from . import ENTRY
from .cell import (
    UNIT_COLUMNS,
    cell_facts,
    cell_id_of,
    cell_metadata,
    channel_map_path,
    check_patch_rate,
    check_sync_lengths,
    find_cell_files,
    start_time_default,
    sync_source_data,
)
from .converter import CELL_SCHEMA, PATCH_RATE_TOLERANCE, SPE1Converter

__all__ = [
    "CELL_SCHEMA",
    "DATASET",
    "PATCH_RATE_TOLERANCE",
    "PATCH_TYPES",
    "SPE1Converter",
    "UNIT_COLUMNS",
    "build_conversion",
    "cell_facts",
    "cell_id_of",
    "find_sessions",
    "parse_patch_type",
    "read_cell_facts",
    "start_time_default",
]


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
    sources = [cell_dir, summary, channel_map]
    return stub_conversion(converter, metadata, notes=notes, sources=sources, stub_test=stub_test)


def find_sessions(release_root: Path) -> list[Path]:
    """The cell folders ``cNN/`` of a release (each holding a ``cNN_npx_raw.bin``), in cell order."""
    return find_cell_folders(
        release_root, lambda folder: find_session_file(folder, r"c\d+_npx_raw", ".bin", required=False) is not None
    )


DATASET = Dataset(
    ENTRY,
    build=build_conversion,
    find_sessions=find_sessions,
    **sample_writers("spe1", sample="write_spe1_release", release="write_spe1_sample_release"),
)
