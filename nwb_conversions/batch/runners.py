"""Run session tasks: one session (:func:`run_session`), and the Dask distributed runner; the local worker
processes are :mod:`.workers`'.

Every runner calls the same :func:`run_session` on the same :class:`~nwb_conversions.batch.tasks.SessionTask`, so a
lab with a cluster runs exactly what a laptop runs. Cores are split between processes and compression threads so
that neither oversubscribes the machine: locally, ``cores`` is shared out by :func:`plan_local`; on a Dask worker,
a task takes its share of the worker machine's cores (:func:`threads_on_worker`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from uuid import uuid4

from ..errors import ConversionError
from ..publishing.gate import describe, one_line
from ..publishing.report import MESSAGE_SEPARATOR
from ..writing.cores import usable_cores
from .leftovers import remove_leftovers
from .resume import check_sidecar_slot, existing_output_verdict, write_sidecar
from .tasks import ResultCallback, SessionResult, SessionTask, quicklook_path


def plan_local(cores: int, num_tasks: int) -> tuple[int, int]:
    """Split ``cores`` into (processes, compression threads per process).

    One process per session up to the core count (reading, building and the gate are single-threaded, so processes
    scale best), then the cores left over go to each process's compression threads: processes × threads ≤ cores.
    """
    processes = max(1, min(cores, num_tasks))
    return processes, max(1, cores // processes)


def task_slots_by_host(client) -> dict[str, int]:
    """Task slots (worker threads) per host of a Dask cluster, from the scheduler."""
    slots: dict[str, int] = {}
    for address, info in client.scheduler_info(n_workers=-1)["workers"].items():
        host = host_of(address)
        slots[host] = slots.get(host, 0) + int(info.get("nthreads", 1))
    return slots


def host_of(address: str) -> str:
    """``tcp://10.0.0.5:40123`` → ``tcp://10.0.0.5``."""
    return address.rsplit(":", 1)[0]


def threads_on_worker(slots_by_host: dict[str, int]) -> int:
    """Compression threads for a task on this Dask worker: the host's cores shared by every task slot on the host.

    A host running ``dask worker --nworkers 4 --nthreads 2`` has 8 slots; on a 16-core host each task gets 2
    threads.
    """
    from distributed import get_worker

    worker = get_worker()
    slots = slots_by_host.get(host_of(worker.address)) or worker.state.nthreads
    return max(1, usable_cores() // max(1, slots))


def run_session_on_worker(task: SessionTask, slots_by_host: dict[str, int]) -> SessionResult:
    """:func:`run_session` on a Dask worker, with this worker's share of its host's cores."""
    return run_session(replace(task, threads=task.threads or threads_on_worker(slots_by_host)))


def output_megabytes(output_path: Path) -> float:
    """The output's size in MB (a Zarr store's files summed)."""
    from ..writing.zarr_store import store_size_bytes

    return round(store_size_bytes(output_path) / 1e6, 3)


def draw_session_quicklook(output: Path, report, result: SessionResult) -> str:
    """Draw the session's quicklook for the batch report; a figure that cannot be drawn is said in the reason,
    never a failed session. Returns the PNG's path, or "" when none was drawn."""
    from ..quicklook import write_quicklook

    try:
        return str(write_quicklook(output, quicklook_path(output), report=report, inspect=False).png_path)
    except Exception as error:  # the file is converted and gated; only its picture is missing
        note = f"quicklook not drawn ({one_line(str(error), limit=200)})"
        result.reason = f"{result.reason}; {note}" if result.reason else note
        return ""


def run_session(task: SessionTask) -> SessionResult:
    """Convert one session, or keep its valid existing output; never raise for a session's failure.

    Returns
    -------
    SessionResult
        ``OK`` (the reason names missing DANDI subject facts, if any), ``SKIPPED`` (why the output was kept) or
        ``FAILED`` (the one-line error).
    """
    from ..conversion import convert_session
    from ..datasets.catalog import catalog

    start = time.perf_counter()
    result = SessionResult(session=task.session, status="FAILED", source=str(task.source), output=str(task.output))
    try:
        if not task.options.overwrite and (task.output.exists() or task.output.is_symlink()):
            result.status, result.reason = "SKIPPED", existing_output_verdict(task)
            if quicklook_path(task.output).is_file():
                result.quicklook = str(quicklook_path(task.output))
        else:
            notes = [check_sidecar_slot(task.output)]
            conversion = convert_session(
                catalog()[task.dataset_key].load(), task.source, task.output, metadata_path=task.metadata_path,
                user_metadata=task.user_metadata, progress=False, workers=task.threads,
                **task.options.session_keywords(),
            )
            write_sidecar(task, conversion.missing_subject_fields)
            missing = conversion.missing_subject_fields
            notes.append(f"DANDI subject facts missing: {', '.join(missing)}" if missing else "")
            result.status, result.reason = "OK", "; ".join(note for note in notes if note)
            if conversion.report is not None:
                messages = conversion.report.messages
                result.gate_messages = MESSAGE_SEPARATOR.join(describe(message) for message in messages)
            if task.options.quicklook:
                result.quicklook = draw_session_quicklook(task.output, conversion.report, result)
        result.megabytes = output_megabytes(task.output)
    except ConversionError as error:
        result.reason = one_line(str(error), limit=400)
    except Exception as error:  # a bug or an unforeseen source problem: still one line, and the batch goes on
        result.reason = one_line(f"unexpected {type(error).__name__}: {error}", limit=400)
    result.seconds = round(time.perf_counter() - start, 3)
    return result


def run_on_dask(tasks: list[SessionTask], scheduler, on_result: ResultCallback) -> list[SessionResult]:
    """Run the tasks on a Dask distributed cluster.

    Parameters
    ----------
    scheduler : str or distributed cluster
        The scheduler's address (``tcp://host:8786``) or a cluster object (e.g. a ``LocalCluster``).
    """
    try:
        from distributed import Client, as_completed
    except ImportError as error:  # pragma: no cover - depends on the optional extra
        raise ConversionError(
            "--scheduler needs dask.distributed; install it with: pip install 'nwb_conversions[dask]'"
        ) from error
    results = []
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as error:
        raise ConversionError(
            f"{scheduler}: no Dask scheduler answered ({one_line(str(error), 120)}); expected the address of a running "
            "scheduler, such as tcp://host:8786"
        ) from None
    with client:
        slots_by_host = task_slots_by_host(client)
        futures = {
            client.submit(
                run_session_on_worker, task, slots_by_host, key=f"convert-{task.session}-{uuid4().hex}", pure=False
            ): task
            for task in tasks
        }
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as error:  # the worker died, or the task could not run there
                result = SessionResult(
                    session=task.session,
                    status="FAILED",
                    reason=one_line(f"the Dask task failed: {type(error).__name__}: {error}", 400),
                    source=str(task.source),
                    output=str(task.output),
                )
                unfinished_folders = {other.output.parent for other_future, other in futures.items()
                                      if not other_future.done()}
                remove_leftovers(task.output, keep_folder=task.output.parent in unfinished_folders)
            results.append(result)
            on_result(result)
    return results
