"""Resume never trusts an output it cannot recognize: the sidecar must be the batch's own regular file holding a valid
record, and the output exactly the file that record describes (size, modification time, content fingerprint).
Every other case is FAILED with a one-line reason ending in what to do, and only ``--overwrite`` converts again."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace

import pytest

from nwb_conversions.batch import ConversionOptions, plan_tasks, run_batch
from nwb_conversions.batch.identity import FINGERPRINT_BYTES, folder_identity
from nwb_conversions.batch.resume import existing_output_verdict, read_sidecar, sidecar_path
from nwb_conversions.batch.runners import run_session
from nwb_conversions.datasets import registered_datasets
from nwb_conversions.errors import ConversionError

TABLE = "session,subject_id,species,sex,age\nc1,rat-a,Rattus norvegicus,U,P60D\n"
CONVERT_AGAIN = "--overwrite to convert the session again"


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A batch of one SPE-1 cell, finished: the release, its table and the output folder."""
    folder = tmp_path_factory.mktemp("resume")
    dataset = registered_datasets()["spe1"]
    root, _ = dataset.write_sample_release(folder / "release", 1, duration_s=0.1)
    (folder / "sessions.csv").write_text(TABLE, encoding="utf-8")
    outcome = run_batch(dataset, root, folder / "nwb", sessions_table=folder / "sessions.csv", cores=1, progress=False)
    assert [result.status for result in outcome.results] == ["OK"]
    return folder


@pytest.fixture
def task(finished, tmp_path):
    """The session's task onto a copy of the finished output folder (times kept to the nanosecond), gate off."""
    shutil.copytree(finished / "nwb", tmp_path / "nwb", symlinks=True)
    (tasks,), _ = zip(plan_tasks(registered_datasets()["spe1"], finished / "release", tmp_path / "nwb",
                                 sessions_table=finished / "sessions.csv", options=ConversionOptions(inspect=False)))
    return tasks[0]


def refusal(task) -> str:
    with pytest.raises(ConversionError) as refused:
        existing_output_verdict(task)
    message = str(refused.value)
    assert "\n" not in message and message.endswith(CONVERT_AGAIN), message
    return message


def flip_byte(path, offset: int, keep_time: bool) -> None:
    status = os.stat(path)
    with open(path, "r+b") as stream:
        stream.seek(offset)
        byte = stream.read(1)
        stream.seek(offset)
        stream.write(bytes([byte[0] ^ 0xFF]))
    if keep_time:
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


def test_an_untouched_output_is_kept_and_passes_the_gate_again(task):
    record = read_sidecar(task.output)
    assert record["output"]["size"] == task.output.stat().st_size
    assert record["output"]["mtime_ns"] == task.output.stat().st_mtime_ns
    assert existing_output_verdict(task).startswith(f"output exists (written {record['finished']}); not inspected")
    inspected = replace(task, options=ConversionOptions(inspect=True))
    assert existing_output_verdict(inspected) == f"output exists and passes the gate (written {record['finished']})"


def test_a_truncated_output_is_not_trusted(task):
    size = task.output.stat().st_size
    os.truncate(task.output, size - 1000)
    assert refusal(task) == (
        f"{task.output}: is not the output its sidecar describes: {size - 1000} bytes, the record says {size} "
        f"(truncated or rewritten); expected {CONVERT_AGAIN}"
    )


