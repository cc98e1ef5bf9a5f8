"""Per-session metadata for a whole release: a CSV or YAML table keyed by session.

A release rarely documents its subjects, and DANDI needs a subject for every file, so a batch takes a table with
one row per session. The ``session`` column holds the session's folder or file name as ``find_sessions`` lists it
(``c14``, ``2014_11_25_Pair_3_0``, ``103991.h5`` or ``103991``); the other columns are facts about it:

==========================  ===================================
column                      NWB metadata
==========================  ===================================
``subject_id``              ``Subject/subject_id``
``species``                 ``Subject/species``
``sex``                     ``Subject/sex`` (M, F, U or O)
``age``                     ``Subject/age`` (ISO 8601 duration)
``date_of_birth``           ``Subject/date_of_birth``
``strain``, ``genotype``    ``Subject/strain``, ``Subject/genotype``
``weight``                  ``Subject/weight``
``subject_description``     ``Subject/description``
``session_start_time``      ``NWBFile/session_start_time``
``session_description``     ``NWBFile/session_description``
``session_id``              ``NWBFile/session_id``
``experimenter``            ``NWBFile/experimenter`` (``;`` between names)
``lab``, ``institution``    ``NWBFile/lab``, ``NWBFile/institution``
``Block.field``             any other field, e.g. ``Subject.strain`` or ``NWBFile.pharmacology``
==========================  ===================================

Empty cells are left out (never filled with a guess). The YAML form maps each session to the same names, or to
metadata blocks as in ``--metadata`` (``c14: {Subject: {sex: F}}``). A row is applied over the release's
``--metadata`` file and under nothing else: it is the user's own statement about that session.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

from ..errors import MetadataError
from .assembly import check_user_metadata, deep_update, load_yaml_mapping

#: The column naming a session.
SESSION_COLUMN = "session"

#: Named columns → (metadata block, field).
COLUMN_FIELDS = {
    "subject_id": ("Subject", "subject_id"),
    "species": ("Subject", "species"),
    "sex": ("Subject", "sex"),
    "age": ("Subject", "age"),
    "date_of_birth": ("Subject", "date_of_birth"),
    "strain": ("Subject", "strain"),
    "genotype": ("Subject", "genotype"),
    "weight": ("Subject", "weight"),
    "subject_description": ("Subject", "description"),
    "session_start_time": ("NWBFile", "session_start_time"),
    "session_description": ("NWBFile", "session_description"),
    "session_id": ("NWBFile", "session_id"),
    "experimenter": ("NWBFile", "experimenter"),
    "lab": ("NWBFile", "lab"),
    "institution": ("NWBFile", "institution"),
}

#: Fields that hold a list in NWB; a table cell separates the items with ``;``.
LIST_FIELDS = {("NWBFile", "experimenter"), ("NWBFile", "keywords"), ("NWBFile", "related_publications")}

#: The values DANDI accepts for ``Subject/sex``.
SEX_VALUES = ("M", "F", "U", "O")


def column_field(column: str, table_path: Path) -> tuple[str, str]:
    """Where a column goes: a named column, or ``Block.field``.

    Raises
    ------
    MetadataError
        For any other column name.
    """
    if column in COLUMN_FIELDS:
        return COLUMN_FIELDS[column]
    block, dot, field = column.partition(".")
    if dot and block[:1].isupper() and block.isidentifier() and field.isidentifier():
        return block, field
    raise MetadataError(
        table_path,
        f"unknown column {column!r}",
        f"'{SESSION_COLUMN}' and columns among {', '.join(COLUMN_FIELDS)}, or 'Block.field' such as 'Subject.strain'",
    )


def cell_value(value, block: str, field: str):
    """A table value as metadata: text stripped (lists split at ``;``), YAML dates kept, numbers as text for ids."""
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, (list, tuple)):
        return [str(item).strip() for item in value]
    text = str(value).strip()
    if (block, field) in LIST_FIELDS:
        return [item.strip() for item in text.split(";") if item.strip()]
    return text


def row_metadata(row: dict, table_path: Path) -> dict:
    """Turn one row (column → value, without the session) into nested metadata; empty values are left out."""
    metadata: dict = {}
    for column, value in row.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, dict) and column[:1].isupper():  # YAML: a whole metadata block
            metadata = deep_update(metadata, {column: value})
            continue
        block, field = column_field(column, table_path)
        metadata.setdefault(block, {})[field] = cell_value(value, block, field)
    subject = metadata.get("Subject", {})
    if "subject_id" in subject:
        subject["subject_id"] = str(subject["subject_id"])
    return metadata


def check_row(session: str, metadata: dict, table_path: Path) -> None:
    """Check a row's dates (ISO 8601 with a time zone) and sex (M, F, U or O) before any conversion starts.

    Raises
    ------
    MetadataError
        Naming the session's row.
    """
    try:
        check_user_metadata(metadata, table_path)
    except MetadataError as error:
        raise MetadataError(table_path, f"row {session!r}: {error.problem}", error.expected) from None
    sex = metadata.get("Subject", {}).get("sex")
    if sex is not None and sex not in SEX_VALUES:
        raise MetadataError(table_path, f"row {session!r}: sex is {sex!r}", f"one of {', '.join(SEX_VALUES)}")


def read_csv_rows(table_path: Path) -> dict[str, dict]:
    """Read the CSV's rows by session (values as text)."""
    try:
        with open(table_path, newline="", encoding="utf-8-sig") as stream:
            reader = csv.DictReader(stream)
            columns = [name.strip() for name in reader.fieldnames or []]
            if SESSION_COLUMN not in columns:
                raise MetadataError(
                    table_path, f"no '{SESSION_COLUMN}' column (columns: {', '.join(columns) or 'none'})",
                    f"a header row with a '{SESSION_COLUMN}' column holding each session's folder or file name",
                )
            rows = {}
            for line_number, raw in enumerate(reader, start=2):
                row = {(key or "").strip(): value for key, value in raw.items()}
                if None in raw or "" in row:
                    raise MetadataError(
                        table_path, f"line {line_number} has more cells than the header", "one cell per column"
                    )
                session = (row.pop(SESSION_COLUMN) or "").strip()
                if not session:
                    raise MetadataError(
                        table_path, f"line {line_number} has an empty '{SESSION_COLUMN}'", "a session name"
                    )
                if session in rows:
                    raise MetadataError(table_path, f"session {session!r} has two rows", "one row per session")
                rows[session] = row
            return rows
    except (UnicodeDecodeError, csv.Error) as error:
        raise MetadataError(table_path, f"not a readable CSV ({' '.join(str(error).split())})", "a UTF-8 CSV") from None


