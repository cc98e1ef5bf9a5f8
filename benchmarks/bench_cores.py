"""Core sweep: whole commands on 1, 2, 4, 8, 16 cores (CPU affinity), against NeuroConv on the same cores.

Usage::

    python benchmarks/bench_cores.py [--cores 1,2,4,8,16] [--seconds 60] [--model np1|slow-drift]
                                     [--batch-cells 8] [--batch-seconds 10] [--disk-seconds 0] [--workdir DIR]

Core counts above the machine's usable cores are skipped. For each count ``k`` every child runs with its CPU
affinity set to the first ``k`` usable cores (``os.sched_setaffinity`` before ``exec``), and each row reports wall
time, CPU seconds (user + system of the whole process tree) and the peak resident memory of its largest process
(``VmHWM``, polled; ``convert-to-nwb`` runs its conversion in a forked child, which is the one measured):

* ``spe1``: ``convert-to-nwb spe1 CELL OUT.nwb --no-inspect`` on a cell of ``--seconds`` of the calibrated data model
  (``bench_neuropixels``), and ``neuroconv``: NeuroConv 0.10.2's defaults on the same binary, the ratio between them;
* ``stub``: the same command with ``--stub`` (2 s of data): the fixed cost of a session;
* ``batch``: ``convert-to-nwb batch spe1 --workers k --no-inspect`` over ``--batch-cells`` cells of ``--batch-seconds``
  each (each its own calibrated recording; the gate off, as NeuroConv runs none) against NeuroConv converting the same
  binaries side by side, ``k`` at a time; ``batch-nq`` the same with ``--no-quicklook`` (no PNG per session);
* ``disk`` (with ``--disk-seconds S``): a cell of S seconds converted and ``sync``-ed, against an ``fsync``-ed copy of
  the output file's bytes: how close the writer comes to the disk's speed.

Every conversion is followed by ``os.sync()`` (not timed for the conversions, timed for the disk row) so that one
run's write-back does not slow the next.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_neuropixels import DATA_MODELS, compile_package_bytecode, prepare_cell, write_synthetic_recording
from measure import peak_resident_mb, process_tree

COMMAND = [sys.executable, "-m", "nwb_conversions.cli.main"]
NEUROCONV_CHILD = [sys.executable, str(Path(__file__).with_name("bench_neuropixels.py")), "--child", "neuroconv"]


def run_on_cores(commands: list[list[str]], cores: list[int], at_once: int) -> dict:
    """Run ``commands`` (``at_once`` at a time) with CPU affinity ``cores``; wall, CPU-s and the largest peak RSS."""
    peaks: dict[int, float] = {}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    def run_one(command: list[str]) -> None:
        process = subprocess.Popen(command, preexec_fn=lambda: os.sched_setaffinity(0, cores),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while process.poll() is None:
            for pid in process_tree(process.pid):
                peaks[pid] = max(peaks.get(pid, 0.0), peak_resident_mb(pid) or 0.0)
            time.sleep(0.02)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{process.stderr.read()[-3000:]}")

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        list(pool.map(run_one, commands))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.sync()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return dict(wall=wall, cpu=cpu, peak=max(peaks.values(), default=0.0))


def calibrated_cell(workdir: Path, seconds: float, model_name: str, seed: int) -> tuple[Path, Path, Path]:
    """A sample SPE-1 cell whose Neuropixels binary is ``seconds`` of the calibrated model; (cell, metadata, raw)."""
    raw = workdir / f"raw-{seed}.bin"
    workdir.mkdir(parents=True, exist_ok=True)
    write_synthetic_recording(raw, seconds, DATA_MODELS[model_name], seed=seed)
    cell, metadata = prepare_cell(raw, workdir / f"cell-{seed}", seconds)
    return cell, metadata, raw


def spe1_command(cell: Path, metadata: Path, output: Path, *extra: str) -> list[str]:
    return COMMAND + ["spe1", str(cell), str(output), "--metadata", str(metadata), "--overwrite", "--no-inspect",
                      *extra]


def row(name: str, k: int, ours: dict, neuroconv: dict | None = None) -> None:
    versus = f"  NeuroConv {neuroconv['wall']:6.1f} s  ×{neuroconv['wall'] / ours['wall']:5.1f}" if neuroconv else ""
    print(f"{name:6} {k:3} cores: {ours['wall']:6.2f} s  {ours['cpu']:6.1f} CPU-s  {ours['peak']:5.0f} MB{versus}",
          flush=True)


def batch_release(root: Path, cells: int, seconds: int, model_name: str) -> tuple[list[Path], Path]:
    """A sample SPE-1 release of ``cells`` cells whose Neuropixels binaries are each their own calibrated recording;
    returns the binaries and a sessions table with the subject facts."""
    from nwb_conversions.samples.spe1 import write_spe1_sample_release

    _, cell_dirs = write_spe1_sample_release(root, cells, duration_s=seconds)
    raws = []
    for index, cell in enumerate(cell_dirs):
        raws.append(cell / f"{cell.name}_npx_raw.bin")
        write_synthetic_recording(raws[-1], seconds, DATA_MODELS[model_name], seed=1 + index)
    table = root.parent / "sessions.csv"
    table.write_text("session,subject_id,species,sex,age\n" + "".join(
        f"{cell.name},rat-{index},Rattus norvegicus,U,P60D\n" for index, cell in enumerate(cell_dirs)))
    return raws, table


def sweep(args, counts: list[int], usable: list[int], workdir: Path) -> None:
    cell, metadata, raw = calibrated_cell(workdir, args.seconds, args.model, seed=0)
    batch_root = workdir / "batch"
    batch_raws, table = batch_release(batch_root, args.batch_cells, args.batch_seconds, args.model)
    for k in counts:
        cores = usable[:k]
        output = workdir / "out.nwb"
        ours = run_on_cores([spe1_command(cell, metadata, output)], cores, 1)
        neuroconv = run_on_cores([NEUROCONV_CHILD + [str(raw), str(workdir / "neuroconv.nwb")]], cores, 1)
        row("spe1", k, ours, neuroconv)
        row("stub", k, run_on_cores([spe1_command(cell, metadata, workdir / "stub.nwb", "--stub")], cores, 1))
        side_by_side = [NEUROCONV_CHILD + [str(raw_path), str(workdir / f"neuroconv-{index}.nwb")]
                        for index, raw_path in enumerate(batch_raws)]
        neuroconv = run_on_cores(side_by_side, cores, k)
        for name, extra in (("batch", []), ("batch-nq", ["--no-quicklook"])):
            batch_out = workdir / f"batch-out-{k}"
            batch = [COMMAND + ["batch", "spe1", str(batch_root), str(batch_out), "--workers", str(k),
                                "--sessions-table", str(table), "--no-inspect", *extra]]
            row(name, k, run_on_cores(batch, cores, 1), neuroconv)
            shutil.rmtree(batch_out, ignore_errors=True)


def fsynced_copy_seconds(path: Path, target: Path, block: int = 16 * 2**20) -> float:
    """Seconds to copy ``path``'s bytes to ``target`` and fsync it (the source is in the page cache)."""
    start = time.perf_counter()
    with open(path, "rb") as source, open(target, "wb") as copy:
        while data := source.read(block):
            copy.write(data)
        copy.flush()
        os.fsync(copy.fileno())
    return time.perf_counter() - start


