"""One batch per output folder: the lock on ``OUTPUT_DIR/.batch.lock`` is exclusive across processes, says who holds
it, is released by the kernel when its holder is killed (never stale), and is refused without a trace when taken."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from nwb_conversions.batch.lock import LOCK_NAME, output_folder_lock
from nwb_conversions.errors import ConversionError

HOLDER = """
import sys, time
from nwb_conversions.batch.lock import output_folder_lock
with output_folder_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_lock_held_by_another_process_refuses_until_that_process_is_killed(tmp_path):
    output_dir = tmp_path / "nwb"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(output_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        before = {path.name: path.read_bytes() for path in output_dir.iterdir()}
        with pytest.raises(ConversionError) as refused:
            with output_folder_lock(output_dir):
                pytest.fail("two holders")
        message = str(refused.value)
        assert message.startswith(f"{output_dir}: another batch is writing into this folder (pid {holder.pid} on ")
        assert message.endswith("expected one batch per output folder at a time: wait for the other to end, or "
                                "choose another OUTPUT_DIR")
        assert {path.name: path.read_bytes() for path in output_dir.iterdir()} == before  # the refusal touched nothing
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with output_folder_lock(output_dir) as lock:  # the kernel released the killed holder's lock: nothing stale
        assert lock == output_dir / LOCK_NAME
        assert f'"pid": {os.getpid()}' in lock.read_text()


def test_the_lock_is_released_at_the_end_and_its_file_stays(tmp_path):
    with output_folder_lock(tmp_path / "a" / "nwb"):
        pass
    assert (tmp_path / "a" / "nwb" / LOCK_NAME).is_file()
    start = time.perf_counter()
    with output_folder_lock(tmp_path / "a" / "nwb"):
        with pytest.raises(ConversionError, match="another batch is writing into this folder"):
            with output_folder_lock(tmp_path / "a" / "nwb"):
                pass
    assert time.perf_counter() - start < 5  # refused at once, never waiting


def test_a_lock_in_the_way_is_refused_and_a_failed_lock_leaves_no_folder_behind(tmp_path, monkeypatch):
    from nwb_conversions.batch import lock

    (tmp_path / "nwb" / LOCK_NAME).mkdir(parents=True)
    with pytest.raises(ConversionError, match=r"\.batch\.lock: is a folder; expected a regular lock file"):
        with output_folder_lock(tmp_path / "nwb"):
            pass
    assert os.listdir(tmp_path / "nwb") == [LOCK_NAME]

    def no_locks(descriptor, output_dir):  # as on a file system without file locks
        raise ConversionError(f"{output_dir}: cannot be locked (No locks available)")

    monkeypatch.setattr(lock, "acquire", no_locks)
    with pytest.raises(ConversionError, match="cannot be locked"):
        with output_folder_lock(tmp_path / "new" / "nwb"):
            pass
    assert not (tmp_path / "new").exists()


def test_a_dask_batch_is_refused_by_the_clients_lock_before_it_reaches_any_scheduler(tmp_path):
    from nwb_conversions.batch import run_batch
    from nwb_conversions.datasets import registered_datasets

    dataset = registered_datasets()["spe1"]
    root, _ = dataset.write_sample_release(tmp_path / "release", 1, duration_s=0.1)
    start = time.perf_counter()
    with output_folder_lock(tmp_path / "nwb"):
        with pytest.raises(ConversionError, match="another batch is writing into this folder"):
            run_batch(dataset, root, tmp_path / "nwb", scheduler="tcp://127.0.0.1:9", progress=False)
    assert time.perf_counter() - start < 10  # no attempt to reach the (absent) scheduler, which would take 20 s
    assert sorted(os.listdir(tmp_path / "nwb")) == [LOCK_NAME]
