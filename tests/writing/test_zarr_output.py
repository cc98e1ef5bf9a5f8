"""``--backend zarr`` keeps the HDF5 path's output guarantees: atomic output, ``--overwrite`` only onto an NWB-Zarr
store, kill -9 mid-write cleaned up by the next run, concurrent runs that never replace each other, and a store
that appears during the run kept. Kills and races use real processes; the swap's corner cases are driven directly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hdmf_zarr import NWBZarrIO

from nwb_conversions.errors import ConversionError, OutputExistsError
from nwb_conversions.publishing.zarr_check import check_zarr_store
from nwb_conversions.writing import folder_output
from nwb_conversions.writing.killed_runs import aside_path, recover_stale_folders
from nwb_conversions.writing.output import partial_path
from nwb_conversions.writing.zarr_target import is_zarr_store
from tests.cli.sample_outputs import write_store
from tests.spe1_helpers import SUBJECT_YAML, sample_release


def spe1_zarr(tmp_path: Path, duration_s: float) -> tuple[list, Path]:
    """The arguments of an SPE-1 conversion to ``out/out.nwb.zarr``, and that path."""
    cell, _ = sample_release(tmp_path, duration_s=duration_s)
    subject = tmp_path / "subject.yaml"
    subject.write_text(SUBJECT_YAML)
    output = tmp_path / "out" / "out.nwb.zarr"
    return ["spe1", cell, output, "--metadata", subject, "--backend", "zarr"], output


def command(*args) -> list[str]:
    return [sys.executable, "-m", "nwb_conversions.cli.main", *[str(arg) for arg in args]]


def temporaries(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if ".partial-" in path.name or ".previous-" in path.name)


def ended_process_id() -> int:
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def wait_for_temporary(folder: Path, process: subprocess.Popen) -> None:
    """Wait until the conversion has started writing its temporary store."""
    deadline = time.monotonic() + 120
    while not temporaries(folder) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    assert temporaries(folder), "the conversion wrote no temporary store"


def assert_whole_store(store: Path, samples: int) -> None:
    """The store passes the store check and reads back as NWB with ``samples`` raw samples."""
    check_zarr_store(store)
    with NWBZarrIO(str(store), "r") as io:
        assert io.read().acquisition["ElectricalSeries"].data.shape == (samples, 384)


def test_sigkill_mid_write_then_a_rerun_cleans_up_the_store_folder(tmp_path):
    """What a power cut or ``kill -9`` of the whole process group leaves: nobody cleans up, so the next run does."""
    arguments, output = spe1_zarr(tmp_path, duration_s=4.0)
    output.parent.mkdir()
    process = subprocess.Popen(
        command(*arguments), env={**os.environ, "NWB_CONVERSIONS_WORKERS": "1"}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for_temporary(output.parent, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    (left,) = temporaries(output.parent)
    assert left.is_dir() and not output.exists()
    rerun = subprocess.run(command(*arguments), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    note = f"removed 1 temporary folder(s) left beside the output by an earlier, killed run: {left.name}"
    assert note in rerun.stderr
    assert temporaries(output.parent) == []
    assert_whole_store(output, 120_000)


def test_sigterm_mid_write_leaves_nothing(tmp_path):
    arguments, output = spe1_zarr(tmp_path, duration_s=4.0)
    output.parent.mkdir()
    process = subprocess.Popen(command(*arguments), env={**os.environ, "NWB_CONVERSIONS_WORKERS": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_temporary(output.parent, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and err == "error: interrupted; no output file was left behind\n"
    assert list(output.parent.iterdir()) == []


def test_concurrent_runs_onto_one_new_store_never_replace_each_other(tmp_path):
    arguments, output = spe1_zarr(tmp_path, duration_s=1.0)
    runs = [subprocess.Popen(command(*arguments, "--no-inspect"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    results = [(run.wait(), run.stderr.read()) for run in runs]
    assert sorted(code for code, _ in results) == [0, 1], results
    failed = next(err for code, err in results if code == 1)
    assert failed.count("\n") == 1 and "already exists" in failed
    assert temporaries(output.parent) == []
    assert_whole_store(output, 30_000)


def test_concurrent_overwrites_leave_one_whole_store(tmp_path):
    arguments, output = spe1_zarr(tmp_path, duration_s=1.0)
    write_store(output)  # another session's store, replaced by both runs in turn
    runs = [subprocess.Popen(command(*arguments, "--no-inspect", "--overwrite"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(), run.stderr.read()) for run in runs]
    assert [code for code, _ in results] == [0, 0], results
    assert temporaries(output.parent) == []
    assert_whole_store(output, 30_000)


def test_a_store_appearing_during_the_run_is_kept(tmp_path, run_cli, monkeypatch):
    """Another run finishing first onto the same new path: the exclusive rename refuses to replace its store."""
    from hdmf_zarr.backend import ZarrIO

    arguments, output = spe1_zarr(tmp_path, duration_s=0.2)
    real_write = ZarrIO.write

    def write_while_another_run_finishes(self, *args, **kwargs):
        (write_store(output) / "another run").write_text("kept")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(ZarrIO, "write", write_while_another_run_finishes)
    code, _, err = run_cli(*arguments)
    assert code == 1 and err.count("\n") == 1 and "already exists" in err
    assert (output / "another run").read_text() == "kept"
    assert temporaries(output.parent) == []


@pytest.mark.parametrize("appearing", ["file", "folder"])
def test_what_appears_during_an_overwrite_is_kept_unless_it_is_a_store(tmp_path, run_cli, monkeypatch, appearing):
    from hdmf_zarr.backend import ZarrIO

    arguments, output = spe1_zarr(tmp_path, duration_s=0.2)
    real_write = ZarrIO.write

    def write_while_something_appears(self, *args, **kwargs):
        output.parent.mkdir(exist_ok=True)
        if appearing == "file":
            output.write_text("mine")
        else:
            output.mkdir()
            (output / "keep.txt").write_text("mine")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(ZarrIO, "write", write_while_something_appears)
    code, _, err = run_cli(*arguments, "--overwrite")
    assert code == 1 and err.count("\n") == 1 and f"is a {appearing}, not an NWB-Zarr store" in err, err
    assert (output if appearing == "file" else output / "keep.txt").read_text() == "mine"
    assert temporaries(output.parent) == []


def test_the_swap_puts_back_what_appeared_after_the_last_check(tmp_path, monkeypatch):
    """A file that appears between the check and the exchange is swapped back and the replacement refused."""
    new = write_store(tmp_path / ".out.nwb.partial-1.zarr")
    output = tmp_path / "out.nwb.zarr"
    output.write_text("mine")
    checks = iter([None])  # the first check (before the file appeared) passes; the next ones are real

    def check(path, sources):
        if next(checks, "real") == "real":
            real_check(path, sources)

    real_check = folder_output.check_replaceable_store
    monkeypatch.setattr(folder_output, "check_replaceable_store", check)
    with pytest.raises(ConversionError, match="is a file, not an NWB-Zarr store"):
        folder_output.publish_replacing(new, output, ())
    assert output.read_text() == "mine" and is_zarr_store(new)


def test_without_renameat2_the_output_is_still_exclusive_and_replaced_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(folder_output, "renameat2_function", lambda: None)
    output = tmp_path / "out.nwb.zarr"
    folder_output.publish_folder(write_store(tmp_path / ".a.partial-1"), output, overwrite=False)
    with pytest.raises(OutputExistsError):
        folder_output.publish_folder(write_store(tmp_path / ".b.partial-1"), output, overwrite=False)
    (tmp_path / ".b.partial-1" / "marker").write_text("new")
    folder_output.publish_folder(tmp_path / ".b.partial-1", output, overwrite=True)
    assert (output / "marker").read_text() == "new" and is_zarr_store(output)
    assert [path.name for path in tmp_path.iterdir()] == ["out.nwb.zarr"]  # nothing aside, nothing temporary


def test_a_store_moved_aside_by_a_killed_overwrite_is_put_back(tmp_path):
    output = tmp_path / "out.nwb.zarr"
    aside = write_store(aside_path(output, ended_process_id()))
    stale = write_store(partial_path(output, ended_process_id()))
    assert recover_stale_folders(output) == ([stale], [aside])
    assert is_zarr_store(output) and not aside.exists() and not stale.exists()
    again = write_store(aside_path(output, ended_process_id()))  # the target holds a store: the old one goes
    assert recover_stale_folders(output) == ([again], []) and not again.exists() and is_zarr_store(output)


def test_a_running_process_temporaries_are_left_alone(tmp_path):
    output = tmp_path / "out.nwb.zarr"
    running = write_store(partial_path(output, os.getppid()))
    assert recover_stale_folders(output) == ([], []) and is_zarr_store(running)


def test_the_next_run_says_it_put_back_the_store(tmp_path, run_cli):
    arguments, output = spe1_zarr(tmp_path, duration_s=0.2)
    output.parent.mkdir()
    write_store(aside_path(output, ended_process_id()))
    code, _, err = run_cli(*arguments, "--overwrite", "--no-inspect")
    assert code == 0, err
    assert f"note: put back {output}, which an earlier run killed while replacing it had moved aside" in err
    assert temporaries(output.parent) == []
    assert_whole_store(output, 6_000)
