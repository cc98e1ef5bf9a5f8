"""Allen Institute Dataset II (Ledochowitsch et al. 2019): one ``<recording_id>.h5`` per simultaneous recording.

Each file holds one neuron's GCaMP6 ΔF/F, its cell-attached voltage (raw and baseline-subtracted), the detected
spike times, the detection threshold and the mouse's genotype (see
:mod:`nwb_conversions.layouts.allen_oephys.recording`).
The session id is the recording id (the file's stem).

The release records no session start time: unless the user's metadata gives one, it is the placeholder
1900-01-01T00:00:00+00:00, as CatalystNeuro's conversion of the same lab's data (DANDI:000048) used, and the file's
notes say so.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from neuroconv import NWBConverter

from ...interfaces.allen_oephys_h5 import AllenOephysRecordingInterface
from ...metadata.assembly import assemble_metadata, placeholder_note
from .. import Conversion, Dataset, natural_key, release_root_folder, sample_writers, stub_conversion
from . import ENTRY

#: The placeholder session start time (the release has none); DANDI:000048 used the same date.
PLACEHOLDER_START_TIME = datetime(1900, 1, 1, tzinfo=timezone.utc)

PLACEHOLDER_NOTE = (
    placeholder_note(PLACEHOLDER_START_TIME)
    + " The same placeholder date was used by CatalystNeuro's conversion of this lab's data (DANDI:000048)."
)


class AllenOephysConverter(NWBConverter):
    """ΔF/F, cell-attached voltage and spikes of one Allen Dataset II recording."""

    data_interface_classes = dict(Recording=AllenOephysRecordingInterface)


def build_conversion(h5_path: Path, user_metadata: dict, stub_test: bool = False) -> Conversion:
    """Assemble the converter and metadata for one recording file.

    Metadata precedence, lowest first: the file (session id, genotype, threshold, indicator) →
    ``metadata/allen_oephys.yaml`` → the user's metadata.

    Raises
    ------
    SourceFormatError
        If the file is not a valid Dataset II recording.
    """
    converter = AllenOephysConverter(source_data=dict(Recording=dict(file_path=Path(h5_path))))
    interface = converter.data_interface_objects["Recording"]
    metadata, notes = assemble_metadata(
        converter.get_metadata(),
        "allen-oephys",
        user=user_metadata,
        notes=interface.consistency_notes(),
        default_start_time=(PLACEHOLDER_START_TIME, PLACEHOLDER_NOTE),
    )
    return stub_conversion(converter, metadata, notes=notes, sources=[Path(h5_path)], stub_test=stub_test)


def find_sessions(release_root: Path) -> list[Path]:
    """The recording files ``<recording_id>.h5`` (a numeric stem) under the release root."""
    release_root = release_root_folder(release_root)
    recordings = [path for path in release_root.rglob("*.h5") if path.is_file() and path.stem.isdigit()]
    return sorted(recordings, key=natural_key)


DATASET = Dataset(ENTRY, build=build_conversion, find_sessions=find_sessions, **sample_writers("allen_oephys"))
