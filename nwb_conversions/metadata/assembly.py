"""Metadata assembly: the shipped dataset YAML files, the user's ``--metadata`` file, and what DANDI still needs.

Precedence, lowest first: what the source records, ``metadata/<dataset>.yaml``, per-session tables, the user's file.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from ..errors import MetadataError
from ..readers.yaml_metadata import read_yaml_mapping
from ..resources import shipped_metadata_dir

#: Subject fields DANDI requires; ``age`` may be replaced by ``date_of_birth``.
DANDI_SUBJECT_FIELDS = ("subject_id", "species", "sex", "age")


def load_yaml_mapping(file_path: str | Path) -> dict:
    """Read a YAML file that must hold a mapping (see :func:`~nwb_conversions.readers.yaml_metadata.read_yaml_mapping`:
    safe loading with bounded size, depth and alias expansion, plain data only).

    Raises
    ------
    MetadataError
        If the file is missing, is not valid YAML, exceeds the bounds or does not hold a mapping at its top level.
    """
    return read_yaml_mapping(file_path)


def load_dataset_metadata(dataset_key: str) -> dict:
    """Load ``metadata/<dataset_key>.yaml``, the documented dataset-level facts."""
    return load_yaml_mapping(shipped_metadata_dir() / f"{dataset_key.replace('-', '_')}.yaml")


#: Metadata fields that hold a moment in time: an ISO 8601 date-time with a time zone.
DATE_TIME_FIELDS = (("NWBFile", "session_start_time"), ("Subject", "date_of_birth"))


def check_user_metadata(metadata: dict, file_path: str | Path) -> None:
    """Check the shape of the user's metadata before anything uses it (the schema check comes after merging).

    Every top-level key must be text and every entry a mapping, and the date-time fields must be ISO 8601 date-times
    with a time zone.

    Raises
    ------
    MetadataError
        Naming the entry at fault.
    """
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise MetadataError(file_path, f"the top-level key {key!r} is not text", "keys such as NWBFile and Subject")
        if not isinstance(value, dict):
            raise MetadataError(
                file_path, f"'{key}' holds a {type(value).__name__}, not a mapping", f"'{key}:' followed by indented keys"
            )
    for block, field in DATE_TIME_FIELDS:
        value = metadata.get(block, {}).get(field)
        if value is None:
            continue
        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise MetadataError(
                file_path,
                f"{block}/{field} is {str(value)!r}, not a date-time with a time zone",
                "an ISO 8601 date-time with a time zone, such as 2017-11-28T14:30:00+00:00",
            )


def plain(value):
    """Return a deep copy of ``value`` with every mapping a plain ``dict`` (NeuroConv hands out auto-vivifying
    ``DeepDict`` objects, which invent empty blocks on lookup and cannot be hashed or passed on safely)."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    return copy.deepcopy(value)


def deep_update(base: Mapping, update: Mapping) -> dict:
    """Return a plain-dict copy of ``base`` with ``update`` merged in: mappings merge recursively, anything else
    replaces. Neither argument is modified."""
    merged = plain(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_update(merged[key], value)
        else:
            merged[key] = plain(value)
    return merged


def normalize_for_schema(metadata: dict) -> dict:
    """Return the metadata with dates as ISO strings, as NeuroConv's JSON schema expects them.

    YAML turns ``2017-11-28T00:00:00+00:00`` into a datetime; the schema wants a ``date-time`` string.
    """

    def convert(value):
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    return convert(metadata)


def missing_dandi_subject_fields(metadata: dict) -> list[str]:
    """List the subject fields DANDI requires that the metadata lacks (``age`` is satisfied by a date of birth)."""
    subject = metadata.get("Subject") or {}
    missing = [field for field in DANDI_SUBJECT_FIELDS if not subject.get(field)]
    if "age" in missing and subject.get("date_of_birth"):
        missing.remove("age")
    return missing


def subject_snippet(missing: list[str]) -> str:
    """Return the ``--metadata`` YAML that supplies the missing subject fields, with example values to replace."""
    examples = {
        "subject_id": ("animal01", "the lab's animal id"),
        "species": ("Rattus norvegicus", "Latin binomial"),
        "sex": ("U", "M, F, U (unknown) or O"),
        "age": ("P60D", "ISO 8601 duration; or give date_of_birth"),
    }
    lines = ["Subject:"] + [
        f"  {field + ':':<11} {examples[field][0]:<18} # {examples[field][1]}" for field in missing
    ]
    return "\n".join(lines)


def assemble_metadata(
    source_metadata: Mapping,
    dataset_key: str,
    *,
    session: Mapping | None = None,
    user: Mapping | None = None,
    notes: list[str] | tuple[str, ...] = (),
    default_start_time: tuple[datetime, str] | None = None,
) -> tuple[dict, list[str]]:
    """Assemble a session's metadata, the one recipe every dataset uses.

    Precedence, lowest first: what the source records (``source_metadata``, e.g. ``converter.get_metadata()``) →
    ``metadata/<dataset_key>.yaml`` → per-session tables (``session``) → the user's ``--metadata`` file (``user``).
    Then, when nobody gave ``NWBFile.session_start_time``, ``default_start_time`` (the source's own clock, or a
    documented placeholder) with its note. Last, the notes are appended to ``NWBFile.notes`` after whatever the
    dataset YAML or the user wrote there, so none is lost.

    Parameters
    ----------
    source_metadata : Mapping
        The interfaces' metadata.
    dataset_key : str
        Selects ``metadata/<dataset_key>.yaml`` (``-`` read as ``_``).
    session, user : Mapping, optional
        Per-session facts and the user's metadata.
    notes : sequence of str
        Assumptions made and facts missing, for the file's notes and the terminal.
    default_start_time : (datetime, str), optional
        A timezone-aware start time and the note that says where it comes from.

    Returns
    -------
    metadata : dict
        Plain dicts, dates as ISO 8601 strings (what NeuroConv's schema expects).
    notes : list of str
        ``notes`` plus the start-time note when the default was used.
    """
    metadata = deep_update(source_metadata, load_dataset_metadata(dataset_key))
    metadata = deep_update(metadata, session or {})
    metadata = deep_update(metadata, user or {})
    notes = list(notes)
    nwbfile = metadata.setdefault("NWBFile", {})
    if not nwbfile.get("session_start_time") and default_start_time is not None:
        start, note = default_start_time
        nwbfile["session_start_time"] = start.isoformat()
        notes.append(note)
    if notes:
        nwbfile["notes"] = "\n".join(([nwbfile["notes"]] if nwbfile.get("notes") else []) + notes)
    return normalize_for_schema(metadata), notes


def placeholder_note(value: datetime, reason: str = "The source does not record the session start time") -> str:
    """The note that says a session start time is a placeholder, and how to give the real one."""
    return (
        f"{reason}: session_start_time {value.isoformat()} is a placeholder. Supply the real one with --metadata "
        "(NWBFile: session_start_time)."
    )
