"""Finished outputs for the hostile rows of :mod:`tests.cli.hostile.zarr` and :mod:`tests.cli.hostile.upload`.

The Allen Dataset II sample session is converted once per test process, to NWB-Zarr and to HDF5, and kept in
memory; each row writes a copy (a few milliseconds) instead of converting again (about two seconds).
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path

from nwb_conversions.conversion import convert_session
from nwb_conversions.datasets import registered_datasets

#: The DANDI subject facts of the outputs.
SUBJECT = {"subject_id": "mouse-1", "species": "Mus musculus", "sex": "F", "age": "P90D"}


def convert_sample(output: Path, backend: str, subject: dict) -> None:
    dataset = registered_datasets()["allen-oephys"]
    source, _ = dataset.write_sample(output.parent / "source")
    convert_session(
        dataset, source, output, backend=backend, inspect=False, progress=False, user_metadata={"Subject": subject}
    )


@functools.lru_cache(maxsize=None)
def sample_files(backend: str) -> tuple[tuple[str, bytes], ...]:
    """The converted sample's files (relative path → bytes); one file ``""`` for HDF5."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / ("out.nwb.zarr" if backend == "zarr" else "out.nwb")
        convert_sample(output, backend, SUBJECT)
        if backend != "zarr":
            return (("", output.read_bytes()),)
        return tuple((path.relative_to(output).as_posix(), path.read_bytes()) for path in sorted(output.rglob("*"))
                     if path.is_file())


def write_copy(path: Path, backend: str) -> Path:
    """Write a copy of the converted sample at ``path`` (a ``.nwb`` file or a ``.nwb.zarr`` folder)."""
    for relative, content in sample_files(backend):
        target = path / relative if relative else path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return path


def write_store(path: Path) -> Path:
    """A copy of the sample NWB-Zarr store at ``path``."""
    return write_copy(path, "zarr")


def write_nwb(path: Path, complete: bool = True) -> Path:
    """A copy of the sample NWB (HDF5) file at ``path``; without ``complete``, its subject's sex and age are
    deleted, so DANDI's validation fails on it."""
    write_copy(path, "hdf5")
    if not complete:
        import h5py

        with h5py.File(path, "a") as file:
            del file["general/subject/sex"], file["general/subject/age"]
    return path


def edit_json(path: Path, change) -> None:
    """Rewrite the JSON file ``path`` with ``change(value)`` applied (it edits the value in place)."""
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value))