def test_an_output_rewritten_in_place_is_not_trusted(task):
    flip_byte(task.output, task.output.stat().st_size // 2, keep_time=False)
    assert "is not the output its sidecar describes: modified at " in refusal(task)


def test_an_output_of_the_same_size_and_time_but_other_content_is_not_trusted(task):
    assert task.output.stat().st_size > FINGERPRINT_BYTES  # the flipped byte is in the hashed head, not in the tail
    flip_byte(task.output, 4096, keep_time=True)
    assert "its content fingerprint differs from the record" in refusal(task)


def test_an_output_replaced_by_a_symbolic_link_is_not_trusted(task):
    real = task.output.with_name("elsewhere.nwb")
    task.output.rename(real)
    task.output.symlink_to(real)
    assert refusal(task) == f"{task.output}: is a symbolic link; expected the output file a batch wrote, or " \
                            "--overwrite to convert the session again"


def sparse(path, size):
    path.unlink()
    with open(path, "wb") as stream:
        stream.truncate(size)


def without_output(record: dict) -> dict:
    """A sidecar record as an earlier version wrote it: without the output's identity."""
    return {key: value for key, value in record.items() if key != "output"}


def replace_with_link(path):
    moved = path.with_name("moved.json")
    path.rename(moved)
    path.symlink_to(moved)


SIDECAR_DAMAGE = {
    "truncated": (lambda path: path.write_bytes(path.read_bytes()[:40]), "is not valid JSON, truncated or altered"),
    "empty": (lambda path: path.write_bytes(b""), "is empty"),
    "not UTF-8": (lambda path: path.write_bytes(b'{"dataset": "\xff"}'), "is not UTF-8 text"),
    "a list": (lambda path: path.write_text("[1, 2]"), "holds a JSON list, not an object"),
    "without the output's identity": (
        lambda path: path.write_text(json.dumps(without_output(json.loads(path.read_text())))),
        "lacks output (an older or altered record)",
    ),
    "a folder": (lambda path: (path.unlink(), path.mkdir()), "is a folder, not a file"),
    "a symbolic link": (replace_with_link, "is a symbolic link"),
    "huge": (lambda path: sparse(path, 4 << 20), "is 4194304 bytes, far larger than a sidecar"),
}


@pytest.mark.parametrize("damage", list(SIDECAR_DAMAGE))
def test_a_damaged_sidecar_is_not_trusted(task, damage):
    change, problem = SIDECAR_DAMAGE[damage]
    change(sidecar_path(task.output))
    message = refusal(task)
    assert message.startswith(f"{sidecar_path(task.output)}: {problem}")
    assert message.endswith("; expected the record a batch writes beside its output, or --overwrite to convert the "
                            "session again")


def test_an_output_without_a_sidecar_is_not_trusted(task):
    sidecar_path(task.output).unlink()
    assert refusal(task) == (
        f"{task.output}: exists but has no {sidecar_path(task.output).name} saying a batch wrote it; "
        f"expected {CONVERT_AGAIN}"
    )


def test_a_sidecar_without_its_output_is_replaced_by_a_new_conversion(task):
    task.output.unlink()
    result = run_session(task)
    assert (result.status, result.reason) == (
        "OK", f"{sidecar_path(task.output).name} was left without its output by an earlier run: converted again"
    )
    assert read_sidecar(task.output)["output"]["size"] == task.output.stat().st_size
    assert existing_output_verdict(task).startswith("output exists")


def test_a_folder_in_the_sidecars_place_stops_the_session_before_it_writes(task):
    task.output.unlink()
    sidecar_path(task.output).unlink()
    sidecar_path(task.output).mkdir()
    result = run_session(task)
    assert result.status == "FAILED"
    assert result.reason == (
        f"{sidecar_path(task.output)}: is a folder where the batch keeps the record of {task.output.name}; expected a "
        "file or nothing there: move the folder away"
    )
    assert sorted(os.listdir(task.output.parent)) == [sidecar_path(task.output).name, "sub-rat-a_ses-c1.png"]


def test_an_untrusted_output_is_replaced_only_with_overwrite(task):
    os.truncate(task.output, 5000)
    assert run_session(task).status == "FAILED" and task.output.stat().st_size == 5000
    result = run_session(replace(task, options=ConversionOptions(inspect=False, overwrite=True)))
    assert result.status == "OK"
    assert existing_output_verdict(task).startswith("output exists")


def test_a_zarr_store_is_recognized_by_its_listing(tmp_path):
    store = tmp_path / "s.nwb.zarr"
    (store / "acquisition").mkdir(parents=True)
    for name in (".zgroup", "acquisition/0.0", "acquisition/0.1"):
        (store / name).write_bytes(b"x" * 100)
    recorded = folder_identity(store)
    assert (recorded["size"], recorded["files"]) == (300, 3)
    assert folder_identity(store) == recorded
    (store / "acquisition" / "0.1").unlink()
    assert folder_identity(store)["files"] == 2
    (store / "acquisition" / "0.1").write_bytes(b"x" * 100)
    os.utime(store / "acquisition" / "0.1", ns=(0, 10**18))
    assert folder_identity(store)["sha256"] != recorded["sha256"]
    os.truncate(store / ".zgroup", 10)
    assert folder_identity(store)["size"] != recorded["size"]
