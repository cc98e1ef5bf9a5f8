"""The command runs in a forked child: a crash or a SIGKILL of the conversion still ends in one line, with nothing
left behind, and a killed command takes its conversion with it (:mod:`nwb_conversions.cli.crash_guard`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nwb_conversions.samples.spe1 import write_spe1_release

SUBJECT = "Subject:\n  subject_id: animal-01\n  sex: U\n  age: P60D\n"

#: Runs the console script's entry with the chunk writer replaced by a signal to its own process.
CRASHING_COMMAND = """
import os, signal, sys
import nwb_conversions.writing.write as chunk_writer
signal_number = int(sys.argv[1])
chunk_writer.fill_dataset = lambda *args, **kwargs: os.kill(os.getpid(), signal_number)
from nwb_conversions.cli.main import run
sys.argv = ["convert-to-nwb", *sys.argv[2:]]
run()
"""


def spe1(tmp_path: Path, duration_s: float = 0.3):
    cell, _ = write_spe1_release(tmp_path / "release", duration_s=duration_s)
    subject = tmp_path / "subject.yaml"
    subject.write_text(SUBJECT)
    return cell, subject, tmp_path / "out" / "out.nwb"


def snapshot(folder: Path) -> dict:
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize(
    ("signal_number", "words"),
    [
        (signal.SIGSEGV, "crashed in a compiled library (SIGSEGV), most likely on damaged data"),
        (signal.SIGBUS, "crashed in a compiled library (SIGBUS), most likely on damaged data"),
        (signal.SIGKILL, "was killed (SIGKILL: out of memory, or killed by another process)"),
    ],
)
def test_a_conversion_that_dies_by_a_signal_is_one_line_and_leaves_nothing(tmp_path, signal_number, words):
    cell, subject, output = spe1(tmp_path)
    output.parent.mkdir()
    sources = snapshot(cell.parent)
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_COMMAND, str(int(signal_number)), "spe1", cell, output, "--metadata", subject],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        f"error: {cell}: the process working on it {words}; expected a source the libraries can read, and enough "
        "memory; its temporary output was removed\n"
    )
    assert list(output.parent.iterdir()) == [] and snapshot(cell.parent) == sources


def start_conversion(tmp_path: Path, **popen) -> tuple[subprocess.Popen, Path, Path]:
    """Start a 4 s SPE-1 conversion with one compression thread; return the process, its output and the partial."""
    cell, subject, output = spe1(tmp_path, duration_s=4.0)
    output.parent.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "nwb_conversions.cli.main", "spe1", cell, output, "--metadata", subject],
        env={**os.environ, "NWB_CONVERSIONS_WORKERS": "1"}, text=True, **popen,
    )
    return process, output, wait_for_partial(output.parent, process)


def wait_for_partial(folder: Path, process: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        found = list(folder.glob(".*partial*"))
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError("the conversion wrote no temporary file")


def test_sigkill_of_the_conversion_process_is_one_line(tmp_path):
    """What the out-of-memory killer does: the process holding the memory (the child) is killed."""
    process, output, partial = start_conversion(tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child = int(partial.name.split(".partial-")[1].split(".")[0])
    assert child != process.pid
    os.kill(child, signal.SIGKILL)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1 and err.count("\n") == 1 and "was killed (SIGKILL" in err, err
    assert list(output.parent.iterdir()) == []


def test_a_killed_command_ends_its_conversion_which_cleans_up(tmp_path):
    """``kill <pid>`` (or ``kill -9``) of the command the user started: its conversion child stops and cleans up."""
    process, output, _ = start_conversion(tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 60
    while list(output.parent.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(output.parent.iterdir()) == []


def test_sigterm_of_the_command_is_passed_on_and_cleans_up(tmp_path):
    process, output, _ = start_conversion(tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err == "error: interrupted; no output file was left behind\n"
    assert list(output.parent.iterdir()) == []


def test_help_and_usage_errors_need_no_child(tmp_path):
    result = subprocess.run([sys.executable, "-m", "nwb_conversions.cli.main", "spe1"], capture_output=True, text=True)
    assert result.returncode == 2 and "usage:" in result.stderr


def test_the_numerical_libraries_run_one_thread_unless_the_user_says_otherwise(tmp_path):
    """OpenBLAS (numpy's) gets one thread in the command; a value the user set is kept."""
    probe = (
        "import sys\nfrom nwb_conversions.cli import main as command\n"
        "def report(argv):\n    import numpy, threadpoolctl\n"
        "    print(threadpoolctl.threadpool_info()[0]['num_threads'])\n    return 0\n"
        "command.main = report\n"
        "sys.argv = ['convert-to-nwb', 'inspect', 'x.nwb']\ncommand.run()\n"
    )
    environment = {name: value for name, value in os.environ.items() if not name.endswith("_NUM_THREADS")}
    default = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=environment)
    chosen = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env={**environment, "OPENBLAS_NUM_THREADS": "2"})
    assert (default.stdout, chosen.stdout) == ("1\n", "2\n"), (default.stderr, chosen.stderr)
