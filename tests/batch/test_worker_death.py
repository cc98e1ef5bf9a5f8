"""A worker process that dies (SIGKILL, as the out-of-memory killer sends; an abrupt exit, as a crashing C library
makes) fails exactly its session, with the reason; the other sessions are converted, the batch goes on, nothing the
dead worker wrote is left behind, and a re-run converts the failed sessions. On Dask, the lost worker's task fails
its session and the client removes what the worker left.

The doomed sessions die inside a real conversion, once their output is complete under its temporary name
(:mod:`tests.batch.dying_runner`), so the temporary file really exists when the process dies.
"""

from __future__ import annotations

import json
import os

import pytest

from nwb_conversions.batch import ConversionOptions, run_batch, runners
from nwb_conversions.batch.leftovers import remove_leftovers
from nwb_conversions.batch.resume import sidecar_temporary_path
from nwb_conversions.datasets import registered_datasets
from nwb_conversions.writing.output import partial_path

from . import dying_runner

SUBJECTS = {"c1": "rat-a", "c2": "rat-b", "c3": "rat-c"}


def temporary_names(output_dir):
    """Temporary files and folders anywhere under the output folder."""
    return sorted(path.name for path in output_dir.rglob("*partial*"))


def test_a_dead_worker_fails_only_its_session_and_leaves_nothing_behind(tmp_path, monkeypatch):
    dataset = registered_datasets()["spe1"]
    root, _ = dataset.write_sample_release(tmp_path / "release", 3, duration_s=0.1)
    table = tmp_path / "sessions.csv"
    table.write_text(
        "session,subject_id,species,sex,age\n"
        + "".join(f"{cell},{subject},Rattus norvegicus,U,P60D\n" for cell, subject in SUBJECTS.items()),
        encoding="utf-8",
    )
    output_dir = tmp_path / "nwb"
    options = ConversionOptions(inspect=False)
    monkeypatch.setattr(runners, "run_session", dying_runner.run_session_or_die)

    outcome = run_batch(dataset, root, output_dir, sessions_table=table, options=options, cores=2, progress=False)

    assert [(result.session, result.status, result.reason) for result in outcome.results] == [
        ("c1", "OK", ""),
        ("c2", "FAILED", "its worker process was killed by SIGKILL (out of memory, or kill -9) during the session; "
                         "its temporary files were removed"),
        ("c3", "FAILED", "its worker process ended with exit status 70 during the session; its temporary files were "
                         "removed"),
    ]
    for cell in ("c2", "c3"):  # each died with its complete temporary output beside the target
        witness = json.loads(dying_runner.witness_path(root / cell).read_text())
        target = output_dir / f"sub-{SUBJECTS[cell]}" / f"sub-{SUBJECTS[cell]}_ses-{cell}.nwb"
        assert partial_path(target, witness["pid"]).name in witness["beside"]
        assert not target.parent.exists()  # neither it nor the folder made for it is left
    assert temporary_names(output_dir) == []
    assert (output_dir / "sub-rat-a" / "sub-rat-a_ses-c1.nwb").is_file()
    assert json.loads((output_dir / "batch_report.json").read_text())["counts"] == {"OK": 1, "SKIPPED": 0, "FAILED": 2}

    monkeypatch.undo()
    again = run_batch(dataset, root, output_dir, sessions_table=table, options=options, cores=2, progress=False)

    assert [result.status for result in again.results] == ["SKIPPED", "OK", "OK"]
    assert temporary_names(output_dir) == []


def test_leftovers_are_every_writers_temporary_names_of_that_output_only(tmp_path):
    subject = tmp_path / "sub-a"
    subject.mkdir()
    output = subject / "sub-a_ses-c1.nwb"
    doomed = [
        partial_path(output, 123),  # the HDF5 writer's file
        sidecar_temporary_path(output, 124),  # the sidecar's
        partial_path(output.with_suffix(".png"), 125),  # the quicklook's
    ]
    for path in doomed:
        path.write_bytes(b"partial")
    store = subject / "sub-a_ses-c1.nwb.zarr"
    zarr_temporary = partial_path(store, 126)  # the NWB-Zarr writer's folder
    (zarr_temporary / "acquisition").mkdir(parents=True)
    (zarr_temporary / "acquisition" / "0.0").write_bytes(b"chunk")
    kept = [output, subject / "sub-a_ses-c10.nwb", partial_path(subject / "sub-a_ses-c10.nwb", 127),
            subject / ".sub-a_ses-c1.partial-abc.nwb", subject / "notes.partial-1"]
    for path in kept:
        path.write_bytes(b"keep")

    assert sorted(remove_leftovers(output)) == sorted(doomed)
    assert remove_leftovers(store) == [zarr_temporary]
    assert sorted(os.listdir(subject)) == sorted(path.name for path in kept)
    for path in kept:
        path.unlink()
    assert remove_leftovers(output) == [] and not subject.exists()  # the folder made for it, once empty


def test_a_dask_worker_that_dies_fails_its_session_and_the_client_removes_its_leftovers(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import dask

    dataset = registered_datasets()["spe1"]
    root, _ = dataset.write_sample_release(tmp_path / "release", 2, duration_s=0.1)
    monkeypatch.setattr(runners, "run_session_on_worker", dying_runner.run_session_on_worker_or_die)
    output_dir = tmp_path / "nwb"
    cluster_options = dict(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # no retry of the dying task
        with distributed.LocalCluster(**cluster_options) as cluster:
            outcome = run_batch(dataset, root, output_dir, options=ConversionOptions(inspect=False),
                                scheduler=cluster.scheduler_address, progress=False)

    (c1, c2) = outcome.results
    assert c1.status == "OK"
    assert c2.status == "FAILED" and c2.reason.startswith("the Dask task failed: KilledWorker"), c2.reason
    witness = json.loads(dying_runner.witness_path(root / "c2").read_text())
    target = output_dir / "sub-unknown" / "sub-unknown_ses-c2.nwb"
    assert partial_path(target, witness["pid"]).name in witness["beside"]
    assert temporary_names(output_dir) == []
