"""The nwbinspector gate (DANDI configuration) and its report.

``nwbinspector path --config dandi`` exits 0 even on errors, so the gate uses the Python API and counts importance
levels itself. A CRITICAL message fails the gate, and so do ERROR (a check or pynwb could not read the file) and
PYNWB_VALIDATION, except the CRITICAL messages that only say DANDI subject facts are missing: the release does not
document them, so the file is written and the user is told exactly what to supply.

The gate runs on NWB-Zarr stores too (a folder given to :func:`inspect_file` or :func:`check_readable_nwb`, or
:func:`inspect_zarr_store`): :mod:`nwb_conversions.publishing.zarr_gate` checks the store before it opens it, and
says how its inspection differs.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..errors import ConversionError, InspectionError

#: Importance levels that make a file unfit for DANDI.
BLOCKING_LEVELS = ("ERROR", "PYNWB_VALIDATION", "CRITICAL")

#: The nwbinspector checks that fire when a DANDI subject field is absent, by the field they ask for.
SUBJECT_FIELD_CHECKS = {
    "subject": ("check_subject_exists",),
    "subject_id": ("check_subject_id_exists",),
    "species": ("check_subject_species_exists",),
    "sex": ("check_subject_sex",),
    "age": ("check_subject_age",),
}


@dataclass
class InspectionReport:
    """What nwbinspector said of one file, under the DANDI configuration.

    Attributes
    ----------
    path : Path
        The inspected file.
    messages : list
        The ``InspectorMessage`` objects.
    tolerated_checks : set of str
        Checks whose CRITICAL messages only say that DANDI subject facts are missing.
    """

    path: Path
    messages: list = field(default_factory=list)
    tolerated_checks: set = field(default_factory=set)

    def by_importance(self, importance_name: str) -> list:
        """Return the messages of one importance level (e.g. ``"CRITICAL"``)."""
        return [message for message in self.messages if message.importance.name == importance_name]

    @property
    def blocking(self) -> list:
        """ERROR, PYNWB_VALIDATION and CRITICAL messages other than missing subject facts: these fail the gate."""
        return [
            message
            for message in self.messages
            if message.importance.name in BLOCKING_LEVELS and message.check_function_name not in self.tolerated_checks
        ]

    def counts(self) -> Counter:
        """Count the messages per importance level."""
        return Counter(message.importance.name for message in self.messages)

    def summary(self) -> str:
        """One line: the file and the message count per importance level."""
        counts = self.counts()
        levels = ("CRITICAL", "BEST_PRACTICE_VIOLATION", "BEST_PRACTICE_SUGGESTION")
        errors = sum(counts.get(level, 0) for level in ("ERROR", "PYNWB_VALIDATION"))
        return f"{self.path}: " + ", ".join(
            [f"{counts.get(level, 0)} {level}" for level in levels] + ([f"{errors} ERROR"] if errors else [])
        )


def inspect_file(
    nwbfile_path: str | Path, *, missing_subject_fields: tuple[str, ...] | list[str] = (), written_here: bool = False
) -> InspectionReport:
    """Run nwbinspector with the DANDI configuration on one file (or NWB-Zarr folder: :func:`inspect_zarr_store`).

    Parameters
    ----------
    nwbfile_path : str or Path
        The NWB file, or an NWB-Zarr folder.
    missing_subject_fields : sequence of str
        DANDI subject fields known to be undocumented for this session (``subject_id``, ``species``, ``sex``,
        ``age``; ``subject`` when there is no subject at all): their CRITICAL messages are tolerated.
    written_here : bool, default: False
        The file was just written by this process: read it once, with this process's namespaces
        (:mod:`nwb_conversions.publishing.fresh_inspection`; the same messages, ~0.7 s sooner).
    """
    if is_zarr_folder(nwbfile_path):
        return inspect_zarr_store(nwbfile_path, missing_subject_fields=missing_subject_fields)
    messages = _inspect_fresh(nwbfile_path) if written_here else None
    if messages is None:
        messages = _inspect_with_nwbinspector(nwbfile_path)
    return InspectionReport(
        path=Path(nwbfile_path), messages=messages, tolerated_checks=tolerated_checks(missing_subject_fields)
    )


def _inspect_fresh(nwbfile_path: str | Path) -> list | None:
    """:func:`nwb_conversions.publishing.fresh_inspection.inspect_fresh_file`, its failure to read as one line."""
    from .fresh_inspection import inspect_fresh_file

    try:
        return inspect_fresh_file(nwbfile_path)
    except Exception as error:
        raise ConversionError(
            f"{nwbfile_path}: cannot be read as NWB ({type(error).__name__}: {one_line(error)}); expected an NWB "
            "(HDF5) file written completely"
        ) from error


def _inspect_with_nwbinspector(nwbfile_path: str | Path) -> list:
    """``nwbinspector.inspect_nwbfile`` (DANDI configuration) on a readable file; its own failure as one line."""
    from nwbinspector import inspect_nwbfile, load_config

    check_readable_nwb(nwbfile_path)
    try:
        return list(inspect_nwbfile(nwbfile_path=str(nwbfile_path), config=load_config("dandi")))
    except Exception as error:  # nwbinspector's own failure reaches the user as one line
        raise ConversionError(
            f"{nwbfile_path}: nwbinspector could not inspect it ({type(error).__name__}: {one_line(error)}); "
            "expected a readable NWB file"
        ) from error


def is_zarr_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder that says it is a Zarr store (``.zgroup`` or Zarr v3's ``zarr.json``)."""
    path = Path(path)
    return path.is_dir() and any(os.path.lexists(path / name) for name in (".zgroup", "zarr.json"))


