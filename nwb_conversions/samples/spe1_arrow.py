"""A sample of the SPE-1 Arrow re-packaging (Zhao et al. 2026 benchmark), in its real on-disk layout.

A release root with ``Data Summary.xlsx`` / ``.csv`` and ``chanMap.mat`` (as the Hugging Face repository holds them)
and one DatasetDict folder per cell, as ``datasets.DatasetDict.save_to_disk`` writes it: ``dataset_dict.json``,
``train/`` and ``test/`` (``dataset_info.json``, ``state.json``, ``data-XXXXX-of-YYYYY.arrow`` Arrow IPC streams with
the ``huggingface`` schema metadata), plus ``templates.npz``, ``patch.npz``, ``conversion_metadata.json`` and
``dataset_stats.json``. Rows are built from flat numpy buffers (never Python lists), so a cell of many full 3 s
segments is written with the memory of one. Segments are short by default to keep the sample small; the window
starts 10 s into the recording, as in the real conversion.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import planted_spike_indices, spike_waveform, write_sample_metadata
from .spe1 import SAMPLE_METADATA, channel_map_positions, data_summary_rows, write_release_tables

NUM_CHANNELS = 384
SAMPLING_FREQUENCY = 30_000.0
#: c14's patch rate (Data Summary); ``conversion_metadata.json`` records the nominal 50023.0.
PATCH_RATE = 50_023.8987
BAD_CHANNEL_IDS = [36, 75, 112, 151, 188, 303]
NBEFORE, NAFTER = 30, 60

#: The features of a segment row, as ``dataset_info.json`` and the shards' ``huggingface`` metadata record them
#: (the ``Sequence`` form, which every ``datasets`` version reads).
FEATURES = {
    "sample_id": {"dtype": "string", "_type": "Value"},
    **{
        name: {"feature": {"feature": {"dtype": dtype, "_type": "Value"}, "length": -1, "_type": "Sequence"},
               "length": -1, "_type": "Sequence"}
        for name, dtype in (("cp", "float32"), ("cit", "int32"), ("ctt", "float64"))
    },
}

SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("cp", pa.list_(pa.list_(pa.float32()))),
        ("cit", pa.list_(pa.list_(pa.int32()))),
        ("ctt", pa.list_(pa.list_(pa.float64()))),
    ],
    metadata={"huggingface": json.dumps({"info": {"features": FEATURES}})},
)


def nested_list(values: np.ndarray, lengths: np.ndarray) -> pa.ListArray:
    """One row of ``list<list<x>>``: the flat ``values`` cut into channels of ``lengths``."""
    inner_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    inner = pa.ListArray.from_arrays(pa.array(inner_offsets), pa.array(values))
    return pa.ListArray.from_arrays(pa.array(np.array([0, len(lengths)], dtype=np.int32)), inner)


def segment_batch(start_sample: int, traces: np.ndarray, spike_channel: int, spike_ms: np.ndarray) -> pa.RecordBatch:
    """One segment row: ``traces`` is ``(channels, T)`` float32 µV; spikes sit on ``spike_channel`` only."""
    lengths = np.zeros(traces.shape[0], dtype=np.int64)
    lengths[spike_channel] = len(spike_ms)
    return pa.RecordBatch.from_arrays(
        [
            pa.array([f"{start_sample:09d}"]),
            nested_list(
                np.ascontiguousarray(traces, dtype=np.float32).ravel(), np.full(traces.shape[0], traces.shape[1])
            ),
            nested_list(np.zeros(len(spike_ms), dtype=np.int32), lengths),
            nested_list(np.asarray(spike_ms, dtype=np.float64), lengths),
        ],
        schema=SCHEMA,
    )


def write_split(split_dir: Path, batches, num_rows: int, rows_per_shard: int) -> None:
    """Write one split: its shards (one record batch per row), ``dataset_info.json`` and ``state.json``."""
    split_dir.mkdir(parents=True, exist_ok=True)
    num_shards = max(1, -(-num_rows // rows_per_shard))
    names = [f"data-{index:05d}-of-{num_shards:05d}.arrow" for index in range(num_shards)]
    for index, name in enumerate(names):
        with pa.OSFile(str(split_dir / name), "wb") as sink, pa.ipc.new_stream(sink, SCHEMA) as writer:
            for _ in range(min(rows_per_shard, num_rows - index * rows_per_shard)):
                writer.write_batch(next(batches))
    info = {"citation": "", "description": "", "features": FEATURES, "homepage": "", "license": ""}
    (split_dir / "dataset_info.json").write_text(json.dumps(info, indent=2))
    state = {
        "_data_files": [{"filename": name} for name in names],
        "_fingerprint": hashlib.sha256(f"{split_dir.name}/{num_rows}".encode()).hexdigest()[:16],
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": None,
    }
    (split_dir / "state.json").write_text(json.dumps(state, indent=2))


@dataclass
class TemplateSum:
    """The running sum of the planted spikes' windows that fit inside their segment, for ``templates.npz``."""

    total: np.ndarray = field(default_factory=lambda: np.zeros((NBEFORE + NAFTER, NUM_CHANNELS)))
    used: int = 0

    def mean(self) -> np.ndarray:
        """The ``(1, T, channels)`` float32 mean template."""
        return (self.total / max(self.used, 1)).astype(np.float32)[np.newaxis]


