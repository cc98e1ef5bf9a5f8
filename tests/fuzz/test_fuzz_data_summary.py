"""Fuzzing SPE-1 ``Data Summary`` (.xlsx and .csv): 10 000 damaged workbooks, damaged sheets, damaged CSV files
and odd cell values; only one-line SourceFormatErrors escape, and accepted facts lie within the plausible ranges.

openpyxl takes several milliseconds per workbook, so most inputs go through the CSV path, which shares everything
after the parsing of the file (the header, the row lookup, every value check) with the workbook path.
"""

from __future__ import annotations

import random

from nwb_conversions.layouts.spe1.data_summary import PLAUSIBLE_RANGES, PLAUSIBLE_YEARS, read_cell_facts

from ..readers.bad_sources import DATA_SUMMARY_CSV, data_summary_rows, xlsx_bytes
from .harness import fuzz_bytes, fuzz_generated, random_number_text, rezip


def read(path):
    return read_cell_facts(path, "c1")


def accepted(facts):
    for key, (_, lowest, highest, _) in PLAUSIBLE_RANGES.items():
        if key in facts:
            assert lowest <= facts[key] <= highest, (key, facts[key])
    if facts:
        assert PLAUSIBLE_YEARS[0] <= int(facts["date"][:4]) <= PLAUSIBLE_YEARS[1] and len(facts["date"]) == 10


XLSX = xlsx_bytes(data_summary_rows())


def test_byte_mutations_of_the_workbook(tmp_path):
    assert fuzz_bytes(tmp_path / "Data Summary.xlsx", XLSX, read, 600, accepted=accepted) >= 600


def test_byte_mutations_of_the_sheet_xml(tmp_path):
    def damaged_sheet(mutation):
        return rezip(XLSX, "xl/worksheets/sheet1.xml", mutation)

    path = tmp_path / "Data Summary.xlsx"
    assert fuzz_bytes(path, XLSX, read, 600, accepted=accepted, transform=damaged_sheet) >= 600


def test_byte_mutations_of_the_csv(tmp_path):
    assert fuzz_bytes(tmp_path / "Data Summary.csv", DATA_SUMMARY_CSV.encode(), read, 4400, accepted=accepted) >= 4400


def odd_csv(rng: random.Random) -> bytes:
    header, row = DATA_SUMMARY_CSV.splitlines()
    names = header.split(",")
    values = ["c1", '"Juxta, VC"', "159", "161", "44.78", "PC", "2017-11-28", "50000"]
    for index in rng.sample(range(len(values)), rng.randint(1, 3)):
        values[index] = rng.choice((
            random_number_text(rng), "", '"WC, IC"', '"Juxta,VC"', "Patch", "2017-02-30", "28/11/2017", "c1",
            "20171128", "2017-11-28T10:00:00", '"a\nb"', "\ufeff", "=1+1",
        ))
    if rng.random() < 0.2:
        names = rng.sample(names, len(names) - rng.randint(0, 2))
    if rng.random() < 0.1:
        values = values[: rng.randint(0, len(values))]
    return ("\ufeff" * (rng.random() < 0.1) + ",".join(names) + "\n" + ",".join(values) + "\n").encode()


def test_odd_cell_values(tmp_path):
    assert fuzz_generated(tmp_path / "Data Summary.csv", odd_csv, read, 4400, accepted=accepted) >= 4400
