"""The ``convert-to-nwb`` command: one subcommand per dataset, plus ``example``, ``inspect`` and ``quicklook``.

Exit status 0 on success. A user's mistake (bad source, bad metadata, existing output, failed gate) prints one line
``error: <file>: <what is wrong>; expected <what>`` on stderr, exits 1 and leaves no output file.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import time
import warnings
from pathlib import Path

from .. import COMPRESSION_CHOICES
from ..errors import ConversionError, describe_os_error, printable

#: The ``--backend`` choices (:data:`nwb_conversions.conversion.BACKEND_CHOICES`), kept here so that ``--help``
#: does not import pynwb.
BACKEND_CHOICES = ("hdf5", "zarr")


def _add_conversion_options(parser) -> None:
    """The options every conversion command shares."""
    parser.add_argument("--metadata", type=Path, metavar="FILE.yaml", help="your metadata (applied last)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--stub", action="store_true", help="convert only a few seconds, for a quick look")
    parser.add_argument(
        "--compression",
        choices=COMPRESSION_CHOICES,
        help="gzip (the HDF5 default: fast, standard filters), max (smallest standard-filter file), "
        "zstd (the Zarr default; on HDF5 it needs hdf5plugin to read), none",
    )
    parser.add_argument("--no-inspect", action="store_true", help="skip the nwbinspector gate")
    parser.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        default="hdf5",
        help="hdf5 (default: an .nwb file) or zarr (an NWB-Zarr folder, for cloud-native access)",
    )


def _add_dataset_parser(subparsers, dataset) -> None:
    parser = subparsers.add_parser(dataset.key, help=dataset.summary, description=dataset.summary)
    parser.add_argument("source", type=Path, metavar="SOURCE", help=dataset.source_help)
    parser.add_argument("output", type=Path, metavar="OUTPUT.nwb", help="the NWB file to write")
    _add_conversion_options(parser)
    for flags, options in dataset.extra_arguments:
        parser.add_argument(*flags, **options)
    _add_quicklook_flag(parser)
    parser.set_defaults(command="convert", dataset=dataset)


def _add_quicklook_flag(parser) -> None:
    parser.add_argument("--quicklook", action="store_true",
                        help="after a successful conversion, draw OUTPUT.png beside the NWB file (see quicklook)")


def _add_batch_parser(subparsers, datasets: dict) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="convert every session of a release, in parallel and resumable",
        description="Convert every session of a release into OUTPUT_DIR/sub-<subject>/sub-<subject>_ses-<session>.nwb,"
        " in parallel; keep outputs that exist and pass the gate; write a report; exit 1 if any session failed.",
    )
    parser.add_argument("dataset", choices=list(datasets), metavar="DATASET", help=f"one of {', '.join(datasets)}")
    parser.add_argument("release_root", type=Path, metavar="RELEASE_ROOT", help="the folder of the release")
    parser.add_argument("output_dir", type=Path, metavar="OUTPUT_DIR", help="where the NWB files go")
    parser.add_argument("--sessions-table", type=Path, metavar="FILE", help="per-session metadata (CSV or YAML)")
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="cores to use (default: all), split into processes × compression threads; with --scheduler: "
        "compression threads per session (default: each host's cores shared by its task slots)",
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on a Dask distributed cluster (e.g. tcp://host:8786)"
    )
    parser.add_argument(
        "--report", type=Path, metavar="FILE", help="report (.json or .csv); default: OUTPUT_DIR/batch_report.json"
    )
    _add_conversion_options(parser)
    parser.set_defaults(command="batch")


def _add_upload_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "upload",
        help="organize, validate and upload NWB files to DANDI",
        description="dandi organize + dandi validate + dandi upload, through the dandi library. The API key is "
        "read from DANDI_API_KEY only. A validation failure stops before anything is uploaded.",
    )
    parser.add_argument("output_dir", type=Path, metavar="OUTPUT_DIR", help="the folder of NWB files (a batch output)")
    parser.add_argument("--dandiset", required=True, metavar="ID", help="the six-digit Dandiset identifier")
    parser.add_argument(
        "--instance", default="dandi", metavar="dandi|dandi-sandbox|URL", help="the DANDI instance (default: dandi)"
    )
    parser.add_argument("--dry-run", action="store_true", help="organize and validate only; upload nothing")
    parser.add_argument(
        "--dandiset-dir",
        type=Path,
        metavar="DIR",
        help="where the organized Dandiset is laid out (default: OUTPUT_DIR/../<OUTPUT_DIR name>-dandiset-<ID>)",
    )
    parser.set_defaults(command="upload")


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
    _add_batch_parser(subparsers, datasets)
    _add_upload_parser(subparsers)
    example = subparsers.add_parser(
        "example",
        help="write bundled sample sessions, convert and inspect them",
        description="Write small sample sessions in each dataset's real format, then convert and inspect them.",
    )
    example.add_argument("datasets", nargs="*", choices=[[]] + list(datasets), metavar="DATASET",
                         help=f"datasets to run (default: all of {', '.join(datasets)})")
    example.add_argument("--output-dir", type=Path, default=Path("nwb_examples"), help="default: ./nwb_examples")
    example.add_argument("--overwrite", action="store_true", help="replace NWB files left by an earlier run")
    _add_quicklook_flag(example)
    example.set_defaults(command="example")
    inspect = subparsers.add_parser("inspect", help="run the nwbinspector gate (dandi config) on NWB files")
    inspect.add_argument("files", nargs="+", type=Path, metavar="FILE.nwb")
    inspect.set_defaults(command="inspect")
    quicklook = subparsers.add_parser(
        "quicklook",
        help="draw a PNG of an NWB file for a curator: probe map, traces, units, ROIs, the gate's counts",
        description="Draw one PNG of an NWB file from its content (panels that fit it), reading only slices. "
        "An earlier quicklook at the PNG path is replaced.",
    )
    quicklook.add_argument("file", type=Path, metavar="FILE.nwb")
    quicklook.add_argument("-o", "--output", type=Path, metavar="FILE.png", help="default: FILE.png beside FILE.nwb")
    quicklook.set_defaults(command="quicklook")
    return parser


def _report_conversion(result, seconds: float) -> None:
    """Print what was written, the gate's counts, and what DANDI still needs."""
    from ..writing.zarr_store import store_size_bytes

    size_mb = store_size_bytes(result.output_path) / 1e6
    print(printable(f"wrote {result.output_path} ({size_mb:.1f} MB) in {seconds:.1f} s"))
    if result.report is not None:
        result.report.path = result.output_path
        print(printable(f"nwbinspector (dandi): {result.report.summary()}"))
    for note in result.notes:
        print(printable(f"note: {note}"), file=sys.stderr)
    if result.missing_subject_fields:
        from ..metadata.assembly import subject_snippet

        print(
            printable(
                f"warning: {result.output_path}: DANDI needs subject facts that the source does not document: "
                f"{', '.join(result.missing_subject_fields)}. Supply them with --metadata FILE.yaml:"
            ),
            file=sys.stderr,
        )
        print(subject_snippet(result.missing_subject_fields), file=sys.stderr)


