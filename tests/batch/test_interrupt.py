"""Stopping a batch: SIGTERM (or Ctrl-C) stops its workers, which remove their temporary output, and the command says
so in one line (exit 130); a batch killed with SIGKILL takes its workers with it (the kernel signals them), and they
still clean up. Either way nothing is left in the output folder but the lock file, and no worker keeps running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nwb_conversions.datasets import registered_datasets

from . import dying_runner

#: The batch command, with session c1's runner waiting inside its conversion (:mod:`tests.batch.dying_runner`).
COMMAND = """
import sys
from nwb_conversions.batch import runners
from nwb_conversions.cli.main import main
from tests.batch import dying_runner
runners.run_session = dying_runner.run_session_or_hang
sys.exit(main(sys.argv[1:]))
"""


def process_ended(pid: int) -> bool:
    """Whether ``pid`` is gone (or a zombie nobody reaped yet)."""
    try:
        return Path(f"/proc/{pid}/status").read_text().count("State:\tZ") == 1
    except FileNotFoundError:
        return True


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_batch_leaves_no_worker_and_no_temporary_output(tmp_path, stop):
    root, _ = registered_datasets()["spe1"].write_sample_release(tmp_path / "release", 1, duration_s=0.1)
    witness = dying_runner.witness_path(root / "c1")
    output_dir = tmp_path / "nwb"
    batch = subprocess.Popen(
        [sys.executable, "-c", COMMAND, "batch", "spe1", str(root), str(output_dir), "--no-inspect"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    try:
        wait_for(witness.exists)
        worker = json.loads(witness.read_text())["pid"]
        assert any(".partial-" in name for name in json.loads(witness.read_text())["beside"])
        batch.send_signal(stop)
        out, err = batch.communicate(timeout=60)
    finally:
        batch.kill()
    if stop == signal.SIGTERM:
        assert batch.returncode == 130
        assert err == "error: interrupted; no output file was left behind\n"
    else:
        assert batch.returncode == -signal.SIGKILL
    wait_for(lambda: process_ended(worker))
    wait_for(lambda: not list(output_dir.rglob("*partial*")))
    assert sorted(os.listdir(output_dir)) == [".batch.lock"]
