"""Benchmark: convert Neuropixels-like int16 data with NeuroConv's defaults and with our writer, per data model.

Usage::

    python benchmarks/bench_neuropixels.py --seconds 60 [--models slow-drift,np1] [--workers N] [--keep] [--workdir DIR]

For each data model the script writes ``--seconds`` of synthetic 384-channel, 30 kHz int16 data to a temporary
``.bin`` file, then runs, each in a fresh subprocess:

* ``neuroconv``: NeuroConv's recording interface over spikeinterface's ``BinaryRecordingExtractor`` (a
  ``BaseRecordingExtractorInterface`` subclass) and its ``run_conversion`` with the default backend configuration
  (gzip level 4, no shuffle) and default iterator: the anchor;
* ``ours-gzip``: what ``convert-to-nwb spe1`` runs for the Neuropixels binary: ``NeuropixelsBinaryInterface`` and
  ``nwb_conversions.writing.hdf5.write_nwbfile``, default ``--compression gzip``;
* ``ours-max``: the same with ``--compression max``;
* ``convert-to-nwb``: the whole command a user runs, ``convert-to-nwb spe1 CELL OUT.nwb --no-inspect``, on an SPE-1
  cell folder whose Neuropixels binary is this same file (it also converts the cell's patch and sync traces).

Writer rows report the conversion's throughput in MB/s of raw input, timed inside the child around the conversion
call (imports excluded for every writer alike), the child's peak resident memory (``VmHWM``), the file size, and the
ratios ours/NeuroConv. The end-to-end row compares whole processes, start-up and imports included: the
``convert-to-nwb`` command against the ``neuroconv`` child's wall time. Our files are then read back with plain h5py
(no hdf5plugin), compared with the raw data 1 s at a time (bit-exact), and checked for the standard shuffle + gzip
filters.

Data models (compressibility decides the size ratios, so each is calibrated against published or measured figures):

* ``slow-drift``: band-limited AP noise (2nd-order 300-6000 Hz, 17 counts std) plus a slow component below 20 Hz
  (per channel 33 counts std, common 30 counts std) plus spikes; calibrated to compress like the SPE-1 recordings
  with the reference encoders (NeuroConv's gzip-4 ≈ 1.65). Large, slow values: shuffle pays off.
* ``np1``: calibrated to the lossless compressibility of real Neuropixels 1.0 AP-band data (WavPack ratio 3.59,
  Buccino et al. 2023, J Neural Eng 20:056009): first-order 300 Hz-10 kHz band-limited noise of 5.5 counts std
  plus the same spikes, whose WavPack (``wavpack-numcodecs``, default lossless settings) ratio is 3.60. The script
  prints that ratio when ``wavpack-numcodecs`` is importable.

The raw file was just written, so every conversion reads it from the page cache; the numbers are for a warm cache
(reading a cold file from disk ran at ~900 MB/s on the reference machine). Dirty pages are flushed (``os.sync``,
not timed) before each run so that one writer's write-back does not slow down the next.
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from measure import poll_peak_mb

SAMPLING_FREQUENCY = 30_000
CHANNEL_COUNT = 384
GAIN_TO_MICROVOLTS = 2.34375
UNIT_COUNT = 60
FIRING_RATE_HZ = 6.0
WRITERS = ("neuroconv", "ours-gzip", "ours-max")
#: The published lossless WavPack ratio of Neuropixels 1.0 AP-band data the ``np1`` model is calibrated to.
PUBLISHED_NP1_WAVPACK_RATIO = 3.59


@dataclass(frozen=True)
class DataModel:
    """A synthetic Neuropixels-like signal: band-limited noise, optional slow components, and spikes (counts)."""

    name: str
    ap_band_hz: tuple[float, float]
    ap_filter_order: int
    ap_std: float
    slow_per_channel_std: float = 0.0
    slow_common_std: float = 0.0


DATA_MODELS = {
    "slow-drift": DataModel("slow-drift", (300, 6000), 2, 17.0, slow_per_channel_std=33.0, slow_common_std=30.0),
    "np1": DataModel("np1", (300, 10_000), 1, 5.5),
}


# ---------------------------------------------------------------------------------------------------- data
def write_synthetic_recording(path: Path, seconds: int, model: DataModel, *, seed: int = 0) -> None:
    """Write ``seconds`` of ``model``'s int16 data (samples × 384, interleaved) to ``path``, 1 s at a time.

    Each second is generated from the filter states left by the previous one, so the signal is continuous and the
    memory used is that of one second, whatever ``seconds`` is.
    """
    from scipy import signal

    rng = np.random.default_rng(seed)
    ap_filter = signal.butter(
        model.ap_filter_order, model.ap_band_hz, btype="bandpass", fs=SAMPLING_FREQUENCY, output="sos"
    )
    slow_filter = signal.butter(2, 20, btype="lowpass", fs=SAMPLING_FREQUENCY, output="sos")
    components = [(ap_filter, CHANNEL_COUNT, model.ap_std)]
    if model.slow_per_channel_std:
        components.append((slow_filter, CHANNEL_COUNT, model.slow_per_channel_std))
    if model.slow_common_std:
        components.append((slow_filter, 1, model.slow_common_std))
    states = [np.zeros((sos.shape[0], 2, channels)) for sos, channels, _ in components]

    def filtered_noise(index):
        sos, channels, _ = components[index]
        filtered, states[index] = signal.sosfilt(
            sos, rng.standard_normal((SAMPLING_FREQUENCY, channels)), axis=0, zi=states[index]
        )
        return filtered

    scales = [std / filtered_noise(index).std() for index, (_, _, std) in enumerate(components)]  # 1 s warm-up
    units = _spiking_units(rng)
    with open(path, "wb") as raw_file:
        for _ in range(seconds):
            block = np.zeros((SAMPLING_FREQUENCY, CHANNEL_COUNT))
            for index, scale in enumerate(scales):
                block += filtered_noise(index) * scale
            _add_spikes(block, units, rng)
            np.clip(np.rint(block), -32768, 32767).astype("<i2").tofile(raw_file)


def wavpack_ratio(raw_path: Path, seconds: int = 4) -> float | None:
    """WavPack's lossless ratio on the first ``seconds`` (1 s blocks), or None without ``wavpack-numcodecs``."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its note that parallel decoding needs a newer libwavpack
        try:
            from wavpack_numcodecs import WavPack
        except ImportError:
            return None
        codec = WavPack()
        raw = np.fromfile(raw_path, dtype="<i2", count=seconds * SAMPLING_FREQUENCY * CHANNEL_COUNT)
        blocks = raw.reshape(-1, SAMPLING_FREQUENCY, CHANNEL_COUNT)
        return raw.nbytes / sum(len(codec.encode(np.ascontiguousarray(block))) for block in blocks)


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
    """Convert with NeuroConv's recording interface over spikeinterface's binary extractor, all defaults."""
    from datetime import datetime, timezone

    from neuroconv.datainterfaces.ecephys.baserecordingextractorinterface import BaseRecordingExtractorInterface

    class BinaryRecordingInterface(BaseRecordingExtractorInterface):
        """NeuroConv's SpikeInterface-based recording interface over a headerless binary."""

        @classmethod
        def get_extractor_class(cls):
            from spikeinterface.extractors import BinaryRecordingExtractor

            return BinaryRecordingExtractor

        def _initialize_extractor(self, interface_kwargs: dict):
            interface_only = ("verbose", "es_key", "metadata_key")
            self.extractor_kwargs = {key: value for key, value in interface_kwargs.items() if key not in interface_only}
            return self.get_extractor_class()(**self.extractor_kwargs)

    interface = BinaryRecordingInterface(
        file_paths=[str(raw_path)],
        sampling_frequency=SAMPLING_FREQUENCY,
        dtype="int16",
        num_channels=CHANNEL_COUNT,
        gain_to_uV=GAIN_TO_MICROVOLTS,
        offset_to_uV=0.0,
    )
    metadata = interface.get_metadata()
    metadata["NWBFile"].update(
        session_description="benchmark",
        identifier="benchmark-neuroconv",
        session_start_time=datetime(2020, 1, 1, tzinfo=timezone.utc),
    )
    interface.run_conversion(nwbfile_path=nwb_path, metadata=metadata, overwrite=True)


