"""The writer's data in flight fit one budget, whatever the number of cores; the usable cores honour CPU quotas."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import nwb_conversions.writing.write as chunk_writer
from nwb_conversions.writing.cores import cgroup_cpu_limit
from nwb_conversions.writing.in_flight import (
    DEFAULT_MEMORY_MB,
    InFlight,
    check_memory_mb,
    memory_budget_bytes,
    plan_in_flight,
)

#: 1 s × 384 channels of int16 per row, 1 s × 64 channels per chunk: the Neuropixels layout.
NEUROPIXELS = dict(row_bytes=30_000 * 384 * 2, chunk_bytes=30_000 * 64 * 2, chunks_per_row=6)


def test_two_cores_keep_todays_writer():
    assert plan_in_flight(memory_budget_bytes(), threads=2, **NEUROPIXELS) == InFlight(2, 2, 6)


@pytest.mark.parametrize("threads", [1, 2, 4, 8, 16, 32, 64])
def test_the_default_budget_holds_at_every_core_count(threads):
    plan = plan_in_flight(memory_budget_bytes(), threads=threads, **NEUROPIXELS)
    assert plan.bytes(NEUROPIXELS["row_bytes"], NEUROPIXELS["chunk_bytes"]) <= DEFAULT_MEMORY_MB * 1e6
    assert plan.threads == min(threads, 11) and plan.window >= NEUROPIXELS["chunks_per_row"]


def test_a_larger_budget_gives_every_thread_a_longer_queue():
    assert plan_in_flight(350_000_000, threads=16, **NEUROPIXELS) == InFlight(16, 7, 32)
    assert plan_in_flight(500_000_000, threads=16, **NEUROPIXELS) == InFlight(16, 9, 48)


def test_a_budget_too_small_for_one_thread_gives_the_smallest_writer():
    assert plan_in_flight(1_000, threads=8, **NEUROPIXELS) == InFlight(1, 2, 6)


def test_a_one_dimensional_series_queues_several_rows():
    plan = plan_in_flight(memory_budget_bytes(), row_bytes=80_000, chunk_bytes=80_000, chunks_per_row=1, threads=4)
    assert plan == InFlight(4, 13, 12)


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "0", "15.9", "-200", "1e7"])
def test_a_malformed_budget_is_refused(text):
    with pytest.raises(ValueError, match=repr(text)):
        check_memory_mb(text)


def test_the_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("NWB_CONVERSIONS_MEMORY_MB", "64")
    assert memory_budget_bytes() == 64_000_000 and memory_budget_bytes(200) == 200_000_000


def test_the_writer_uses_the_threads_the_budget_allows(tmp_path, monkeypatch):
    """16 threads asked for, a budget for 3: the pool has 3 threads, and the data are written bit-exact."""
    pool_sizes = []
    real_pool = chunk_writer.ThreadPoolExecutor

    def recording_pool(max_workers, **options):
        pool_sizes.append(max_workers)
        return real_pool(max_workers=max_workers, **options)

    monkeypatch.setattr(chunk_writer, "ThreadPoolExecutor", recording_pool)
    source = np.random.default_rng(0).integers(-300, 300, size=(20_000, 384), dtype=np.int16)
    with h5py.File(tmp_path / "data.h5", "w") as file:
        dataset = file.create_dataset("data", shape=source.shape, dtype="int16", chunks=(2_000, 64),
                                      compression="gzip", shuffle=True)
        row_bytes, chunk_bytes = 2_000 * 384 * 2, 2_000 * 64 * 2
        budget = InFlight(3, 2, 6).bytes(row_bytes, chunk_bytes)  # 4 threads need one more chunk than this
        chunk_writer.fill_dataset(dataset, source, workers=16, memory_mb=budget / 1e6, progress=False)
    with h5py.File(tmp_path / "data.h5", "r") as file:
        assert np.array_equal(file["data"][:], source)
    assert pool_sizes == [3]


def write_cgroup(root, proc, lines: str, files: dict) -> None:
    proc.write_text(lines)
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


@pytest.mark.parametrize(
    ("lines", "files", "limit"),
    [
        ("0::/job\n", {"cpu.max": "max 100000\n", "job/cpu.max": "250000 100000\n"}, 2.5),
        ("0::/a/b\n", {"a/cpu.max": "400000 100000\n", "a/b/cpu.max": "max 100000\n"}, 4.0),
        ("0::/\n", {"cpu.max": "max 100000\n"}, None),
        ("4:cpu,cpuacct:/docker/x\n", {"cpu,cpuacct/docker/x/cpu.cfs_quota_us": "300000\n",
                                       "cpu,cpuacct/docker/x/cpu.cfs_period_us": "100000\n"}, 3.0),
        ("4:cpu,cpuacct:/docker/x\n", {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ("0::/job\n", {"job/cpu.max": "garbage\n"}, None),
        ("", {}, None),
    ],
)
def test_the_cpu_quota_of_the_control_group_path(tmp_path, lines, files, limit):
    root, proc = tmp_path / "cgroup", tmp_path / "proc_cgroup"
    root.mkdir()
    write_cgroup(root, proc, lines, files)
    assert cgroup_cpu_limit(root, proc) == limit


def test_usable_cores_are_capped_by_the_quota(monkeypatch):
    import nwb_conversions.writing.cores as cores

    monkeypatch.setattr(cores, "cgroup_cpu_limit", lambda: 0.5)
    assert cores.usable_cores() == 1
    monkeypatch.setattr(cores, "cgroup_cpu_limit", lambda: 1000.0)
    assert cores.usable_cores() == len(__import__("os").sched_getaffinity(0))
