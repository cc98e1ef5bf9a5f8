"""The batch's reports: the machine-readable report (JSON or CSV), its summary table and line on the terminal, and
``report.html`` beside a batch's outputs, one row per session with its quicklook image.

The HTML page is plain HTML with inline CSS, no script, no external resource: it opens from disk in any browser, and
the folder can be moved or copied as a whole because every link is relative to it. A file that does not exist is
named, not linked, so every link of the report resolves.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping
from urllib.parse import quote

if TYPE_CHECKING:  # publishing does not import batch: results are only read
    from ..batch.tasks import SessionResult

#: Report columns, in order.
REPORT_COLUMNS = (
    "session", "status", "reason", "seconds", "megabytes", "source", "output", "quicklook", "gate_messages"
)

#: How the gate's messages of one session are joined in a report cell.
MESSAGE_SEPARATOR = " | "

#: Status order of the summary line.
STATUSES = ("OK", "SKIPPED", "FAILED")

#: Widest reason shown in the terminal table (the report holds it whole).
TABLE_REASON_CHARACTERS = 100

#: The HTML report's name in the output folder.
REPORT_NAME = "report.html"
#: Width (CSS pixels) of a quicklook image in the table; a click opens it at full size.
IMAGE_WIDTH = 520
#: Gate messages listed per session (the rest are counted).
MESSAGES_SHOWN = 12
#: Status words shown green; any other status that is not "skipped" is shown red.
SUCCESS_STATUSES = ("ok", "converted", "success", "succeeded", "done")

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.summary { margin-top: 0; color: #444; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.45em 0.6em; vertical-align: top; text-align: left; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.number { text-align: right; white-space: nowrap; }
.status { font-weight: 600; padding: 0.1em 0.5em; border-radius: 0.3em; white-space: nowrap; }
.status.success { background: #dff3e2; color: #17672a; }
.status.failure { background: #fbe0e0; color: #a01818; }
.status.skipped { background: #eee; color: #555; }
.reason { color: #a01818; font-size: 0.9em; max-width: 28em; }
ul.gate { margin: 0; padding-left: 1.1em; font-size: 0.82em; font-family: ui-monospace, monospace; }
ul.gate li { margin-bottom: 0.2em; }
.missing { color: #888; font-style: italic; }
img { border: 1px solid #ccc; max-width: 100%; height: auto; }
"""


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


def relative_link(path: str | Path | None, output_dir: Path) -> str | None:
    """The URL of ``path`` relative to the report's folder (percent-encoded, forward slashes), or None when there
    is no such file."""
    if path is None or not Path(path).exists():
        return None
    relative = os.path.relpath(Path(path).resolve(), output_dir.resolve())
    return quote(Path(relative).as_posix())


def message_text(message) -> str:
    """A gate message as one line: strings as they are, nwbinspector messages through
    :func:`nwb_conversions.publishing.gate.describe`."""
    if isinstance(message, str):
        return message
    from .gate import describe

    return describe(message)


def status_class(status: str) -> str:
    """The CSS class of a status word: success, skipped or failure."""
    word = (status or "").strip().lower()
    if word in SUCCESS_STATUSES:
        return "success"
    return "skipped" if word == "skipped" else "failure"


def _number(value, unit: str, digits: int = 1) -> str:
    return "" if value is None else f"{float(value):.{digits}f} {unit}"


def session_row(row: Mapping, output_dir: Path) -> str:
    """One ``<tr>`` of the table."""
    escape = html.escape
    session = escape(str(row.get("session", "")))
    nwb_link = relative_link(row.get("nwb_path"), output_dir)
    session_cell = f'<a href="{escape(nwb_link)}">{session}</a>' if nwb_link else session
    if row.get("nwb_path") and not nwb_link:
        session_cell += '<br><span class="missing">no NWB file</span>'
    status = str(row.get("status") or "")
    status_cell = f'<span class="status {status_class(status)}">{escape(status)}</span>'
    if row.get("reason"):
        status_cell += f'<div class="reason">{escape(str(row["reason"]))}</div>'
    messages = [message_text(message) for message in (row.get("gate_messages") or [])]
    if messages:
        items = "".join(f"<li>{escape(text)}</li>" for text in messages[:MESSAGES_SHOWN])
        if len(messages) > MESSAGES_SHOWN:
            items += f"<li>… and {len(messages) - MESSAGES_SHOWN} more</li>"
        gate_cell = f'<ul class="gate">{items}</ul>'
    else:
        gate_cell = '<span class="missing">no messages</span>'
    image_link = relative_link(row.get("quicklook_png"), output_dir)
    if image_link:
        image_cell = (
            f'<a href="{escape(image_link)}"><img src="{escape(image_link)}" width="{IMAGE_WIDTH}" '
            f'alt="quicklook of {session}"></a>'
        )
    else:
        image_cell = '<span class="missing">no quicklook</span>'
    return (
        f"<tr><td>{session_cell}</td><td>{status_cell}</td>"
        f'<td class="number">{escape(_number(row.get("size_mb"), "MB"))}</td>'
        f'<td class="number">{escape(_number(row.get("seconds"), "s"))}</td>'
        f"<td>{gate_cell}</td><td>{image_cell}</td></tr>"
    )


def render_report(rows: list[Mapping], output_dir: Path, *, title: str) -> str:
    """The whole HTML page."""
    counts = Counter(status_class(str(row.get("status") or "")) for row in rows)
    summary = f"{len(rows)} sessions: {counts['success']} converted, {counts['failure']} failed" + (
        f", {counts['skipped']} skipped" if counts["skipped"] else ""
    )
    total_mb = sum(float(row["size_mb"]) for row in rows if row.get("size_mb") is not None)
    written = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(session_row(row, output_dir) for row in rows)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="summary">{html.escape(summary)}; {total_mb:.1f} MB written; report written {written}</p>
<table>
<thead><tr><th>Session</th><th>Status</th><th>Size</th><th>Time</th><th>nwbinspector (dandi)</th><th>Quicklook</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
</body>
</html>
"""


def write_batch_report(
    rows: Iterable[Mapping], output_dir: str | Path, *, title: str = "Batch conversion report"
) -> Path:
    """Write ``report.html`` into ``output_dir`` and return its path.

    Parameters
    ----------
    rows : iterable of mapping
        One per session, with the keys ``session``, ``status`` (``ok``/``converted`` green, ``skipped`` grey,
        anything else red), ``reason`` (why it failed), ``size_mb``, ``seconds``, ``gate_messages`` (strings or
        nwbinspector messages), ``nwb_path`` and ``quicklook_png`` (paths; None or a missing file is named, not
        linked). Missing keys are shown empty.
    output_dir : str or Path
        The batch's output folder (it must exist); links are relative to it.
    title : str
        The page's title and heading.
    """
    output_dir = Path(output_dir)
    rows = list(rows)
    page = render_report(rows, output_dir, title=title)
    path = output_dir / REPORT_NAME
    temporary = output_dir / f".{REPORT_NAME}.partial-{os.getpid()}"
    try:
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_html_report(results: list[SessionResult], output_dir: Path, *, title: str) -> Path:
    """Write ``report.html`` beside the outputs: one row per session with its quicklook image
    (:func:`write_batch_report`)."""
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
