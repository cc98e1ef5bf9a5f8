"""Time and peak memory of the quicklook figure of a synthetic SPE-1 cell (default: 10 s and 60 s).

For each length it writes a sample release (1.38 GB of Neuropixels int16 per minute), converts it, then draws the
quicklook in child processes:

* ``command``: ``convert-to-nwb quicklook c14.nwb -o c14.png`` as a user runs it (``python -m nwb_conversions.cli.main``) (start-up, the nwbinspector gate
  for the text panel's counts, the figure);
* ``figure``: a child that imports everything first, then times the gate and the figure separately
  (``write_quicklook(..., report=...)``, as ``--quicklook`` after a conversion does).

Each child's peak resident memory (``VmHWM``) is polled. The figure reads slices only, so its time and memory should
not grow with the recording's length.

Usage::

    python benchmarks/bench_quicklook.py [--seconds 10 60] [--keep DIR]
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

from measure import poll_peak_mb

from nwb_conversions.conversion import convert_session
from nwb_conversions.datasets import registered_datasets
from nwb_conversions.samples.spe1 import write_spe1_release


def run_measured(command: list[str]) -> tuple[float, float, str]:
    """Run ``command``; return (wall seconds, peak RSS in MB, stdout), polling the child's ``VmHWM``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = poll_peak_mb(process, interval_s=0.01)
    wall = time.perf_counter() - start
    output = process.stdout.read()
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return wall, peak, output


def child(nwb_path: Path, png_path: Path) -> None:
    """Imports first; then time the gate and the figure separately; print them as JSON."""
    from nwb_conversions.publishing.gate import inspect_file
    from nwb_conversions.quicklook import write_quicklook
    from nwb_conversions.quicklook.figure import open_nwbfile
    from nwb_conversions.quicklook.text import missing_subject_fields

    start = time.perf_counter()
    with open_nwbfile(nwb_path) as nwbfile:
        missing = missing_subject_fields(nwbfile)
    report = inspect_file(nwb_path, missing_subject_fields=missing)
    gate_s = time.perf_counter() - start
    start = time.perf_counter()
    result = write_quicklook(nwb_path, png_path, report=report)
    figure_s = time.perf_counter() - start
    print(json.dumps({"gate_s": gate_s, "figure_s": figure_s, "panels": len(result.panels)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0])
    parser.add_argument("--keep", type=Path, help="write into this folder and keep it")
    parser.add_argument("--child", nargs=2, type=Path, metavar=("NWB", "PNG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench_quicklook_"))
    rows = []
    try:
        for seconds in args.seconds:
            folder = workdir / f"{seconds:g}s"
            print(f"writing and converting a {seconds:g} s sample cell in {folder} ...", flush=True)
            cell_dir, metadata_path = write_spe1_release(folder / "release", duration_s=seconds)
            nwb_path = folder / "c14.nwb"
            convert_session(registered_datasets()["spe1"], cell_dir, nwb_path, metadata_path=metadata_path,
                            overwrite=True, inspect=False)
            command_s, command_mb, _ = run_measured([
                sys.executable, "-m", "nwb_conversions.cli.main", "quicklook", str(nwb_path), "-o", str(folder / "command.png")])
            _, child_mb, output = run_measured([sys.executable, __file__, "--child", str(nwb_path),
                                                str(folder / "figure.png")])
            timings = json.loads(output.strip().splitlines()[-1])
            rows.append((seconds, nwb_path.stat().st_size / 1e6, command_s, command_mb, timings["gate_s"],
                         timings["figure_s"], child_mb, timings["panels"]))
        print(f"\n{'recording':>9} {'file MB':>8} {'command s':>10} {'command RSS MB':>15} {'gate s':>7} "
              f"{'figure s':>9} {'child RSS MB':>13} {'panels':>7}")
        for seconds, file_mb, command_s, command_mb, gate_s, figure_s, child_mb, panels in rows:
            print(f"{seconds:>8g}s {file_mb:>8.0f} {command_s:>10.1f} {command_mb:>15.0f} {gate_s:>7.1f} "
                  f"{figure_s:>9.1f} {child_mb:>13.0f} {panels:>7}")
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
