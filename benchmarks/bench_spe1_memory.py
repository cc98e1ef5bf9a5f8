"""Peak memory and speed of ``convert-to-nwb spe1`` on a synthetic SPE-1 cell of N seconds (default 60).

Writes a sample release (1.38 GB of Neuropixels int16 per minute) to a temporary folder, converts it in a child
process exactly as a user would (``convert-to-nwb spe1 CELL OUT.nwb --metadata ...``), and reports the child's
peak resident memory (``wait4`` rusage), wall time, throughput and file size. Target: peak memory < 500 MB,
flat in the recording's length.

Usage::

    python benchmarks/bench_spe1_memory.py [--seconds 60] [--compression gzip] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from measure import run_measured

from nwb_conversions.samples.spe1 import write_spe1_release

TARGET_PEAK_MB = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--compression", default="gzip", choices=("gzip", "max", "zstd", "none"))
    parser.add_argument("--keep", type=Path, help="write into this folder and keep it")
    args = parser.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench_spe1_"))
    try:
        print(f"writing a {args.seconds:.0f} s sample cell to {workdir} ...", flush=True)
        cell_dir, metadata_path = write_spe1_release(workdir / "release", duration_s=args.seconds)
        raw_mb = (cell_dir / "c14_npx_raw.bin").stat().st_size / 1e6
        output = workdir / "c14.nwb"
        command = [
            str(Path(sys.executable).parent / "convert-to-nwb"), "spe1", str(cell_dir), str(output),
            "--metadata", str(metadata_path), "--overwrite", "--compression", args.compression,
        ]
        wall, peak_mb = run_measured(command)
        file_mb = output.stat().st_size / 1e6
        print(f"\n{'recording':>10} {'raw MB':>8} {'wall s':>7} {'MB/s':>7} {'peak RSS MB':>12} {'file MB':>8}")
        print(f"{args.seconds:>9.0f}s {raw_mb:>8.0f} {wall:>7.1f} {raw_mb / wall:>7.1f} {peak_mb:>12.0f} {file_mb:>8.0f}")
        verdict = "meets" if peak_mb < TARGET_PEAK_MB else "MISSES"
        print(f"peak memory {peak_mb:.0f} MB {verdict} the < {TARGET_PEAK_MB} MB target (compression {args.compression})")
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
