"""Benchmark: convert Neuropixels-like int16 data with NeuroConv's defaults and with our writer, in one run.

Usage::

    python benchmarks/bench_neuropixels.py --seconds 60 [--workers N] [--keep] [--workdir DIR]

The script writes ``--seconds`` of synthetic 384-channel, 30 kHz int16 data to a temporary ``.bin`` file, then
converts it three times, each in its own subprocess:

* ``neuroconv``: spikeinterface's ``BinaryRecordingExtractor`` + ``neuroconv.tools.spikeinterface.
  write_recording_to_nwbfile`` with NeuroConv's default backend configuration (gzip level 4, no shuffle) and its
  default 1 GB iterator buffer: the anchor;
* ``ours gzip``: what ``convert-to-nwb spe1`` runs for the Neuropixels binary: ``NeuropixelsBinaryInterface`` (plain
  file reads of one 1 s row at a time) and ``nwb_conversions.writing.write_nwbfile``, default ``--compression gzip``;
* ``ours max``: the same with ``--compression max``.

For each it reports the conversion's throughput in MB/s of raw input (timed inside the child around the conversion
call, so Python's start-up and imports are excluded for every writer alike), its peak resident memory (the child's
``VmHWM``), the file size and the raw/file ratio, and the ratios ours/NeuroConv. It then checks that our files
read back bit-exact with plain h5py (no hdf5plugin) and carry the standard shuffle + gzip filters.

The synthetic data are calibrated so that standard encoders compress them like the real SPE-1 recordings
(NeuroConv's gzip-4 without shuffle ≈ 1.65, zlib-4 on byte-shuffled chunks ≈ 1.9): band-limited AP noise
(300-6000 Hz, 17 counts std) plus a slow, low-frequency component (what passes the probe's first-order 300 Hz
high-pass: per-channel and common, ~45 counts std together) plus spikes. Pure 17-count white noise would compress
far better than the real data and flatter every writer.

The raw file was just written, so every conversion reads it from the page cache; the numbers are for a warm cache
(reading a cold file from disk ran at ~900 MB/s on the reference machine). Dirty pages are flushed (``os.sync``,
not timed) before each conversion so that one writer's write-back does not slow down the next.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SAMPLING_FREQUENCY = 30_000
CHANNEL_COUNT = 384
GAIN_TO_MICROVOLTS = 2.34375
AP_NOISE_STD_COUNTS = 17.0
SLOW_PER_CHANNEL_STD_COUNTS = 33.0
SLOW_COMMON_STD_COUNTS = 30.0
UNIT_COUNT = 60
FIRING_RATE_HZ = 6.0
WRITERS = ("neuroconv", "ours-gzip", "ours-max")


# ---------------------------------------------------------------------------------------------------- data
def write_synthetic_recording(path: Path, seconds: int, *, seed: int = 0) -> None:
    """Write ``seconds`` of Neuropixels-like int16 data (samples × 384, interleaved) to ``path``, 1 s at a time.

    Each second is generated from the filter states left by the previous one, so the signal is continuous and the
    memory used is that of one second, whatever ``seconds`` is.
    """
    from scipy import signal

    rng = np.random.default_rng(seed)
    ap_filter = signal.butter(2, [300, 6000], btype="bandpass", fs=SAMPLING_FREQUENCY, output="sos")
    slow_filter = signal.butter(2, 20, btype="lowpass", fs=SAMPLING_FREQUENCY, output="sos")
    states = {
        "ap": np.zeros((ap_filter.shape[0], 2, CHANNEL_COUNT)),
        "slow": np.zeros((slow_filter.shape[0], 2, CHANNEL_COUNT)),
        "common": np.zeros((slow_filter.shape[0], 2, 1)),
    }

    def filtered_noise(sos, key, channels):
        noise = rng.standard_normal((SAMPLING_FREQUENCY, channels))
        filtered, states[key] = signal.sosfilt(sos, noise, axis=0, zi=states[key])
        return filtered

    warm_up = [filtered_noise(ap_filter, "ap", CHANNEL_COUNT), filtered_noise(slow_filter, "slow", CHANNEL_COUNT)]
    warm_up.append(filtered_noise(slow_filter, "common", 1))
    scales = [
        AP_NOISE_STD_COUNTS / warm_up[0].std(),
        SLOW_PER_CHANNEL_STD_COUNTS / warm_up[1].std(),
        SLOW_COMMON_STD_COUNTS / warm_up[2].std(),
    ]
    units = _spiking_units(rng)
    with open(path, "wb") as raw_file:
        for _ in range(seconds):
            block = filtered_noise(ap_filter, "ap", CHANNEL_COUNT) * scales[0]
            block += filtered_noise(slow_filter, "slow", CHANNEL_COUNT) * scales[1]
            block += filtered_noise(slow_filter, "common", 1) * scales[2]
            _add_spikes(block, units, rng)
            np.clip(np.rint(block), -32768, 32767).astype("<i2").tofile(raw_file)


def _spiking_units(rng: np.random.Generator) -> list[tuple[int, np.ndarray]]:
    """Return ``(first channel, template samples × channels)`` for each unit: a 1.6 ms spike over 17 channels."""
    time_ms = np.arange(48) / SAMPLING_FREQUENCY * 1000 - 0.5
    waveform = -np.exp(-((time_ms / 0.15) ** 2)) + 0.35 * np.exp(-(((time_ms - 0.45) / 0.3) ** 2))
    units = []
    for _ in range(UNIT_COUNT):
        peak_channel = int(rng.integers(8, CHANNEL_COUNT - 8))
        amplitude = rng.uniform(40, 250)
        spatial = np.exp(-np.abs(np.arange(-8, 9)) / 2.5)
        units.append((peak_channel - 8, amplitude * waveform[:, None] * spatial[None, :]))
    return units


def _add_spikes(block: np.ndarray, units: list[tuple[int, np.ndarray]], rng: np.random.Generator) -> None:
    """Add each unit's spikes (Poisson, ``FIRING_RATE_HZ``) to one second of data, in place."""
    for first_channel, template in units:
        spike_count = rng.poisson(FIRING_RATE_HZ)
        for onset in rng.integers(0, block.shape[0] - template.shape[0], size=spike_count):
            block[onset : onset + template.shape[0], first_channel : first_channel + template.shape[1]] += template


