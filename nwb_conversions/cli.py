"""The ``convert-to-nwb`` command: one subcommand per dataset, plus ``example`` and ``inspect``.

Exit status 0 on success. A user's mistake (bad source, bad metadata, existing output, failed gate) prints one line
``error: <file>: <what is wrong>; expected <what>`` on stderr, exits 1 and leaves no output file.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from . import COMPRESSION_CHOICES
from .errors import ConversionError


def _add_dataset_parser(subparsers, dataset) -> None:
    parser = subparsers.add_parser(dataset.key, help=dataset.summary, description=dataset.summary)
    parser.add_argument("source", type=Path, metavar="SOURCE", help=dataset.source_help)
    parser.add_argument("output", type=Path, metavar="OUTPUT.nwb", help="the NWB file to write")
    parser.add_argument("--metadata", type=Path, metavar="FILE.yaml", help="your metadata (applied last)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--stub", action="store_true", help="convert only a few seconds, for a quick look")
    parser.add_argument(
        "--compression",
        choices=COMPRESSION_CHOICES,
        default="gzip",
        help="gzip (default: fast, standard filters), max (smallest standard-filter file), "
        "zstd (needs hdf5plugin to read), none",
    )
    parser.add_argument("--no-inspect", action="store_true", help="skip the nwbinspector gate")
    parser.set_defaults(command="convert", dataset=dataset)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser; the dataset subcommands come from the dataset registry."""
    from .datasets import registered_datasets

    parser = argparse.ArgumentParser(
        prog="convert-to-nwb",
        description="Convert a session of a public neuroscience dataset, in its original files, to validated NWB.",
    )
    subparsers = parser.add_subparsers(metavar="COMMAND", required=True)
    datasets = registered_datasets()
    for dataset in datasets.values():
        _add_dataset_parser(subparsers, dataset)
    example = subparsers.add_parser(
        "example",
        help="write bundled sample sessions, convert and inspect them",
        description="Write small sample sessions in each dataset's real format, then convert and inspect them.",
    )
    example.add_argument("datasets", nargs="*", choices=[[]] + list(datasets), metavar="DATASET",
                         help=f"datasets to run (default: all of {', '.join(datasets)})")
    example.add_argument("--output-dir", type=Path, default=Path("nwb_examples"), help="default: ./nwb_examples")
    example.set_defaults(command="example")
    inspect = subparsers.add_parser("inspect", help="run the nwbinspector gate (dandi config) on NWB files")
    inspect.add_argument("files", nargs="+", type=Path, metavar="FILE.nwb")
    inspect.set_defaults(command="inspect")
    return parser


def _report_conversion(result, seconds: float) -> None:
    """Print what was written, the gate's counts, and what DANDI still needs."""
    size_mb = result.output_path.stat().st_size / 1e6
    print(f"wrote {result.output_path} ({size_mb:.1f} MB) in {seconds:.1f} s")
    if result.report is not None:
        result.report.path = result.output_path
        print(f"nwbinspector (dandi): {result.report.summary()}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if result.missing_subject_fields:
        from .metadata import subject_snippet

        print(
            f"warning: {result.output_path}: DANDI needs subject facts that the source does not document: "
            f"{', '.join(result.missing_subject_fields)}. Supply them with --metadata FILE.yaml:\n"
            f"{subject_snippet(result.missing_subject_fields)}",
            file=sys.stderr,
        )


def _convert(args) -> int:
    from .conversion import convert_session

    if args.compression == "zstd":
        from .writing import ZSTD_PORTABILITY_WARNING

        print(ZSTD_PORTABILITY_WARNING, file=sys.stderr)
    start = time.perf_counter()
    result = convert_session(
        args.dataset,
        args.source,
        args.output,
        metadata_path=args.metadata,
        overwrite=args.overwrite,
        stub_test=args.stub,
        compression=args.compression,
        inspect=not args.no_inspect,
    )
    _report_conversion(result, time.perf_counter() - start)
    return 0


def _example(args) -> int:
    from .conversion import convert_session
    from .datasets import registered_datasets

    datasets = registered_datasets()
    for key in args.datasets or list(datasets):
        dataset = datasets[key]
        source, metadata_path = dataset.write_sample(args.output_dir / "sources" / key)
        print(f"{key}: sample source written to {source}")
        output = args.output_dir / f"{key}_{source.stem}.nwb"
        start = time.perf_counter()
        result = convert_session(dataset, source, output, metadata_path=metadata_path, overwrite=True)
        _report_conversion(result, time.perf_counter() - start)
    print(f"NWB files are in {args.output_dir.resolve()}")
    return 0


def _inspect(args) -> int:
    from .validation import describe, inspect_file

    worst = 0
    for path in args.files:
        if not path.is_file():
            raise ConversionError(f"{path}: no such file; expected an NWB file")
        report = inspect_file(path)
        print(report.summary())
        for message in report.messages:
            print(f"  {describe(message)}")
        worst = max(worst, 1 if report.blocking else 0)
    return worst


#: Set to 1 to see the traceback of an unexpected error.
TRACEBACK_ENVIRONMENT_VARIABLE = "NWB_CONVERSIONS_TRACEBACK"


def _interrupt(signal_number, frame):
    """Turn SIGTERM into KeyboardInterrupt, so an interrupted conversion cleans up like Ctrl-C."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    handlers = {"convert": _convert, "example": _example, "inspect": _inspect}
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return handlers[args.command](args)
    except ConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no output file was left behind", file=sys.stderr)
        return 130
    except Exception as error:  # a bug, not the user's mistake: still one line, the traceback on request
        if os.environ.get(TRACEBACK_ENVIRONMENT_VARIABLE):
            raise
        problem = " ".join(str(error).split())
        print(
            f"error: unexpected {type(error).__name__}: {problem}; expected none: please report it "
            f"(set {TRACEBACK_ENVIRONMENT_VARIABLE}=1 to see the traceback); no output file was left behind",
            file=sys.stderr,
        )
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


if __name__ == "__main__":
    sys.exit(main())
