"""Convert one session: build the converter, check the metadata, write atomically, run the nwbinspector gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from jsonschema.exceptions import ValidationError

from .datasets import Conversion, Dataset
from .errors import ConversionError, MetadataError, OutputExistsError
from .metadata.assembly import (
    check_user_metadata,
    deep_update,
    load_yaml_mapping,
    missing_dandi_subject_fields,
    normalize_for_schema,
)
from .publishing.gate import InspectionReport, gate, gate_zarr_store
from .readers.yaml_metadata import unknown_top_level_key_notes
from .writing.hdf5 import write_nwbfile
from .writing.killed_runs import killed_runs_notes
from .writing.zarr_store import write_nwbfile_zarr
from .writing.zarr_target import check_zarr_target

if TYPE_CHECKING:
    from pynwb import NWBFile

#: The ``--backend`` choices: HDF5 (``.nwb``, the DANDI default) or NWB-Zarr (a folder, for cloud-native access).
BACKEND_CHOICES = ("hdf5", "zarr")

#: ``--compression`` when none is given, per backend (see :mod:`nwb_conversions.writing.zarr_store` for Zarr's codecs).
DEFAULT_COMPRESSION = {"hdf5": "gzip", "zarr": "zstd"}


@dataclass
class ConversionResult:
    """What one conversion produced.

    Attributes
    ----------
    output_path : Path
    report : InspectionReport or None
        None with ``inspect=False``.
    missing_subject_fields : list of str
        DANDI subject fields nobody supplied.
    notes : list of str
        The dataset module's notes (assumptions, missing facts).
    """

    output_path: Path
    report: InspectionReport | None
    missing_subject_fields: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def schema_error_line(error: ValidationError) -> str:
    """Say where in the metadata a JSON-schema error is, and what is wrong, in one line."""
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"metadata {where}: {' '.join(error.message.split())}"


def resolved(path: Path) -> Path:
    """``path.resolve()``, with a symbolic link loop as one-line error."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as error:
        raise ConversionError(f"{path}: cannot be resolved ({error}); expected a path without a symbolic link loop")


def check_output_path(output_path: Path, sources: list[Path], *, overwrite: bool, backend: str = "hdf5") -> None:
    """Refuse an output that exists (without ``overwrite``), is a folder (but an NWB-Zarr store with the zarr
    backend), is one of the sources, or lies inside a source folder.

    Parameters
    ----------
    output_path : Path
    sources : list of Path
        Every file and folder the conversion reads (the session, release tables, the user's metadata file).

    Raises
    ------
    ConversionError
    """
    if backend == "zarr":
        check_zarr_target(output_path, overwrite=overwrite)
    elif output_path.is_dir():
        raise ConversionError(f"{output_path}: is a folder; expected the path of the .nwb file to write")
    for parent in output_path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConversionError(
                    f"{output_path}: {parent} is a file, not a folder; expected an output path under folders only"
                )
            break
    output = resolved(output_path)
    for source in sources:
        source = resolved(Path(source))
        if output == source:
            raise ConversionError(
                f"{output_path}: is a source file of this conversion ({source.name}); expected an output path that "
                "is not read by the conversion: sources are never replaced, even with --overwrite"
            )
        if source.is_dir() and source in output.parents:
            raise ConversionError(
                f"{output_path}: lies inside the source folder {source}; expected an output path outside the "
                "session's folder"
            )
    if (output_path.exists() or output_path.is_symlink()) and not overwrite:
        raise OutputExistsError(output_path)