# ---------------------------------------------------------------------------------------------------- children
def convert_with_neuroconv(raw_path: Path, nwb_path: Path) -> None:
    """Convert with spikeinterface's binary extractor and NeuroConv's default recording writer and backend."""
    from datetime import datetime, timezone

    from neuroconv.tools.spikeinterface import write_recording_to_nwbfile
    from spikeinterface.extractors import BinaryRecordingExtractor

    recording = BinaryRecordingExtractor(
        file_paths=[str(raw_path)], sampling_frequency=SAMPLING_FREQUENCY, dtype="int16", num_channels=CHANNEL_COUNT
    )
    recording.set_channel_gains(GAIN_TO_MICROVOLTS)
    recording.set_channel_offsets(0.0)
    metadata = dict(
        NWBFile=dict(
            session_description="benchmark",
            identifier="benchmark-neuroconv",
            session_start_time=datetime(2020, 1, 1, tzinfo=timezone.utc),
        )
    )
    write_recording_to_nwbfile(recording=recording, nwbfile_path=nwb_path, metadata=metadata, overwrite=True)


def convert_with_ours(raw_path: Path, nwb_path: Path, compression: str) -> None:
    """Convert as ``convert-to-nwb spe1`` does: the SPE-1 Neuropixels interface, then ``write_nwbfile``."""
    from datetime import datetime, timezone

    from nwb_conversions.interfaces import NeuropixelsBinaryInterface
    from nwb_conversions.metadata import shipped_metadata_dir
    from nwb_conversions.writing import write_nwbfile

    interface = NeuropixelsBinaryInterface(raw_path, channel_map_path=shipped_metadata_dir() / "spe1_channel_map.csv")
    metadata = interface.get_metadata()
    metadata["NWBFile"].update(session_start_time=datetime(2020, 1, 1, tzinfo=timezone.utc), identifier="benchmark")
    metadata["Extracellular"].update(
        Device={"name": "NeuropixelsProbe"},
        ElectrodeGroup={"name": "probe", "description": "synthetic", "location": "unknown"},
    )
    nwbfile = interface.create_nwbfile(metadata=metadata)
    write_nwbfile(nwbfile, nwb_path, overwrite=True, compression=compression, progress=False)


