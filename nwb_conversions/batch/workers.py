"""The local runner: sessions on fresh (spawned) worker processes, each running one session at a time.

The batch process hands each worker one task at a time through a pipe and watches both the pipe and the process. A
worker that dies (SIGKILL, the out-of-memory killer, a crash in a C library) fails exactly the session it was
running, with the exit status in the reason; its temporary files are removed (:mod:`.leftovers`), a fresh worker
takes its place, and the other sessions go on undisturbed. Ctrl-C or SIGTERM stops the batch: busy workers are asked
to stop (their conversion removes its temporary file, as a single conversion does), and any that do not are killed
and cleaned up after.
"""

from __future__ import annotations

import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing import get_context, parent_process
from multiprocessing.connection import Connection, wait
from typing import Callable

from ..processes import signal_name, signal_when_parent_dies
from .leftovers import remove_leftovers
from .tasks import ResultCallback, SessionResult, SessionTask

#: How long stopping workers may take to clean up after Ctrl-C or SIGTERM before they are killed, in seconds.
STOP_GRACE_SECONDS = 30.0


def _interrupt(signal_number, frame):
    raise KeyboardInterrupt


def stop_with_parent() -> None:
    """On Linux, have the kernel send this process SIGTERM when the batch process ends, however it ends: a worker
    never outlives the batch (and its lock) to write into the output folder unsupervised."""
    if not signal_when_parent_dies(signal.SIGTERM):  # not Linux: the worker stops at its next task (pipe closed)
        return
    parent = parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the batch ended before the request was made
        raise KeyboardInterrupt


def serve(connection: Connection, runner: Callable[[SessionTask], SessionResult]) -> None:
    """A worker process's loop: run each task received, send back its result; stop at ``None`` or when stopped.

    SIGTERM is turned into KeyboardInterrupt, so that a stopped conversion cleans up as on Ctrl-C (and the worker then
    removes what its session left, an empty session folder included); a file size limit (SIGXFSZ) becomes a failed
    write, as in the command.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    stop_with_parent()
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    task = None
    try:
        while (task := connection.recv()) is not None:
            connection.send(runner(task))
            task = None
    except (KeyboardInterrupt, EOFError, OSError):
        if task is not None:  # stopped mid-session (the batch may be gone): its empty session folder goes too
            remove_leftovers(task.output)


def death_reason(exitcode: int | None) -> str:
    """Why a session failed when its worker process ended without a result."""
    if exitcode is not None and exitcode < 0:
        name = signal_name(-exitcode)
        how = f"was killed by {name}" + (" (out of memory, or kill -9)" if name == "SIGKILL" else "")
    else:
        how = f"ended with exit status {exitcode}"
    return f"its worker process {how} during the session; its temporary files were removed"


@dataclass
class Worker:
    """One worker process, its end of the pipe, and the task it is running (None while idle)."""

    process: object
    connection: Connection
    task: SessionTask | None = None
    started: float = field(default=0.0)

    @classmethod
    def start(cls, runner: Callable[[SessionTask], SessionResult]) -> "Worker":
        context = get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=serve, args=(theirs, runner), name="nwb-conversions-worker")
        process.start()
        theirs.close()
        return cls(process, ours)

    def assign(self, task: SessionTask) -> None:
        self.task, self.started = task, time.perf_counter()
        self.connection.send(task)

    def collect(self) -> SessionResult:
        """The running task's result; if the process died instead, a FAILED result saying how, after removing the
        session's temporary files."""
        task, self.task = self.task, None
        try:
            if self.connection.poll():
                return self.connection.recv()
        except (EOFError, OSError, ValueError):  # the pipe closed, or the process died in the middle of a message
            pass
        self.process.join(timeout=1.0)
        if self.process.is_alive():  # it answered with something that is not a result: not to be trusted further
            self.process.kill()
            self.process.join()
        remove_leftovers(task.output)
        return SessionResult(
            session=task.session,
            status="FAILED",
            reason=death_reason(self.process.exitcode),
            seconds=round(time.perf_counter() - self.started, 3),
            source=str(task.source),
            output=str(task.output),
        )

    def retire(self) -> None:
        """Ask an idle worker to stop, and wait for it."""
        try:
            self.connection.send(None)
        except OSError:
            pass
        self.process.join(timeout=STOP_GRACE_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


def stop(busy: list[Worker]) -> None:
    """Stop busy workers (SIGTERM: they clean up), kill those that do not stop in time, remove their sessions'
    temporary files."""
    for worker in busy:
        worker.process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for worker in busy:
        worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        remove_leftovers(worker.task.output)
        worker.connection.close()


def run_worker_processes(tasks: list[SessionTask], processes: int, on_result: ResultCallback) -> list[SessionResult]:
    """Run the tasks on at most ``processes`` spawned worker processes, one session per process at a time.

    Each worker runs :func:`nwb_conversions.batch.runners.run_session` (looked up when the batch starts, so a test
    can substitute a runner that kills its own process).
    """
    from . import runners

    runner = runners.run_session
    pending, idle, busy, results = deque(tasks), [], {}, []
    try:
        while pending or busy:
            while pending and len(idle) + len(busy) < processes:
                idle.append(Worker.start(runner))
            while pending and idle:
                worker = idle.pop()
                if not worker.process.is_alive():  # it died while idle
                    worker.connection.close()
                    continue
                worker.assign(pending.popleft())
                busy[worker.connection] = worker
            sentinels = {worker.process.sentinel: worker for worker in busy.values()}
            for ready in wait([*busy, *sentinels]):
                worker = busy.pop(ready, None) or sentinels.get(ready)
                if worker is None or worker.task is None:  # both its pipe and its sentinel were ready
                    continue
                busy.pop(worker.connection, None)
                result = worker.collect()
                if worker.process.is_alive():
                    idle.append(worker)
                else:
                    worker.connection.close()
                results.append(result)
                on_result(result)
    except BaseException:  # Ctrl-C, SIGTERM: start nothing more; running sessions stop and clean up
        stop(list(busy.values()))
        raise
    finally:
        for worker in idle:
            worker.retire()
    return results