def convert_with_ours(raw_path: Path, nwb_path: Path, compression: str) -> None:
    """Convert as ``convert-to-nwb spe1`` does: the SPE-1 Neuropixels interface, then ``write_nwbfile``."""
    from datetime import datetime, timezone

    from nwb_conversions.interfaces import NeuropixelsBinaryInterface
    from nwb_conversions.resources import shipped_metadata_dir
    from nwb_conversions.writing.hdf5 import write_nwbfile

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
        import neuroconv.datainterfaces.ecephys.baserecordingextractorinterface  # noqa: F401
        import spikeinterface.extractors  # noqa: F401
    else:
        import nwb_conversions.interfaces  # noqa: F401
        import nwb_conversions.writing.hdf5  # noqa: F401


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


def prepare_cell(raw_path: Path, workdir: Path, seconds: int) -> tuple[Path, Path]:
    """Write a sample SPE-1 release whose cell holds ``raw_path`` as its Neuropixels binary; return (cell, metadata).

    The release is a sample of the same length (patch and sync traces, ground truth, Data Summary, channel map); its
    own Neuropixels binary is replaced by ``raw_path`` (a hard link, or a copy). Done before anything is timed, so
    that writing the sample (~1.5 GB, then deleted) does not disturb the page cache just before one measurement only.
    """
    from nwb_conversions.samples.spe1 import write_spe1_release

    cell_dir, metadata_path = write_spe1_release(workdir / "release", duration_s=seconds)
    cell_raw = cell_dir / "c14_npx_raw.bin"
    cell_raw.unlink()
    try:
        os.link(raw_path, cell_raw)
    except OSError:
        shutil.copyfile(raw_path, cell_raw)
    return cell_dir, metadata_path


