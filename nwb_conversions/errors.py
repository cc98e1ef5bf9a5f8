"""The one exception family for a user's mistake: bad source files, bad metadata, an output in the way.

The command-line tool prints any :class:`ConversionError` as a single ``error: ...`` line, with no traceback.
"""

from __future__ import annotations

import errno
import unicodedata
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


def printable(text: str) -> str:
    """Return ``text`` as one printable line: newlines and other control characters escaped (``\\n``), and
    characters the terminal cannot encode (a non-UTF-8 file name's surrogates) as backslash escapes."""
    escaped = []
    for character in str(text):
        if unicodedata.category(character) in ("Cc", "Cs"):
            escaped.append(repr(character)[1:-1])
        else:
            escaped.append(character)
    return "".join(escaped)


#: What the user can do about a file system error, by errno.
OS_ERROR_EXPECTATIONS = {
    errno.ENOSPC: "free space on the output's file system",
    errno.EDQUOT: "free space within your disk quota",
    errno.EFBIG: "a file size limit (ulimit -f) large enough for the output",
    errno.EROFS: "an output folder on a writable file system",
    errno.EACCES: "permission to read the sources and to write the output folder",
    errno.EPERM: "permission to read the sources and to write the output folder",
    errno.ENAMETOOLONG: "a file name of at most 255 bytes (and a shorter path)",
    errno.ENOTDIR: "an existing folder, not a file, as every parent of the path",
    errno.ELOOP: "a path without a symbolic link loop",
    errno.ENOENT: "an existing file or folder",
    errno.EIO: "a readable disk",
}


def describe_os_error(error: OSError) -> str:
    """Say in one line which file the operating system refused, why, and what is expected."""
    where = error.filename if error.filename is not None else "file system"
    reason = error.strerror or " ".join(str(error).split()) or type(error).__name__
    expected = OS_ERROR_EXPECTATIONS.get(error.errno, "readable sources and a writable output location")
    return f"{where}: {reason}; expected {expected}"