def convert_session(
    dataset: Dataset,
    source_path: str | Path,
    output_path: str | Path,
    *,
    metadata_path: str | Path | None = None,
    overwrite: bool = False,
    stub_test: bool = False,
    compression: str | None = None,
    inspect: bool = True,
    progress: bool | None = None,
    workers: int | None = None,
    memory_mb: float | None = None,
    build_options: dict | None = None,
    user_metadata: dict | None = None,
    backend: str = "hdf5",
) -> ConversionResult:
    """Convert one session of ``dataset`` to ``output_path``.

    Parameters
    ----------
    dataset : Dataset
    source_path : str or Path
        The session (folder or file) in the dataset's original format.
    output_path : str or Path
        The NWB file to write; written atomically.
    metadata_path : str or Path, optional
        The user's YAML metadata, applied last.
    overwrite : bool, default: False
        Replace an existing output.
    stub_test : bool, default: False
        Write only a few seconds of each stream.
    compression : str, optional
        See :data:`nwb_conversions.COMPRESSION_CHOICES`; default :data:`DEFAULT_COMPRESSION` of the backend.
    inspect : bool, default: True
        Run the nwbinspector gate; a CRITICAL problem (other than missing subject facts) fails the conversion.
    progress : bool, optional
        Progress bars; default: when stderr is a terminal.
    workers, memory_mb : int and float, optional
        Compression threads at most, and the HDF5 writer's budget for data in flight in MB; default
        ``$NWB_CONVERSIONS_WORKERS`` and ``$NWB_CONVERSIONS_MEMORY_MB``, else the usable cores and 160 MB.
    build_options : dict, optional
        Dataset-specific keyword arguments for ``dataset.build`` (its ``extra_arguments``, e.g. ``raw_cell_dir``).
    user_metadata : dict, optional
        More user metadata (e.g. a row of a batch's sessions table), applied over ``metadata_path``'s.
    backend : {"hdf5", "zarr"}, default: "hdf5"
        ``zarr`` writes NWB-Zarr (a folder) with :func:`nwb_conversions.writing.zarr_store.write_nwbfile_zarr`.

    Raises
    ------
    ConversionError
        On bad sources, bad metadata, an existing output or a failed gate; no output file is left behind.
    """
    output_path, source_path = Path(output_path), Path(source_path)
    user_sources = [source_path] + ([Path(metadata_path)] if metadata_path else [])
    if backend not in BACKEND_CHOICES:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKEND_CHOICES}")
    compression = compression or DEFAULT_COMPRESSION[backend]
    stale_notes = killed_runs_notes(output_path)  # first: a store a killed run had moved aside is put back
    check_output_path(output_path, user_sources, overwrite=overwrite, backend=backend)
    user_metadata = merged_user_metadata(metadata_path, user_metadata, source_path)
    conversion = dataset.build(source_path, user_metadata, stub_test, **(build_options or {}))
    sources = user_sources + list(conversion.sources)
    check_output_path(output_path, sources, overwrite=overwrite, backend=backend)
    schema_properties = conversion.converter.get_metadata_schema()["properties"]
    conversion.notes.extend(unknown_top_level_key_notes(user_metadata, schema_properties, metadata_path))
    conversion.notes.extend(stale_notes)
    metadata = normalize_for_schema(conversion.metadata)
    nwbfile = build_nwbfile(conversion, metadata, metadata_path or source_path)
    missing = undocumented_subject_fields(metadata)
    check = GateCheck(backend, missing, output_path) if inspect else None
    options = dict(overwrite=overwrite, compression=compression, check=check, workers=workers, sources=sources)
    write_output(nwbfile, output_path, backend, options, dict(progress=progress, memory_mb=memory_mb))
    return ConversionResult(
        output_path=output_path,
        report=check.report if check is not None else None,
        missing_subject_fields=[name for name in missing if name != "subject"],
        notes=conversion.notes,
    )


def write_output(nwbfile: NWBFile, output_path: Path, backend: str, options: dict, hdf5_options: dict) -> None:
    """Write ``nwbfile`` with the backend's writer: ``options`` for both, ``hdf5_options`` for the HDF5 one only."""
    if backend == "zarr":
        write_nwbfile_zarr(nwbfile, output_path, **options)
    else:
        write_nwbfile(nwbfile, output_path, **options, **hdf5_options)


def merged_user_metadata(metadata_path: str | Path | None, user_metadata: dict | None, source_path: Path) -> dict:
    """The user's metadata: the YAML file's (if any), with ``user_metadata`` over it; both checked first.

    Raises
    ------
    MetadataError
        If either holds something that is not user metadata.
    """
    file_metadata = load_yaml_mapping(metadata_path) if metadata_path else {}
    check_user_metadata(file_metadata, metadata_path)
    check_user_metadata(user_metadata or {}, metadata_path or source_path)
    return deep_update(file_metadata, user_metadata or {})


def build_nwbfile(conversion: Conversion, metadata: dict, metadata_source: str | Path) -> NWBFile:
    """Validate ``metadata`` against the converter's schema, align the interfaces in time and build the NWB file.

    Parameters
    ----------
    conversion : Conversion
        What ``dataset.build`` returned.
    metadata : dict
        The final metadata, normalized for the schema.
    metadata_source : str or Path
        The file named by a metadata error: the user's metadata file, else the session.

    Raises
    ------
    MetadataError
        If the schema or pynwb refuses the metadata.
    """
    try:
        conversion.converter.validate_metadata(metadata)
    except ValidationError as error:
        raise MetadataError(metadata_source, schema_error_line(error), "metadata that fits the dataset's schema")
    conversion.converter.temporally_align_data_interfaces(
        metadata=metadata, conversion_options=conversion.conversion_options
    )
    try:
        return conversion.converter.create_nwbfile(metadata=metadata, conversion_options=conversion.conversion_options)
    except (TypeError, ValueError) as error:  # pynwb refusing a value the schema let through
        raise MetadataError(
            metadata_source,
            f"pynwb refused the metadata ({' '.join(str(error).split())})",
            "names without '/', no two objects with the same name, values of the documented types",
        )


def undocumented_subject_fields(metadata: dict) -> list[str]:
    """The DANDI subject fields ``metadata`` lacks; ``"subject"`` first when it has no subject at all."""
    missing = missing_dandi_subject_fields(metadata)
    if not metadata.get("Subject"):
        missing = ["subject"] + missing
    return missing


@dataclass
class GateCheck:
    """The nwbinspector gate as a writer's ``check``: run on the finished temporary output, its report kept.

    Attributes
    ----------
    backend : {"hdf5", "zarr"}
    missing_subject_fields : list of str
        DANDI subject fields nobody supplied: the gate tolerates their CRITICAL messages.
    shown_path : Path
        The final output path, named in the gate's error.
    report : InspectionReport or None
        The gate's report, once it has run.
    """

    backend: str
    missing_subject_fields: list[str]
    shown_path: Path
    report: InspectionReport | None = None

    def __call__(self, temporary_path: Path) -> None:
        gate_of_backend = gate_zarr_store if self.backend == "zarr" else partial(gate, written_here=True)
        self.report = gate_of_backend(
            temporary_path, missing_subject_fields=self.missing_subject_fields, shown_path=self.shown_path
        )
