"""Where a batch reads and writes, checked before anything is converted or written.

The output folder must be a folder (or not exist yet) outside the release, whose files are sources and are never
written; the report must be ``.json`` or ``.csv``, not a folder, and not one of the files the batch reads. Each
mistake is one line naming the path, so a batch never fails at its end, after hours of conversions, for a path it
could have refused at the start.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConversionError

#: The report formats (``--report``).
REPORT_SUFFIXES = (".json", ".csv")


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError) as error:
        raise ConversionError(f"{path}: cannot be resolved ({error}); expected a path without a symbolic link loop")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def refuse_file_above(path: Path, expected: str) -> None:
    """Refuse a path whose nearest existing parent is a file (it could never be created)."""
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise ConversionError(f"{path}: lies under {parent}, a file, not a folder; expected {expected}")
            return


def check_output_dir(output_dir: Path, release_root: Path) -> None:
    """Refuse an output folder that is a file, lies under a file, or lies inside the release (or is it).

    Raises
    ------
    ConversionError
    """
    expected = "the folder to write the NWB files into"
    if (output_dir.exists() or output_dir.is_symlink()) and not output_dir.is_dir():
        raise ConversionError(f"{output_dir}: is a file, not a folder; expected {expected}")
    refuse_file_above(output_dir, expected)
    if _inside(_resolved(output_dir), _resolved(release_root)):
        raise ConversionError(
            f"{output_dir}: lies inside the release {release_root}; expected an output folder outside the release "
            "(its files are sources, never written)"
        )


def check_report_paths(
    report_paths: list[Path], release_root: Path, sources: list[Path], *, requested: Path | None = None
) -> None:
    """Refuse a ``--report`` of another format, and any report path that is a folder, a source or in the release.

    Parameters
    ----------
    report_paths : list of Path
        Every report the batch writes at its end (``batch_report.json`` or ``--report``, ``report.html``).
    release_root : Path
    sources : list of Path
        The files the batch reads besides the release (sessions table, ``--metadata``).
    requested : Path, optional
        The ``--report`` given, whose suffix must be ``.json`` or ``.csv``.

    Raises
    ------
    ConversionError
    """
    if requested is not None and requested.suffix.lower() not in REPORT_SUFFIXES:
        raise ConversionError(
            f"{requested}: a report named {requested.suffix or '(no suffix)'!r}; expected a .json or .csv report path"
        )
    read = {_resolved(Path(source)) for source in sources}
    root = _resolved(release_root)
    for path in report_paths:
        if path.is_dir():
            raise ConversionError(f"{path}: is a folder; expected a path where the batch can write its report")
        refuse_file_above(path, "a path where the batch can write its report")
        resolved = _resolved(path)
        if resolved in read:
            raise ConversionError(
                f"{path}: is a file the batch reads; expected a report path that is not a source (sessions table, "
                "--metadata)"
            )
        if _inside(resolved, root):
            raise ConversionError(f"{path}: lies inside the release {release_root}; expected a report outside it")
