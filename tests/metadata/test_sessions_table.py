"""The sessions table of a batch: CSV and YAML rows → per-session NWB metadata, and its one-line errors."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from nwb_conversions.errors import MetadataError
from nwb_conversions.metadata.sessions_table import match_sessions, read_sessions_table


def test_a_csv_row_becomes_nested_metadata_and_empty_cells_are_left_out(tmp_path):
    table = tmp_path / "sessions.csv"
    table.write_text(
        "\ufeffsession,subject_id,species,sex,age,date_of_birth,experimenter,session_start_time,Subject.strain\n"
        "c14,7,Rattus norvegicus,F,P60D,,\"Doe, Jane; Roe, Rick\",2014-11-25T10:00:00+00:00,Long Evans\n"
        "c15,8,Rattus norvegicus,,,,,,\n",
        encoding="utf-8",
    )
    assert read_sessions_table(table) == {
        "c14": {
            "Subject": {"subject_id": "7", "species": "Rattus norvegicus", "sex": "F", "age": "P60D",
                        "strain": "Long Evans"},
            "NWBFile": {"experimenter": ["Doe, Jane", "Roe, Rick"], "session_start_time": "2014-11-25T10:00:00+00:00"},
        },
        "c15": {"Subject": {"subject_id": "8", "species": "Rattus norvegicus"}},
    }


def test_a_yaml_table_takes_the_same_names_or_metadata_blocks(tmp_path):
    table = tmp_path / "sessions.yaml"
    table.write_text(
        "2014_11_25_Pair_3_0: {subject_id: 12, sex: M, session_start_time: 2014-11-25T10:00:00+00:00}\n"
        "2014_11_25_Pair_3_1:\n  Subject: {subject_id: '12', date_of_birth: 2014-09-01T00:00:00+00:00}\n",
        encoding="utf-8",
    )
    rows = read_sessions_table(table)
    assert rows["2014_11_25_Pair_3_0"] == {
        "Subject": {"subject_id": "12", "sex": "M"},
        "NWBFile": {"session_start_time": datetime(2014, 11, 25, 10, tzinfo=timezone.utc)},
    }
    assert rows["2014_11_25_Pair_3_1"]["Subject"]["date_of_birth"] == datetime(2014, 9, 1, tzinfo=timezone.utc)


def test_rows_match_folders_by_name_and_files_with_or_without_their_suffix(tmp_path):
    (tmp_path / "c14").mkdir()
    (tmp_path / "103991.h5").write_bytes(b"")
    (tmp_path / "103992.h5").write_bytes(b"")
    table = {"c14": {"Subject": {"sex": "F"}}, "103991": {"Subject": {"sex": "M"}}, "c99": {}}
    rows, unmatched = match_sessions(table, [tmp_path / "c14", tmp_path / "103991.h5", tmp_path / "103992.h5"])
    assert rows == {
        tmp_path / "c14": {"Subject": {"sex": "F"}},
        tmp_path / "103991.h5": {"Subject": {"sex": "M"}},
        tmp_path / "103992.h5": {},
    }
    assert unmatched == ["c99"]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("subject_id\nrat1\n", "no 'session' column (columns: subject_id)"),
        ("session,color\nc1,red\n", "unknown column 'color'"),
        ("session,sex\nc1,F\nc1,M\n", "session 'c1' has two rows"),
        ("session,sex\nc1,female\n", "row 'c1': sex is 'female'"),
        ("session,session_start_time\nc1,2014-11-25\n", "row 'c1': NWBFile/session_start_time is '2014-11-25'"),
        ("session,sex\n,F\n", "line 2 has an empty 'session'"),
        ("session,sex\nc1,F,extra\n", "line 2 has more cells than the header"),
    ],
)
def test_table_mistakes_are_one_line_errors_naming_the_table(tmp_path, text, problem):
    table = tmp_path / "sessions.csv"
    table.write_text(text, encoding="utf-8")
    with pytest.raises(MetadataError) as caught:
        read_sessions_table(table)
    assert str(caught.value).startswith(f"{table}: {problem}")
    assert "\n" not in str(caught.value)


def test_a_table_of_another_type_is_refused(tmp_path):
    with pytest.raises(MetadataError, match="a .csv, .yaml or .yml file"):
        (tmp_path / "sessions.xlsx").write_bytes(b"")
        read_sessions_table(tmp_path / "sessions.xlsx")
    with pytest.raises(MetadataError, match="no such sessions table"):
        read_sessions_table(tmp_path / "missing.csv")


def test_a_fact_stated_twice_the_same_way_is_accepted(tmp_path):
    table = tmp_path / "sessions.csv"
    table.write_text(
        "session,sex,Subject.sex,age,age\n"
        "c1,F,F,P60D,P60D\n"
        "c2,M,,P61D,\n"
        "c1,F,F,P60D,P60D\n",
        encoding="utf-8",
    )
    assert read_sessions_table(table) == {
        "c1": {"Subject": {"sex": "F", "age": "P60D"}},
        "c2": {"Subject": {"sex": "M", "age": "P61D"}},
    }
    yaml_table = tmp_path / "sessions.yaml"
    yaml_table.write_text("c1: {sex: F, Subject: {sex: F}}\n'c1 ': {Subject: {sex: F}}\n", encoding="utf-8")
    assert read_sessions_table(yaml_table) == {"c1": {"Subject": {"sex": "F"}}}


def test_two_names_of_one_session_are_accepted_when_they_agree_and_refused_when_they_do_not(tmp_path):
    (tmp_path / "103991.h5").write_bytes(b"")
    session = tmp_path / "103991.h5"
    agreeing = {"103991.h5": {"Subject": {"sex": "F"}}, "103991": {"Subject": {"sex": "F"}}}
    assert match_sessions(agreeing, [session], tmp_path / "t.csv") == ({session: {"Subject": {"sex": "F"}}}, [])
    disagreeing = {"103991.h5": {"Subject": {"sex": "F"}}, "103991": {"Subject": {"sex": "F", "age": "P1D"}}}
    with pytest.raises(MetadataError) as caught:
        match_sessions(disagreeing, [session], tmp_path / "t.csv")
    assert str(caught.value) == (
        f"{tmp_path / 't.csv'}: rows '103991.h5' and '103991' both name session '103991.h5' and disagree "
        "(Subject.age '(empty)' and 'P1D'); expected one row per session, or rows that agree: each fact stated once, "
        "or stated the same way each time"
    )


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "is empty"),
        ("session,sex\n", "holds a header but no session row"),
        ("session,sex,age\nc1,F,P60D\nc2,M", "line 3 has fewer cells than the header (2, not 3)"),
        ('session,subject_id\nc1,"rat', "not a readable CSV (unexpected end of data)"),
        ("session,session\nc1,c1\n", "the 'session' column appears twice"),
        ("session,,sex\nc1,,F\n", "column 2 of the header has no name"),
        ("session,age\nc1,nan\n", "row 'c1': age is 'nan', a spreadsheet's mark of a missing value"),
        ("session,sex\nc1,F\nc1,M\n",
         "session 'c1' has two rows that disagree (line 2 and line 3: Subject.sex 'F' and 'M')"),
        ("session,sex,Subject.sex\nc1,F,M\n", "row 'c1': sex and Subject.sex disagree ('F' and 'M')"),
        ("session,sex\r\nc1,F\r\n\r\nc1,M\r\n", "session 'c1' has two rows that disagree (line 2 and line 4"),
    ],
)
def test_truncated_empty_and_contradictory_tables_are_one_line_errors(tmp_path, text, problem):
    table = tmp_path / "sessions.csv"
    table.write_bytes(text.encode("utf-8"))
    with pytest.raises(MetadataError) as caught:
        read_sessions_table(table)
    assert str(caught.value).startswith(f"{table}: {problem}"), str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_table_larger_than_any_release_needs_is_refused_before_it_is_read(tmp_path):
    table = tmp_path / "sessions.csv"
    with open(table, "wb") as stream:
        stream.truncate(16 * 1024 * 1024 + 1)
    with pytest.raises(MetadataError, match=r"is 16777217 bytes, larger than such a file can be"):
        read_sessions_table(table)
