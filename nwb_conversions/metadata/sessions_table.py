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

Empty cells are left out (never filled with a guess); a cell holding ``NaN`` (a spreadsheet's mark of a missing
value) is refused rather than written as a fact. The YAML form maps each session to the same names, or to metadata
blocks as in ``--metadata`` (``c14: {Subject: {sex: F}}``). A row is applied over the release's ``--metadata`` file
and under nothing else: it is the user's own statement about that session.

A fact stated twice must be stated the same way: two columns naming one field (``sex`` and ``Subject.sex``, a
column repeated), two rows of one session, or two rows naming one session in two ways (``103991.h5`` and ``103991``)
are accepted when they agree and refused, naming both places, when they do not. The CSV form is read by
:mod:`.sessions_csv`.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

from ..errors import MetadataError
from .assembly import check_user_metadata, load_yaml_mapping
from .sessions_csv import SESSION_COLUMN, read_csv_rows

#: What two statements of one fact must be.
AGREE = "each fact stated once, or stated the same way each time"

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


def is_missing_marker(value) -> bool:
    """Whether a cell holds a spreadsheet's mark of a missing value (``NaN`` as text, or YAML's ``.nan``)."""
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip().lower() == "nan"


def set_field(metadata: dict, origins: dict, block: str, field: str, value, column: str, where: str, table: Path):
    """Set ``metadata[block][field]``; a field set before (by ``origins[(block, field)]``) must get the same value.

    Raises
    ------
    MetadataError
        Naming both columns when the two values differ.
    """
    if is_missing_marker(value):
        raise MetadataError(
            table, f"{where}: {column} is {value!r}, a spreadsheet's mark of a missing value",
            "the value, or an empty cell (left out, never guessed)",
        )
    fields = metadata.setdefault(block, {})
    if (block, field) in origins and fields[field] != value:
        raise MetadataError(
            table, f"{where}: {origins[(block, field)]} and {column} disagree ({fields[field]!r} and {value!r})", AGREE
        )
    origins.setdefault((block, field), column)
    fields[field] = value


def row_metadata(cells, table_path: Path, session: str = "") -> dict:
    """Turn one row's cells (``(column, value)`` pairs, or a mapping; without the session) into nested metadata.

    Empty values are left out; a field given by two columns (or a column and a YAML block) must agree.
    """
    metadata: dict = {}
    origins: dict = {}
    where = f"row {session!r}"
    for column, value in cells.items() if isinstance(cells, dict) else cells:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, dict) and column[:1].isupper():  # YAML: a whole metadata block
            for field, item in value.items():
                set_field(metadata, origins, column, str(field), item, f"{column}.{field}", where, table_path)
            continue
        block, field = column_field(column, table_path)
        set_field(metadata, origins, block, field, cell_value(value, block, field), column, where, table_path)
    subject = metadata.get("Subject", {})
    if "subject_id" in subject:
        subject["subject_id"] = str(subject["subject_id"])
    return metadata


def first_difference(first: dict, second: dict) -> str:
    """The first field on which two rows' metadata differ, as ``Subject.sex 'F' and 'M'``."""
    for block in sorted(set(first) | set(second), key=str):
        fields_a, fields_b = first.get(block, {}), second.get(block, {})
        for field in sorted(set(fields_a) | set(fields_b), key=str):
            if fields_a.get(field) != fields_b.get(field):
                return f"{block}.{field} {fields_a.get(field, '(empty)')!r} and {fields_b.get(field, '(empty)')!r}"
    return "their facts"


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


def read_yaml_rows(table_path: Path) -> list[tuple[str, str, dict]]:
    """Read the YAML's rows in file order: (where, session, row)."""
    rows = []
    for session, row in load_yaml_mapping(table_path).items():
        if not isinstance(row, dict):
            raise MetadataError(
                table_path, f"session {session!r} holds a {type(row).__name__}, not a mapping",
                "each session mapped to its columns, e.g. 'c14: {subject_id: rat7, sex: F}'",
            )
        rows.append((f"key {session!r}", str(session).strip(), row))
    return rows


def read_table_rows(table_path: Path) -> list[tuple[str, str, object]]:
    """The table's rows in file order, as (where, session, cells), by the file's suffix."""
    if not table_path.exists() and not table_path.is_symlink():
        raise MetadataError(table_path, "no such sessions table", "a CSV or YAML file")
    suffix = table_path.suffix.lower()
    if suffix == ".csv":
        return [(f"line {line}", session, cells) for line, session, cells in read_csv_rows(table_path)]
    if suffix in (".yaml", ".yml"):
        return read_yaml_rows(table_path)
    raise MetadataError(table_path, f"unknown table type {suffix or '(no suffix)'!r}", "a .csv, .yaml or .yml file")


def read_sessions_table(table_path: str | Path) -> dict[str, dict]:
    """Read a sessions table (``.csv``, or ``.yaml``/``.yml``) into metadata by session name.

    A session given two rows is accepted when both state the same facts.

    Returns
    -------
    dict
        Session name → nested metadata (``{"Subject": {...}, "NWBFile": {...}}``).

    Raises
    ------
    MetadataError
        On a missing or unreadable file, an unknown column, two rows of one session that disagree, two columns of
        one field that disagree, a ``NaN`` cell, a bad date or sex.
    """
    table_path = Path(table_path)
    table: dict[str, dict] = {}
    places: dict[str, str] = {}
    for where, session, cells in read_table_rows(table_path):
        metadata = row_metadata(cells, table_path, session)
        check_row(session, metadata, table_path)
        if session in table and table[session] != metadata:
            raise MetadataError(
                table_path,
                f"session {session!r} has two rows that disagree ({places[session]} and {where}: "
                f"{first_difference(table[session], metadata)})",
                f"one row per session, or rows that agree: {AGREE}",
            )
        table.setdefault(session, metadata)
        places.setdefault(session, where)
    return table


def session_names(session_path: Path) -> tuple[str, ...]:
    """The names a table may use for a session: its folder or file name, and a file's name without its suffix."""
    return (session_path.name,) if session_path.is_dir() else (session_path.name, session_path.stem)


def match_sessions(
    table: dict[str, dict], sessions: list[Path], table_path: str | Path | None = None
) -> tuple[dict[Path, dict], list[str]]:
    """Pair the release's sessions with their rows; a session named by two rows (``103991.h5`` and ``103991``)
    takes them if they agree.

    Returns
    -------
    rows : dict
        Session path → its row's metadata (``{}`` without a row).
    unmatched : list of str
        Table rows that name no session of the release.

    Raises
    ------
    MetadataError
        If two rows name one session and disagree (naming ``table_path``).
    """
    rows, used = {}, set()
    for session in sessions:
        names = [name for name in session_names(session) if name in table]
        for name in names[1:]:
            if table[name] != table[names[0]]:
                raise MetadataError(
                    table_path or "sessions table",
                    f"rows {names[0]!r} and {name!r} both name session {session.name!r} and disagree "
                    f"({first_difference(table[names[0]], table[name])})",
                    f"one row per session, or rows that agree: {AGREE}",
                )
        rows[session] = table[names[0]] if names else {}
        used.update(names)
    return rows, [name for name in table if name not in used]
