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
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.alf import load_npy, read_alf_object, read_json_object, read_lines

#: Number of emitters on a Neuropixels Opto shank (per colour), and their distance from the tip: 70 + 100·i µm.
NUM_EMITTERS = 14
FIRST_EMITTER_FROM_TIP_UM = 70.0
EMITTER_PITCH_UM = 100.0

#: Calibration files the release keeps beside the sessions (JSON read; the .mat twins hold the same data).
CALIBRATION_JSON_NAMES = ("laser_calibration.json", "calibration.json")
CALIBRATION_MAT_NAMES = ("laser_calibration.mat", "calibration.mat")

#: Per-cluster float attributes: ALF attribute -> what it holds.
CLUSTER_FLOAT_ATTRIBUTES = {
    "templateDepths": "template depth in raw probe coordinates, µm",
    "depthsFromSurface": "depth from the brain surface, µm",
    "presenceRatio": "QC metric: presence ratio",
    "isiViolationsRatio": "QC metric: ISI violations ratio",
    "amplitudeCutoff": "QC metric: amplitude cutoff",
    "troughToPeak": "spike width, ms",
}

SESSION_JSON_EXPECTED = "a JSON object with at least 'session_id' (the dataset's session.json)"


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


@dataclass
class Clusters:
    """The ``clusters.*`` object: one row per cluster id 0..K-1, plus the channel positions."""

    num_clusters: int
    templates: np.ndarray
    channel_positions: np.ndarray
    template_depths: np.ndarray
    depths_from_surface: np.ndarray
    qc_pass: np.ndarray
    presence_ratio: np.ndarray
    isi_violations_ratio: np.ndarray
    amplitude_cutoff: np.ndarray
    trough_to_peak_ms: np.ndarray
    peak_channel: np.ndarray
    waveform_type: list[str] | None
    ks_label: list[str] | None


@dataclass
class Stimulation:
    """The ``stim.*`` object: one row per light pulse."""

    times: np.ndarray
    emission_sites: np.ndarray
    power_mw: np.ndarray
    durations: np.ndarray