def _convert(args) -> int:
    from ..conversion import convert_session

    if args.compression == "zstd":
        from ..writing.hdf5 import ZSTD_PORTABILITY_WARNING

        print(ZSTD_PORTABILITY_WARNING, file=sys.stderr)
    start = time.perf_counter()
    result = convert_session(
        args.dataset.load(),
        args.source,
        args.output,
        metadata_path=args.metadata,
        overwrite=args.overwrite,
        stub_test=args.stub,
        compression=args.compression,
        inspect=not args.no_inspect,
        build_options={
            options["dest"]: getattr(args, options["dest"])
            for _, options in args.dataset.extra_arguments
            if getattr(args, options["dest"]) is not None
        },
        backend=args.backend,
    )
    _report_conversion(result, time.perf_counter() - start)
    if args.quicklook:
        _draw_quicklook(result.output_path, report=result.report, inspect=False)
    return 0


def _draw_quicklook(nwbfile_path: Path, png_path: Path | None = None, *, report=None, inspect: bool = True) -> None:
    """Draw the quicklook PNG and say where it went (and which panels could not be drawn)."""
    from ..quicklook import write_quicklook

    start = time.perf_counter()
    result = write_quicklook(nwbfile_path, png_path, report=report, inspect=inspect)
    print(printable(f"quicklook {result.png_path} ({len(result.panels)} panels) in {time.perf_counter() - start:.1f} s"))
    for title, failure in result.failures.items():
        print(printable(f"warning: {result.png_path}: panel '{title}' could not be drawn ({failure})"), file=sys.stderr)


