"""Speed and peak memory of ``convert-to-nwb np-opto`` on a session as large as the release's largest.

Writes a synthetic Neuropixels Opto session (default 443 clusters, 6 M spikes, 700 pulses: the release's maxima) in
the real layout, then

1. converts it in a child process exactly as a user would (``convert-to-nwb np-opto SESSION OUT.nwb --metadata
   ...``, nwbinspector gate included) and reports wall time with start-up, the child's peak resident memory
   (``VmHWM``, polled) and the file size;
2. times the stages in this process: reading and checking the files + grouping the spikes by cluster (one stable
   argsort), building the NWB objects (NeuroConv's ``add_sorting_to_nwbfile``, the pulses table, the response
   analysis), writing, and the gate;
3. times the grouping alone against the naive per-cluster selection (``times[clusters == k]`` for every k).

Usage::

    python benchmarks/bench_np_opto.py [--clusters 443] [--spikes 6e6] [--pulses 700] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from measure import run_measured  # noqa: E402

from nwb_conversions.samples.np_opto import write_np_opto_release
from nwb_conversions.samples.np_opto_spikes import NUM_EMITTERS, POWERS_MW, SampleSize


def sample_size(clusters: int, spikes: float, pulses: int) -> SampleSize:
    """A size whose session holds about ``spikes`` spikes and ``pulses`` pulses (one pulse a second)."""
    repeats = max(1, round(pulses / (NUM_EMITTERS * len(POWERS_MW))))
    duration_s = 8.0 + NUM_EMITTERS * len(POWERS_MW) * repeats
    # Rates are drawn uniformly in [0.5, 2] × the mean rate, whose mean is 1.25 × it.
    return SampleSize(num_clusters=clusters, mean_rate_hz=spikes / (clusters * duration_s * 1.25), repeats=repeats)


def time_stages(session: Path, metadata_path: Path, output: Path) -> dict[str, float]:
    """Seconds per stage of one conversion in this process."""
    from nwb_conversions.datasets import registered_datasets
    from nwb_conversions.metadata.assembly import load_yaml_mapping
    from nwb_conversions.publishing.gate import inspect_file
    from nwb_conversions.writing.hdf5 import write_nwbfile

    dataset = registered_datasets()["np-opto"]
    times = {}
    start = time.perf_counter()
    conversion = dataset.build(session, load_yaml_mapping(metadata_path), False)
    times["read, check, group by cluster"] = time.perf_counter() - start
    start = time.perf_counter()
    nwbfile = conversion.converter.create_nwbfile(
        metadata=conversion.metadata, conversion_options=conversion.conversion_options
    )
    times["build NWB objects (units, pulses, responses)"] = time.perf_counter() - start
    start = time.perf_counter()
    write_nwbfile(nwbfile, output, overwrite=True, progress=False)
    times["write"] = time.perf_counter() - start
    start = time.perf_counter()
    inspect_file(output)
    times["nwbinspector gate"] = time.perf_counter() - start
    return times


def time_grouping(session: Path) -> tuple[float, float]:
    """Seconds to group the spikes by cluster: one stable argsort vs a boolean selection per cluster."""
    from nwb_conversions.interfaces.alf_sorting import group_spikes_by_cluster

    times = np.load(session / "spikes.times.npy")
    clusters = np.load(session / "spikes.clusters.npy")
    num_clusters = int(clusters.max()) + 1
    start = time.perf_counter()
    group_spikes_by_cluster(times, clusters, num_clusters)
    vectorized = time.perf_counter() - start
    start = time.perf_counter()
    for cluster in range(num_clusters):
        times[clusters == cluster]
    naive = time.perf_counter() - start
    return vectorized, naive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=443)
    parser.add_argument("--spikes", type=float, default=6e6)
    parser.add_argument("--pulses", type=int, default=700)
    parser.add_argument("--keep", type=Path, help="write into this folder and keep it")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_np_opto_"))
    try:
        start = time.perf_counter()
        size = sample_size(args.clusters, args.spikes, args.pulses)
        root, (session,) = write_np_opto_release(folder / "data", ["AL0034_2024-12-05_en1_p0"], size=size)
        metadata_path = folder / "subject.yaml"
        metadata_path.write_text("Subject:\n  sex: U\n  age: P90D\n", encoding="utf-8")
        num_spikes = len(np.load(session / "spikes.times.npy", mmap_mode="r"))
        num_pulses = len(np.load(session / "stim.times.npy"))
        source_mb = sum(path.stat().st_size for path in session.iterdir()) / 1e6
        print(
            f"wrote {size.num_clusters} clusters, {num_spikes:,} spikes, {num_pulses} pulses ({source_mb:.0f} MB) "
            f"in {time.perf_counter() - start:.1f} s"
        )

        output = folder / "command.nwb"
        command = [sys.executable, "-m", "nwb_conversions.cli.main", "np-opto", str(session), str(output),
                   "--metadata", str(metadata_path), "--overwrite"]
        wall, peak = run_measured(command)
        print(f"convert-to-nwb np-opto (child process, gate included): {wall:.1f} s wall with start-up, "
              f"peak RSS {peak:.0f} MB, file {output.stat().st_size / 1e6:.1f} MB")

        stages = time_stages(session, metadata_path, folder / "stages.nwb")
        print("stages in one process:")
        for stage, seconds in stages.items():
            print(f"  {stage:<48} {seconds:6.2f} s")
        print(f"  {'total':<48} {sum(stages.values()):6.2f} s")

        vectorized, naive = time_grouping(session)
        print(f"grouping {num_spikes:,} spikes into {size.num_clusters} clusters: one argsort {vectorized:.2f} s, "
              f"a selection per cluster {naive:.2f} s ({naive / vectorized:.0f}× slower)")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
