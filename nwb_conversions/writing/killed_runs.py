"""Clean up after runs that were killed while writing an NWB-Zarr store (SIGKILL, out of memory, a power cut).

A killed run leaves its temporary folder (:func:`.output.partial_path`) and, if it was replacing a store on a file
system that cannot swap folders in one step, the old store moved aside (:func:`aside_path`). The next run onto the
same output removes the first and puts the second back (or removes it, if the target holds a store again); only
paths named after a process that is no longer running are touched.
"""

from __future__ import annotations

import os
from pathlib import Path

from .output import left_by_killed_runs, marked_path, remove_stale_partials
from .zarr_target import is_zarr_store, remove_tree


def aside_path(output_path: Path, pid: int) -> Path:
    """Where the run with process id ``pid`` moves the store it replaces, when folders cannot be swapped."""
    return marked_path(output_path, "previous", pid)


def recover_stale_folders(output_path: str | Path) -> tuple[list[Path], list[Path]]:
    """Clean up after killed runs that wrote the store ``output_path``: remove their temporary folders, and put back
    a store one of them had moved aside to replace it (or remove it, if the target holds a store again).

    Returns
    -------
    removed, restored : list of Path
        What was removed, and the stores put back, for a note.
    """
    output_path = Path(output_path)
    removed, restored = [], []
    for path in left_by_killed_runs(output_path, "partial"):
        if path.is_dir() and not path.is_symlink():  # a killed HDF5 run's file is :func:`.output`'s to remove
            remove_tree(path)
            removed.append(path)
    for path in left_by_killed_runs(output_path, "previous"):
        if not (output_path.exists() or output_path.is_symlink()) and is_zarr_store(path):
            os.rename(path, output_path)
            restored.append(path)
        else:
            remove_tree(path)
            removed.append(path)
    return removed, restored


def killed_runs_notes(output_path: str | Path) -> list[str]:
    """Remove the temporary files and folders that killed runs left beside the output (and put back a store one of
    them had moved aside); a note naming them, if there were any."""
    output_path = Path(output_path)
    stale = remove_stale_partials(output_path)
    removed, restored = recover_stale_folders(output_path)
    notes = [
        f"removed {len(paths)} temporary {kind}(s) left beside the output by an earlier, killed run: "
        + ", ".join(path.name for path in paths)
        for kind, paths in (("file", stale), ("folder", removed))
        if paths
    ]
    return notes + [
        f"put back {output_path}, which an earlier run killed while replacing it had moved aside to {path.name}"
        for path in restored
    ]
