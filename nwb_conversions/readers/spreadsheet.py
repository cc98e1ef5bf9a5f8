"""Tables kept as spreadsheets (``.xlsx``) or CSV files with a header row, read as one dict per row."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

from ..errors import SourceFormatError


def read_table_rows(file_path: str | Path, *, required_columns: tuple[str, ...] = ()) -> list[dict]:
    """Read the first sheet of an ``.xlsx`` file, or a CSV file, into a list of ``{header: value}`` rows.

    Empty rows are skipped. Cell values keep the types the workbook stores (numbers, datetimes, text); a CSV gives
    text.

    Raises
    ------
    SourceFormatError
        If the file is unreadable or lacks a required column.
    """
    file_path = Path(file_path)
    try:
        if file_path.suffix.lower() == ".xlsx":
            import openpyxl

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about the workbook extensions it drops
                workbook = openpyxl.load_workbook(file_path, read_only=True, data_only=True)
                rows = list(workbook.worksheets[0].iter_rows(values_only=True))
                workbook.close()
        else:
            with open(file_path, newline="", encoding="utf-8") as stream:
                rows = list(csv.reader(stream))
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise SourceFormatError(file_path, f"unreadable table ({exc.__class__.__name__}: {exc})", "an .xlsx or .csv")
    if not rows:
        raise SourceFormatError(file_path, "empty table", "a header row and data rows")
    header = [str(name).strip() if name is not None else "" for name in rows[0]]
    missing = [name for name in required_columns if name not in header]
    if missing:
        raise SourceFormatError(file_path, f"missing column(s) {missing}", f"a header with {list(required_columns)}")
    records = []
    for row in rows[1:]:
        if all(value in (None, "") for value in row):
            continue
        records.append({name: value for name, value in zip(header, row) if name})
    return records
