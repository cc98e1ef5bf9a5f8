"""The text panel: session, subject, what the file holds, what DANDI still needs, and the gate's counts."""

from __future__ import annotations

from numbers import Real
from pathlib import Path

from ..metadata.assembly import missing_dandi_subject_fields
from .layout import FONT_SIZE, Panel
from .reading import find_objects, object_path

#: Characters of the session description shown.
DESCRIPTION_CHARACTERS = 150
#: Characters of one line (the panel spans the figure's width).
LINE_CHARACTERS = 190
#: Series listed under "holds".
SERIES_LISTED = 8
#: What our converters write in the notes when the session start time is a placeholder
#: (:func:`nwb_conversions.metadata.assembly.placeholder_note`).
PLACEHOLDER_MARK = "is a placeholder"


def subject_facts(nwbfile) -> dict:
    """The file's subject as a plain dict of the fields DANDI asks for (empty without a subject)."""
    subject = nwbfile.subject
    if subject is None:
        return {}
    names = ("subject_id", "species", "sex", "age", "date_of_birth", "genotype", "strain")
    return {name: getattr(subject, name, None) for name in names if getattr(subject, name, None) is not None}


def missing_subject_fields(nwbfile) -> list[str]:
    """The DANDI subject fields the file lacks (``subject`` first when it has no subject at all), as the gate's
    ``missing_subject_fields`` names them."""
    missing = ["subject"] if nwbfile.subject is None else []
    return missing + missing_dandi_subject_fields({"Subject": subject_facts(nwbfile)})


def missing_for_dandi(nwbfile) -> list[str]:
    """What DANDI still needs: missing subject fields and a placeholder session start time."""
    missing = missing_subject_fields(nwbfile)
    if PLACEHOLDER_MARK in (nwbfile.notes or ""):
        missing.append("session_start_time (a placeholder now)")
    return missing


def describe_series(series) -> str:
    """One short line per series: name, type, shape and rate."""
    shape = " × ".join(str(n) for n in series.data.shape)
    rate = series.rate
    rate = f" at {rate:g} Hz" if isinstance(rate, Real) else " (timestamps)" if rate is None else f" at rate {rate!r}"
    return f"{series.name} ({type(series).__name__}, {shape}{rate})"


def summary_lines(nwbfile, *, nwbfile_path: str | Path | None = None, report=None) -> list[str]:
    """The lines of the text panel."""
    start = nwbfile.session_start_time.isoformat() if nwbfile.session_start_time else "unknown"
    description = " ".join((nwbfile.session_description or "").split())
    if len(description) > DESCRIPTION_CHARACTERS:
        description = description[: DESCRIPTION_CHARACTERS - 1] + "…"
    facts = subject_facts(nwbfile)
    subject = ", ".join(f"{name} {value}" for name, value in facts.items()) or "none"
    series = [s for s in find_objects(nwbfile, "TimeSeries") if getattr(s, "data", None) is not None
              and hasattr(s.data, "shape")]
    listed = "; ".join(describe_series(s) for s in series[:SERIES_LISTED])
    if len(series) > SERIES_LISTED:
        listed += f"; and {len(series) - SERIES_LISTED} more"
    tables = []
    if nwbfile.units is not None:
        tables.append(f"units: {len(nwbfile.units)}")
    if nwbfile.electrodes is not None:
        tables.append(f"electrodes: {len(nwbfile.electrodes)}")
    if nwbfile.trials is not None:
        tables.append(f"trials: {len(nwbfile.trials)}")
    for table in find_objects(nwbfile, "PlaneSegmentation") + find_objects(nwbfile, "OptogeneticPulsesTable"):
        tables.append(f"{object_path(table).lstrip('/')}: {len(table)} rows")
    missing = missing_for_dandi(nwbfile)
    lines = [
        f"Session {nwbfile.session_id or nwbfile.identifier}   started {start}",
        f"Description: {description or 'none'}",
        f"Subject: {subject}",
        f"Holds: {listed or 'no series'}",
        f"Tables: {', '.join(tables) or 'none'}",
        "DANDI still needs: " + (", ".join(missing) + " (supply with --metadata)" if missing else "nothing"),
    ]
    if report is not None:
        counts = report.counts()
        levels = ("CRITICAL", "BEST_PRACTICE_VIOLATION", "BEST_PRACTICE_SUGGESTION", "ERROR", "PYNWB_VALIDATION")
        shown = " · ".join(f"{counts.get(level, 0)} {level}" for level in levels[:3])
        errors = sum(counts.get(level, 0) for level in levels[3:])
        lines.append(f"Gate (nwbinspector, dandi config): {shown}" + (f" · {errors} ERROR" if errors else "")
                     + f"; {len(report.blocking)} blocking")
    else:
        lines.append("Gate (nwbinspector, dandi config): not run")
    if nwbfile_path is not None:
        path = Path(nwbfile_path)
        size = path.stat().st_size / 1e6 if path.is_file() else None
        lines.append(f"File: {path.name}" + (f", {size:.1f} MB" if size is not None else ""))
    return lines


def draw_summary(lines: list[str], figure, cell) -> list:
    """The lines as a block of text, the gate's line coloured by its verdict."""
    axes = figure.add_subplot(cell)
    axes.set_axis_off()
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    step = 1.0 / (len(lines) + 0.5)
    for number, line in enumerate(lines):
        line = line if len(line) <= LINE_CHARACTERS else line[: LINE_CHARACTERS - 1] + "…"
        color = "black"
        if line.startswith("DANDI still needs:") and not line.endswith("nothing"):
            color = "darkorange"
        if line.startswith("Gate") and "not run" not in line:
            color = "darkgreen" if line.endswith("; 0 blocking") else "crimson"
        axes.text(0.0, 1 - (number + 0.7) * step, line, fontsize=FONT_SIZE + 1, color=color, transform=axes.transAxes,
                  family="DejaVu Sans", weight="bold" if number == 0 else "normal", clip_on=True)
    return [axes]


def panel(nwbfile, *, nwbfile_path=None, report=None) -> Panel:
    """The text panel (always drawn), across the figure's width."""
    lines = summary_lines(nwbfile, nwbfile_path=nwbfile_path, report=report)
    return Panel("Summary", lambda figure, cell: draw_summary(lines, figure, cell), wide=True, height=0.6)