def segment_batches(rng: np.random.Generator, spikes: np.ndarray, amplitudes: dict[int, float], spike_channel: int, *,
                    num_segments: int, segment_samples: int, first_sample: int, template: TemplateSum):
    """Yield the segment rows in order: noise, the planted ``spikes`` on the channels of ``amplitudes`` (µV), fresh
    noise on the bad channels. Each spike's window that fits inside its segment is added to ``template``."""
    shape = spike_waveform(NBEFORE + NAFTER, width=4.0)
    peak = int(np.argmin(shape))
    for index in range(num_segments):
        start = index * segment_samples
        traces = rng.standard_normal((NUM_CHANNELS, segment_samples), dtype=np.float32) * np.float32(10.0)
        inside = spikes[(spikes >= start) & (spikes < start + segment_samples)] - start
        for spike in inside:
            lo, hi = max(0, spike - peak), min(segment_samples, spike - peak + len(shape))
            window = shape[lo - spike + peak : hi - spike + peak].astype(np.float32)
            for channel, amplitude in amplitudes.items():
                traces[channel, lo:hi] += np.float32(amplitude) * window
        for spike in inside:
            if spike - NBEFORE >= 0 and spike + NAFTER <= segment_samples:
                template.total += traces[:, spike - NBEFORE : spike + NAFTER].T
                template.used += 1
        traces[BAD_CHANNEL_IDS] = rng.standard_normal((len(BAD_CHANNEL_IDS), segment_samples), dtype=np.float32)
        yield segment_batch(first_sample + start, traces, spike_channel, inside / (SAMPLING_FREQUENCY / 1000.0))


