"""The one exception family for a user's mistake: bad source files, bad metadata, an output in the way.

The command-line tool prints any :class:`ConversionError` as a single ``error: ...`` line, with no traceback.
"""

from __future__ import annotations

from pathlib import Path


class ConversionError(Exception):
    """A problem the user can fix: its message is one line, meant to be printed as is."""


class SourceFormatError(ConversionError):
    """A source file is missing, unreadable or not in the documented format.

    Parameters
    ----------
    file : str or Path
        The file (or folder) at fault.
    problem : str
        What is wrong with it.
    expected : str
        What was expected instead; says what to do where that helps.
    """

    def __init__(self, file: str | Path, problem: str, expected: str):
        self.file = Path(file)
        self.problem = problem
        self.expected = expected
        super().__init__(f"{file}: {problem}; expected {expected}")


class MetadataError(SourceFormatError):
    """A metadata file (the user's ``--metadata`` YAML or a shipped table) is not usable."""


class OutputExistsError(ConversionError):
    """The output file exists and ``--overwrite`` was not given."""

    def __init__(self, file: str | Path):
        super().__init__(f"{file}: the output file already exists; expected a new path, or --overwrite to replace it")


class InspectionError(ConversionError):
    """The nwbinspector gate found problems that make the file unfit for DANDI."""
