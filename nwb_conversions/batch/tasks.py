"""One task per session of a release: where its output goes (DANDI names), what it is converted with, and what
became of it.

Whether an existing output can be kept (the sidecar beside each finished output) is :mod:`.resume`'s.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable


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
    quicklook: bool = True

    def fingerprint(self) -> dict:
        """The options that change the output's content (``inspect``, ``overwrite`` and ``quicklook`` do not)."""
        from ..conversion import DEFAULT_COMPRESSION

        compression = self.compression or DEFAULT_COMPRESSION[self.backend]
        return {"stub_test": self.stub_test, "compression": compression, "backend": self.backend}

    def session_keywords(self) -> dict:
        """The options as keyword arguments of :func:`nwb_conversions.conversion.convert_session`, as every session
        of a batch passes them (``quicklook`` is the batch's own)."""
        keywords = asdict(self)
        del keywords["quicklook"]
        return keywords


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


#: Called with each result as it arrives (the progress bar).
ResultCallback = Callable[[SessionResult], None]


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


def quicklook_path(output: Path) -> Path:
    """The session's quicklook PNG, beside its NWB file (``sub-x_ses-y.nwb`` → ``sub-x_ses-y.png``)."""
    return output.with_name(output.name.split(".nwb")[0] + ".png")