def _quicklook(args) -> int:
    _draw_quicklook(args.file, args.output)
    return 0


def _batch(args) -> int:
    from ..batch import ConversionOptions, run_batch
    from ..batch.report import summary_line, summary_table
    from ..datasets.catalog import catalog

    if args.workers is not None and args.workers < 1:
        raise ConversionError(f"--workers {args.workers}: not a positive number; expected 1 or more")
    options = ConversionOptions(
        stub_test=args.stub,
        compression=args.compression,
        inspect=not args.no_inspect,
        backend=args.backend,
        overwrite=args.overwrite,
    )
    outcome = run_batch(
        catalog()[args.dataset].load(),
        args.release_root,
        args.output_dir,
        sessions_table=args.sessions_table,
        metadata_path=args.metadata,
        options=options,
        cores=args.workers,
        scheduler=args.scheduler,
        report_path=args.report,
    )
    for warning in outcome.warnings:
        print(printable(f"warning: {warning}"), file=sys.stderr)
    print(summary_table(outcome.results))
    print(printable(f"{summary_line(outcome.results, outcome.seconds)}; report: {outcome.report_path}"))
    print(printable(f"report with quicklooks: {outcome.html_report_path}"))
    return 1 if outcome.failed else 0


def _upload(args) -> int:
    from ..publishing.upload import upload_to_dandi

    outcome = upload_to_dandi(
        args.output_dir,
        args.dandiset,
        instance=args.instance,
        dry_run=args.dry_run,
        dandiset_dir=args.dandiset_dir,
    )
    print(outcome.summary())
    return 0


def _example(args) -> int:
    from ..conversion import convert_session
    from ..datasets.catalog import catalog

    datasets = catalog()
    for key in args.datasets or list(datasets):
        dataset = datasets[key].load()
        source, metadata_path = dataset.write_sample(args.output_dir / "sources" / key)
        print(printable(f"{key}: sample source written to {source}"))
        output = args.output_dir / f"{key}_{source.stem}.nwb"
        start = time.perf_counter()
        result = convert_session(dataset, source, output, metadata_path=metadata_path, overwrite=args.overwrite)
        _report_conversion(result, time.perf_counter() - start)
        if args.quicklook:
            _draw_quicklook(result.output_path, report=result.report, inspect=False)
    print(printable(f"NWB files are in {args.output_dir.resolve()}"))
    return 0


def _inspect(args) -> int:
    from ..publishing.gate import describe, inspect_file

    worst = 0
    for path in args.files:
        report = inspect_file(path)
        print(printable(report.summary()))
        for message in report.messages:
            print(printable(f"  {describe(message)}"))
        worst = max(worst, 1 if report.blocking else 0)
    return worst


#: Set to 1 to see the traceback of an unexpected error.
TRACEBACK_ENVIRONMENT_VARIABLE = "NWB_CONVERSIONS_TRACEBACK"


def _interrupt(signal_number, frame):
    """Turn SIGTERM into KeyboardInterrupt, so an interrupted conversion cleans up like Ctrl-C."""
    raise KeyboardInterrupt


