"""The quicklook's child process: results and errors come back as they were raised, a dead child is one error and
leaves nothing behind, an interrupted parent takes its child with it, and with other threads alive the work runs
in this process."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nwb_conversions.errors import ConversionError, SourceFormatError
from nwb_conversions.quicklook import isolation
from nwb_conversions.quicklook.isolation import run_isolated


@pytest.fixture
def forking(monkeypatch):
    monkeypatch.setattr(isolation, "can_fork", lambda: True)


def no_leftover(tmp_path):
    return lambda pid: tmp_path / f"left-{pid}"


def test_the_result_comes_from_a_child(forking, tmp_path):
    assert run_isolated(lambda: {"pid": os.getpid()}, tmp_path / "x.nwb", no_leftover(tmp_path))["pid"] != os.getpid()


@pytest.mark.parametrize("error, expected_type, message", [
    (ConversionError("x.nwb: bad; expected good"), ConversionError, "x.nwb: bad; expected good"),
    (OSError(errno.ENOSPC, "No space left on device", "/out/x.png"), OSError,
     "[Errno 28] No space left on device: '/out/x.png'"),
    (ValueError("odd"), Exception, "odd"),
])
def test_errors_come_back_as_raised(forking, tmp_path, error, expected_type, message):
    def work():
        raise error

    with pytest.raises(expected_type) as raised:
        run_isolated(work, tmp_path / "x.nwb", no_leftover(tmp_path))
    assert str(raised.value) == message and type(raised.value).__name__ == type(error).__name__


def test_a_child_killed_by_a_signal_is_one_error_and_its_leftover_is_removed(forking, tmp_path):
    def work():
        (tmp_path / f"left-{os.getpid()}").write_bytes(b"half a PNG")
        os.kill(os.getpid(), signal.SIGABRT)

    with pytest.raises(SourceFormatError, match=r"x\.nwb: reading it crashed the reader process \(SIGABRT"):
        run_isolated(work, tmp_path / "x.nwb", no_leftover(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_parent_kills_its_child(forking, tmp_path):
    def work():
        (tmp_path / f"left-{os.getpid()}").write_bytes(b"half a PNG")
        (tmp_path / "pid").write_text(str(os.getpid()))
        time.sleep(60)

    def interrupt(number, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_isolated(work, tmp_path / "x.nwb", no_leftover(tmp_path))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    child = int((tmp_path / "pid").read_text())
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)  # reaped
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pid"]


def test_with_another_thread_alive_the_work_runs_here(tmp_path):
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not isolation.can_fork()
        assert run_isolated(lambda: {"pid": os.getpid()}, tmp_path / "x.nwb", no_leftover(tmp_path)) == {
            "pid": os.getpid()}
    finally:
        stop.set()
        thread.join()


CHILD_OF_A_KILLED_PARENT = """
import os, sys, time
from pathlib import Path
from nwb_conversions.quicklook import isolation

folder = Path(sys.argv[1])
isolation.can_fork = lambda: True

def work():
    (folder / "child").write_text(str(os.getpid()))
    time.sleep(30)
    (folder / "finished").write_text("the child outlived its parent")

isolation.run_isolated(work, folder / "x.nwb", lambda pid: folder / f"left-{pid}")
"""


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie left for a parent that does not reap it counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def test_the_child_dies_with_its_parent(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", CHILD_OF_A_KILLED_PARENT, str(tmp_path)])
    deadline = time.monotonic() + 60
    while not (tmp_path / "child").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int((tmp_path / "child").read_text())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child) and not (tmp_path / "finished").exists()
