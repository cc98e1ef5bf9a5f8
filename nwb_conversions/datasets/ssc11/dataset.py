"""SSC-11 (Peron et al. 2020): one ``an*sess_struct.mat`` per animal × condition × subvolume.

The session's place in the release gives the subject (``an<ID>``), the condition (the folder
``session_neuropilone_{pre,post}ablate[_type]_merged``), the subvolume (``vol_<NN>`` in the file name) and the
animal's ablation files (:mod:`nwb_conversions.layouts.ssc11.release`). Two interfaces read the file: the calcium
imaging (:class:`~nwb_conversions.interfaces.peron_session_ophys.PeronSessionOphysInterface`) and the behaviour and
trials (:class:`~nwb_conversions.interfaces.peron_session_behavior.PeronSessionBehaviorInterface`); a v5 file is
loaded once for both.

A merged file spans the days of its condition and records no date: unless the user's metadata gives one, the
session start time is the placeholder 1900-01-01T00:00:00+00:00, and the file's notes say so.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from neuroconv import NWBConverter

from ...interfaces.peron_session_behavior import PeronSessionBehaviorInterface
from ...interfaces.peron_session_ophys import PeronSessionOphysInterface
from ...layouts.ssc11.release import SessionPlace, locate_session
from ...metadata.assembly import assemble_metadata, placeholder_note
from .. import Conversion, Dataset, natural_key, release_root_folder, sample_writers, stub_conversion
from . import ENTRY

PLACEHOLDER_START_TIME = datetime(1900, 1, 1, tzinfo=timezone.utc)

PLACEHOLDER_NOTE = placeholder_note(
    PLACEHOLDER_START_TIME,
    "A merged session struct spans the 2-4 days of its condition and records no date",
)

#: The struct files of a release (the ``an*sess.mat`` class-object files beside them are not sessions).
SESSION_FILE_PATTERN = "an*sess_struct.mat"


class Ssc11Converter(NWBConverter):
    """Calcium imaging, behaviour and trials of one SSC-11 subvolume file."""

    data_interface_classes = dict(Ophys=PeronSessionOphysInterface, Behavior=PeronSessionBehaviorInterface)


def session_summary(place: SessionPlace) -> str:
    """``subvolume N, before/after ablation (type)`` as the session's path says."""
    condition = {"preablate": "before ablation", "postablate": "after ablation"}.get(place.condition, "condition unknown")
    if place.ablation_type:
        condition += f" ({place.ablation_type} ablation)"
    subvolume = f"subvolume {place.subvolume}" if place.subvolume is not None else "subvolume unknown"
    return f"{subvolume}, {condition}"


def session_metadata(place: SessionPlace) -> dict:
    """What the session's path says: the session id and the subject id."""
    metadata = {"NWBFile": {"session_id": place.session_id}}
    if place.subject_id:
        metadata["Subject"] = {"subject_id": place.subject_id}
    return metadata


def build_conversion(file_path: Path, user_metadata: dict, stub_test: bool = False) -> Conversion:
    """Assemble the converter and metadata for one ``an*sess_struct.mat``.

    Metadata precedence, lowest first: the file and its path (session id, subject id, condition, subvolume) →
    ``metadata/ssc11.yaml`` → the user's metadata.

    Raises
    ------
    SourceFormatError
        A file that is not a readable session struct, or a malformed ablation file beside it.
    """
    file_path = Path(file_path)
    place = locate_session(file_path)
    converter = Ssc11Converter(
        source_data=dict(
            Ophys=dict(
                file_path=file_path,
                subvolume=place.subvolume,
                ablation_file_paths=[str(path) for path in place.ablation_files],
            ),
            Behavior=dict(file_path=file_path),
        )
    )
    interfaces = converter.data_interface_objects
    notes = place.notes + interfaces["Ophys"].consistency_notes() + interfaces["Behavior"].consistency_notes()
    metadata, notes = assemble_metadata(
        converter.get_metadata(),
        "ssc11",
        session=session_metadata(place),
        user=user_metadata,
        notes=notes,
        default_start_time=(PLACEHOLDER_START_TIME, PLACEHOLDER_NOTE),
    )
    description = metadata["NWBFile"].get("session_description", "").rstrip(". ")
    if "session_description" not in (user_metadata.get("NWBFile") or {}):
        metadata["NWBFile"]["session_description"] = f"{description}. This file: {session_summary(place)}."
    return stub_conversion(
        converter, metadata, notes=notes, sources=[file_path, *place.ablation_files], stub_test=stub_test
    )


def find_sessions(release_root: Path) -> list[Path]:
    """The ``an*sess_struct.mat`` files under the release root (not the ``an*sess.mat`` class-object files)."""
    release_root = release_root_folder(release_root)
    sessions = [path for path in release_root.rglob(SESSION_FILE_PATTERN) if path.is_file()]
    return sorted(sessions, key=lambda path: [natural_key(Path(part)) for part in path.relative_to(release_root).parts])


DATASET = Dataset(ENTRY, build=build_conversion, find_sessions=find_sessions, **sample_writers("ssc11"))