def read_session_json(file_path: str | Path) -> SessionInfo:
    """Read and check ``session.json``.

    Raises
    ------
    SourceFormatError
        If it is missing, not valid JSON, lacks ``session_id``, or a documented key has the wrong type.
    """
    file_path = Path(file_path)
    content, text = read_json_object(file_path, expected=SESSION_JSON_EXPECTED)
    session_id = content.get("session_id")
    if not isinstance(session_id, str) or not session_id.strip():
        raise SourceFormatError(file_path, "has no 'session_id' (a non-empty string)", SESSION_JSON_EXPECTED)

    def typed(key, kinds, description):
        value = content.get(key)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            raise SourceFormatError(file_path, f"'{key}' is {value!r}", f"{description} (or no '{key}')")
        return value

    subject = typed("subject", str, "a subject id such as 'AL_0034'")
    probe_index = typed("probe_index", int, "an integer probe index")
    sampling_rate = typed("sampling_rate", (int, float), "the sampling rate in Hz")
    if sampling_rate is not None and not sampling_rate > 0:
        raise SourceFormatError(file_path, f"'sampling_rate' is {sampling_rate!r}", "a positive rate in Hz")
    qc_thresholds = typed("qc_thresholds", dict, "an object of QC thresholds") or {}
    session_date = typed("date", str, "a date YYYY-MM-DD")
    if session_date is not None:
        try:
            session_date = date.fromisoformat(session_date)
        except ValueError:
            raise SourceFormatError(file_path, f"'date' is {session_date!r}", "a date YYYY-MM-DD") from None
    return SessionInfo(
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


def read_spikes(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``spikes.times`` (finite, ≥ 0 s) and ``spikes.clusters`` (≥ 0) of equal length."""
    spikes, _ = read_alf_object(
        folder,
        "spikes",
        {"times": dict(kinds="f", what="spike times in seconds"), "clusters": dict(kinds="iu", what="cluster ids")},
    )
    times, clusters = spikes["times"].astype(np.float64, copy=False), spikes["clusters"]
    bad = ~np.isfinite(times)
    if bad.any():
        raise SourceFormatError(
            folder / "spikes.times.npy",
            f"{int(bad.sum())} spike times are NaN or infinite (first at row {int(np.argmax(bad))})",
            "finite spike times in seconds",
        )
    if len(times) and times.min() < 0:
        raise SourceFormatError(folder / "spikes.times.npy", f"has negative times ({times.min()} s)", "times ≥ 0 s")
    if len(clusters) and clusters.min() < 0:
        raise SourceFormatError(
            folder / "spikes.clusters.npy", f"has negative cluster ids ({clusters.min()})", "cluster ids ≥ 0"
        )
    return times, clusters


def read_clusters(folder: Path) -> Clusters:
    """Read the ``clusters.*`` object and check its arrays agree on K (and the templates on the channels)."""
    attributes = {name: dict(kinds="fiu", what=what) for name, what in CLUSTER_FLOAT_ATTRIBUTES.items()}
    attributes["qcPass"] = dict(kinds="biu", what="QC pass/fail")
    attributes["peakChannel"] = dict(kinds="iu", what="peak channel per cluster, -1 if unavailable")
    attributes["templates"] = dict(kinds="fiu", ndim=3, what="mean waveform templates (K, T, C)")
    arrays, num_clusters = read_alf_object(folder, "clusters", attributes)
    if num_clusters == 0:
        raise SourceFormatError(folder / "clusters.templateDepths.npy", "has no rows", "one row per cluster (K ≥ 1)")
    positions = load_npy(
        folder / "clusters.channelPositions.npy", kinds="fiu", ndim=2, what="channel positions (C, 2) in µm"
    )
    if positions.shape[1] != 2:
        raise SourceFormatError(folder / "clusters.channelPositions.npy", f"has shape {positions.shape}", "(C, 2)")
    num_channels = len(positions)
    if arrays["templates"].shape[2] != num_channels:
        raise SourceFormatError(
            folder / "clusters.templates.npy",
            f"has {arrays['templates'].shape[2]} channels but clusters.channelPositions.npy has {num_channels}",
            "templates of shape (K, T, C) with C the number of channel positions",
        )
    qc_pass = arrays["qcPass"]
    if qc_pass.dtype.kind != "b":
        if not np.isin(qc_pass, (0, 1)).all():
            raise SourceFormatError(folder / "clusters.qcPass.npy", "holds values other than 0 and 1", "booleans")
        qc_pass = qc_pass.astype(bool)
    peak_channel = arrays["peakChannel"].astype(np.int64)
    bad = (peak_channel < -1) | (peak_channel >= num_channels)
    if bad.any():
        raise SourceFormatError(
            folder / "clusters.peakChannel.npy",
            f"cluster {int(np.argmax(bad))} has peak channel {peak_channel[bad][0]}",
            f"channels 0..{num_channels - 1}, or -1 where unavailable",
        )
    return Clusters(
        num_clusters=num_clusters,
        templates=arrays["templates"].astype(np.float64, copy=False),
        channel_positions=positions.astype(np.float64, copy=False),
        template_depths=arrays["templateDepths"].astype(np.float64, copy=False),
        depths_from_surface=arrays["depthsFromSurface"].astype(np.float64, copy=False),
        qc_pass=qc_pass,
        presence_ratio=arrays["presenceRatio"].astype(np.float64, copy=False),
        isi_violations_ratio=arrays["isiViolationsRatio"].astype(np.float64, copy=False),
        amplitude_cutoff=arrays["amplitudeCutoff"].astype(np.float64, copy=False),
        trough_to_peak_ms=arrays["troughToPeak"].astype(np.float64, copy=False),
        peak_channel=peak_channel,
        waveform_type=read_waveform_types(folder / "clusters.waveformType.txt", num_clusters),
        ks_label=read_ks_labels(folder / "clusters.KSLabel.csv", num_clusters),
    )


def read_waveform_types(file_path: Path, num_clusters: int) -> list[str] | None:
    """Read ``clusters.waveformType.txt`` (one line per cluster); None if the file is absent (the README allows it)."""
    if not file_path.is_file():
        return None
    expected = f"{num_clusters} lines (one per cluster), each RS or FS"
    values = read_lines(file_path, expected=expected)
    if len(values) != num_clusters:
        raise SourceFormatError(file_path, f"has {len(values)} lines but there are {num_clusters} clusters", expected)
    return values


def read_ks_labels(file_path: Path, num_clusters: int) -> list[str] | None:
    """Read ``clusters.KSLabel.csv`` (columns ``cluster_id``, ``KSLabel``; comma or tab separated) into one label per
    cluster id ("" where a cluster has no row). None if the file is absent (the README's loader allows it)."""
    if not file_path.is_file():
        return None
    expected = "a header 'cluster_id,KSLabel' and one row per cluster id below the number of clusters"
    try:
        text = file_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceFormatError(file_path, "not UTF-8 text", expected) from None
    first_line = text.split("\n", 1)[0]
    rows = list(csv.reader(io.StringIO(text), delimiter="\t" if "\t" in first_line else ","))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows or [cell.strip() for cell in rows[0][:2]] != ["cluster_id", "KSLabel"]:
        raise SourceFormatError(file_path, f"starts with {first_line[:60]!r}", expected)
    labels = [""] * num_clusters
    for line_number, row in enumerate(rows[1:], start=2):
        try:
            cluster_id, label = int(row[0]), row[1].strip()
        except (ValueError, IndexError):
            raise SourceFormatError(file_path, f"line {line_number} is {','.join(row)!r}", expected) from None
        if not 0 <= cluster_id < num_clusters:
            raise SourceFormatError(
                file_path, f"line {line_number} names cluster {cluster_id}, but there are {num_clusters}", expected
            )
        labels[cluster_id] = label
    return labels


def read_stimulation(folder: Path) -> Stimulation:
    """Read the ``stim.*`` object: finite onset times, positive durations, powers ≥ 0, integer emitter ids."""
    arrays, _ = read_alf_object(
        folder,
        "stim",
        {
            "times": dict(kinds="f", what="pulse onset times in seconds"),
            "emissionSites": dict(kinds="iu", what="emitter id per pulse"),
            "powerMW": dict(kinds="fiu", what="power at the probe tip in mW"),
            "durations": dict(kinds="fiu", what="pulse durations in seconds"),
        },
    )
    times = arrays["times"].astype(np.float64, copy=False)
    power = arrays["powerMW"].astype(np.float64, copy=False)
    durations = arrays["durations"].astype(np.float64, copy=False)
    for name, values, valid, expected in (
        ("times", times, np.isfinite(times), "finite onset times in seconds"),
        ("durations", durations, np.isfinite(durations) & (durations > 0), "positive durations in seconds"),
        ("powerMW", power, np.isfinite(power) & (power >= 0), "powers ≥ 0 mW"),
    ):
        if not valid.all():
            row = int(np.argmin(valid))
            raise SourceFormatError(folder / f"stim.{name}.npy", f"row {row} is {values[row]}", expected)
    return Stimulation(times=times, emission_sites=arrays["emissionSites"].astype(np.int64), power_mw=power,
                       durations=durations)


def emission_site_base(emission_sites: np.ndarray, file_path: Path) -> tuple[int, str]:
    """Decide whether the emitter ids count from 0 or 1, from the ids the session uses.

    The README documents ids 1–14, but the lab's analysis notebook indexes ``EMISSION_SITE_DEPTHS[emission_site]``
    (0-based) and drops ids ≥ 15. An id 0 means 0-based (0–13), an id 14 means 1-based (1–14); with ids only in
    1–13 both readings fit and the README's 1-based reading is taken. Both 0 and 14, or any id outside 0–14, fit
    neither.

    Returns
    -------
    base : int
        0 or 1.
    note : str
        Which reading was taken and why.

    Raises
    ------
    SourceFormatError
        If the ids fit neither reading.
    """
    expected = f"emitter ids 1–{NUM_EMITTERS} (README) or 0–{NUM_EMITTERS - 1} (0-based), one reading per session"
    if len(emission_sites) == 0:
        return 1, f"{file_path}: no pulse, so the README's 1-based emitter ids are assumed"
    low, high = int(emission_sites.min()), int(emission_sites.max())
    if low < 0 or high > NUM_EMITTERS or (low == 0 and high == NUM_EMITTERS):
        outside = low if (low < 0 or (low == 0 and high == NUM_EMITTERS)) else high
        raise SourceFormatError(file_path, f"ids span {low}–{high} (e.g. {outside})", expected)
    if low == 0:
        return 0, (
            f"{file_path}: emitter ids are read as 0-based (id 0 occurs; ids {low}–{high}): emitter id i is "
            f"{FIRST_EMITTER_FROM_TIP_UM:g} + {EMITTER_PITCH_UM:g}·i µm from the tip"
        )
    reason = "id 14 occurs" if high == NUM_EMITTERS else "ids 1–13 fit both readings; the README says 1–14"
    return 1, (
        f"{file_path}: emitter ids are read as 1-based ({reason}; ids {low}–{high}): emitter id i is "
        f"{FIRST_EMITTER_FROM_TIP_UM:g} + {EMITTER_PITCH_UM:g}·(i − 1) µm from the tip"
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


def check_cluster_ids(folder: Path, spike_clusters: np.ndarray, num_clusters: int) -> None:
    """Every cluster id in ``spikes.clusters`` must be a row of the ``clusters.*`` arrays."""
    if len(spike_clusters) and spike_clusters.max() >= num_clusters:
        beyond = spike_clusters >= num_clusters
        raise SourceFormatError(
            folder / "spikes.clusters.npy",
            f"{int(beyond.sum())} spikes have cluster ids ≥ {num_clusters} (max {int(spike_clusters.max())})",
            f"ids 0..{num_clusters - 1}: the clusters.* arrays have {num_clusters} rows",
        )


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