def check_readable_nwb(nwbfile_path: str | Path) -> None:
    """Refuse what is not a readable NWB file (missing, a folder, text, empty, truncated, unreadable) in one line;
    an NWB-Zarr folder is checked and read (:func:`nwb_conversions.publishing.zarr_gate.check_readable_store`).

    Raises
    ------
    ConversionError
    """
    import h5py
    from pynwb import NWBHDF5IO

    path = Path(nwbfile_path)
    if is_zarr_folder(path):
        from .zarr_gate import check_readable_store

        return check_readable_store(path)
    expected = "an NWB (HDF5) file written completely, such as one convert-to-nwb wrote"
    if not path.exists():
        raise ConversionError(f"{path}: no such file; expected {expected}")
    if path.is_dir():
        raise ConversionError(f"{path}: is a folder without .zgroup; expected {expected}, or an NWB-Zarr folder")
    if not path.is_file():  # opening a FIFO would wait for a writer forever
        raise ConversionError(f"{path}: is not a regular file (a FIFO, socket or device); expected {expected}")
    with open(path, "rb"):  # an OSError (permission, I/O) is reported by the caller as one line
        pass
    if not h5py.is_hdf5(path):
        raise ConversionError(f"{path}: not an HDF5 file (empty, text or another format); expected {expected}")
    try:
        with NWBHDF5IO(str(path), "r") as io:
            io.read()
    except Exception as error:
        raise ConversionError(
            f"{path}: cannot be read as NWB ({type(error).__name__}: {one_line(error)}); expected {expected}"
        ) from error


def tolerated_checks(missing_subject_fields) -> set[str]:
    """The checks whose CRITICAL messages are tolerated: those asking for the ``missing_subject_fields``."""
    return {check for name in missing_subject_fields for check in SUBJECT_FIELD_CHECKS.get(name, ())}


def inspect_zarr_store(store_path: str | Path, *, missing_subject_fields=()) -> InspectionReport:
    """The inspection of an NWB-Zarr store (:func:`nwb_conversions.publishing.zarr_gate.inspect_zarr_store`)."""
    from .zarr_gate import inspect_zarr_store as inspect_store

    return inspect_store(store_path, missing_subject_fields=missing_subject_fields)


#: Longest message text shown for one inspector finding (a crashed check's message holds its whole traceback).
MESSAGE_CHARACTERS = 240


def one_line(text: str, limit: int = MESSAGE_CHARACTERS) -> str:
    """Fold whitespace (newlines included) and cut ``text`` to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(message) -> str:
    """Format one inspector message as a single line: importance, check, location and message."""
    location = f" at {message.location}" if message.location else ""
    return f"{message.importance.name} {message.check_function_name}{location}: {one_line(message.message)}"


def raise_if_blocking(report: InspectionReport, shown_path: str | Path) -> None:
    """Raise one line naming up to three blocking findings of ``report`` (the gate's verdict), if it has any.

    Raises
    ------
    InspectionError
    """
    blocking = report.blocking
    if blocking:
        details = " | ".join(describe(message) for message in blocking[:3])
        more = f" (and {len(blocking) - 3} more)" if len(blocking) > 3 else ""
        raise InspectionError(
            f"{shown_path}: nwbinspector (dandi config) found {len(blocking)} blocking problem(s): "
            f"{details}{more}; expected none (use --no-inspect to keep the output anyway)"
        )


def gate(
    nwbfile_path: str | Path, *, missing_subject_fields=(), shown_path: str | Path | None = None,
    written_here: bool = False,
) -> InspectionReport:
    """Inspect a file and raise if it is not fit for DANDI.

    Parameters
    ----------
    nwbfile_path : str or Path
        The file to inspect (during a conversion, the temporary file).
    missing_subject_fields : sequence of str
        See :func:`inspect_file`.
    shown_path : str or Path, optional
        The name to use in the error message (the final output path).
    written_here : bool, default: False
        See :func:`inspect_file`.

    Raises
    ------
    InspectionError
        If any ERROR, PYNWB_VALIDATION or CRITICAL message other than the tolerated missing-subject ones is found.
    """
    inspect = partial(inspect_file, written_here=written_here)
    return inspect_then_judge(inspect, nwbfile_path, missing_subject_fields, shown_path)


def gate_zarr_store(store_path: str | Path, *, missing_subject_fields=(), shown_path: str | Path | None = None):
    """The nwbinspector gate of :func:`gate` (same parameters, same ``InspectionError``), on an NWB-Zarr store."""
    return inspect_then_judge(inspect_zarr_store, store_path, missing_subject_fields, shown_path)


def inspect_then_judge(
    inspect, path: str | Path, missing_subject_fields, shown_path: str | Path | None
) -> InspectionReport:
    """Inspect ``path`` with ``inspect`` (:func:`inspect_file` or :func:`inspect_zarr_store`) and raise its verdict.

    :func:`raise_if_blocking` names the file ``shown_path`` (default: ``path``); the report is returned.
    """
    report = inspect(path, missing_subject_fields=missing_subject_fields)
    raise_if_blocking(report, shown_path or path)
    return report
