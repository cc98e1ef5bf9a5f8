"""Convert a whole release: every session ``find_sessions`` lists, in parallel, resumable, with a report.

The scripting API behind ``convert-to-nwb batch``::

    from nwb_conversions.batch import ConversionOptions, run_batch
    from nwb_conversions.datasets import registered_datasets

    outcome = run_batch(registered_datasets()["spe2"], "spe2_release/", "nwb/", sessions_table="sessions.csv")
    print(outcome.counts)

Modules: :mod:`.tasks` (one task per session: DANDI output names), :mod:`.resume` and :mod:`.identity` (the sidecar
that makes re-runs resumable, and the exact file it describes), :mod:`.preflight` (paths checked before anything is
written), :mod:`.lock` (one batch per output folder), :mod:`.runners` (one session; Dask), :mod:`.workers` (local
worker processes) and :mod:`.leftovers` (what a dead worker leaves); the reports are
:mod:`nwb_conversions.publishing.report`'s.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..datasets import Dataset
from ..errors import ConversionError
from ..metadata.assembly import check_user_metadata, deep_update, load_yaml_mapping
from ..metadata.sessions_table import match_sessions, read_sessions_table
from ..publishing.report import REPORT_NAME as HTML_REPORT_NAME
from ..publishing.report import status_counts, write_html_report, write_report
from .lock import output_folder_lock
from .preflight import check_output_dir, check_report_paths
from .runners import plan_local, run_on_dask, usable_cores
from .tasks import UNKNOWN_SUBJECT, ConversionOptions, SessionResult, SessionTask, output_path_for
from .workers import run_worker_processes

__all__ = ["BatchOutcome", "ConversionOptions", "SessionResult", "SessionTask", "plan_tasks", "run_batch"]

#: The report's default name in the output folder.
DEFAULT_REPORT_NAME = "batch_report.json"


@dataclass
class BatchOutcome:
    """What a batch did.

    Attributes
    ----------
    results : list of SessionResult
        In session order.
    report_path : Path
    seconds : float
    warnings : list of str
        Table rows that match no session, sessions without a row or without a subject.
    html_report_path : Path
        ``report.html`` beside the outputs: each session's row and quicklook image.
    """

    results: list[SessionResult]
    report_path: Path
    seconds: float
    warnings: list[str] = field(default_factory=list)
    html_report_path: Path | None = None

    @property
    def counts(self):
        """Sessions per status (``OK``, ``SKIPPED``, ``FAILED``)."""
        return status_counts(self.results)

    @property
    def failed(self) -> bool:
        """True if any session failed."""
        return self.counts.get("FAILED", 0) > 0


def plan_tasks(
    dataset: Dataset,
    release_root: str | Path,
    output_dir: str | Path,
    *,
    sessions_table: str | Path | None = None,
    metadata_path: str | Path | None = None,
    options: ConversionOptions = ConversionOptions(),
) -> tuple[list[SessionTask], list[str]]:
    """One task per session of the release, and warnings about the table.

    Each session's user metadata is the release's ``--metadata`` file with its table row over it; the subject id
    found there names the output (``sub-<subject>/sub-<subject>_ses-<session>.nwb``).

    Raises
    ------
    ConversionError
        If the release holds no session, a metadata file or the table is unusable, or two sessions would be written
        to the same output.
    """
    release_root, output_dir = Path(release_root), Path(output_dir)
    sessions = dataset.find_sessions(release_root)
    if not sessions:
        raise ConversionError(f"{release_root}: holds no {dataset.key} session; expected {dataset.source_help}")
    release_metadata = load_yaml_mapping(metadata_path) if metadata_path else {}
    check_user_metadata(release_metadata, metadata_path)
    table = read_sessions_table(sessions_table) if sessions_table else {}
    rows, unmatched = match_sessions(table, sessions, sessions_table)
    warnings = [f"{sessions_table}: no session of the release is named {name!r}" for name in unmatched]
    tasks, outputs = [], {}
    for session in sessions:
        if sessions_table and not rows[session]:
            warnings.append(f"{sessions_table}: no row for session {session.name!r}")
        subject_id = deep_update(release_metadata, rows[session]).get("Subject", {}).get("subject_id")
        output = output_path_for(output_dir, subject_id, session, options.backend)
        if output in outputs:
            raise ConversionError(
                f"{output}: would be written by both {outputs[output].name} and {session.name}; expected one output "
                "per session: give them different subject ids or session names"
            )
        outputs[output] = session
        tasks.append(
            SessionTask(
                dataset_key=dataset.key,
                session=session.name,
                source=session,
                output=output,
                user_metadata=rows[session],
                metadata_path=Path(metadata_path) if metadata_path else None,
                options=options,
            )
        )
    unnamed = [task.session for task in tasks if task.output.parent.name == f"sub-{UNKNOWN_SUBJECT}"]
    if unnamed:
        warnings.append(
            f"no subject_id for {len(unnamed)} session(s) "
            f"({', '.join(unnamed[:3])}{', …' if len(unnamed) > 3 else ''}):"
            f" written under sub-{UNKNOWN_SUBJECT}/; DANDI needs one (a sessions table column subject_id)"
        )
    return tasks, warnings


def run_tasks(
    tasks: list[SessionTask], *, cores: int | None, scheduler, progress: bool, label: str
) -> list[SessionResult]:
    """Run the tasks on a Dask cluster (``scheduler``) or on local worker processes, with a progress bar labelled
    ``label`` if ``progress``; return the results in session order."""
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), unit="session", desc=label, disable=not progress, leave=False)

    def on_result(result: SessionResult) -> None:
        bar.set_postfix_str(f"{result.session}: {result.status}")
        bar.update(1)

    try:
        if scheduler is not None:
            tasks = [replace(task, threads=cores) for task in tasks] if cores else tasks
            results = run_on_dask(tasks, scheduler, on_result)
        else:
            processes, threads = plan_local(cores or usable_cores(), len(tasks))
            results = run_worker_processes([replace(task, threads=threads) for task in tasks], processes, on_result)
    finally:
        bar.close()
    order = {task.session: index for index, task in enumerate(tasks)}
    return sorted(results, key=lambda result: order[result.session])


def run_batch(
    dataset: Dataset,
    release_root: str | Path,
    output_dir: str | Path,
    *,
    sessions_table: str | Path | None = None,
    metadata_path: str | Path | None = None,
    options: ConversionOptions = ConversionOptions(),
    cores: int | None = None,
    scheduler=None,
    report_path: str | Path | None = None,
    progress: bool | None = None,
) -> BatchOutcome:
    """Convert every session of a release; keep going past failures; write the report.

    Everything is checked before anything is written: the release and its sessions, the sessions table and
    metadata, the output folder (a folder outside the release) and the report paths. The batch then holds the
    output folder's lock (:mod:`.lock`) until its report is written, so two batches never write into one folder.
    Each session runs in a worker process (or a Dask task), so one that kills its process fails alone.

    Parameters
    ----------
    dataset : Dataset
    release_root, output_dir : str or Path
    sessions_table : str or Path, optional
        CSV or YAML of per-session metadata (:mod:`nwb_conversions.metadata.sessions_table`).
    metadata_path : str or Path, optional
        YAML metadata for the whole release, under each session's row.
    options : ConversionOptions
    cores : int, optional
        Locally: the cores to use (default: all usable), split into processes × compression threads. With a
        ``scheduler``: compression threads per session (default: each host's cores shared by its task slots).
    scheduler : str or distributed cluster, optional
        Run on a Dask distributed cluster instead of local processes.
    report_path : str or Path, optional
        ``.json`` or ``.csv``; default ``OUTPUT_DIR/batch_report.json``.
    progress : bool, optional
        A progress bar on stderr; default: when stderr is a terminal.

    Raises
    ------
    ConversionError
        For anything wrong before the first session starts (nothing is written then), or another batch holding the
        output folder.
    """
    start = time.perf_counter()
    release_root, output_dir = Path(release_root), Path(output_dir)
    tasks, warnings = plan_tasks(
        dataset, release_root, output_dir, sessions_table=sessions_table, metadata_path=metadata_path, options=options
    )
    check_output_dir(output_dir, release_root)
    report_path = Path(report_path) if report_path else output_dir / DEFAULT_REPORT_NAME
    sources = [Path(path) for path in (sessions_table, metadata_path) if path]
    check_report_paths([report_path, output_dir / HTML_REPORT_NAME], release_root, sources, requested=report_path)
    if progress is None:
        progress = sys.stderr.isatty()
    with output_folder_lock(output_dir):
        results = run_tasks(tasks, cores=cores, scheduler=scheduler, progress=progress, label=f"{dataset.key} batch")
        seconds = time.perf_counter() - start
        context = dict(
            dataset=dataset.key,
            release_root=str(release_root.resolve()),
            output_dir=str(output_dir.resolve()),
            options=options.fingerprint(),
            seconds=round(seconds, 3),
            warnings=warnings,
        )
        write_report(results, report_path, context=context)
        html_report_path = write_html_report(results, output_dir, title=f"{dataset.key} batch: {release_root.name}")
    return BatchOutcome(
        results=results, report_path=report_path, seconds=seconds, warnings=warnings, html_report_path=html_report_path
    )
