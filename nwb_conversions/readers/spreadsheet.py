"""Tables kept as spreadsheets (``.xlsx``) or CSV files with a header row, read as one dict per row.

Reads are bounded: the file's size, the workbook's unpacked size, and the rows and columns read
(:data:`MAX_ROWS`, :data:`MAX_COLUMNS`), so a damaged sheet declaring a million rows costs no more than a real one.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from pathlib import Path

from ..errors import SourceFormatError
from .source_access import check_zip_size, decode_utf8, one_line, printable, read_source_bytes

#: Largest table file read, and largest unpacked workbook (the real Data Summary is 52 kB).
MAX_TABLE_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 256 * 1024 * 1024

#: Most data rows and columns read; a table with more rows is refused, columns beyond are not read.
MAX_ROWS = 100_000
MAX_COLUMNS = 512

EXPECTED_TABLE = "an .xlsx workbook or a UTF-8 .csv with a header row"


def _xlsx_rows(content: bytes, file_path: Path) -> list[tuple]:
    import openpyxl

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        check_zip_size(archive, file_path, EXPECTED_TABLE, max_bytes=MAX_UNPACKED_BYTES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about the workbook extensions it drops
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            return list(sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS, values_only=True))
        finally:
            workbook.close()


def read_table_rows(file_path: str | Path, *, required_columns: tuple[str, ...] = ()) -> list[dict]:
    """Read the first sheet of an ``.xlsx`` file, or a CSV file, into a list of ``{header: value}`` rows (see
    :func:`read_numbered_table_rows`)."""
    return [record for _, record in read_numbered_table_rows(file_path, required_columns=required_columns)]


def read_numbered_table_rows(
    file_path: str | Path, *, required_columns: tuple[str, ...] = ()
) -> list[tuple[int, dict]]:
    """Read the first sheet of an ``.xlsx`` file, or a CSV file, into ``(row number, {header: value})`` pairs; the
    number is the spreadsheet's own (the header is row 1), for messages that name a row.

    Empty rows are skipped; a row shorter than the header gives None for the missing cells. A column name may appear
    twice only if the two columns agree on every row. Cell values keep the types the workbook stores (numbers,
    datetimes, text); a CSV gives text.

    Raises
    ------
    SourceFormatError
        If the file cannot be read, is not a workbook / UTF-8 CSV, is empty, has more than :data:`MAX_ROWS` rows, or
        lacks a required column, or holds a row whose repeated columns disagree.
    """
    file_path = Path(file_path)
    content = read_source_bytes(file_path, EXPECTED_TABLE, max_bytes=MAX_TABLE_BYTES)
    try:
        if file_path.suffix.lower() == ".xlsx":
            rows = _xlsx_rows(content, file_path)
        else:
            text = decode_utf8(content, file_path, EXPECTED_TABLE)
            rows = list(csv.reader(io.StringIO(text, newline="")))
    except SourceFormatError:
        raise
    except Exception as exc:  # zipfile, openpyxl and csv raise many types for damaged files
        problem = f"unreadable table ({exc.__class__.__name__}: {one_line(exc)[:200]})"
        raise SourceFormatError(file_path, problem, EXPECTED_TABLE) from None
    if not rows:
        raise SourceFormatError(file_path, "empty table", "a header row and data rows")
    if len(rows) > MAX_ROWS + 1:
        raise SourceFormatError(file_path, f"more than {MAX_ROWS} rows", f"a table of at most {MAX_ROWS} rows")
    header = [one_line(name) if name is not None else "" for name in rows[0]]
    missing = [name for name in required_columns if name not in header]
    if missing:
        raise SourceFormatError(file_path, f"missing column(s) {missing}", f"a header with {list(required_columns)}")
    repeated = _repeated_columns(header)
    records = []
    for number, row in enumerate(rows[1:], start=2):
        if all(value in (None, "") for value in row):
            continue
        padded = tuple(row) + (None,) * (len(header) - len(row))
        _check_repeated_columns(header, repeated, padded, number, file_path)
        records.append((number, {name: value for name, value in zip(header, padded) if name}))
    return records


def column_label(index: int) -> str:
    """A 0-based column index as a spreadsheet names it: 0 → ``A``, 26 → ``AA``."""
    label = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        label = chr(ord("A") + remainder) + label
    return label


def _repeated_columns(header: list[str]) -> list[tuple[int, int]]:
    """``(first index, later index)`` of every named column that appears again in ``header``."""
    first_of: dict[str, int] = {}
    pairs = []
    for index, name in enumerate(header):
        if name and first_of.setdefault(name, index) != index:
            pairs.append((first_of[name], index))
    return pairs


def _check_repeated_columns(header: list[str], repeated, row: tuple, number: int, file_path: Path) -> None:
    """Refuse a row whose ``repeated`` columns (same name) hold different values (a fact stated twice in two ways)."""
    for first, index in repeated:
        if row[first] != row[index]:
            raise SourceFormatError(
                file_path,
                f"the column '{printable(header[index])}' appears twice (columns {column_label(first)} and "
                f"{column_label(index)}) and row {number} holds different values in them: {row[first]!r} and "
                f"{row[index]!r}",
                "each column once, or repeated columns that agree",
            )
