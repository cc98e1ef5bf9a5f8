"""A session runner for the worker-death tests: the sessions named in :data:`DEATHS` end their worker process at the
moment their output is complete under its temporary name (where the gate would run), after recording which
temporary files were there; every other session runs as usual.

Worker processes are spawned, so a monkeypatch in the test process does not reach them: the tests substitute this
module's :func:`run_session_or_die` for :func:`nwb_conversions.batch.runners.run_session`, which the batch hands to
each worker by reference, and the worker imports this module (:func:`run_session_on_worker_or_die` likewise for a
Dask task). :func:`run_session_or_hang` keeps a session waiting with its temporary output in place, for the tests
that stop the batch.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from nwb_conversions.batch.runners import run_session
from nwb_conversions.batch.tasks import SessionResult, SessionTask

#: How each doomed session ends its process.
DEATHS = {
    "c2": lambda: os.kill(os.getpid(), signal.SIGKILL),  # as the out-of-memory killer does
    "c3": lambda: os._exit(70),  # as a C library's abort handler might
}


def witness_path(source: Path) -> Path:
    """Where the doomed session of ``source`` records what was beside its target when it died: beside the release,
    outside the output folder."""
    return source.parent.parent / f"{source.name}.witness.json"


def run_session_or_die(task: SessionTask) -> SessionResult:
    """:func:`run_session`, but a session of :data:`DEATHS` kills its process once its temporary output exists."""
    return run_session_ending_with(task, DEATHS.get(task.session))


def run_session_or_hang(task: SessionTask) -> SessionResult:
    """:func:`run_session`, but session ``c1`` waits (ten minutes) once its temporary output exists, to be stopped."""
    return run_session_ending_with(task, (lambda: time.sleep(600)) if task.session == "c1" else None)


def run_session_on_worker_or_die(task: SessionTask, slots_by_host: dict) -> SessionResult:
    """:func:`run_session_or_die` as a Dask task (in place of
    :func:`nwb_conversions.batch.runners.run_session_on_worker`)."""
    return run_session_or_die(task)


def run_session_ending_with(task: SessionTask, death) -> SessionResult:
    """:func:`run_session`, calling ``death()`` (if not None) once the temporary output exists."""
    if death is not None:
        import nwb_conversions.conversion as conversion

        writers = {"write_nwbfile": conversion.write_nwbfile, "write_nwbfile_zarr": conversion.write_nwbfile_zarr}

        def dying(writer):
            def write(nwbfile, output_path, **options):
                def die(temporary_path):
                    beside = sorted(path.name for path in temporary_path.parent.iterdir())
                    witness_path(task.source).write_text(json.dumps({"pid": os.getpid(), "beside": beside}))
                    death()

                return writer(nwbfile, output_path, **dict(options, check=die))

            return write

        for name, writer in writers.items():
            setattr(conversion, name, dying(writer))
    return run_session(task)
