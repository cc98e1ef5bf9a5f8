"""A fact stated twice in one source, in two different ways: refused with one line naming both places.

The generic readers carry the rule for every format that can repeat a key: JSON objects (``session.json``, the
calibration files, a DatasetDict's ``dataset_dict.json`` / ``state.json``, ``conversion_metadata.json``), YAML
mappings (``--metadata``), spreadsheet columns (``Data Summary``) and ``READ ME.docx`` lines. Each dataset's own
rules (a struct field against its data, a table against its arrays) are in that dataset's module of this package.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl

from nwb_conversions.samples.np_opto import write_sample as write_np_opto_sample
from nwb_conversions.samples.spe1 import write_spe1_release
from nwb_conversions.samples.spe1_arrow import write_sample as write_spe1_arrow_sample
from nwb_conversions.samples.spe2 import LAYOUTS, readme_values, write_readme_docx, write_spe2_pair

from ..failure_table import Case

SUBJECT = "Subject:\n  subject_id: animal-01\n  sex: U\n  age: P60D\n"


def state_twice(path: Path, key: str | None, value) -> str:
    """Insert ``"key": value`` at the start of the JSON object in ``path``, which already states ``key`` (None: its
    first key); return the key."""
    text = path.read_text(encoding="utf-8")
    key = key or next(iter(json.loads(text)))
    assert f'"{key}"' in text, (path, key)
    opening = text.index("{") + 1
    path.write_text(f'{text[:opening]}\n  "{key}": {json.dumps(value)},{text[opening:]}', encoding="utf-8")
    return key


def np_opto_case(tmp: Path, file_name: str, key: str | None, value) -> Case:
    session, metadata = write_np_opto_sample(tmp / "release")
    target = session / file_name if (session / file_name).exists() else session.parent.parent / file_name
    key = state_twice(target, key, value)
    output = tmp / "out.nwb"
    return Case(["np-opto", session, output, "--metadata", metadata], file_name, f"'{key}' is given twice",
                tmp / "release", output)


def spe1_arrow_case(tmp: Path, relative: str, key: str | None, value) -> Case:
    cell, metadata = write_spe1_arrow_sample(tmp / "release")
    key = state_twice(cell / relative, key, value)
    output = tmp / "out.nwb"
    return Case(["spe1-arrow", cell, output, "--metadata", metadata], Path(relative).name,
                f"'{key}' is given twice", tmp / "release", output)


def metadata_twice_case(tmp: Path, text: str, fragment: str) -> Case:
    cell, _ = write_spe1_release(tmp / "release", duration_s=0.2)
    metadata = tmp / "release" / "subject.yaml"
    metadata.write_text(text)
    output = tmp / "out.nwb"
    return Case(["spe1", cell, output, "--metadata", metadata], "subject.yaml", fragment, tmp / "release", output)


def summary_column_twice_case(tmp: Path, column: str, value) -> Case:
    """The Data Summary with ``column`` repeated at its end, holding ``value`` on the cell's row."""
    cell, _ = write_spe1_release(tmp / "release", duration_s=0.2)
    (tmp / "release" / "subject.yaml").write_text(SUBJECT)
    path = cell.parent / "Data Summary.xlsx"
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    repeated = len(header) + 1
    sheet.cell(row=1, column=repeated, value=column)
    for row in sheet.iter_rows(min_row=2):
        original = row[header.index(column)].value
        sheet.cell(row=row[0].row, column=repeated, value=value if row[0].value == cell.name else original)
    workbook.save(path)
    output = tmp / "out.nwb"
    return Case(["spe1", cell, output, "--metadata", tmp / "release" / "subject.yaml"], "Data Summary.xlsx",
                f"the column '{column}' appears twice", tmp / "release", output)


def readme_twice_case(tmp: Path, key: str, value: str) -> Case:
    """The pair's READ ME.docx with ``key = value`` added as a last line (a key with a trailing space is a second
    entry of the writer's mapping, and the same key to the reader)."""
    pair, _ = write_spe2_pair(tmp / "release", duration_s=0.3)
    write_readme_docx(pair / "READ ME.docx", {**readme_values(LAYOUTS["common32"]), f"{key} ": value})
    output = tmp / "out.nwb"
    return Case(["spe2", pair, output, "--no-inspect"], "READ ME.docx", f"{key} is given twice", tmp / "release",
                output)


ROWS = {
    "metadata YAML states the sex twice": lambda t, _: metadata_twice_case(
        t, SUBJECT + "  sex: F\n", "the key 'sex' is given twice in one mapping with different values (lines 3 and 5)"
    ),
    "metadata YAML states the Subject block twice": lambda t, _: metadata_twice_case(
        t, SUBJECT + "Subject: {subject_id: animal-02}\n", "the key 'Subject' is given twice"
    ),
    "np-opto session.json states the sampling rate twice": lambda t, _: np_opto_case(
        t, "session.json", "sampling_rate", 25000
    ),
    "np-opto session.json states the session id twice": lambda t, _: np_opto_case(
        t, "session.json", "session_id", "AL0034_2024-12-06_en1_p0"
    ),
    "np-opto calibration JSON states a key twice": lambda t, _: np_opto_case(t, "calibration.json", None, "changed"),
    "spe1-arrow dataset_dict.json states the splits twice": lambda t, _: spe1_arrow_case(
        t, "dataset_dict.json", "splits", ["train"]
    ),
    "spe1-arrow state.json states its shards twice": lambda t, _: spe1_arrow_case(
        t, "train/state.json", "_data_files", [{"filename": "data-00000-of-00002.arrow"}]
    ),
    "spe1-arrow conversion_metadata.json states a key twice": lambda t, _: spe1_arrow_case(
        t, "conversion_metadata.json", None, "changed"
    ),
    "spe1 Data Summary repeats the patch type column with another value": lambda t, _: summary_column_twice_case(
        t, "Patch Type", "WC, IC"
    ),
    "spe2 READ ME states the sampling frequency twice": lambda t, _: readme_twice_case(
        t, "Sampling_frequency", "25000"
    ),
}
