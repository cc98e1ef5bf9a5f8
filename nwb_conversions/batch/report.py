"""The batch's machine-readable report (JSON or CSV) and its summary table on the terminal."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from pathlib import Path

from .tasks import SessionResult

#: Report columns, in order.
REPORT_COLUMNS = ("session", "status", "reason", "seconds", "megabytes", "source", "output", "quicklook", "gate_messages")

#: How the gate's messages of one session are joined in a report cell.
MESSAGE_SEPARATOR = " | "

#: Status order of the summary line.
STATUSES = ("OK", "SKIPPED", "FAILED")

#: Widest reason shown in the terminal table (the report holds it whole).
TABLE_REASON_CHARACTERS = 100


def status_counts(results: list[SessionResult]) -> Counter:
    """Sessions per status."""
    return Counter(result.status for result in results)


def write_report(results: list[SessionResult], report_path: Path, *, context: dict) -> Path:
    """Write the report: ``.json`` (``context`` + counts + one object per session) or ``.csv`` (one row per session).

    Written to a temporary name and renamed, so a reader never sees half a report.
    """
    report_path = Path(report_path)
    rows = [result.as_row() for result in results]
    if report_path.suffix.lower() == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    else:
        counts = status_counts(results)
        text = json.dumps(
            dict(context, counts={status: counts.get(status, 0) for status in STATUSES}, sessions=rows), indent=1
        )
    report_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = report_path.with_name(f".{report_path.name}.partial-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, report_path)
    return report_path


def summary_table(results: list[SessionResult]) -> str:
    """A fixed-width table: session, status, seconds, MB and the reason (cut to fit)."""
    width = max([len("session")] + [len(result.session) for result in results])
    lines = [f"{'session':<{width}}  {'status':<7}  {'seconds':>8}  {'MB':>9}  reason"]
    for result in results:
        megabytes = f"{result.megabytes:.1f}" if result.megabytes is not None else "-"
        reason = result.reason
        if len(reason) > TABLE_REASON_CHARACTERS:
            reason = reason[: TABLE_REASON_CHARACTERS - 1] + "…"
        lines.append(f"{result.session:<{width}}  {result.status:<7}  {result.seconds:>8.1f}  {megabytes:>9}  {reason}")
    return "\n".join(lines)


def summary_line(results: list[SessionResult], seconds: float) -> str:
    """``3 OK, 1 SKIPPED, 1 FAILED of 5 sessions in 12.3 s``."""
    counts = status_counts(results)
    parts = ", ".join(f"{counts.get(status, 0)} {status}" for status in STATUSES)
    return f"{parts} of {len(results)} sessions in {seconds:.1f} s"


def write_html_report(results: list[SessionResult], output_dir: Path, *, title: str) -> Path:
    """Write ``report.html`` beside the outputs: one row per session with its quicklook image
    (:func:`nwb_conversions.publishing.report.write_batch_report`)."""
    from ..publishing.report import write_batch_report

    rows = [
        dict(
            session=result.session,
            status=result.status,
            reason=result.reason,
            size_mb=result.megabytes,
            seconds=result.seconds,
            gate_messages=result.gate_messages.split(MESSAGE_SEPARATOR) if result.gate_messages else [],
            nwb_path=result.output or None,
            quicklook_png=result.quicklook or None,
        )
        for result in results
    ]
    output_dir.mkdir(parents=True, exist_ok=True)
    return write_batch_report(rows, output_dir, title=title)
