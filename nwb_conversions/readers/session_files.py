"""Find a session's files by their documented name, tolerating download suffixes such as ``-001``."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import SourceFormatError
from .source_access import reading

#: Google Drive and CRCNS copies add ``-001``-style suffixes before the extension (``c26_npx_raw-001.bin``).
COPY_SUFFIX = r"(?:-\d{1,3})?"


def find_session_file(
    folder: str | Path, stem_pattern: str, extension: str, *, required: bool = True, example: str | None = None
) -> Path | None:
    """Return the one file in ``folder`` whose name is ``<stem_pattern>[-NNN]<extension>``.

    Parameters
    ----------
    folder : str or Path
        The session folder.
    stem_pattern : str
        A regular expression for the name before the optional copy suffix, e.g. ``r"c\\d+_npx_raw"``.
    extension : str
        The extension with its dot, e.g. ``".bin"``.
    required : bool, default: True
        Raise if no file matches; otherwise return None.
    example : str, optional
        A readable file name for the error messages, e.g. ``"amplifierYYYY-MM-DDTHH_MM_SS.bin"``; by default one is
        made from ``stem_pattern`` (``\\d+`` → ``NN``, ``\\d`` → ``N``), which suits simple patterns only.

    Raises
    ------
    SourceFormatError
        If the folder cannot be listed, no file matches (and ``required``) or more than one does.
    """
    folder = Path(folder)
    pattern = re.compile(rf"^{stem_pattern}{COPY_SUFFIX}{re.escape(extension)}$")
    example = example or f"{stem_pattern.replace(chr(92) + 'd+', 'NN').replace(chr(92) + 'd', 'N')}{extension}"
    with reading(folder, f"a readable session folder holding {example}"):
        matches = sorted(path for path in folder.iterdir() if pattern.match(path.name) and path.is_file())
    if not matches:
        if required:
            raise SourceFormatError(folder, f"no file named like {example}", f"a file {example} in this folder")
        return None
    if len(matches) > 1:
        names = ", ".join(path.name for path in matches)
        raise SourceFormatError(folder, f"several files match {example} ({names})", "exactly one")
    return matches[0]
