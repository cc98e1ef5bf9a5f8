"""The CSV form of a batch's sessions table, read strictly: every row as its line number, session and cells.

The file is read whole after checking it is a regular UTF-8 file of at most :data:`MAX_TABLE_BYTES` (a release has at
most a few thousand sessions: a larger file is not a sessions table, and a FIFO or ``/dev/zero`` never ends). Quoting
is strict, so a file cut inside a quoted cell is refused ("unexpected end of data"), and so is a row with fewer or more
cells than the header (a row cut short, or a stray comma): a missing cell is never read as an empty one. Cells are
kept as ``(column, value)`` pairs in file order, so a column given twice can be checked for agreement rather than one
of its values silently dropped.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import MetadataError, SourceFormatError
from ..readers.source_access import decode_utf8, read_source_bytes

#: The column naming a session.
SESSION_COLUMN = "session"

#: Largest sessions table read (16 MiB: ~100,000 rows of ten columns).
MAX_TABLE_BYTES = 16 * 1024 * 1024

#: What a CSV sessions table must be.
EXPECTED_CSV = f"a UTF-8 CSV sessions table: a header row with a '{SESSION_COLUMN}' column, then one row per session"

#: One row: its (last) line number, its session name and its other cells.
CsvRow = tuple[int, str, list[tuple[str, str]]]


def read_csv_text(table_path: Path) -> str:
    """The table's text.

    Raises
    ------
    MetadataError
        If it is not a readable regular file, is larger than :data:`MAX_TABLE_BYTES`, is not UTF-8 or is empty.
    """
    try:
        text = decode_utf8(read_source_bytes(table_path, EXPECTED_CSV, max_bytes=MAX_TABLE_BYTES), table_path,
                           EXPECTED_CSV)
    except MetadataError:
        raise
    except SourceFormatError as error:
        raise MetadataError(table_path, error.problem, error.expected) from None
    if not text.strip():
        raise MetadataError(table_path, "is empty", EXPECTED_CSV)
    return text


def header_columns(header: list[str], table_path: Path) -> list[str]:
    """The header's column names, stripped; exactly one ``session`` column and no unnamed one."""
    columns = [name.strip() for name in header]
    if SESSION_COLUMN not in columns:
        raise MetadataError(
            table_path, f"no '{SESSION_COLUMN}' column (columns: {', '.join(columns) or 'none'})",
            f"a header row with a '{SESSION_COLUMN}' column holding each session's folder or file name",
        )
    if columns.count(SESSION_COLUMN) > 1:
        raise MetadataError(table_path, f"the '{SESSION_COLUMN}' column appears twice", "one column per session name")
    if "" in columns:
        raise MetadataError(table_path, f"column {columns.index('') + 1} of the header has no name", "named columns")
    return columns


def read_csv_rows(table_path: Path) -> list[CsvRow]:
    """Read the CSV's rows in file order (values as text; blank lines skipped).

    Raises
    ------
    MetadataError
        On an unreadable file, a missing or repeated ``session`` column, a row with more or fewer cells than the
        header, an empty session name, broken quoting, or no row at all.
    """
    text = read_csv_text(table_path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        columns = header_columns(next(reader), table_path)
        for record in reader:
            line = reader.line_num
            if not record:
                continue
            if len(record) != len(columns):
                more = "more" if len(record) > len(columns) else "fewer"
                raise MetadataError(
                    table_path, f"line {line} has {more} cells than the header ({len(record)}, not {len(columns)})",
                    "one cell per column (an empty cell as nothing between two commas)",
                )
            cells = list(zip(columns, record))
            session = record[columns.index(SESSION_COLUMN)].strip()
            if not session:
                raise MetadataError(table_path, f"line {line} has an empty '{SESSION_COLUMN}'", "a session name")
            rows.append((line, session, [(column, value) for column, value in cells if column != SESSION_COLUMN]))
    except csv.Error as error:
        raise MetadataError(table_path, f"not a readable CSV ({' '.join(str(error).split())})", EXPECTED_CSV) from None
    if not rows:
        raise MetadataError(table_path, "holds a header but no session row", EXPECTED_CSV)
    return rows
