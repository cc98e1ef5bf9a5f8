"""``convert-to-nwb batch`` refused before any session starts: one line, exit 1, nothing written, sources unchanged.

The release root, the output folder, the sessions table (truncated, empty, of the wrong type, huge, contradicting
itself, ``NaN`` where a value belongs), the report path and another batch holding the output folder. A batch whose
sessions fail prints a table and exits 1 with no ``error:`` line; those are tested in ``tests/batch/``.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Callable

import pytest

from nwb_conversions.samples.allen_oephys import write_allen_oephys_recording
from nwb_conversions.samples.spe1 import write_spe1_sample_release

from ..failure_table import Case

#: A good table for the sample release's two cells.
GOOD_TABLE = (
    "session,subject_id,species,sex,age\nc1,rat-a,Rattus norvegicus,M,P60D\nc2,rat-b,Rattus norvegicus,F,P70D\n"
)

#: Lock files held open by rows (a row's entry is removed, and its file closed, when the row ends).
HELD_LOCKS: dict = {}


def new_folder(path: Path) -> Path:
    path.mkdir()
    return path


def new_file(path: Path) -> Path:
    path.write_bytes(b"\0" * 64)
    return path


def spe1_release(tmp: Path) -> Path:
    """A sample SPE-1 release of two short cells."""
    root, _ = write_spe1_sample_release(tmp / "release", 2, duration_s=0.05)
    return root


def batch_case(
    tmp: Path, names: str, fragment: str, *extra, table: str | bytes | None = GOOD_TABLE,
    table_name: str = "sessions.csv", output: Path | None = None, dataset: str = "spe1", root: Path | None = None,
) -> Case:
    """A batch of the sample release with a sessions table in ``tmp/tables``; the mistake is in the arguments."""
    root = root or spe1_release(tmp)
    tables = tmp / "tables"
    tables.mkdir(exist_ok=True)
    arguments = []
    if table is not None:
        path = tables / table_name
        path.write_bytes(table.encode("utf-8") if isinstance(table, str) else table)
        arguments = ["--sessions-table", path]
    output = output or tmp / "nwb"
    return Case(
        ["batch", dataset, root, output, *arguments, *extra], names, fragment, root, output,
        more_sources=(tables,), absent=(tmp / "nwb" / "batch_report.json",),
    )


def table_case(tmp: Path, table: str | bytes, fragment: str, table_name: str = "sessions.csv") -> Case:
    return batch_case(tmp, table_name, fragment, table=table, table_name=table_name)


def table_row(
    table: str | bytes, fragment: str, table_name: str = "sessions.csv"
) -> Callable[[Path, pytest.MonkeyPatch], Case]:
    """A row whose sessions table ``table_name`` holds ``table`` and is refused with ``fragment``."""
    return lambda t, m: table_case(t, table, fragment, table_name)


def sparse_table(tmp: Path, size: int) -> Case:
    case = table_case(tmp, GOOD_TABLE, "larger than such a file can be")
    os.truncate(tmp / "tables" / "sessions.csv", size)
    return case


def table_folder(tmp: Path) -> Case:
    case = batch_case(tmp, "sessions.csv", "is a folder, not a regular file", table=None)
    (tmp / "tables" / "sessions.csv").mkdir()
    return Case([*case.args, "--sessions-table", tmp / "tables" / "sessions.csv"], case.names, case.fragment,
                case.sources, case.output, more_sources=case.more_sources)


def output_in_the_way(tmp: Path, make: Callable[[Path], Path], names: str, fragment: str) -> Case:
    output = make(tmp)
    case = batch_case(tmp, names, fragment, output=output)
    case.more_sources = (*case.more_sources, tmp / "in_the_way")
    return case


def a_file(tmp: Path) -> Path:
    (tmp / "in_the_way").mkdir()
    (tmp / "in_the_way" / "nwb").write_text("not a folder")
    return tmp / "in_the_way" / "nwb"


def under_a_file(tmp: Path) -> Path:
    (tmp / "in_the_way").mkdir()
    (tmp / "in_the_way" / "notes.txt").write_text("a file")
    return tmp / "in_the_way" / "notes.txt" / "nwb"


def held_by_another_batch(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    """Another batch (this test, on another open file description) holds the output folder's lock."""
    case = batch_case(tmp, str(tmp / "nwb"), "another batch is writing into this folder (pid 4242 on cluster-7")
    (tmp / "nwb").mkdir()
    stream = open(tmp / "nwb" / ".batch.lock", "w")
    stream.write(json.dumps({"pid": 4242, "host": "cluster-7", "since": "2026-01-01T00:00:00+00:00"}))
    stream.flush()
    fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
    monkeypatch.setitem(HELD_LOCKS, tmp, stream)
    case.more_sources = (*case.more_sources, tmp / "nwb")
    return case


