"""``key = value`` lines, as text documents of acquisition parameters give them (``Sampling_frequency = 30 000``).

A key is a name (a letter, then letters, digits or underscores); the value is the rest of the line, stripped. Lines of
another form (titles, free text) are ignored; a no-break space counts as a space. A key may be stated more than once
only with the same value (spaces aside: ``30 000`` and ``30000`` agree); two different values for one key are a
contradiction in the source, which is refused rather than resolved by picking one.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import SourceFormatError

KEY_VALUE_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$")


def _spaceless(value: str) -> str:
    return "".join(value.split())


def parse_key_values(lines: list[str], file_path: str | Path, expected: str) -> dict[str, str]:
    """Collect the ``key = value`` lines of a document (``file_path``, for errors), one value per key.

    Raises
    ------
    SourceFormatError
        If a key is given twice with different values; the message names both lines.
    """
    values: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        match = KEY_VALUE_LINE.match(line.replace("\u00a0", " "))
        if not match:
            continue
        key, value = match.groups()
        if key not in values:
            values[key], first_line[key] = value, number
        elif _spaceless(value) != _spaceless(values[key]):
            raise SourceFormatError(
                file_path,
                f"{key} is given twice with different values: {values[key]!r} (line {first_line[key]}) and "
                f"{value!r} (line {number})",
                f"{expected}, each key given once (or repeated with the same value)",
            )
    return values
