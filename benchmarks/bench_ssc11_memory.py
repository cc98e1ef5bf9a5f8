"""Peak memory and speed of ``convert-to-nwb ssc11`` on a large synthetic subvolume file (v7.3 or MATLAB 5).

Writes one ``an*sess_struct.mat`` with ``--frames`` time points × ``--rois`` ROIs (3 planes) of float64 raw F and
ΔF/F (MATLAB doubles, ROI × time), the rest of the struct as in the bundled sample, then converts it in a child
process exactly as a user would and reports the child's peak resident memory (``VmHWM``), wall time and sizes.
The child runs the conversion in its own process (``NWB_CONVERSIONS_NO_FORK=1``: the crash guard's fork would
leave the measured process a small waiting parent).

- ``--version 7.3`` (default: 70 000 frames × 2 000 ROIs, a 2.24 GB file): the matrices are HDF5 datasets, read in
  blocks of time while the writer streams them.
- ``--version 5`` (compressed, MATLAB's ``-v7``; 20 000 frames, as one such variable is < 2 GB) and ``--version 6``
  (uncompressed, ``-v6``): the streamed MATLAB 5 reader keeps the matrices on disk, in the file itself (v6) or in
  the unlinked spill file it inflates the compressed variable into (v7), read in blocks of time.

Target for every kind: peak RSS ≤ 500 MB. ``--compare-with DIR`` converts the same file a second time with the
package found in ``DIR`` (e.g. ``git archive <commit> nwb_conversions | tar -x -C DIR``), for a before/after on
one machine.

Usage::

    python benchmarks/bench_ssc11_memory.py [--version 7.3|5|6] [--frames N] [--rois 2000] [--keep DIR]
                                            [--compare-with DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from measure import run_measured

from nwb_conversions.samples import write_sample_metadata
from nwb_conversions.samples.matlab_files import BlockMatrix
from nwb_conversions.samples.ssc11 import SAMPLE_METADATA, write_session_file
from nwb_conversions.samples.ssc11_struct import FRAME_PERIOD_MS, build_session_struct

TARGET_PEAK_MB = 500
FRAMES_PER_BLOCK = 1000


def large_session_struct(num_frames: int, num_rois: int, *, in_memory: bool) -> dict:
    """The sample struct with ``num_frames`` × ``num_rois`` raw F and ΔF/F (blocks of time, or whole arrays)."""
    per_plane = [num_rois // 3 + (1 if plane < num_rois % 3 else 0) for plane in range(3)]
    sess = build_session_struct(num_frames=60, rois_per_plane=tuple(per_plane), num_trials=3)
    baseline = np.random.default_rng(1).uniform(80, 400, size=num_rois)

    def dff_block(start: int, stop: int) -> np.ndarray:
        return np.random.default_rng(start).normal(0.0, 0.05, size=(stop - start, num_rois))

    def raw_block(start: int, stop: int) -> np.ndarray:
        return baseline * (1.0 + dff_block(start, stop))

    def matrix(block):
        if in_memory:
            return np.concatenate([block(start, min(num_frames, start + FRAMES_PER_BLOCK)).T
                                   for start in range(0, num_frames, FRAMES_PER_BLOCK)], axis=1)
        return BlockMatrix((num_rois, num_frames), np.dtype(np.float64), block, FRAMES_PER_BLOCK)

    ca = sess["caTSA"]
    ca["time"] = (2_000.0 + np.arange(num_frames) * FRAME_PERIOD_MS).reshape(1, -1)
    ca["trialIndices"] = np.ones((1, num_frames))
    ca["valueMatrix"] = matrix(raw_block)
    ca["dffTimeSeriesArray"].update(time=ca["time"], valueMatrix=matrix(dff_block))
    return sess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="7.3", choices=("7.3", "5", "6"))
    parser.add_argument("--frames", type=int)
    parser.add_argument("--rois", type=int, default=2000)
    parser.add_argument("--compression", default="gzip", choices=("gzip", "max", "zstd", "none"))
    parser.add_argument("--keep", type=Path, help="write into this folder and keep it")
    parser.add_argument("--compare-with", type=Path, help="also convert with the package in this folder")
    args = parser.parse_args()
    os.environ["NWB_CONVERSIONS_NO_FORK"] = "1"  # measure the conversion's own process
    frames = args.frames or (70_000 if args.version == "7.3" else 20_000)

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench_ssc11_"))
    try:
        source = workdir / "an274424" / "session_neuropilone_preablate_merged" / "an274424_vol_01_sess_struct.mat"
        started = time.perf_counter()
        sess = large_session_struct(frames, args.rois, in_memory=args.version != "7.3")
        write_session_file(source, sess, version=args.version)
        del sess
        metadata_path = write_sample_metadata(workdir, SAMPLE_METADATA)
        source_mb = source.stat().st_size / 1e6
        print(f"wrote a v{args.version} file of {frames} frames x {args.rois} ROIs ({source_mb:.0f} MB) "
              f"in {time.perf_counter() - started:.0f} s", flush=True)
        arguments = ["ssc11", str(source), str(workdir / "session.nwb"), "--metadata", str(metadata_path),
                     "--overwrite", "--compression", args.compression]
        runs = [("this checkout", [str(Path(sys.executable).parent / "convert-to-nwb"), *arguments])]
        if args.compare_with:
            starter = (f"import sys; sys.path.insert(0, {str(args.compare_with.resolve())!r}); "
                       "from nwb_conversions.cli.main import main; raise SystemExit(main(sys.argv[1:]))")
            runs.append((str(args.compare_with), [sys.executable, "-c", starter, *arguments]))
        traces_mb = 2 * frames * args.rois * 8 / 1e6
        print(f"\n{'MAT':>4} {'frames':>7} {'ROIs':>5} {'file MB':>8} {'traces MB':>9} {'wall s':>7} {'MB/s':>6} "
              f"{'peak RSS MB':>11} {'NWB MB':>7}  package")
        for package, command in runs:
            wall, peak_mb = run_measured(command)
            file_mb = (workdir / "session.nwb").stat().st_size / 1e6
            verdict = "meets" if peak_mb <= TARGET_PEAK_MB else "MISSES"
            print(f"{args.version:>4} {frames:>7} {args.rois:>5} {source_mb:>8.0f} {traces_mb:>9.0f} {wall:>7.1f} "
                  f"{traces_mb / wall:>6.1f} {peak_mb:>11.0f} {file_mb:>7.0f}  {package} ({verdict} the <= "
                  f"{TARGET_PEAK_MB} MB target; {peak_mb / traces_mb:.2f} x the traces)", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