def import_writer_modules(writer: str) -> None:
    """Import what ``writer`` needs up front, so that the timed conversion excludes import time for every writer."""
    import neuroconv.tools.nwb_helpers  # noqa: F401  (both writers configure small datasets with it)
    import pynwb  # noqa: F401

    if writer == "neuroconv":
        import neuroconv.tools.spikeinterface  # noqa: F401
        import spikeinterface.extractors  # noqa: F401
    else:
        import nwb_conversions.interfaces  # noqa: F401
        import nwb_conversions.writing  # noqa: F401


def run_child(writer: str, raw_path: Path, nwb_path: Path) -> None:
    """Run one conversion and print its timing and peak memory as one JSON line (imports are not timed)."""
    import_writer_modules(writer)
    start = time.perf_counter()
    if writer == "neuroconv":
        convert_with_neuroconv(raw_path, nwb_path)
    else:
        convert_with_ours(raw_path, nwb_path, compression=writer.split("-", 1)[1])
    seconds = time.perf_counter() - start
    print(json.dumps(dict(seconds=seconds, peak_rss_mb=peak_resident_memory_mb())))


def peak_resident_memory_mb() -> float:
    """Return this process's peak resident memory in MB.

    Linux keeps ``ru_maxrss`` across ``exec``, so a child forked from a large parent would report the parent's
    peak; ``VmHWM`` belongs to the child's own address space. Elsewhere, fall back to ``ru_maxrss``.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 1024 / (1024 if sys.platform == "darwin" else 1)


def measure(writer: str, raw_path: Path, nwb_path: Path, workers: int | None) -> dict:
    """Run ``writer`` in a fresh subprocess; return its measurements and file size."""
    environment = dict(os.environ)
    if workers is not None:
        environment["NWB_CONVERSIONS_WORKERS"] = str(workers)
    command = [sys.executable, __file__, "--child", writer, str(raw_path), str(nwb_path)]
    os.sync()  # flush the previous writer's dirty pages now, so their write-back does not slow this one down
    started = time.perf_counter()
    completed = subprocess.run(command, env=environment, capture_output=True, text=True)
    wall_seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{writer} failed:\n{completed.stderr[-4000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result.update(writer=writer, wall_seconds=wall_seconds, file_mb=nwb_path.stat().st_size / 1e6)
    return result


# ---------------------------------------------------------------------------------------------------- checks
def verify_bit_exact(raw_path: Path, nwb_path: Path) -> str:
    """Compare the file's ElectricalSeries with the raw data in 1 s blocks using plain h5py; return its filters."""
    import h5py

    assert "hdf5plugin" not in sys.modules, "the read-back must not load hdf5plugin"
    raw = np.memmap(raw_path, dtype="<i2", mode="r").reshape(-1, CHANNEL_COUNT)
    with h5py.File(nwb_path, "r") as nwb:
        dataset = nwb["acquisition/ElectricalSeries/data"]
        if dataset.compression != "gzip" or not dataset.shuffle:
            raise AssertionError(f"{nwb_path.name}: filters are {dataset.compression}/{dataset.shuffle}")
        if dataset.shape != raw.shape:
            raise AssertionError(f"{nwb_path.name}: shape {dataset.shape} != {raw.shape}")
        for start in range(0, raw.shape[0], SAMPLING_FREQUENCY):
            stop = start + SAMPLING_FREQUENCY
            if not np.array_equal(dataset[start:stop], raw[start:stop]):
                raise AssertionError(f"{nwb_path.name}: rows {start}:{stop} differ from the source")
        return f"shuffle+gzip(level {dataset.compression_opts}), chunks {dataset.chunks}"


def dataset_layout(nwb_path: Path) -> str:
    """Describe the ElectricalSeries dataset's chunks and filters."""
    import h5py

    with h5py.File(nwb_path, "r") as nwb:
        series_name = next(name for name in nwb["acquisition"] if name.startswith("ElectricalSeries"))
        dataset = nwb[f"acquisition/{series_name}/data"]
        shuffle = "shuffle+" if dataset.shuffle else ""
        return f"{shuffle}{dataset.compression}(level {dataset.compression_opts}), chunks {dataset.chunks}"