def write_spe1_arrow_cell(
    cell_dir: str | Path,
    *,
    cell_id: str = "c14",
    num_segments: int = 10,
    segment_duration_s: float = 0.1,
    skip_seconds: float = 10.0,
    chan_predicted: int = 159,
    chan_highest: int = 161,
    patch_type: str = "juxta",
    spikes_per_second: float = 8.0,
    rows_per_shard: int = 4,
    patch_clock: str = "recording",
    sample_id_clock: str = "recording",
    seed: int = 0,
) -> Path:
    """Write one cell's DatasetDict folder and return it.

    Parameters
    ----------
    cell_dir, cell_id
        As for :func:`nwb_conversions.samples.spe1.write_spe1_cell`.
    num_segments : int
        Rows; the first 80 % go to ``train``, the rest to ``test``.
    segment_duration_s : float
        Seconds per row (3.0 in the real release; short here to stay small).
    skip_seconds : float
        The window's start on the recording's clock (``sample_id`` of the first row / 30 kHz).
    chan_predicted, chan_highest : int
        The ground-truth electrode and the peak channel (spikes are planted and listed there).
    patch_type : str
        ``patch.npz`` ``patch_type``: ``"juxta"`` (trace in pA, negative spikes) or ``"wc-ic"`` (mV).
    rows_per_shard : int
        Rows per ``data-*.arrow`` file.
    patch_clock : {"recording", "window"}
        ``t_patch_s`` and ``spike_times_s`` on the recording's clock, or relative to the window's start.
    sample_id_clock : {"recording", "window"}
        The rows' ``sample_id`` on the recording's clock (the first is ``skip_seconds`` × rate), or relative to the
        window's start (the first is 0): the release does not say which.
    seed : int
        Same arguments, same bytes.
    """
    rng = np.random.default_rng(seed)
    cell_dir = Path(cell_dir)
    cell_dir.mkdir(parents=True, exist_ok=True)
    segment_samples = int(round(segment_duration_s * SAMPLING_FREQUENCY))
    first_sample = int(round(skip_seconds * SAMPLING_FREQUENCY))
    total = num_segments * segment_samples
    num_spikes = max(1, int(spikes_per_second * total / SAMPLING_FREQUENCY))
    gap = max(NBEFORE + NAFTER, total // (2 * num_spikes))
    spikes = planted_spike_indices(rng, total, num_spikes, margin=NAFTER, gap=gap)
    amplitudes = {chan_highest: 120.0, chan_predicted: 80.0, min(chan_highest + 2, NUM_CHANNELS - 1): 50.0}
    template = TemplateSum()
    rows = segment_batches(rng, spikes, amplitudes, chan_highest, num_segments=num_segments,
                           segment_samples=segment_samples,
                           first_sample=first_sample if sample_id_clock == "recording" else 0, template=template)
    num_train = int(round(0.8 * num_segments)) if num_segments > 1 else 1
    write_split(cell_dir / "train", rows, num_train, rows_per_shard)
    write_split(cell_dir / "test", rows, num_segments - num_train, rows_per_shard)
    (cell_dir / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))

    positions = channel_map_positions()
    np.savez(cell_dir / "templates.npz", templates=template.mean(), sampling_frequency=np.float64(SAMPLING_FREQUENCY),
             probe_positions=positions.astype(np.float32), nbefore=np.int64(NBEFORE), nafter=np.int64(NAFTER))

    clock_offset = first_sample / SAMPLING_FREQUENCY if patch_clock == "recording" else 0.0
    _write_patch(cell_dir / "patch.npz", rng, total / SAMPLING_FREQUENCY, spikes / SAMPLING_FREQUENCY, clock_offset,
                 patch_type, cell_id)
    metadata = _conversion_metadata(cell_id, num_segments * segment_duration_s, segment_duration_s, skip_seconds,
                                    num_spikes, template.used, chan_predicted, chan_highest, positions)
    (cell_dir / "conversion_metadata.json").write_text(json.dumps(metadata, indent=2))
    stats = {"median": [0.0] * NUM_CHANNELS, "iqr": [13.5] * NUM_CHANNELS, "abs_iqr": [6.7] * NUM_CHANNELS}
    (cell_dir / "dataset_stats.json").write_text(json.dumps(stats))
    return cell_dir


def _write_patch(path: Path, rng, duration_s: float, spike_times_s: np.ndarray, clock_offset: float,
                 patch_type: str, cell_id: str) -> None:
    """``patch.npz``: a pA (juxta) or mV (wc-ic) trace at the cell's patch rate with spikes at the GT times."""
    num_samples = int(duration_s * PATCH_RATE)
    juxta = patch_type == "juxta"
    baseline, size = (-50.0, -400.0) if juxta else (-65.0, 80.0)
    trace = baseline + rng.normal(0.0, 5.0, size=num_samples)
    waveform = -spike_waveform(100, width=6.0)
    for spike in (spike_times_s * PATCH_RATE).astype(np.int64):
        lo, hi = max(0, spike - 33), min(num_samples, spike + 67)
        trace[lo:hi] += size * waveform[lo - spike + 33 : hi - spike + 33]
    np.savez(path, patch_v=trace.astype(np.float32), t_patch_s=clock_offset + np.arange(num_samples) / PATCH_RATE,
             spike_times_s=clock_offset + spike_times_s, patch_type=np.array(patch_type), cell_id=np.array(cell_id))


