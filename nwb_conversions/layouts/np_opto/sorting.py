"""The spike sorting of a Neuropixels Opto session folder: the ALF ``spikes.*`` and ``clusters.*`` objects.

``spikes.times`` / ``spikes.clusters`` (N,) give each spike's time (s) and cluster id; the ``clusters.*`` arrays have
one row per cluster id 0..K-1 (``clusters.channelPositions`` one row per channel), beside the optional
``clusters.waveformType.txt`` (RS/FS per cluster) and ``clusters.KSLabel.csv`` (Kilosort's label per cluster id).
The session folder's layout is described in :mod:`nwb_conversions.layouts.np_opto.session`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.alf import load_npy, read_alf_object, read_lines, read_text

#: Per-cluster float attributes: (ALF attribute, the :class:`Clusters` field it fills, what it holds).
CLUSTER_FLOAT_ATTRIBUTES = (
    ("templateDepths", "template_depths", "template depth in raw probe coordinates, µm"),
    ("depthsFromSurface", "depths_from_surface", "depth from the brain surface, µm"),
    ("presenceRatio", "presence_ratio", "QC metric: presence ratio"),
    ("isiViolationsRatio", "isi_violations_ratio", "QC metric: ISI violations ratio"),
    ("amplitudeCutoff", "amplitude_cutoff", "QC metric: amplitude cutoff"),
    ("troughToPeak", "trough_to_peak_ms", "spike width, ms"),
)


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
    attributes = {name: dict(kinds="fiu", what=what) for name, _, what in CLUSTER_FLOAT_ATTRIBUTES}
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
    if not np.isfinite(positions).all():
        row = int(np.argmax(~np.isfinite(positions).all(axis=1)))
        raise SourceFormatError(
            folder / "clusters.channelPositions.npy",
            f"row {row} is {positions[row].tolist()}",
            "finite positions in µm",
        )
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
        qc_pass=qc_pass,
        peak_channel=peak_channel,
        waveform_type=read_waveform_types(folder / "clusters.waveformType.txt", num_clusters),
        ks_label=read_ks_labels(folder / "clusters.KSLabel.csv", num_clusters),
        **{field: arrays[name].astype(np.float64, copy=False) for name, field, _ in CLUSTER_FLOAT_ATTRIBUTES},
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
    cluster id ("" where a cluster has no row). None if the file is absent (the README's loader allows it).

    A cluster listed twice must have the same label both times (else both lines are named).
    """
    if not file_path.is_file():
        return None
    expected = "a header 'cluster_id,KSLabel' and one row per cluster id below the number of clusters"
    text = read_text(file_path, expected=expected)
    first_line = text.split("\n", 1)[0]
    numbered = csv_rows(file_path, text, delimiter="\t" if "\t" in first_line else ",", expected=expected)
    if not numbered or [cell.strip() for cell in numbered[0][1][:2]] != ["cluster_id", "KSLabel"]:
        raise SourceFormatError(file_path, f"starts with {first_line[:60]!r}", expected)
    labels = [""] * num_clusters
    stated_on: dict[int, int] = {}
    for line_number, row in numbered[1:]:
        try:
            cluster_id, label = int(row[0]), row[1].strip()
        except (ValueError, IndexError):
            raise SourceFormatError(file_path, f"line {line_number} is {','.join(row)[:80]!r}", expected) from None
        if not 0 <= cluster_id < num_clusters:
            raise SourceFormatError(
                file_path,
                f"line {line_number} names cluster {row[0].strip()[:20]}, but there are {num_clusters}",
                expected,
            )
        if cluster_id in stated_on and labels[cluster_id] != label:
            raise SourceFormatError(
                file_path,
                f"cluster {cluster_id} is labelled {labels[cluster_id]!r} on line {stated_on[cluster_id]} "
                f"and {label!r} on line {line_number}",
                "one label per cluster id (a cluster listed twice with the same label)",
            )
        stated_on.setdefault(cluster_id, line_number)
        labels[cluster_id] = label
    return labels


def csv_rows(file_path: Path, text: str, *, delimiter: str, expected: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows of a CSV text, each with the line it ends on."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise SourceFormatError(file_path, f"not readable CSV (line {reader.line_num}: {error})", expected) from None


def check_cluster_ids(folder: Path, spike_clusters: np.ndarray, num_clusters: int) -> None:
    """Every cluster id in ``spikes.clusters`` must be a row of the ``clusters.*`` arrays."""
    if len(spike_clusters) and spike_clusters.max() >= num_clusters:
        beyond = spike_clusters >= num_clusters
        raise SourceFormatError(
            folder / "spikes.clusters.npy",
            f"{int(beyond.sum())} spikes have cluster ids ≥ {num_clusters} (max {int(spike_clusters.max())})",
            f"ids 0..{num_clusters - 1}: the clusters.* arrays have {num_clusters} rows",
        )
