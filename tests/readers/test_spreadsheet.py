"""The real SPE-1 ``Data Summary.xlsx`` reads like the project's CSV copy of it, silently."""

import warnings
from pathlib import Path

from nwb_conversions.layouts.spe1.data_summary import read_cell_facts
from nwb_conversions.readers.spreadsheet import read_table_rows
from nwb_conversions.resources import shipped_metadata_dir

REAL_DATA_SUMMARY = Path(__file__).parent.parent / "data" / "spe1_Data Summary.xlsx"


def test_the_real_workbook_has_the_43_cells_and_27_columns_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = read_table_rows(REAL_DATA_SUMMARY)
    assert len(rows) == 43 and len(rows[0]) == 27
    assert [row["Cell"] for row in rows][:3] == ["c1", "c2", "c3"] and rows[-1]["Cell"] == "c46"


def test_the_real_workbook_and_the_shipped_csv_give_the_same_cell_facts():
    shipped = shipped_metadata_dir() / "spe1_data_summary.csv"
    for cell in ("c1", "c5", "c14", "c27", "c45", "c46"):
        assert read_cell_facts(REAL_DATA_SUMMARY, cell) == read_cell_facts(shipped, cell)
    facts = read_cell_facts(REAL_DATA_SUMMARY, "c14")
    assert (facts["patch_type"], facts["chan_predicted"], facts["chan_highest"], facts["cell_type"]) == (
        "Juxta, VC",
        159,
        161,
        "PC",
    )
    assert facts["date"] == "2017-11-28" and round(facts["distance_um"], 2) == 44.78
    assert read_cell_facts(REAL_DATA_SUMMARY, "c9") == {}


def test_a_column_stated_twice_must_agree_on_every_row(tmp_path):
    import pytest

    from nwb_conversions.errors import SourceFormatError

    table = tmp_path / "cells.csv"
    table.write_text("Cell,Date,Rate,Date\nc1,2017-11-28,30000,2017-11-28\nc2,2017-11-29,30000,2017-11-29\n")
    assert read_table_rows(table)[1] == {"Cell": "c2", "Date": "2017-11-29", "Rate": "30000"}
    table.write_text("Cell,Date,Rate,Date\nc1,2017-11-28,30000,2017-11-28\n\nc2,2017-11-29,30000,2017-11-30\n")
    with pytest.raises(SourceFormatError) as error:
        read_table_rows(table)
    assert str(error.value) == (
        f"{table}: the column 'Date' appears twice (columns B and D) and row 4 holds different values in them: "
        "'2017-11-29' and '2017-11-30'; expected each column once, or repeated columns that agree"
    )
