"""Helpers for the SPE-1 tests: a sample release per test, and reading a converted file back."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nwb_conversions.samples.spe1 import write_spe1_release

SUBJECT_YAML = "Subject:\n  subject_id: rat-07\n  sex: U\n  age: P60D\n"


def sample_release(tmp_path: Path, **options) -> tuple[Path, Path]:
    """Write a sample release under ``tmp_path/release``; return the cell folder and its sample metadata YAML."""
    return write_spe1_release(tmp_path / "release", **options)


def read_npx(cell_dir: Path, cell_id: str = "c14") -> np.ndarray:
    """The Neuropixels samples as written, ``(samples, 384)`` int16."""
    (path,) = cell_dir.glob(f"{cell_id}_npx_raw*.bin")
    return np.fromfile(path, dtype="<i2").reshape(-1, 384)


def assert_one_line_error(result, output: Path, *fragments: str, code: int = 1) -> None:
    """The command failed with one ``error:`` line holding ``fragments`` and left no output or partial file."""
    exit_code, _, err = result
    assert exit_code == code
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not output.exists()
    assert not list(output.parent.glob(f".{output.stem}.partial*"))


def repeat_summary_row(summary_path: Path, cell_id: str, changes: dict | None = None, *, blank_rows: int = 1
                       ) -> tuple[int, int]:
    """List ``cell_id`` again at the end of a ``Data Summary.xlsx`` (after ``blank_rows`` empty rows), with
    ``changes`` ({column: value}) applied to the copy; return the two spreadsheet row numbers."""
    import openpyxl

    workbook = openpyxl.load_workbook(summary_path)
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    original = next(row for row in sheet.iter_rows(min_row=2) if str(row[0].value).strip() == cell_id)
    values = [cell.value for cell in original]
    for column, value in (changes or {}).items():
        values[header.index(column)] = value
    number = sheet.max_row + 1 + blank_rows
    for index, value in enumerate(values, start=1):
        sheet.cell(row=number, column=index, value=value)
    workbook.save(summary_path)
    return original[0].row, number