# ---------------------------------------------------------------------------------------------------- report
def print_table(results: list[dict], raw_mb: float) -> None:
    """Print the measurements as a Markdown table, with ratios against NeuroConv's defaults."""
    anchor = results[0]
    anchor_rate = raw_mb / anchor["seconds"]
    print("| writer | time s | MB/s | peak RSS MB | file MB | raw/file | throughput vs NeuroConv | size vs NeuroConv |")
    print("|---|---|---|---|---|---|---|---|")
    for result in results:
        rate = raw_mb / result["seconds"]
        print(
            f"| {result['writer']} | {result['seconds']:.1f} | {rate:.0f} | {result['peak_rss_mb']:.0f} "
            f"| {result['file_mb']:.0f} | {raw_mb / result['file_mb']:.3f} | {rate / anchor_rate:.2f}× "
            f"| {result['file_mb'] / anchor['file_mb']:.3f} |"
        )


def check_targets(results: dict[str, dict], raw_mb: float) -> list[str]:
    """Return one PASS/MISS line per performance target of DESIGN.md."""
    anchor = results["neuroconv"]

    def speedup(writer):
        return anchor["seconds"] / results[writer]["seconds"]

    def size(writer):
        return results[writer]["file_mb"] / anchor["file_mb"]

    checks = [
        ("gzip throughput >= 8x NeuroConv", speedup("ours-gzip") >= 8, f"{speedup('ours-gzip'):.2f}x"),
        ("gzip file <= 0.92x NeuroConv", size("ours-gzip") <= 0.92, f"{size('ours-gzip'):.3f}"),
        (
            "gzip peak RSS <= 300 MB",
            results["ours-gzip"]["peak_rss_mb"] <= 300,
            f"{results['ours-gzip']['peak_rss_mb']:.0f} MB",
        ),
        ("max file <= 0.85x NeuroConv", size("ours-max") <= 0.85, f"{size('ours-max'):.3f}"),
        ("max throughput >= 3x NeuroConv", speedup("ours-max") >= 3, f"{speedup('ours-max'):.2f}x"),
    ]
    return [f"{'PASS' if passed else 'MISS'}  {name}: {value}" for name, passed, value in checks]


def main(argv: list[str] | None = None) -> int:
    """Generate the data, run the three conversions, verify our files and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of the synthetic recording (default 60)")
    parser.add_argument("--workers", type=int, default=None, help="compression threads for our writer")
    parser.add_argument("--keep", action="store_true", help="keep the raw and NWB files (prints where)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the temporary files go")
    parser.add_argument("--child", nargs=3, metavar=("WRITER", "RAW", "NWB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="bench_neuropixels_", dir=args.workdir))
    try:
        raw_path = workdir / "recording.bin"
        started = time.perf_counter()
        write_synthetic_recording(raw_path, args.seconds)
        raw_mb = raw_path.stat().st_size / 1e6
        print(
            f"generated {args.seconds} s × {CHANNEL_COUNT} ch int16 ({raw_mb:.0f} MB) in {time.perf_counter() - started:.0f} s"
        )
        results = {}
        for writer in WRITERS:
            results[writer] = measure(writer, raw_path, workdir / f"{writer}.nwb", args.workers)
            print(
                f"  {writer}: {results[writer]['seconds']:.1f} s ({results[writer]['wall_seconds']:.1f} s with start-up)"
            )
        print(f"  neuroconv layout: {dataset_layout(workdir / 'neuroconv.nwb')}")
        for writer in ("ours-gzip", "ours-max"):
            print(
                f"  {writer} read back bit-exact with plain h5py: {verify_bit_exact(raw_path, workdir / f'{writer}.nwb')}"
            )
        workers = args.workers or os.environ.get("NWB_CONVERSIONS_WORKERS") or "default (CPU cores)"
        print(f"\n{args.seconds} s, {raw_mb:.0f} MB raw, our workers: {workers}, cores: {os.cpu_count()}\n")
        print_table([results[writer] for writer in WRITERS], raw_mb)
        print()
        print("\n".join(check_targets(results, raw_mb)))
    finally:
        if args.keep:
            print(f"\nfiles kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
