"""What a Neuropixels Opto session states twice must agree: ``session.json``'s counts and ranges against the arrays,
and ``clusters.qcPass`` against the QC metrics and ``session.json``'s thresholds.

``session.json`` restates facts that the ALF files hold (dataset README): ``n_spikes`` (the rows of ``spikes.*``),
``n_clusters`` (the rows of ``clusters.*``), ``n_channels`` (the rows of ``clusters.channelPositions``),
``n_trials`` (the rows of ``stim.*``, "M = number of stimulation trials"), ``n_qc_pass`` / ``n_qc_fail`` (the
clusters that pass / fail ``clusters.qcPass``), ``spike_time_range_s`` and ``stim_time_range_s`` (the first and last
spike and pulse), and ``top_chan`` (a channel of the probe). The README also states how ``qcPass`` is decided
(presence ratio > 0.8, ISI violations ratio < 0.5, amplitude cutoff < 0.1, the thresholds ``qc_thresholds``
repeats). A key that is absent states nothing; a key that is present must agree, else the conversion stops with one
line naming ``session.json``'s key and the file it contradicts. The session id's agreement with the folder name and
the other keys is checked when ``session.json`` is read (:func:`.session.check_session_names`).

Agreement of a time range is judged at the precision the file writes it (``3600.0`` agrees with a last spike at
3600.04 s), and never finer than one sample. ``stim_time_range_s`` may end at the last pulse's onset or at its end
(the README does not say which). ``qcPass`` is compared only where the three metrics are finite ("NaN if no QC file"),
and a metric equal to its threshold passes or fails (the README writes ``>``, the key's name ``_min``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.json_object import is_finite_number
from .session import SessionInfo, shown
from .sorting import Clusters
from .stimulation import Stimulation

#: Used for the time tolerance when ``session.json`` gives no ``sampling_rate``.
DEFAULT_SAMPLING_RATE = 30_000.0

#: ``qc_thresholds`` keys, with the cluster metric each bounds and whether it is a lower bound.
QC_THRESHOLDS = (
    ("presence_ratio_min", "presence_ratio", True),
    ("isi_violations_ratio_max", "isi_violations_ratio", False),
    ("amplitude_cutoff_max", "amplitude_cutoff", False),
)


def check_sorting_agrees(info: SessionInfo, spike_times: np.ndarray, clusters: Clusters) -> None:
    """``session.json``'s spike, cluster, channel and QC counts, spike time range and ``top_chan`` against the
    ``spikes.*`` and ``clusters.*`` arrays, and ``clusters.qcPass`` against the metrics and thresholds.

    Raises
    ------
    SourceFormatError
        Naming ``session.json``'s key (or ``clusters.qcPass.npy``) and the file that disagrees.
    """
    num_pass = int(clusters.qc_pass.sum())
    check_count(info, "n_spikes", len(spike_times), "spikes.times.npy has {} rows")
    check_count(info, "n_clusters", clusters.num_clusters, "the clusters.* files have {} rows")
    check_count(info, "n_channels", len(clusters.channel_positions), "clusters.channelPositions.npy has {} rows")
    check_count(info, "n_qc_pass", num_pass, "clusters.qcPass.npy passes {} clusters")
    check_count(info, "n_qc_fail", clusters.num_clusters - num_pass, "clusters.qcPass.npy fails {} clusters")
    top_chan = stated_count(info, "top_chan")
    num_channels = len(clusters.channel_positions)
    if top_chan is not None and top_chan > num_channels:
        raise SourceFormatError(
            info.path,
            f"'top_chan' is {top_chan} but clusters.channelPositions.npy has {num_channels} channels",
            "a channel of the probe (0-based or 1-based)",
        )
    if len(spike_times):
        first, last = float(spike_times.min()), float(spike_times.max())
        check_range(info, "spike_time_range_s", first, (last,), "spikes.times.npy")
    check_qc_pass(info, clusters)


def check_stimulation_agrees(info: SessionInfo, stimulation: Stimulation) -> None:
    """``session.json``'s ``n_trials`` and ``stim_time_range_s`` against the ``stim.*`` arrays."""
    times = stimulation.times
    check_count(info, "n_trials", len(times), "stim.times.npy has {} rows")
    if len(times):
        ends = (float(times.max()), float((times + stimulation.durations).max()))
        check_range(info, "stim_time_range_s", float(times.min()), ends, "stim.times.npy")