def _install_signal_handlers() -> dict:
    """SIGTERM cleans up like Ctrl-C; SIGXFSZ (a file size limit, ``ulimit -f``) becomes an ``OSError`` (EFBIG) in
    the write instead of killing the process. Returns the previous handlers."""
    handlers = {signal.SIGTERM: _interrupt}
    if hasattr(signal, "SIGXFSZ"):
        handlers[signal.SIGXFSZ] = signal.SIG_IGN
    return {number: signal.signal(number, handler) for number, handler in handlers.items()}


def _check_environment() -> None:
    """Refuse a malformed ``NWB_CONVERSIONS_WORKERS`` before any work is done."""
    from ..writing.write import WORKERS_ENVIRONMENT_VARIABLE

    value = os.environ.get(WORKERS_ENVIRONMENT_VARIABLE)
    if value is not None and not (value.strip().isdigit() and 1 <= int(value) <= 1024):
        raise ConversionError(
            f"{WORKERS_ENVIRONMENT_VARIABLE}={value!r}: not a number of threads; expected a whole number from 1 to "
            "1024, or the variable unset (one thread per usable core)"
        )


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    _check_environment()
    handlers = {
        "convert": _convert,
        "example": _example,
        "inspect": _inspect,
        "quicklook": _quicklook,
        "batch": _batch,
        "upload": _upload,
    }
    return handlers[args.command](args)


def _print_error(text: str) -> None:
    print(printable(f"error: {text}"), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Every failure is one line on stderr: 1 for the user's input or environment (bad sources or metadata, an
    output in the way, a file system refusing a read or a write, too little memory), 130 when interrupted, 2 only
    for a bug of ours. Library warnings are not shown (set ``NWB_CONVERSIONS_TRACEBACK=1`` to see them and the
    traceback of a bug).
    """
    previous_handlers = _install_signal_handlers()
    debugging = bool(os.environ.get(TRACEBACK_ENVIRONMENT_VARIABLE))
    try:
        with warnings.catch_warnings():
            if not debugging:
                warnings.simplefilter("ignore")
            return _run(argv)
    except ConversionError as error:
        _print_error(str(error))
        return 1
    except KeyboardInterrupt:
        _print_error("interrupted; no output file was left behind")
        return 130
    except OSError as error:  # the file system, a permission, a size limit, a cache folder: the environment
        _print_error(describe_os_error(error))
        return 1
    except MemoryError:
        _print_error("out of memory; expected more free memory (or --stub to convert a few seconds)")
        return 1
    except Exception as error:  # a bug, not the user's mistake: still one line, the traceback on request
        if debugging:
            raise
        _print_error(
            f"unexpected {type(error).__name__}: {error}; expected none: please report it "
            f"(set {TRACEBACK_ENVIRONMENT_VARIABLE}=1 to see the traceback); no output file was left behind"
        )
        return 2
    finally:
        for number, handler in previous_handlers.items():
            signal.signal(number, handler)


#: The garbage collector's thresholds while the command runs (Python's default: 700, 10, 10). Importing pynwb,
#: hdmf, pandas, scipy and NeuroConv allocates millions of objects, and with the default the collector walks them
#: again and again; with these it runs ~30× less often (imports ~0.1-0.2 s faster) and still collects.
COMMAND_GC_THRESHOLDS = (20_000, 20, 20)


def run() -> None:
    """The ``convert-to-nwb`` command: :func:`main`, then exit with its status.

    The collector runs less often (:data:`COMMAND_GC_THRESHOLDS`), and before exiting every object still alive is
    moved out of its reach (``gc.freeze``): the interpreter's final collection would otherwise walk pynwb's,
    hdmf's, pandas' and scipy's objects one by one, ~0.4 s of a 60 s cell's ~5 s conversion, for memory the
    operating system reclaims at once. The normal shutdown (atexit handlers, flushed streams) still runs. Only the
    command does this: :func:`main` called from Python leaves the collector alone.
    """
    gc.set_threshold(*COMMAND_GC_THRESHOLDS)
    status = main()
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    run()
