"""One task per session of a release: where its output goes (DANDI names), what it is converted with, and whether
an existing output can be kept (resumability).

A finished output gets a small sidecar beside it, ``.<output name>.batch.json``, recording what produced it: the
dataset, the source, the options and a digest of the session's metadata, and the DANDI subject fields that were
missing (so the gate can be re-run tolerating exactly those, as the conversion's gate did). A re-run keeps an output
(SKIPPED) when the sidecar matches the task and the output still opens and passes the gate; any other existing
output is reported FAILED with what is wrong, and only ``--overwrite`` replaces it. Dot files are ignored by
``dandi organize`` and ``dandi upload``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..errors import ConversionError

#: Folder name for outputs whose subject nobody named (DANDI organize refuses such files until a table names it).
UNKNOWN_SUBJECT = "unknown"


@dataclass(frozen=True)
class ConversionOptions:
    """The options every session of a batch is converted with."""

    stub_test: bool = False
    compression: str | None = None
    inspect: bool = True
    backend: str = "hdf5"
    overwrite: bool = False

    def fingerprint(self) -> dict:
        """The options that change the output's content (``inspect`` and ``overwrite`` do not)."""
        from ..conversion import DEFAULT_COMPRESSION

        compression = self.compression or DEFAULT_COMPRESSION[self.backend]
        return {"stub_test": self.stub_test, "compression": compression, "backend": self.backend}

    def session_keywords(self) -> dict:
        """The options as keyword arguments of :func:`nwb_conversions.conversion.convert_session`, as every session
        of a batch passes them."""
        return asdict(self)


@dataclass(frozen=True)
class SessionTask:
    """Everything a worker needs to convert one session; plain data, so it pickles to a process or a Dask worker.

    Attributes
    ----------
    dataset_key : str
    session : str
        The session's folder or file name, as ``find_sessions`` lists it.
    source : Path
    output : Path
    user_metadata : dict
        The session's row of the sessions table (applied over ``metadata_path``).
    metadata_path : Path or None
        The release's ``--metadata`` file.
    options : ConversionOptions
    threads : int or None
        Compression threads; None: ``$NWB_CONVERSIONS_WORKERS``, else all usable cores (a Dask task sets its
        share of its host, :func:`nwb_conversions.batch.runners.threads_on_worker`).
    """

    dataset_key: str
    session: str
    source: Path
    output: Path
    user_metadata: dict = field(default_factory=dict)
    metadata_path: Path | None = None
    options: ConversionOptions = ConversionOptions()
    threads: int | None = None


@dataclass
class SessionResult:
    """What became of one session: ``OK``, ``FAILED`` or ``SKIPPED``, with a one-line reason."""

    session: str
    status: str
    reason: str = ""
    seconds: float = 0.0
    megabytes: float | None = None
    source: str = ""
    output: str = ""
    quicklook: str = ""
    gate_messages: str = ""

    def as_row(self) -> dict:
        """The report's row."""
        return asdict(self)


def dandi_label(text: str) -> str:
    """A DANDI entity label: letters, digits and dashes (``2014_11_25_Pair_3_0`` → ``2014-11-25-Pair-3-0``)."""
    return re.sub(r"[^A-Za-z0-9]+", "-", str(text)).strip("-") or UNKNOWN_SUBJECT


def session_label(session_path: Path) -> str:
    """The session part of the name: the folder's name, or the file's name without its suffix."""
    return dandi_label(session_path.name if session_path.is_dir() else session_path.stem)


def output_path_for(output_dir: Path, subject_id: str | None, session_path: Path, backend: str) -> Path:
    """``sub-<subject>/sub-<subject>_ses-<session>.nwb`` (``.nwb.zarr`` for Zarr), as DANDI names files."""
    subject = dandi_label(subject_id) if subject_id else UNKNOWN_SUBJECT
    suffix = ".nwb.zarr" if backend == "zarr" else ".nwb"
    return output_dir / f"sub-{subject}" / f"sub-{subject}_ses-{session_label(session_path)}{suffix}"


def metadata_digest(task: SessionTask) -> str:
    """SHA-256 of the session's user metadata (the release file's bytes and the table row)."""
    digest = hashlib.sha256()
    if task.metadata_path is not None:
        digest.update(Path(task.metadata_path).read_bytes())
    digest.update(json.dumps(task.user_metadata, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def provenance(task: SessionTask) -> dict:
    """What produces the task's output; the sidecar holds this plus what the conversion found."""
    return {
        "producer": f"nwb_conversions {__version__} batch",
        "dataset": task.dataset_key,
        "source": str(Path(task.source).resolve()),
        "options": task.options.fingerprint(),
        "metadata_sha256": metadata_digest(task),
    }


def sidecar_path(output_path: Path) -> Path:
    """``.<output name>.batch.json`` beside the output."""
    return output_path.with_name(f".{output_path.name}.batch.json")


def write_sidecar(task: SessionTask, missing_subject_fields: list[str]) -> None:
    """Record what produced the output (written to a temporary name, then renamed)."""
    record = dict(
        provenance(task),
        missing_subject_fields=list(missing_subject_fields),
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    path = sidecar_path(task.output)
    temporary = path.with_name(f"{path.name}.partial-{os.getpid()}")
    temporary.write_text(json.dumps(record, indent=1), encoding="utf-8")
    os.replace(temporary, path)


def read_sidecar(output_path: Path) -> dict | None:
    """The sidecar's record, or None if it is missing or unreadable."""
    try:
        record = json.loads(sidecar_path(output_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def inspect_output(output_path: Path, missing_subject_fields: list[str]):
    """The gate's inspection of an existing output, HDF5 or Zarr."""
    from ..publishing.gate import inspect_file, inspect_zarr_store
    from ..writing.zarr_store import is_zarr_store

    inspect = inspect_zarr_store if is_zarr_store(output_path) else inspect_file
    return inspect(output_path, missing_subject_fields=missing_subject_fields)


def existing_output_verdict(task: SessionTask) -> str:
    """Why an existing output may be kept (a SKIPPED reason), or raise why not.

    Raises
    ------
    ConversionError
        If the output was not written by a batch, was written from another source or with other options or
        metadata, or no longer passes the gate.
    """
    from ..publishing.gate import describe

    output = task.output
    record = read_sidecar(output)
    if record is None:
        raise ConversionError(
            f"{output}: exists but has no {sidecar_path(output).name} saying a batch wrote it; expected --overwrite "
            "to convert the session again"
        )
    expected = provenance(task)
    changed = [key for key in ("dataset", "source", "options", "metadata_sha256") if record.get(key) != expected[key]]
    if changed:
        raise ConversionError(
            f"{output}: exists but was written with another {', '.join(changed)}; expected --overwrite to convert "
            "the session again with the current ones"
        )
    if not task.options.inspect:
        return f"output exists (written {record.get('finished', '?')}); not inspected (--no-inspect)"
    report = inspect_output(output, list(record.get("missing_subject_fields", [])))
    if report.blocking:
        raise ConversionError(
            f"{output}: exists but fails the gate: {describe(report.blocking[0])}; expected --overwrite to convert "
            "the session again"
        )
    return f"output exists and passes the gate (written {record.get('finished', '?')})"
