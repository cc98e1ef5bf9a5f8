"""One Neuropixels Opto session folder (Steinmetz lab): ALF spikes, clusters, stimulation, ``session.json``.

Layout (dataset README, seed 002)::

    <session_id>/                       e.g. AL0034_2024-12-05_en1_p0
        session.json                    session_id, subject, date, probe_index, sampling_rate, qc_thresholds, ...
        spikes.times.npy (N,) float64 s   spikes.clusters.npy (N,) int32
        clusters.templates.npy (K,T,C)    clusters.channelPositions.npy (C,2) µm
        clusters.{templateDepths, depthsFromSurface, presenceRatio, isiViolationsRatio, amplitudeCutoff,
                  troughToPeak}.npy (K,) float64;  clusters.qcPass.npy (K,) bool;  clusters.peakChannel.npy (K,) int
        clusters.waveformType.txt (K lines, RS/FS)   clusters.KSLabel.csv (cluster_id, KSLabel)
        stim.{times, emissionSites, powerMW, durations}.npy (M,)

beside calibration files (``laser_calibration.json``/``.mat``, and in the release the notebook lists also
``calibration.json``/``.mat``), either in the folder holding the session folders or one level up when the sessions sit
in ``sessions/`` (README layout ``data/sessions/<id>/``). Cluster ids index the ``clusters.*`` rows (the analysis
notebook does ``template_depths[cluster_id]``): K is the length of the ``clusters.*`` arrays and every id in
``spikes.clusters`` must be below it. ``clusters.channelPositions`` has one row per channel, not per cluster.

This module reads ``session.json`` and finds the calibration files; the ``spikes.*`` and ``clusters.*`` objects are
read by :mod:`nwb_conversions.layouts.np_opto.sorting`, the ``stim.*`` object by
:mod:`nwb_conversions.layouts.np_opto.stimulation`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ...errors import SourceFormatError
from ...readers.json_object import read_json_object_text
from ...readers.source_access import check_plausible

#: Calibration files the release keeps beside the sessions (JSON read; the .mat twins hold the same data).
CALIBRATION_JSON_NAMES = ("laser_calibration.json", "calibration.json")
CALIBRATION_MAT_NAMES = ("laser_calibration.mat", "calibration.mat")

SESSION_JSON_EXPECTED = "a JSON object with at least 'session_id' (the dataset's session.json)"

#: A session id, and a session folder's name: ``<subject>_<date>_en<N>_p<P>`` (e.g. ``AL0034_2024-12-05_en1_p0``).
SESSION_ID_PATTERN = re.compile(
    r"(?P<subject>[A-Za-z]+[0-9]+)_(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})_en(?P<en>[0-9]{1,9})_p(?P<probe>[0-9]{1,9})"
)


@dataclass
class SessionInfo:
    """What ``session.json`` says (the whole object is kept in ``content`` and verbatim in ``text``)."""

    path: Path
    session_id: str
    subject: str | None
    date: date | None
    probe_index: int | None
    sampling_rate: float | None
    qc_thresholds: dict
    content: dict
    text: str


def read_session_json(file_path: str | Path) -> SessionInfo:
    """Read and check ``session.json``, and that the facts it states twice agree (:func:`check_session_names`).

    Raises
    ------
    SourceFormatError
        If it is missing, not valid JSON, lacks ``session_id``, a documented key has the wrong type, or the session
        id disagrees with the folder's name or with the subject, date, experiment or probe the file states.
    """
    file_path = Path(file_path)
    content, text = read_json_object_text(file_path, SESSION_JSON_EXPECTED)
    session_id = content.get("session_id")
    if not isinstance(session_id, str) or not session_id.strip():
        raise SourceFormatError(file_path, "has no 'session_id' (a non-empty string)", SESSION_JSON_EXPECTED)
    subject = stated(file_path, content, "subject", str, "a subject id such as 'AL_0034'")
    probe_index = stated(file_path, content, "probe_index", int, "an integer probe index")
    stated(file_path, content, "en", int, "the integer experiment number")
    sampling_rate = stated(file_path, content, "sampling_rate", (int, float), "the sampling rate in Hz")
    if sampling_rate is not None:
        check_plausible(file_path, "'sampling_rate'", sampling_rate, 1e3, 1e6, "a rate from 1 kHz to 1 MHz")
    qc_thresholds = stated(file_path, content, "qc_thresholds", dict, "an object of QC thresholds") or {}
    session_date = stated(file_path, content, "date", str, "a date YYYY-MM-DD")
    if session_date is not None:
        try:
            session_date = date.fromisoformat(session_date)
        except ValueError:
            raise SourceFormatError(file_path, f"'date' is {session_date[:40]!r}", "a date YYYY-MM-DD") from None
    info = SessionInfo(
        path=file_path,
        session_id=session_id,
        subject=subject,
        date=session_date,
        probe_index=probe_index,
        sampling_rate=float(sampling_rate) if sampling_rate is not None else None,
        qc_thresholds=qc_thresholds,
        content=content,
        text=text,
    )
    check_session_names(info)
    return info


def stated(file_path: Path, content: dict, key: str, kinds, description: str):
    """``content[key]`` if it has one of the types ``kinds`` (never a boolean), None if absent; else raise."""
    value = content.get(key)
    if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
        raise SourceFormatError(file_path, f"'{key}' is {shown(value)}", f"{description} (or no '{key}')")
    return value


def shown(value) -> str:
    """A JSON value as the messages show it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_session_names(info: SessionInfo) -> None:
    """The session id names its subject, date, experiment and probe (``<subject>_<date>_en<N>_p<P>``), and so does
    the session folder's name: where both state a fact, they must agree.

    A folder name that is not a session id (a renamed copy such as ``session1``) states nothing and is not compared;
    nor is a session id of another form. The subject is compared without underscores (``AL_0034`` is ``AL0034``).

    Raises
    ------
    SourceFormatError
        Naming ``session.json``, the key and the session id or folder name that disagree.
    """
    folder_name = Path(os.path.abspath(info.path)).parent.name  # '.' is the folder's own name; links kept
    if SESSION_ID_PATTERN.fullmatch(folder_name) and folder_name != info.session_id:
        raise SourceFormatError(
            info.path,
            f"'session_id' is {shown(info.session_id)} but its folder is named {folder_name!r}",
            "the session folder named after its session_id (the same fact in both places)",
        )
    parts = SESSION_ID_PATTERN.fullmatch(info.session_id)
    if parts is None:
        return
    facts = {
        "subject": (info.subject, info.subject and info.subject.replace("_", ""), parts["subject"]),
        "date": (info.content.get("date"), info.date and info.date.isoformat(), parts["date"]),
        "en": (info.content.get("en"), info.content.get("en"), int(parts["en"])),
        "probe_index": (info.probe_index, info.probe_index, int(parts["probe"])),
    }
    for key, (value, compared, from_id) in facts.items():
        if value is not None and compared != from_id:
            raise SourceFormatError(
                info.path,
                f"'{key}' is {shown(value)} but 'session_id' {info.session_id!r} says {from_id}",
                f"the same {key} in both places (session_id is <subject>_<date>_en<N>_p<P>)",
            )