def run_whole_command(cell_dir: Path, metadata_path: Path, output: Path, workers: int | None) -> dict:
    """Time ``convert-to-nwb spe1 CELL OUT.nwb --no-inspect`` as a user runs it, on a cell from :func:`prepare_cell`.

    The command converts the cell's Neuropixels binary and its patch and sync traces.
    """
    command = [
        sys.executable, "-m", "nwb_conversions.cli.main", "spe1", str(cell_dir), str(output),
        "--metadata", str(metadata_path), "--overwrite", "--no-inspect",
    ]
    environment = dict(os.environ)
    if workers is not None:
        environment["NWB_CONVERSIONS_WORKERS"] = str(workers)
    os.sync()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_mb = poll_peak_mb(process)
    wall_seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"convert-to-nwb failed:\n{process.stderr.read()[-4000:]}")
    result = dict(writer="convert-to-nwb", wall_seconds=wall_seconds, peak_rss_mb=peak_mb)
    result.update(file_mb=output.stat().st_size / 1e6)
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
def print_table(results: dict[str, dict], raw_mb: float) -> None:
    """Print the writer measurements as a Markdown table, with ratios against NeuroConv's defaults."""
    anchor = results["neuroconv"]
    anchor_rate = raw_mb / anchor["seconds"]
    print("| writer | time s | MB/s | peak RSS MB | file MB | raw/file | throughput vs NeuroConv | size vs NeuroConv |")
    print("|---|---|---|---|---|---|---|---|")
    for writer in WRITERS:
        result = results[writer]
        rate = raw_mb / result["seconds"]
        print(
            f"| {writer} | {result['seconds']:.1f} | {rate:.0f} | {result['peak_rss_mb']:.0f} "
            f"| {result['file_mb']:.0f} | {raw_mb / result['file_mb']:.3f} | {rate / anchor_rate:.2f}× "
            f"| {result['file_mb'] / anchor['file_mb']:.3f} |"
        )
    whole = results["convert-to-nwb"]
    print(
        f"\nwhole process, start-up included: convert-to-nwb spe1 --no-inspect {whole['wall_seconds']:.1f} s "
        f"(peak RSS {whole['peak_rss_mb']:.0f} MB), NeuroConv {anchor['wall_seconds']:.1f} s: "
        f"{anchor['wall_seconds'] / whole['wall_seconds']:.2f}× faster end to end"
    )


def check_targets(model: str, results: dict[str, dict]) -> list[str]:
    """Return one PASS/MISS line per performance target of the design notes."""
    anchor = results["neuroconv"]

    def speedup(writer):
        return anchor["seconds"] / results[writer]["seconds"]

    def size(writer):
        return results[writer]["file_mb"] / anchor["file_mb"]

    end_to_end = anchor["wall_seconds"] / results["convert-to-nwb"]["wall_seconds"]
    checks = [
        ("gzip throughput >= 8x NeuroConv", speedup("ours-gzip") >= 8, f"{speedup('ours-gzip'):.2f}x"),
        ("gzip file <= 1.03x NeuroConv", size("ours-gzip") <= 1.03, f"{size('ours-gzip'):.3f}"),
        ("gzip peak RSS <= 300 MB", results["ours-gzip"]["peak_rss_mb"] <= 300,
         f"{results['ours-gzip']['peak_rss_mb']:.0f} MB"),
        ("max file <= 1.00x NeuroConv", size("ours-max") <= 1.00, f"{size('ours-max'):.3f}"),
        ("max throughput >= 2x NeuroConv", speedup("ours-max") >= 2, f"{speedup('ours-max'):.2f}x"),
        ("whole process >= 6x NeuroConv's", end_to_end >= 6, f"{end_to_end:.2f}x"),
    ]
    return [f"{'PASS' if passed else 'MISS'}  [{model}] {name}: {value}" for name, passed, value in checks]


