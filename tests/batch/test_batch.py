"""``convert-to-nwb batch``: a sample release of five SPE-1 cells, one of them corrupt.

The good cells are converted (bit-exact data, the sessions table's subject in each file, a clean gate), the corrupt
one is FAILED with its one-line reason and the exit status is 1; a re-run keeps the good outputs; the Dask path
(a LocalCluster) writes the same data as the local process pool.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwb_conversions.batch.runners import plan_local
from nwb_conversions.batch.resume import sidecar_path
from nwb_conversions.batch.tasks import dandi_label, output_path_for
from nwb_conversions.datasets import registered_datasets
from nwb_conversions.publishing.gate import inspect_file
from tests.datasets.test_dataset_contract import data_arrays

#: Each cell's subject in the sessions table (c3 is the corrupt one).
SUBJECTS = {
    "c1": ("rat-a", "M", "P60D"),
    "c2": ("rat-a", "M", "P60D"),
    "c3": ("rat-b", "F", "P70D"),
    "c4": ("rat-b", "F", "P70D"),
    "c5": ("rat-c", "U", "P65D"),
}
GOOD_CELLS = ("c1", "c2", "c4", "c5")


def expected_output(output_dir, cell):
    subject = SUBJECTS[cell][0]
    return output_dir / f"sub-{subject}" / f"sub-{subject}_ses-{cell}.nwb"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """Five cells (0.3 s each), c3's Neuropixels binary cut to a size that is no whole number of samples, and a
    sessions table naming each cell's subject."""
    folder = tmp_path_factory.mktemp("batch")
    root, cells = registered_datasets()["spe1"].write_sample_release(folder / "release", 5)
    assert [cell.name for cell in cells] == list(SUBJECTS)
    corrupt = root / "c3" / "c3_npx_raw.bin"
    with open(corrupt, "r+b") as stream:
        stream.truncate(100_001)
    table = folder / "sessions.csv"
    rows = SUBJECTS.items()
    table.write_text(
        "session,subject_id,species,sex,age\n"
        + "".join(f"{cell},{subject},Rattus norvegicus,{sex},{age}\n" for cell, (subject, sex, age) in rows),
        encoding="utf-8",
    )
    return folder, root, table


@pytest.fixture(scope="module")
def local_batch(release):
    """Run the batch once on the local process pool (2 processes × 1 thread on a 2-core machine)."""
    from nwb_conversions.cli.main import main

    folder, root, table = release
    output_dir = folder / "local"
    code = main(["batch", "spe1", str(root), str(output_dir), "--sessions-table", str(table), "--workers", "2"])
    return code, output_dir


def read_report(output_dir):
    return {row["session"]: row for row in json.loads((output_dir / "batch_report.json").read_text())["sessions"]}


def test_good_sessions_are_converted_and_the_corrupt_one_fails_with_its_reason(release, local_batch):
    folder, root, _ = release
    code, output_dir = local_batch
    assert code == 1
    report = read_report(output_dir)
    assert {session: row["status"] for session, row in report.items()} == {
        "c1": "OK", "c2": "OK", "c3": "FAILED", "c4": "OK", "c5": "OK",
    }
    reason = report["c3"]["reason"]
    assert "\n" not in reason and "c3_npx_raw.bin" in reason and "not a whole number of samples" in reason
    assert not expected_output(output_dir, "c3").exists()
    assert not list(output_dir.rglob("*partial*"))
    for cell in GOOD_CELLS:
        output = expected_output(output_dir, cell)
        assert report[cell]["output"] == str(output)
        assert report[cell]["megabytes"] == pytest.approx(output.stat().st_size / 1e6, abs=1e-3)
        assert report[cell]["seconds"] > 0
        raw = np.fromfile(root / cell / f"{cell}_npx_raw.bin", dtype="<i2").reshape(-1, 384)
        with NWBHDF5IO(str(output), "r") as io:
            nwbfile = io.read()
            np.testing.assert_array_equal(nwbfile.acquisition["ElectricalSeries"].data[:], raw)
            subject_id, sex, age = SUBJECTS[cell]
            assert (nwbfile.subject.subject_id, nwbfile.subject.sex, nwbfile.subject.age) == (subject_id, sex, age)
            assert nwbfile.subject.species == "Rattus norvegicus"
            assert nwbfile.session_id == cell
        assert report[cell]["reason"] == ""  # no DANDI subject fact missing, so the batch's gate tolerated nothing
    inspection = inspect_file(expected_output(output_dir, "c1"))
    counts = inspection.counts()
    assert inspection.blocking == [] and counts.get("CRITICAL", 0) == 0
    assert counts.get("BEST_PRACTICE_VIOLATION", 0) == 0


def test_the_batch_writes_report_html_with_each_sessions_quicklook(release, local_batch):
    from PIL import Image

    _, output_dir = local_batch
    report = read_report(output_dir)
    page = (output_dir / "report.html").read_text(encoding="utf-8")
    for cell in GOOD_CELLS:
        png = expected_output(output_dir, cell).with_suffix(".png")
        assert report[cell]["quicklook"] == str(png)
        with Image.open(png) as image:
            assert image.size[0] >= 800 and image.size[1] >= 400
        assert png.relative_to(output_dir).as_posix() in page
    assert report["c3"]["quicklook"] == "" and "not a whole number of samples" in page
    for session in SUBJECTS:
        assert f">{session}<" in page


