"""Throughput of ``convert-to-nwb batch`` on a synthetic SPE-1 release: N cells of S seconds each.

Writes the release (1.38 GB of Neuropixels int16 per cell-minute) and a sessions table to a temporary folder, runs
the batch in a child process exactly as a user would, and reports wall time, MB/s of raw input and seconds per
session. ``--scheduler local`` starts a Dask LocalCluster (worker processes, one thread each) and passes its
address, to compare the Dask path with the local process pool on the same machine.

Usage::

    python benchmarks/bench_batch.py [--cells 4] [--seconds 20] [--workers N] [--backend hdf5|zarr]
                                     [--scheduler local] [--no-inspect] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench_spe1_memory import run_measured

from nwb_conversions.samples.spe1 import write_spe1_sample_release


@contextlib.contextmanager
def scheduler_address(kind: str | None, workers: int | None):
    """Yield None (local process pool) or the address of a Dask LocalCluster started here."""
    if kind is None:
        yield None
        return
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--backend", default="hdf5", choices=("hdf5", "zarr"))
    parser.add_argument("--scheduler", choices=("local",), help="run on a Dask LocalCluster started here")
    parser.add_argument("--no-inspect", action="store_true")
    parser.add_argument("--keep", type=Path, help="write into this folder and keep it")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_batch_"))
    try:
        root, cells = write_spe1_sample_release(folder / "release", args.cells, duration_s=args.seconds)
        table = folder / "sessions.csv"
        table.write_text(
            "session,subject_id,species,sex,age\n"
            + "".join(f"{cell.name},rat-{index},Rattus norvegicus,U,P60D\n" for index, cell in enumerate(cells))
        )
        raw_mb = sum(path.stat().st_size for cell in cells for path in cell.glob("*.bin")) / 1e6
        output_dir = folder / "nwb"
        shutil.rmtree(output_dir, ignore_errors=True)
        with scheduler_address(args.scheduler, args.workers) as address:
            command = [sys.executable, "-m", "nwb_conversions.cli.main", "batch", "spe1", str(root), str(output_dir),
                       "--sessions-table", str(table), "--backend", args.backend]
            command += ["--workers", str(args.workers)] if args.workers and not address else []
            command += ["--scheduler", address] if address else []
            command += ["--no-inspect"] if args.no_inspect else []
            wall, _ = run_measured(command)
        report = json.loads((output_dir / "batch_report.json").read_text())
        output_mb = sum(row["megabytes"] or 0 for row in report["sessions"])
        print(
            f"{args.cells} cells × {args.seconds:g} s ({raw_mb:.0f} MB raw), backend {args.backend}, "
            f"{'Dask LocalCluster' if args.scheduler else 'local pool'}, gate {'off' if args.no_inspect else 'on'}: "
            f"{wall:.1f} s, {raw_mb / wall:.0f} MB/s, {wall / args.cells:.1f} s/session, "
            f"output {output_mb:.0f} MB (ratio {raw_mb / max(output_mb, 1e-9):.2f}); {report['counts']}"
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