def _conversion_metadata(cell_id, duration_s, segment_duration_s, skip_seconds, num_spikes, used, chan_predicted,
                         chan_highest, positions) -> dict:
    """``conversion_metadata.json`` with the seed README's keys."""
    return {
        "source_metadata": {
            "mode": "spe1_paired_recording",
            "dataset": "Marques-Smith et al. (2018) \u2014 CRCNS spe-1",
            "cell_id": cell_id,
            "skip_seconds": skip_seconds,
            "duration_s": duration_s,
            "patch_sample_rate_hz": 50023.0,
            "preprocessing": "bandpass_300_3000Hz + global_CMR",
            "spike_source": "wc_spike_samples.npy (authoritative GT)",
        },
        "template_metadata": {
            "extraction_method": "hao2026_raw_mean_template",
            "ms_before": 1.0, "ms_after": 2.0, "nbefore": NBEFORE, "nafter": NAFTER,
            "n_spikes_total": num_spikes, "n_spikes_used": used, "n_out_of_bounds_discarded": num_spikes - used,
        },
        "sampling_frequency": SAMPLING_FREQUENCY,
        "num_units": 1,
        "num_channels": NUM_CHANNELS,
        "unit_peak_channel": {"0": chan_highest},
        "unit_locations_um": {"0": [float(positions[chan_predicted, 0]), float(positions[chan_predicted, 1]), 0.0]},
        "gt_electrode_chan_idx": chan_predicted,
        "bad_channel_ids": BAD_CHANNEL_IDS,
        "n_spikes_total": num_spikes,
        "n_spikes_used_for_templates": used,
        "segment_duration_s": segment_duration_s,
        "train_fraction": 0.8,
    }


def write_spe1_arrow_release(folder: str | Path, *, cell_ids: tuple[str, ...] = ("c14",), **cell_options):
    """Write a release root (Data Summary, chanMap.mat, sample metadata) with one DatasetDict per cell.

    Returns
    -------
    tuple
        The release root, the cell folders, and ``sample_metadata.yaml``.
    """
    root = write_release_tables(folder)
    rows = {row["Cell"]: row for row in data_summary_rows()}
    cells = []
    for index, cell_id in enumerate(cell_ids):
        facts = {}
        if cell_id in rows:
            row = rows[cell_id]
            facts = dict(chan_predicted=int(row["chan_predicted"]), chan_highest=int(row["chan_highest"]),
                         patch_type="wc-ic" if row["Patch Type"].startswith("WC") else "juxta")
        cells.append(write_spe1_arrow_cell(root / cell_id, cell_id=cell_id, seed=index, **{**facts, **cell_options}))
    return root, cells, write_sample_metadata(root, SAMPLE_METADATA)


def write_sample(folder: str | Path) -> tuple[Path, Path]:
    """Write a sample release (cell c14, ten 0.1 s segments) and its sample metadata; return the cell folder and it."""
    _, cells, metadata_path = write_spe1_arrow_release(folder)
    return cells[0], metadata_path


def write_sample_release(folder: str | Path, num_sessions: int = 3) -> tuple[Path, list[Path]]:
    """Write a sample release of the first ``num_sessions`` Data Summary cells, with the root's other files."""
    cell_ids = tuple(row["Cell"] for row in data_summary_rows()[:num_sessions])
    root, cells, _ = write_spe1_arrow_release(folder, cell_ids=cell_ids, num_segments=3, segment_duration_s=0.05)
    (root / "scripts").mkdir(exist_ok=True)
    (root / "scripts" / "convert_to_arrow.py").write_text("# the release's conversion script (not bundled)\n")
    (root / "README.md").write_text("# SPE-1 Arrow conversion (sample)\n")
    (root / "localization_benchmark.json").write_text("{}\n")
    return root, cells
