"""What each ``convert-to-nwb`` subcommand does, given its parsed arguments; each returns the exit status.

:data:`COMMANDS` maps the parser's ``command`` default to its runner. Everything heavy is imported inside the
runner that needs it, so ``--help`` and a failing argument stay fast.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..errors import ConversionError, printable


def conversion_keywords(args) -> dict:
    """The conversion options on the command line, as keyword arguments of
    :func:`nwb_conversions.conversion.convert_session` (and fields of
    :class:`nwb_conversions.batch.ConversionOptions`)."""
    return dict(
        stub_test=args.stub,
        compression=args.compression,
        inspect=not args.no_inspect,
        backend=args.backend,
        overwrite=args.overwrite,
    )


def report_conversion(result, seconds: float) -> None:
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


def draw_quicklook(nwbfile_path: Path, png_path: Path | None = None, *, report=None, inspect: bool = True) -> None:
    """Draw the quicklook PNG and say where it went (and which panels could not be drawn)."""
    from ..quicklook import write_quicklook

    start = time.perf_counter()
    result = write_quicklook(nwbfile_path, png_path, report=report, inspect=inspect)
    seconds = time.perf_counter() - start
    print(printable(f"quicklook {result.png_path} ({len(result.panels)} panels) in {seconds:.1f} s"))
    for title, failure in result.failures.items():
        print(printable(f"warning: {result.png_path}: panel '{title}' could not be drawn ({failure})"), file=sys.stderr)


def convert_command(args) -> int:
    """A dataset subcommand: convert one session."""
    from ..conversion import convert_session

    if args.compression == "zstd":
        from ..writing.plan import ZSTD_PORTABILITY_WARNING

        print(ZSTD_PORTABILITY_WARNING, file=sys.stderr)
    start = time.perf_counter()
    result = convert_session(
        args.dataset.load(),
        args.source,
        args.output,
        metadata_path=args.metadata,
        build_options={
            options["dest"]: getattr(args, options["dest"])
            for _, options in args.dataset.extra_arguments
            if getattr(args, options["dest"]) is not None
        },
        workers=args.workers,
        memory_mb=args.memory,
        **conversion_keywords(args),
    )
    report_conversion(result, time.perf_counter() - start)
    if args.quicklook:
        draw_quicklook(result.output_path, report=result.report, inspect=False)
    return 0


def quicklook_command(args) -> int:
    """``quicklook``: draw the PNG of an NWB file."""
    draw_quicklook(args.file, args.output)
    return 0


def batch_command(args) -> int:
    """``batch``: convert every session of a release; exit 1 if any failed."""
    from ..batch import ConversionOptions, run_batch
    from ..datasets.catalog import catalog
    from ..publishing.report import summary_line, summary_table

    if args.workers is not None and args.workers < 1:
        raise ConversionError(f"--workers {args.workers}: not a positive number; expected 1 or more")
    outcome = run_batch(
        catalog()[args.dataset].load(),
        args.release_root,
        args.output_dir,
        sessions_table=args.sessions_table,
        metadata_path=args.metadata,
        options=ConversionOptions(**conversion_keywords(args), quicklook=not args.no_quicklook),
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


def upload_command(args) -> int:
    """``upload``: organize, validate and upload a folder of NWB files to DANDI."""
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


def example_command(args) -> int:
    """``example``: write each dataset's bundled sample, convert and inspect it."""
    from ..conversion import convert_session
    from ..datasets.catalog import catalog

    datasets = catalog()
    for key in args.datasets or list(datasets):
        dataset = datasets[key].load()
        source, metadata_path = dataset.write_sample(args.output_dir / "sources" / key)
        print(printable(f"{key}: sample source written to {source}"))
        output = args.output_dir / f"{key}_{source.stem}.nwb"
        start = time.perf_counter()
        result = convert_session(
            dataset, source, output, metadata_path=metadata_path, overwrite=args.overwrite, workers=args.workers,
            memory_mb=args.memory,
        )
        report_conversion(result, time.perf_counter() - start)
        if args.quicklook:
            draw_quicklook(result.output_path, report=result.report, inspect=False)
    print(printable(f"NWB files are in {args.output_dir.resolve()}"))
    return 0


def inspect_command(args) -> int:
    """``inspect``: run the gate on NWB files; exit 1 if any has a blocking message."""
    from ..publishing.gate import describe, inspect_file

    worst = 0
    for path in args.files:
        report = inspect_file(path)
        print(printable(report.summary()))
        for message in report.messages:
            print(printable(f"  {describe(message)}"))
        worst = max(worst, 1 if report.blocking else 0)
    return worst


#: The runner of each ``command`` the parser sets.
def new_dataset_command(args) -> int:
    """``new-dataset``: write a new dataset from the template into a source checkout."""
    from ..datasets.scaffold import new_dataset

    for path in new_dataset(args.key, args.root):
        print(printable(f"wrote {path}"))
    print(printable(f"{args.key}: edit these files (README, 'Adding a dataset'), then run pytest"))
    return 0


COMMANDS = {
    "convert": convert_command,
    "example": example_command,
    "inspect": inspect_command,
    "quicklook": quicklook_command,
    "batch": batch_command,
    "upload": upload_command,
    "new-dataset": new_dataset_command,
}
