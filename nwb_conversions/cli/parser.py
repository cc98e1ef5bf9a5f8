"""The ``convert-to-nwb`` argument parser: one subcommand per dataset (from the catalog: nothing is imported), plus
``batch``, ``upload``, ``example``, ``inspect`` and ``quicklook``.

Each subcommand's arguments are a table of ``(flags, argparse keyword arguments)``, the form a dataset's own options
take (:attr:`nwb_conversions.datasets.Dataset.extra_arguments`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import COMPRESSION_CHOICES
from ..writing.cores import check_thread_count
from ..writing.in_flight import check_memory_mb

#: The ``--backend`` choices (:data:`nwb_conversions.conversion.BACKEND_CHOICES`), kept here so that ``--help``
#: does not import pynwb.
BACKEND_CHOICES = ("hdf5", "zarr")

#: The options every conversion command shares.
CONVERSION_OPTIONS = (
    (("--metadata",), dict(type=Path, metavar="FILE.yaml", help="your metadata (applied last)")),
    (("--overwrite",), dict(action="store_true", help="replace an existing output file")),
    (("--stub",), dict(action="store_true", help="convert only a few seconds, for a quick look")),
    (("--compression",), dict(choices=COMPRESSION_CHOICES, help="gzip (the HDF5 default: fast, standard filters), max "
                              "(smallest standard-filter file), zstd (the Zarr default; on HDF5 it needs hdf5plugin to "
                              "read), none")),
    (("--no-inspect",), dict(action="store_true", help="skip the nwbinspector gate")),
    (("--backend",), dict(choices=BACKEND_CHOICES, default="hdf5",
                          help="hdf5 (default: an .nwb file) or zarr (an NWB-Zarr folder, for cloud-native access)")),
)


def _argument_type(check):
    """An argparse type from a checker that raises ValueError with its message."""

    def parse(text: str):
        try:
            return check(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


#: The resources of one session's conversion, of the dataset subcommands and ``example``.
SESSION_RESOURCE_OPTIONS = (
    (("--workers",), dict(type=_argument_type(check_thread_count), metavar="N",
                          help="compression threads at most (default: the usable cores: CPU affinity and control-group "
                          "quota, or $NWB_CONVERSIONS_WORKERS)")),
    (("--memory",), dict(type=_argument_type(check_memory_mb), metavar="MB",
                         help="the writer's budget for data in flight, shared by its reader, compression threads "
                         "and writer (default: 160, or $NWB_CONVERSIONS_MEMORY_MB); fewer threads are used when "
                         "theirs would not fit")),
)

#: ``--quicklook``, of the dataset subcommands and ``example``.
QUICKLOOK_OPTION = (("--quicklook",), dict(
    action="store_true", help="after a successful conversion, draw OUTPUT.png beside the NWB file (see quicklook)"
))

#: ``batch``'s arguments after DATASET (the conversion options follow them).
BATCH_ARGUMENTS = (
    (("release_root",), dict(type=Path, metavar="RELEASE_ROOT", help="the folder of the release")),
    (("output_dir",), dict(type=Path, metavar="OUTPUT_DIR", help="where the NWB files go")),
    (("--sessions-table",), dict(type=Path, metavar="FILE", help="per-session metadata (CSV or YAML)")),
    (("--workers",), dict(type=int, metavar="N", help="cores to use (default: all), split into processes × "
                          "compression threads; with --scheduler: compression threads per session (default: each "
                          "host's cores shared by its task slots)")),
    (("--scheduler",), dict(metavar="ADDRESS", help="run on a Dask distributed cluster (e.g. tcp://host:8786)")),
    (("--report",), dict(type=Path, metavar="FILE",
                         help="report (.json or .csv); default: OUTPUT_DIR/batch_report.json")),
    (("--no-quicklook",), dict(action="store_true", help="draw no quicklook PNG per session (~0.7 s each); "
                               "report.html then lists the sessions without pictures")),
)

UPLOAD_ARGUMENTS = (
    (("output_dir",), dict(type=Path, metavar="OUTPUT_DIR", help="the folder of NWB files (a batch output)")),
    (("--dandiset",), dict(required=True, metavar="ID", help="the six-digit Dandiset identifier")),
    (("--instance",), dict(default="dandi", metavar="dandi|dandi-sandbox|URL",
                           help="the DANDI instance (default: dandi)")),
    (("--dry-run",), dict(action="store_true", help="organize and validate only; upload nothing")),
    (("--dandiset-dir",), dict(type=Path, metavar="DIR", help="where the organized Dandiset is laid out (default: "
                               "OUTPUT_DIR/../<OUTPUT_DIR name>-dandiset-<ID>)")),
)

#: ``example``'s arguments after its DATASET list.
EXAMPLE_ARGUMENTS = (
    (("--output-dir",), dict(type=Path, default=Path("nwb_examples"), help="default: ./nwb_examples")),
    (("--overwrite",), dict(action="store_true", help="replace NWB files left by an earlier run")),
    QUICKLOOK_OPTION,
) + SESSION_RESOURCE_OPTIONS

INSPECT_ARGUMENTS = ((("files",), dict(nargs="+", type=Path, metavar="FILE.nwb")),)

#: ``new-dataset``'s arguments.
NEW_DATASET_ARGUMENTS = (
    (("key",), dict(metavar="KEY", help="the new dataset's key, e.g. lab-2025 (its package: datasets/lab_2025/)")),
    (("--root",), dict(type=Path, default=Path("."), metavar="CHECKOUT",
                       help="the source checkout to write into (default: the current folder)")),
)

QUICKLOOK_ARGUMENTS = (
    (("file",), dict(type=Path, metavar="FILE.nwb")),
    (("-o", "--output"), dict(type=Path, metavar="FILE.png", help="default: FILE.png beside FILE.nwb")),
)


def add_arguments(parser: argparse.ArgumentParser, arguments) -> None:
    """Add each ``(flags, keyword arguments)`` of ``arguments`` to ``parser``, in order."""
    for flags, options in arguments:
        parser.add_argument(*flags, **options)


def _add_dataset_parser(subparsers, dataset) -> None:
    parser = subparsers.add_parser(dataset.key, help=dataset.summary, description=dataset.summary)
    parser.add_argument("source", type=Path, metavar="SOURCE", help=dataset.source_help)
    parser.add_argument("output", type=Path, metavar="OUTPUT.nwb", help="the NWB file to write")
    add_arguments(
        parser, CONVERSION_OPTIONS + SESSION_RESOURCE_OPTIONS + tuple(dataset.extra_arguments) + (QUICKLOOK_OPTION,)
    )
    parser.set_defaults(command="convert", dataset=dataset)


def _add_command(subparsers, name: str, arguments, **parser_options) -> None:
    """Add the subcommand ``name``, which runs the command of that name, with ``arguments``."""
    parser = subparsers.add_parser(name, **parser_options)
    add_arguments(parser, arguments)
    parser.set_defaults(command=name)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser; the dataset subcommands come from the dataset catalog (nothing is imported)."""
    from ..datasets.catalog import catalog

    parser = argparse.ArgumentParser(
        prog="convert-to-nwb",
        description="Convert a session of a public neuroscience dataset, in its original files, to validated NWB.",
    )
    subparsers = parser.add_subparsers(metavar="COMMAND", required=True)
    datasets = catalog()
    for entry in datasets.values():
        _add_dataset_parser(subparsers, entry)
    batch_dataset = (("dataset",), dict(choices=list(datasets), metavar="DATASET",
                                        help=f"one of {', '.join(datasets)}"))
    _add_command(
        subparsers, "batch", (batch_dataset,) + BATCH_ARGUMENTS + CONVERSION_OPTIONS,
        help="convert every session of a release, in parallel and resumable",
        description="Convert every session of a release into OUTPUT_DIR/sub-<subject>/sub-<subject>_ses-<session>.nwb,"
        " in parallel; keep outputs that exist and pass the gate; write a report; exit 1 if any session failed.",
    )
    _add_command(
        subparsers, "upload", UPLOAD_ARGUMENTS,
        help="organize, validate and upload NWB files to DANDI",
        description="dandi organize + dandi validate + dandi upload, through the dandi library. The API key is "
        "read from DANDI_API_KEY only. A validation failure stops before anything is uploaded.",
    )
    example_datasets = (("datasets",), dict(nargs="*", choices=[[]] + list(datasets), metavar="DATASET",
                                            help=f"datasets to run (default: all of {', '.join(datasets)})"))
    _add_command(
        subparsers, "example", (example_datasets,) + EXAMPLE_ARGUMENTS,
        help="write bundled sample sessions, convert and inspect them",
        description="Write small sample sessions in each dataset's real format, then convert and inspect them.",
    )
    _add_command(subparsers, "inspect", INSPECT_ARGUMENTS, help="run the nwbinspector gate (dandi config) on NWB files")
    _add_command(
        subparsers, "quicklook", QUICKLOOK_ARGUMENTS,
        help="draw a PNG of an NWB file for a curator: probe map, traces, units, ROIs, the gate's counts",
        description="Draw one PNG of an NWB file from its content (panels that fit it), reading only slices. "
        "An earlier quicklook PNG at that path is replaced; any other file there is refused.",
    )
    _add_command(
        subparsers, "new-dataset", NEW_DATASET_ARGUMENTS,
        help="start a new dataset in a source checkout, from the dataset template",
        description="Copy the dataset template (a complete toy dataset) into datasets/<key>/, metadata/<key>.yaml "
        "and tests/datasets/test_<key>.py of a source checkout; README, 'Adding a dataset', says what to replace.",
    )
    return parser
