"""Peak memory and speed of ``convert-to-nwb spe1-arrow`` on a synthetic cell of full 3 s rows, against NeuroConv.

Writes a synthetic SPE-1 Arrow cell (``--segments`` rows of 3 s × 384 channels float32, 138 MB each, three rows per
shard as the real ~500 MB shards hold; default 16 rows = 2.2 GB of shards) to a temporary folder, then converts it
twice, each in its own child process:

* ``ours``: ``convert-to-nwb spe1-arrow CELL OUT.nwb --metadata ...`` exactly as a user runs it (default
  ``--compression gzip``, the nwbinspector gate included);
* ``neuroconv``: the same converter and metadata (``registered_datasets()["spe1-arrow"].build``) written by
  NeuroConv's own ``run_conversion`` with its default HDF5 backend configuration (gzip level 4, no shuffle).

For each it reports wall time (start-up and imports included), MB/s of float32 input, the child's peak resident
memory (``VmHWM``, polled) and the file size; then it reads our file back with plain h5py, one second at a time,
and checks it is bit-exact against the shards. Target: our peak memory ≤ 500 MB.

Usage::

    python benchmarks/bench_spe1_arrow.py [--segments 16] [--keep DIR] [--no-verify]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import run_measured

from nwb_conversions.samples.spe1_arrow import write_spe1_arrow_release

TARGET_PEAK_MB = 500
SERIES_PATH = "processing/ecephys/FilteredEphys/FilteredElectricalSeries/data"


def neuroconv_child(cell_dir: str, metadata_path: str, output: str) -> None:
    """Child mode: the same conversion through NeuroConv's ``run_conversion`` and default backend."""
    from nwb_conversions.datasets import registered_datasets
    from nwb_conversions.metadata.assembly import load_yaml_mapping

    conversion = registered_datasets()["spe1-arrow"].build(Path(cell_dir), load_yaml_mapping(metadata_path), False)
    conversion.converter.run_conversion(
        nwbfile_path=output, metadata=conversion.metadata, conversion_options=conversion.conversion_options,
        overwrite=True,
    )


def verify(cell_dir: Path, output: Path) -> str:
    """Compare the written filtered series with the shards, one second at a time, with plain h5py."""
    import h5py
    import numpy as np

    from nwb_conversions.layouts.spe1_arrow.recording import SegmentedRecording
    from nwb_conversions.layouts.spe1_arrow.segments import index_segments
    from nwb_conversions.readers.dataset_dict import dataset_dict_splits

    recording = SegmentedRecording(index_segments(dataset_dict_splits(cell_dir), num_channels=384), num_channels=384)
    with h5py.File(output, "r") as h5:
        data = h5[SERIES_PATH]
        for start in range(0, recording.shape[0], 30_000):
            if not np.array_equal(data[start : start + 30_000], recording[start : start + 30_000]):
                raise SystemExit(f"{output}: samples {start}.. differ from the shards")
        return f"{data.compression}({data.compression_opts}), shuffle={data.shuffle}, chunks {data.chunks}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=16, help="rows of 3 s (138 MB each); default 16 = 2.2 GB")
    parser.add_argument("--keep", type=Path, help="write into this folder and keep it")
    parser.add_argument("--no-verify", action="store_true", help="skip the bit-exact read-back of our file")
    parser.add_argument("--child", nargs=3, metavar=("CELL", "METADATA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        neuroconv_child(*args.child)
        return

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench_spe1_arrow_"))
    try:
        print(f"writing {args.segments} segments of 3 s to {workdir} ...", flush=True)
        start = time.perf_counter()
        _, (cell_dir,), metadata_path = write_spe1_arrow_release(
            workdir / "release", num_segments=args.segments, segment_duration_s=3.0, rows_per_shard=3
        )
        shard_mb = sum(path.stat().st_size for path in cell_dir.glob("*/data-*.arrow")) / 1e6
        print(f"wrote {shard_mb:.0f} MB of shards in {time.perf_counter() - start:.0f} s", flush=True)
        input_mb = args.segments * 90_000 * 384 * 4 / 1e6
        executable = str(Path(sys.executable).parent / "convert-to-nwb")
        runs = {
            "ours": [executable, "spe1-arrow", str(cell_dir), str(workdir / "ours.nwb"), "--metadata",
                     str(metadata_path), "--overwrite"],
            "neuroconv": [sys.executable, __file__, "--child", str(cell_dir), str(metadata_path),
                          str(workdir / "neuroconv.nwb")],
        }
        results = {}
        for name, command in runs.items():
            subprocess.run(["sync"], check=False)
            wall, peak = run_measured(command)
            results[name] = dict(wall=wall, peak=peak, file_mb=(workdir / f"{name}.nwb").stat().st_size / 1e6)
        print(f"\n{'writer':>10} {'input MB':>9} {'wall s':>7} {'MB/s':>7} {'peak RSS MB':>12} {'file MB':>8}")
        for name, result in results.items():
            print(f"{name:>10} {input_mb:>9.0f} {result['wall']:>7.1f} {input_mb / result['wall']:>7.1f} "
                  f"{result['peak']:>12.0f} {result['file_mb']:>8.0f}")
        speedup = results["neuroconv"]["wall"] / results["ours"]["wall"]
        print(f"ours/neuroconv: {speedup:.2f}× throughput, "
              f"{results['ours']['file_mb'] / results['neuroconv']['file_mb']:.3f}× size")
        verdict = "meets" if results["ours"]["peak"] <= TARGET_PEAK_MB else "MISSES"
        print(f"our peak memory {results['ours']['peak']:.0f} MB {verdict} the ≤ {TARGET_PEAK_MB} MB target")
        if not args.no_verify:
            print(f"ours read back bit-exact with plain h5py: {verify(cell_dir, workdir / 'ours.nwb')}")
        print(json.dumps({name: {k: round(v, 1) for k, v in r.items()} for name, r in results.items()}))
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