def find_calibration_files(session_folder: Path) -> tuple[list[Path], list[Path]]:
    """The calibration JSON files beside the sessions, and their .mat twins (not read).

    They sit in the folder that holds the session folders, or one level up when that folder is ``sessions/``.
    """
    holder = session_folder.resolve().parent
    folders = [holder] + ([holder.parent] if holder.name == "sessions" else [])
    json_files = [folder / name for folder in folders for name in CALIBRATION_JSON_NAMES if (folder / name).is_file()]
    mat_files = [folder / name for folder in folders for name in CALIBRATION_MAT_NAMES if (folder / name).is_file()]
    return json_files, mat_files


def session_folder(folder: str | Path) -> Path:
    """Return ``folder`` as a Path, or raise if it is not a folder holding ``session.json``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceFormatError(folder, "not a folder", "a Neuropixels Opto session folder holding session.json")
    return folder


def calibration_notes(folder: Path, json_files: list[Path], mat_files: list[Path]) -> list[str]:
    """Say which calibration files were not found or not read."""
    notes = []
    if not json_files:
        holder = folder.resolve().parent
        where = f"{holder}" + (" and its parent" if holder.name == "sessions" else "")
        notes.append(
            f"{folder}: no laser_calibration.json or calibration.json beside the session (looked in {where}), so no "
            "calibration file is kept"
        )
    if mat_files:
        notes.append(
            "not read: " + ", ".join(path.name for path in mat_files) + " (MATLAB copies of the calibration JSON)"
        )
    return notes
