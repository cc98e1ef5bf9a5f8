"""TemplateDataset: the converter of one session folder, session discovery in a release, and metadata assembly.

Metadata precedence, lowest first: what the session records (session id, start time) →
``metadata/template_dataset.yaml`` → the user's ``--metadata`` file. Replace the converter's interfaces with yours,
add per-session tables to ``session=`` of :func:`~nwb_conversions.metadata.assembly.assemble_metadata`, and list
in ``sources`` every file the conversion reads (an output may never replace one).
"""

from __future__ import annotations

from pathlib import Path

from neuroconv import NWBConverter

from ...metadata.assembly import assemble_metadata
from .. import Conversion, Dataset, natural_key, release_root_folder, stub_conversion
from . import ENTRY
from .interface import TemplateDatasetRecordingInterface
from .layout import SESSION_FILE
from .sample import write_sample, write_sample_release


class TemplateDatasetConverter(NWBConverter):
    """The recording of one TemplateDataset session."""

    data_interface_classes = dict(Recording=TemplateDatasetRecordingInterface)


def build_conversion(session_dir: Path, user_metadata: dict, stub_test: bool = False) -> Conversion:
    """Assemble the converter and metadata for one session folder.

    Raises
    ------
    SourceFormatError
        If the folder is not a valid session.
    """
    converter = TemplateDatasetConverter(source_data=dict(Recording=dict(folder_path=Path(session_dir))))
    metadata, notes = assemble_metadata(converter.get_metadata(), ENTRY.key, user=user_metadata)
    return stub_conversion(converter, metadata, notes=notes, sources=[Path(session_dir)], stub_test=stub_test)


def find_sessions(release_root: Path) -> list[Path]:
    """The session folders (holding a ``session.json``) under the release root, sorted."""
    release_root = release_root_folder(release_root)
    sessions = {path.parent for path in release_root.rglob(SESSION_FILE) if path.is_file()}
    return sorted(sessions, key=natural_key)


DATASET = Dataset(
    ENTRY,
    build=build_conversion,
    find_sessions=find_sessions,
    write_sample=write_sample,
    write_sample_release=write_sample_release,
)