def disk_row(args, usable: list[int], workdir: Path) -> None:
    cell, metadata, _ = calibrated_cell(workdir / "disk", args.disk_seconds, args.model, seed=100)
    output = workdir / "disk.nwb"
    start = time.perf_counter()
    run_on_cores([spe1_command(cell, metadata, output)], usable, 1)  # ends with os.sync()
    ours = time.perf_counter() - start
    copy = fsynced_copy_seconds(output, workdir / "disk-copy.nwb")
    size_gb = output.stat().st_size / 1e9
    print(f"disk   {len(usable):3} cores: convert + sync {ours:.1f} s, fsync'd copy of its {size_gb:.2f} GB "
          f"{copy:.1f} s ({size_gb / copy:.2f} GB/s): ours at {copy / ours:.2f}× the copy's speed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default="1,2,4,8,16")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--model", default="np1", choices=sorted(DATA_MODELS))
    parser.add_argument("--batch-cells", type=int, default=8)
    parser.add_argument("--batch-seconds", type=int, default=10)
    parser.add_argument("--disk-seconds", type=int, default=0, help="also the disk row, on a cell this long")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    usable = sorted(os.sched_getaffinity(0))
    counts = [k for k in (int(text) for text in args.cores.split(",")) if k <= len(usable)]
    compile_package_bytecode()
    print(f"{len(usable)} usable cores; model {args.model}; {args.seconds} s cell; batch {args.batch_cells} × "
          f"{args.batch_seconds} s; load {os.getloadavg()}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench_cores_", dir=args.workdir))
    try:
        sweep(args, counts, usable, workdir)
        if args.disk_seconds:
            disk_row(args, usable, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
