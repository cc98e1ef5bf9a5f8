"""How many CPU cores this process may really use: its CPU affinity, and the CPU quota of its control group.

A container or a batch-system job is often given a CPU *quota* (Docker ``--cpus 4``, Kubernetes CPU limits, Slurm
with cgroups) rather than an affinity mask: ``os.sched_getaffinity`` then still lists every core of the host, and a
thread per listed core would be throttled by the kernel (a 4-core quota on a 64-core host, 64 threads: each runs a
sixteenth of the time, every handover a cache miss). :func:`usable_cores` takes the smaller of the affinity and the
quota, rounded up (a quota of 2.5 cores gives 3).

cgroup v2 states the quota in ``cpu.max`` (``"<quota> <period>"`` or ``"max <period>"``), v1 in
``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (quota -1: none). Every level from the process's group up to the root
can limit it, so the smallest quota on that path counts.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

#: Where the control-group file system is mounted, and the file naming this process's groups.
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _quota_v2(folder: Path) -> float | None:
    text = _read(folder / "cpu.max")
    if not text:
        return None
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _quota_v1(folder: Path) -> float | None:
    quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
    try:
        quota_value, period_value = float(quota or -1), float(period or 0)
    except ValueError:
        return None
    return quota_value / period_value if quota_value > 0 and period_value > 0 else None


def _group_folders(root: Path, proc_cgroup: Path) -> list[tuple[Path, bool]]:
    """The folders of this process's CPU control groups and of every level above them: ``(folder, is_v2)``."""
    folders: list[tuple[Path, bool]] = []
    for line in (_read(proc_cgroup) or "").splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, group = rest.partition(":")
        if controllers == "" and hierarchy == "0":
            bases = [(root, True)]
        elif "cpu" in controllers.split(","):
            bases = [(root / controllers, False), (root / "cpu", False), (root / "cpu,cpuacct", False)]
        else:
            continue
        relative = Path(group.lstrip("/")) if group else Path()
        for base, is_v2 in bases:
            levels = [relative, *relative.parents] if str(relative) != "." else [Path()]
            folders.extend((base / level, is_v2) for level in levels)
    return folders or [(root, True), (root / "cpu", False)]


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """The smallest CPU quota (in cores) on this process's control-group path, or None when there is none."""
    quotas = [
        quota
        for folder, is_v2 in dict.fromkeys(_group_folders(root, proc_cgroup))
        if (quota := (_quota_v2(folder) if is_v2 else _quota_v1(folder))) is not None
    ]
    return min(quotas) if quotas else None


def usable_cores() -> int:
    """The CPU cores this process may use: its affinity, capped by its control group's CPU quota (rounded up)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    limit = cgroup_cpu_limit()
    if limit is not None:
        cores = min(cores, math.ceil(limit))
    return max(1, cores)


def check_thread_count(text: str) -> int:
    """Parse a number of threads (``--workers`` or ``$NWB_CONVERSIONS_WORKERS``): a whole number from 1 to 1024;
    raise ValueError otherwise."""
    if not (text.strip().isdigit() and 1 <= int(text) <= 1024):
        raise ValueError(f"{text!r} is not a number of threads from 1 to 1024")
    return int(text)