def read_yaml_rows(table_path: Path) -> dict[str, dict]:
    """Read the YAML's rows by session."""
    rows = {}
    for session, row in load_yaml_mapping(table_path).items():
        if not isinstance(row, dict):
            raise MetadataError(
                table_path, f"session {session!r} holds a {type(row).__name__}, not a mapping",
                "each session mapped to its columns, e.g. 'c14: {subject_id: rat7, sex: F}'",
            )
        rows[str(session)] = row
    return rows


def read_sessions_table(table_path: str | Path) -> dict[str, dict]:
    """Read a sessions table (``.csv``, or ``.yaml``/``.yml``) into metadata by session name.

    Returns
    -------
    dict
        Session name → nested metadata (``{"Subject": {...}, "NWBFile": {...}}``).

    Raises
    ------
    MetadataError
        On a missing file, an unknown column, a duplicate session, a bad date or sex.
    """
    table_path = Path(table_path)
    if not table_path.is_file():
        raise MetadataError(table_path, "no such sessions table", "a CSV or YAML file")
    suffix = table_path.suffix.lower()
    if suffix == ".csv":
        rows = read_csv_rows(table_path)
    elif suffix in (".yaml", ".yml"):
        rows = read_yaml_rows(table_path)
    else:
        raise MetadataError(table_path, f"unknown table type {suffix or '(no suffix)'!r}", "a .csv, .yaml or .yml file")
    table = {}
    for session, row in rows.items():
        table[session] = row_metadata(row, table_path)
        check_row(session, table[session], table_path)
    return table


def session_names(session_path: Path) -> tuple[str, ...]:
    """The names a table may use for a session: its folder or file name, and a file's name without its suffix."""
    return (session_path.name,) if session_path.is_dir() else (session_path.name, session_path.stem)


def match_sessions(table: dict[str, dict], sessions: list[Path]) -> tuple[dict[Path, dict], list[str]]:
    """Pair the release's sessions with their rows.

    Returns
    -------
    rows : dict
        Session path → its row's metadata (``{}`` without a row).
    unmatched : list of str
        Table rows that name no session of the release.
    """
    rows, used = {}, set()
    for session in sessions:
        names = [name for name in session_names(session) if name in table]
        rows[session] = table[names[0]] if names else {}
        used.update(names)
    return rows, [name for name in table if name not in used]