def lock_in_the_way(tmp: Path, fragment: str, make: Callable[[Path], None]) -> Case:
    case = batch_case(tmp, ".batch.lock", fragment)
    (tmp / "nwb").mkdir()
    make(tmp / "nwb" / ".batch.lock")
    case.more_sources = (*case.more_sources, tmp / "nwb")
    return case


def allen_release(tmp: Path, *locations: str) -> Path:
    """Allen recordings ``103991.h5`` in each of ``locations`` under the release root."""
    for location in locations:
        write_allen_oephys_recording(tmp / "release" / location, duration_s=3.0, num_spikes=5)
    return tmp / "release"


def allen_case(tmp: Path, locations: tuple[str, ...], table: str, names: str, fragment: str) -> Case:
    root = allen_release(tmp, *locations)
    return batch_case(tmp, names, fragment, table=table, dataset="allen-oephys", root=root)


ROWS: dict[str, Callable[[Path, pytest.MonkeyPatch], Case]] = {
    # --- the release ------------------------------------------------------------------------------------------
    "release root missing": lambda t, m: batch_case(t, "missing", "not a folder", root=t / "missing"),
    "release root is a file": lambda t, m: batch_case(
        t, "release.bin", "not a folder", root=new_file(t / "release.bin")
    ),
    "release root holds no session": lambda t, m: batch_case(
        t, "empty", "holds no spe1 session", root=new_folder(t / "empty")
    ),
    "release root holds another dataset's sessions": lambda t, m: batch_case(
        t, "release", "holds no spe2 session", table=None, dataset="spe2"
    ),
    "two sessions would write one output": lambda t, m: allen_case(
        t, ("a", "b"), "session,subject_id\n103991,mouse-1\n", "sub-mouse-1_ses-103991.nwb", "would be written by both"
    ),
    # --- the output folder ------------------------------------------------------------------------------------
    "output folder is a file": lambda t, m: output_in_the_way(t, a_file, "nwb", "is a file, not a folder"),
    "output folder under a file": lambda t, m: output_in_the_way(
        t, under_a_file, "notes.txt", "notes.txt, a file, not a folder"
    ),
    "output folder inside the release": lambda t, m: batch_case(
        t, "nwb", "lies inside the release", output=t / "release" / "nwb"
    ),
    "output folder is the release": lambda t, m: batch_case(
        t, "release", "lies inside the release", output=t / "release"
    ),
    "another batch holds the output folder": held_by_another_batch,
    "lock file is a folder": lambda t, m: lock_in_the_way(t, "is a folder", lambda path: path.mkdir()),
    "lock file is a symbolic link to a source": lambda t, m: lock_in_the_way(
        t, "is a symbolic link", lambda path: path.symlink_to(t / "tables" / "sessions.csv")
    ),
    # --- the sessions table -----------------------------------------------------------------------------------
    "table missing": lambda t, m: batch_case(
        t, "gone.csv", "no such sessions table", "--sessions-table", t / "gone.csv", table=None
    ),
    "table is a folder": lambda t, m: table_folder(t),
    "table empty": table_row("", "is empty"),
    "table header only": table_row("session,subject_id\n", "holds a header but no session row"),
    "table cut short in a row": table_row(
        "session,subject_id,species,sex\nc1,rat-a,Rattus norvegicus,M\nc2,rat-b", "line 3 has fewer cells"
    ),
    "table cut inside a quoted cell": table_row(
        'session,subject_id,species\nc1,rat-a,"Rattus norv', "unexpected end of data"
    ),
    "table is binary": table_row(b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "is not UTF-8 text"),
    "table of another type": table_row(GOOD_TABLE, "unknown table type '.xlsx'", "sessions.xlsx"),
    "table huge (17 MB)": lambda t, m: sparse_table(t, 17 * 1024 * 1024),
    "table cell over the CSV field limit": table_row(
        "session,subject_description\nc1," + "x" * 200_000 + "\n", "field larger than field limit"
    ),
    "table without a session column": table_row("cell,sex\nc1,M\n", "no 'session' column"),
    "table unknown column": table_row("session,colour\nc1,red\n", "unknown column 'colour'"),
    "table empty session name": table_row("session,sex\n,M\n", "line 2 has an empty 'session'"),
    "table NaN age": table_row(
        "session,subject_id,age\nc1,rat-a,NaN\n", "row 'c1': age is 'NaN', a spreadsheet's mark of a missing value"
    ),
    "table two rows of a session disagree": table_row(
        "session,sex\nc1,M\nc2,F\nc1,F\n", "session 'c1' has two rows that disagree (line 2 and line 4: "
        "Subject.sex 'M' and 'F')"
    ),
    "table two columns of a field disagree": table_row(
        "session,sex,Subject.sex\nc1,M,F\n", "row 'c1': sex and Subject.sex disagree ('M' and 'F')"
    ),
    "table column given twice disagrees": table_row(
        "session,age,age\nc1,P60D,P61D\n", "row 'c1': age and age disagree ('P60D' and 'P61D')"
    ),
    "table two names of one session disagree": lambda t, m: allen_case(
        t, ("",), "session,sex\n103991.h5,M\n103991,F\n", "sessions.csv",
        "rows '103991.h5' and '103991' both name session '103991.h5' and disagree (Subject.sex 'M' and 'F')",
    ),
    "table sex not M/F/U/O": table_row("session,sex\nc1,male\n", "row 'c1': sex is 'male'"),
    "table start time without a time zone": table_row(
        "session,session_start_time\nc1,2014-11-25T10:00:00\n", "row 'c1': NWBFile/session_start_time"
    ),
    "yaml table is a list": table_row("- c1\n- c2\n", "holds a list, not a mapping", "s.yaml"),
    "yaml table row is text": table_row("c1: rat-a\n", "session 'c1' holds a str", "s.yaml"),
    "yaml table NaN weight": table_row("c1: {weight: .nan}\n", "row 'c1': weight is 'nan'", "s.yml"),
    "yaml table block and column disagree": table_row(
        "c1: {sex: M, Subject: {sex: F}}\n", "row 'c1': sex and Subject.sex disagree", "s.yaml"
    ),
    "yaml table session named with a space disagrees": table_row(
        "c1: {sex: M}\n'c1 ': {sex: F}\n", "session 'c1' has two rows that disagree (key 'c1' and key 'c1 '",
        "s.yaml",
    ),
    # --- the report and the options ---------------------------------------------------------------------------
    "report of another format": lambda t, m: batch_case(
        t, "report.txt", "a report named '.txt'", "--report", t / "report.txt"
    ),
    "report is the sessions table": lambda t, m: batch_case(
        t, "sessions.csv", "is a file the batch reads", "--report", t / "tables" / "sessions.csv"
    ),
    "report inside the release": lambda t, m: batch_case(
        t, "report.json", "lies inside the release", "--report", t / "release" / "report.json"
    ),
    "report is a folder": lambda t, m: batch_case(t, "r.json", "is a folder", "--report", new_folder(t / "r.json")),
    "report under a file": lambda t, m: batch_case(
        t, "sessions.csv/report.json", "sessions.csv, a file, not a folder", "--report",
        t / "tables" / "sessions.csv" / "report.json",
    ),
    "workers zero": lambda t, m: batch_case(t, "--workers 0", "not a positive number", "--workers", "0"),
}