def stated_count(info: SessionInfo, key: str) -> int | None:
    """``session.json``'s ``key`` as a count ≥ 0, or None if absent."""
    value = info.content.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SourceFormatError(info.path, f"'{key}' is {shown(value)}", f"an integer ≥ 0 (or no '{key}')")
    return value


def check_count(info: SessionInfo, key: str, actual: int, where: str) -> None:
    """``session.json``'s ``key``, if present, must be ``actual`` (``where`` says what holds it, with ``{}``)."""
    value = stated_count(info, key)
    if value is not None and value != actual:
        raise SourceFormatError(
            info.path,
            f"'{key}' is {shown(value)} but {where.format(actual)}",
            "the same count in session.json and the session's files",
        )


def check_range(info: SessionInfo, key: str, first: float, lasts: tuple[float, ...], file_name: str) -> None:
    """``session.json``'s ``key``, if present, must be ``[first, last]`` for one of ``lasts``, at the precision the
    file writes each number (never finer than one sample)."""
    value = info.content.get(key)
    if value is None:
        return
    if not (isinstance(value, list) and len(value) == 2 and all(is_finite_number(item) for item in value)):
        raise SourceFormatError(info.path, f"'{key}' is {shown(value)}", f"[first, last] in seconds (or no '{key}')")
    sample = 1.0 / (info.sampling_rate or DEFAULT_SAMPLING_RATE)
    start, stop = value
    if not (agrees(start, first, sample) and any(agrees(stop, last, sample) for last in lasts)):
        actual = " or ".join(f"[{first!r}, {last!r}]" for last in dict.fromkeys(lasts))
        raise SourceFormatError(
            info.path,
            f"'{key}' is {shown(value)} but {file_name} spans {actual}",
            "the same time range in session.json and the session's files",
        )


def agrees(stated: float, actual: float, floor: float) -> bool:
    """Whether ``stated`` equals ``actual`` at the precision it is written with (half a unit of its last digit:
    ``3600.0`` ± 0.05), or to within ``floor``."""
    exponent = Decimal(repr(stated)).as_tuple().exponent
    tolerance = max(0.5 * 10.0 ** exponent, floor)
    return abs(float(stated) - actual) <= tolerance * (1 + 1e-9)


def check_qc_pass(info: SessionInfo, clusters: Clusters) -> None:
    """``clusters.qcPass`` must be what the metrics and ``session.json``'s ``qc_thresholds`` give, where all three
    thresholds are stated and a cluster's three metrics are finite (a metric on its threshold may pass or fail)."""
    thresholds = {}
    for key, _, _ in QC_THRESHOLDS:
        value = info.qc_thresholds.get(key)
        if value is None:
            return
        if not is_finite_number(value):
            raise SourceFormatError(info.path, f"qc_thresholds '{key}' is {shown(value)}", "a finite number")
        thresholds[key] = float(value)
    metrics = [getattr(clusters, field) for _, field, _ in QC_THRESHOLDS]
    finite = np.logical_and.reduce([np.isfinite(values) for values in metrics])
    margins = [values - thresholds[key] if lower else thresholds[key] - values  # > 0: on the passing side
               for (key, _, lower), values in zip(QC_THRESHOLDS, metrics)]
    strict = np.logical_and.reduce([margin > 0 for margin in margins])
    loose = np.logical_and.reduce([margin >= 0 for margin in margins])
    qc_pass = clusters.qc_pass
    wrong = finite & ((qc_pass & ~loose) | (~qc_pass & strict))
    if wrong.any():
        cluster = int(np.argmax(wrong))
        values = ", ".join(f"{field} {values[cluster]:g}" for (_, field, _), values in zip(QC_THRESHOLDS, metrics))
        verdict = "passes" if qc_pass[cluster] else "fails"
        raise SourceFormatError(
            Path(info.path).parent / "clusters.qcPass.npy",
            f"cluster {cluster} {verdict} QC, but its metrics ({values}) {'fail' if qc_pass[cluster] else 'pass'} "
            f"session.json's qc_thresholds {shown(info.qc_thresholds)}",
            "qcPass as the metrics and the thresholds give it (presence ratio above its minimum, ISI violations "
            "ratio and amplitude cutoff below their maxima)",
        )
