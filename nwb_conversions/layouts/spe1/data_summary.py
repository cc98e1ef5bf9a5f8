"""SPE-1 ``Data Summary.xlsx``: one row of per-cell facts (patch type, ground-truth channel, distance, date, rate).

The release keeps it at its root (sheet ``Sheet1``, 43 data rows); the project ships the same facts as
``metadata/spe1_data_summary.csv`` (derived from the real sheet) for cell folders downloaded without it.
Every numeric fact is checked against a plausible range, so a typo in the sheet is an error naming the sheet, the
cell and the column, never a value written as if true. A cell listed on two rows must have the same values on both
(the same row pasted twice is accepted); two different listings are refused, naming both rows.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from ...errors import MetadataError, SourceFormatError
from ...readers.spreadsheet import read_numbered_table_rows
from ...resources import shipped_metadata_dir

#: Neuropixels channels: a channel column must name one of them (0-based).
NUM_CHANNELS = 384

#: The per-cell facts, under the names the ``Cell`` metadata block uses.
CELL_KEYS = (
    "patch_type",
    "cell_type",
    "chan_predicted",
    "chan_highest",
    "distance_um",
    "date",
    "patch_sampling_frequency",
)

#: Columns every Data Summary has.
REQUIRED_COLUMNS = ("Cell", "Patch Type", "chan_predicted", "chan_highest", "Distance", "Cell Type", "Date")

#: Column of the patch amplifier's sampling rate (optional in the sheet).
PATCH_RATE_COLUMN = "Patch Samp. Freq. (Hz)"

#: Plausible ranges of the numeric facts: (column, lowest, highest, what is expected).
PLAUSIBLE_RANGES = {
    "chan_predicted": ("chan_predicted", 0, NUM_CHANNELS - 1, f"a channel in 0..{NUM_CHANNELS - 1}"),
    "chan_highest": ("chan_highest", 0, NUM_CHANNELS - 1, f"a channel in 0..{NUM_CHANNELS - 1}"),
    "distance_um": ("Distance", 0.0, 5000.0, "a distance in µm from 0 to 5000"),
    "patch_sampling_frequency": (PATCH_RATE_COLUMN, 1000.0, 1e6, "a rate in Hz from 1 kHz to 1 MHz"),
}


#: Years a recording of this release can have been made in.
PLAUSIBLE_YEARS = (1990, 2100)


def data_summary_path(release_root: Path) -> Path:
    """The release's ``Data Summary.xlsx`` (or ``.csv``) in ``release_root``, else the project's copy."""
    for name in ("Data Summary.xlsx", "Data Summary.csv"):
        candidate = Path(release_root) / name
        if candidate.is_file():
            return candidate
    return shipped_metadata_dir() / "spe1_data_summary.csv"


def _date(value, summary_path: Path, cell_id: str) -> str:
    """The recording date as ``YYYY-MM-DD``; an impossible or implausible date is an error (never a placeholder)."""
    if isinstance(value, (datetime, date)):
        moment = value
    else:
        try:
            moment = datetime.strptime(str(value).strip()[:10], "%Y-%m-%d")
        except ValueError:
            raise SourceFormatError(
                summary_path, f"cell {cell_id}: Date {str(value)!r} is not a date", "a date such as 2017-11-28"
            ) from None
    lowest, highest = PLAUSIBLE_YEARS
    if not lowest <= moment.year <= highest:
        raise SourceFormatError(
            summary_path,
            f"cell {cell_id}: Date {str(value)!r} is outside the plausible range",
            f"a date from {lowest} to {highest}, such as 2017-11-28",
        )
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"


def _number(row: dict, column: str, summary_path: Path, cell_id: str, *, integer: bool = False) -> float | int:
    """A numeric cell, as int or float; text is an error naming the cell and the column."""
    value = row.get(column)
    try:
        number = float(value)
        if integer:
            if not number.is_integer():
                raise ValueError
            return int(number)
        return number
    except (TypeError, ValueError):
        kind = "a whole number" if integer else "a number"
        raise SourceFormatError(
            summary_path, f"cell {cell_id}: {column} is {value!r}", f"{kind} in the {column} column"
        ) from None


def _comparable(value):
    """A cell's value as two listings of one cell are compared: text without surrounding spaces."""
    return value.strip() if isinstance(value, str) else value