def test_a_rerun_skips_the_valid_outputs_and_refuses_one_it_did_not_write(release, local_batch, run_cli):
    folder, root, table = release
    _, output_dir = local_batch
    mtimes = {cell: expected_output(output_dir, cell).stat().st_mtime_ns for cell in GOOD_CELLS}
    sidecar_path(expected_output(output_dir, "c5")).unlink()  # as if the file came from elsewhere

    code, out, err = run_cli("batch", "spe1", root, output_dir, "--sessions-table", table, "--workers", "1")

    assert code == 1
    report = read_report(output_dir)
    assert [report[cell]["status"] for cell in ("c1", "c2", "c4")] == ["SKIPPED"] * 3
    assert all("passes the gate" in report[cell]["reason"] for cell in ("c1", "c2", "c4"))
    assert report["c5"]["status"] == "FAILED" and "--overwrite" in report["c5"]["reason"]
    assert report["c3"]["status"] == "FAILED"
    assert {cell: expected_output(output_dir, cell).stat().st_mtime_ns for cell in GOOD_CELLS} == mtimes
    assert "0 OK, 3 SKIPPED, 2 FAILED of 5 sessions" in out
    assert "c3" in out and "FAILED" in out


def test_the_dask_path_writes_the_same_data_as_the_local_path(release, local_batch, run_cli):
    distributed = pytest.importorskip("distributed")
    folder, root, table = release
    _, local_dir = local_batch
    dask_dir = folder / "dask"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        code, out, err = run_cli(
            "batch", "spe1", root, dask_dir, "--sessions-table", table, "--scheduler", cluster.scheduler_address,
            "--no-inspect", "--report", dask_dir / "report.csv",
        )
    assert code == 1
    report_lines = (dask_dir / "report.csv").read_text().splitlines()
    assert report_lines[0] == "session,status,reason,seconds,megabytes,source,output,quicklook,gate_messages"
    assert [line.split(",")[:2] for line in report_lines[1:]] == [
        ["c1", "OK"], ["c2", "OK"], ["c3", "FAILED"], ["c4", "OK"], ["c5", "OK"],
    ]
    for cell in GOOD_CELLS:
        theirs, ours = data_arrays(expected_output(local_dir, cell)), data_arrays(expected_output(dask_dir, cell))
        assert sorted(theirs) == sorted(ours)
        for name, values in ours.items():
            np.testing.assert_array_equal(values, theirs[name], err_msg=f"{cell}: {name}")


def test_a_bad_sessions_table_stops_the_batch_before_any_conversion(release, tmp_path, run_cli):
    _, root, _ = release
    table = tmp_path / "sessions.csv"
    table.write_text("session,subject_id,sex\nc1,rat-a,male\n", encoding="utf-8")
    code, out, err = run_cli("batch", "spe1", root, tmp_path / "out", "--sessions-table", table)
    assert code == 1
    assert err.strip() == f"error: {table}: row 'c1': sex is 'male'; expected one of M, F, U, O"
    assert not (tmp_path / "out").exists()


def test_a_release_without_sessions_is_a_clear_error(tmp_path, run_cli):
    (tmp_path / "empty").mkdir()
    code, out, err = run_cli("batch", "spe1", tmp_path / "empty", tmp_path / "out")
    assert code == 1 and err.startswith(f"error: {tmp_path / 'empty'}: holds no spe1 session; expected")


@pytest.mark.parametrize(
    "cores, sessions, plan", [(2, 5, (2, 1)), (8, 3, (3, 2)), (1, 5, (1, 1)), (16, 1, (1, 16)), (6, 4, (4, 1))]
)
def test_cores_are_split_between_processes_and_threads_without_oversubscription(cores, sessions, plan):
    assert plan_local(cores, sessions) == plan
    processes, threads = plan
    assert processes * threads <= cores


def test_outputs_are_named_the_dandi_way(tmp_path):
    pair = tmp_path / "2014_11_25_Pair_3_0"
    pair.mkdir()
    recording = tmp_path / "103991.h5"
    recording.write_bytes(b"")
    assert dandi_label("2014_11_25_Pair_3_0") == "2014-11-25-Pair-3-0"
    expected = tmp_path / "sub-rat-7/sub-rat-7_ses-2014-11-25-Pair-3-0.nwb"
    assert output_path_for(tmp_path, "rat_7", pair, "hdf5") == expected
    assert output_path_for(tmp_path, "m1", recording, "zarr") == tmp_path / "sub-m1/sub-m1_ses-103991.nwb.zarr"
    assert output_path_for(tmp_path, None, recording, "hdf5") == tmp_path / "sub-unknown/sub-unknown_ses-103991.nwb"


def test_no_quicklook_draws_no_png_and_the_report_lists_the_sessions(tmp_path, run_cli):
    root, cells = registered_datasets()["allen-oephys"].write_sample_release(tmp_path / "release", 2)
    output_dir = tmp_path / "nwb"
    code, out, err = run_cli("batch", "allen-oephys", root, output_dir, "--no-quicklook", "--no-inspect",
                             "--workers", "1")
    assert code == 0, err
    assert list(output_dir.rglob("*.png")) == [] and len(list(output_dir.rglob("*.nwb"))) == 2
    report = read_report(output_dir)
    assert [row["quicklook"] for row in report.values()] == ["", ""]
    page = (output_dir / "report.html").read_text(encoding="utf-8")
    assert all(f">{session}<" in page for session in report)