def benchmark_model(model: DataModel, seconds: int, workdir: Path, workers: int | None) -> list[str]:
    """Generate ``model``'s data, run every writer and the whole command, verify, print; return the target lines."""
    workdir.mkdir(parents=True)
    raw_path = workdir / "recording.bin"
    started = time.perf_counter()
    write_synthetic_recording(raw_path, seconds, model)
    raw_mb = raw_path.stat().st_size / 1e6
    ratio = wavpack_ratio(raw_path)
    calibration = (
        f"WavPack lossless ratio {ratio:.2f} (published NP1: {PUBLISHED_NP1_WAVPACK_RATIO})"
        if ratio is not None
        else "wavpack-numcodecs not installed: WavPack ratio not checked"
    )
    print(f"\n## {model.name}: {seconds} s × {CHANNEL_COUNT} ch int16 ({raw_mb:.0f} MB), generated in "
          f"{time.perf_counter() - started:.0f} s; {calibration}")
    cell_dir, metadata_path = prepare_cell(raw_path, workdir, seconds)
    results = {}
    for writer in WRITERS:
        results[writer] = measure(writer, raw_path, workdir / f"{writer}.nwb", workers)
        print(f"  {writer}: {results[writer]['seconds']:.1f} s ({results[writer]['wall_seconds']:.1f} s whole process)")
    results["convert-to-nwb"] = run_whole_command(cell_dir, metadata_path, workdir / "convert-to-nwb.nwb", workers)
    print(f"  convert-to-nwb spe1 --no-inspect: {results['convert-to-nwb']['wall_seconds']:.1f} s whole process")
    print(f"  neuroconv layout: {dataset_layout(workdir / 'neuroconv.nwb')}")
    for writer in ("ours-gzip", "ours-max"):
        layout = verify_bit_exact(raw_path, workdir / f"{writer}.nwb")
        print(f"  {writer} read back bit-exact with plain h5py: {layout}")
    print()
    print_table(results, raw_mb)
    return check_targets(model.name, results)


def compile_package_bytecode() -> None:
    """Compile nwb_conversions to bytecode once, as installing its wheel does.

    From an editable install with ``PYTHONDONTWRITEBYTECODE`` set, every child would otherwise compile the
    package's modules again (~0.1 s per process); NeuroConv's, from its wheel, are compiled already.
    """
    import compileall

    import nwb_conversions

    compileall.compile_dir(Path(nwb_conversions.__file__).parent, quiet=1)


def main(argv: list[str] | None = None) -> int:
    """Run every data model's benchmark and print the tables and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of the synthetic recording (default 60)")
    parser.add_argument("--models", default=",".join(DATA_MODELS), help=f"comma-separated, of {', '.join(DATA_MODELS)}")
    parser.add_argument("--workers", type=int, default=None, help="compression threads for our writer")
    parser.add_argument("--keep", action="store_true", help="keep the raw and NWB files (prints where)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the temporary files go")
    parser.add_argument("--child", nargs=3, metavar=("WRITER", "RAW", "NWB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0

    models = [DATA_MODELS[name] for name in args.models.split(",")]
    compile_package_bytecode()
    workers = args.workers or os.environ.get("NWB_CONVERSIONS_WORKERS") or "default (CPU cores)"
    print(f"{args.seconds} s per model, our workers: {workers}, cores: {os.cpu_count()}, load: {os.getloadavg()}")
    workdir = Path(tempfile.mkdtemp(prefix="bench_neuropixels_", dir=args.workdir))
    targets = []
    try:
        for model in models:
            targets += benchmark_model(model, args.seconds, workdir / model.name, args.workers)
            if not args.keep:
                shutil.rmtree(workdir / model.name, ignore_errors=True)
        print()
        print("\n".join(targets))
    finally:
        if args.keep:
            print(f"\nfiles kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
