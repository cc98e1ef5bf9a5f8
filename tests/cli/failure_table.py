"""The checks every row of a failure table must pass, shared by :mod:`tests.cli.test_failures` and
:mod:`tests.cli.test_hostile`.

A row prepares a mistake and returns a :class:`Case`; :func:`check_case` runs ``convert-to-nwb`` in-process and
asserts the exit code, exactly one stderr line ``error: ...`` naming the file at fault and saying what is wrong, no
output and no temporary file left, and the sources byte-for-byte unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: Names of the temporary files and folders a run writes beside its target (HDF5 and Zarr alike).
TEMPORARY_PATTERNS = (".*partial*",)


@dataclass
class Case:
    """A prepared mistake: the command's arguments, where its sources are, and what the one line must say."""

    args: list
    names: str  # the file the line must name (a substring of it)
    fragment: str  # what is wrong, in the line's words
    sources: Path  # the folder whose files must stay unchanged
    output: Path | None = None
    code: int = 1
    more_sources: tuple[Path, ...] = field(default_factory=tuple)  # other folders that must stay unchanged
    absent: tuple[Path, ...] = field(default_factory=tuple)  # paths that must not exist afterwards


def exists(path: Path) -> bool:
    """Whether anything (a file, a folder, a dangling symlink) is at ``path``; False for an impossible path."""
    try:
        return path.exists() or path.is_symlink()
    except OSError:
        return False


def snapshot(folder: Path) -> dict:
    """Every regular file under ``folder`` (or ``folder`` itself) → its bytes."""
    if folder.is_file():
        return {folder: folder.read_bytes()}
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()}


def temporary_files(folder: Path) -> list[Path]:
    return [path for pattern in TEMPORARY_PATTERNS for path in folder.rglob(pattern)]


def check_case(case: Case, run_cli, tmp_path: Path) -> str:
    """Run ``case`` and assert everything a failure must be; returns the error line."""
    folders = (case.sources, *case.more_sources)
    before = [snapshot(folder) for folder in folders]
    existed = case.output is not None and exists(case.output)
    code, _, err = run_cli(*case.args)
    assert code == case.code, err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert case.names in err and case.fragment in err, err
    assert "Traceback" not in err and "please report it" not in err, err
    if case.output is not None and not existed:
        assert not exists(case.output), case.output
    for path in case.absent:
        assert not exists(path), path
    assert temporary_files(tmp_path) == []
    assert [snapshot(folder) for folder in folders] == before
    return err