def _the_cell_row(numbered_rows: list[tuple[int, dict]], summary_path: Path, cell_id: str) -> dict | None:
    """The cell's one row; a cell listed on several rows must have the same values on each (else the sheet states
    two different facts about it, and neither is taken)."""
    if not numbered_rows:
        return None
    first_number, first = numbered_rows[0]
    for number, row in numbered_rows[1:]:
        differing = [column for column in dict.fromkeys([*first, *row])
                     if _comparable(first.get(column)) != _comparable(row.get(column))]
        if differing:
            column = differing[0]
            raise SourceFormatError(
                summary_path,
                f"cell {cell_id} is listed on rows {first_number} and {number} with different values ({column}: "
                f"{first.get(column)!r} and {row.get(column)!r})",
                "each cell on one row (or repeated rows that agree)",
            )
    return first


def read_cell_facts(summary_path: Path, cell_id: str) -> dict:
    """Return the Data Summary's facts for one cell, under :data:`CELL_KEYS` names; empty if the cell is absent.

    Raises
    ------
    SourceFormatError
        If the sheet is unreadable, lacks a column, lists the cell on two rows with different values, or the cell's
        row holds a value that is not a number, a date or within :data:`PLAUSIBLE_RANGES`.
    """
    summary_path = Path(summary_path)
    rows = read_numbered_table_rows(summary_path, required_columns=REQUIRED_COLUMNS)
    row = _the_cell_row([(number, row) for number, row in rows if str(row.get("Cell")).strip() == cell_id],
                        summary_path, cell_id)
    if row is None:
        return {}
    for column in ("Patch Type", "Cell Type", "Date"):
        if row.get(column) in (None, ""):
            raise SourceFormatError(summary_path, f"cell {cell_id}: {column} is empty", f"a value in the {column} column")
    facts = dict(
        patch_type=str(row["Patch Type"]).strip(),
        cell_type=str(row["Cell Type"]).strip(),
        chan_predicted=_number(row, "chan_predicted", summary_path, cell_id, integer=True),
        chan_highest=_number(row, "chan_highest", summary_path, cell_id, integer=True),
        distance_um=_number(row, "Distance", summary_path, cell_id),
        date=_date(row["Date"], summary_path, cell_id),
    )
    if row.get(PATCH_RATE_COLUMN) not in (None, ""):
        facts["patch_sampling_frequency"] = _number(row, PATCH_RATE_COLUMN, summary_path, cell_id)
    for key, (column, lowest, highest, expected) in PLAUSIBLE_RANGES.items():
        value = facts.get(key)
        if value is not None and not lowest <= value <= highest:
            raise SourceFormatError(summary_path, f"cell {cell_id}: {column} is {value!r}", expected)
    return facts


#: The Data Summary's ``Patch Type`` values → (recording mode, SI units per stored value, pipette description).
PATCH_TYPES = {
    ("juxta", "vc"): ("voltage_clamp", 1e-12, "juxtacellular (cell-attached) pipette, voltage clamp; trace in pA"),
    ("juxta", "ic"): ("current_clamp", 1e-3, "juxtacellular (cell-attached) pipette, current clamp; trace in mV"),
    ("wc", "ic"): ("current_clamp", 1e-3, "whole-cell pipette, current clamp; trace in mV"),
}

def parse_patch_type(patch_type: str, source: Path) -> tuple[str, float, str]:
    """Map a ``Patch Type`` (``Juxta, VC``, ``Juxta, IC``, ``WC, IC``) to recording mode, conversion, description."""
    match = re.fullmatch(r"\s*(\w+)\s*,\s*(\w+)\s*", patch_type or "")
    key = (match.group(1).lower(), match.group(2).lower()) if match else None
    if key not in PATCH_TYPES:
        raise MetadataError(source, f"unknown patch type {patch_type!r}", "'Juxta, VC', 'Juxta, IC' or 'WC, IC'")
    return PATCH_TYPES[key]
