"""``key = value`` lines, as text documents of acquisition parameters give them (``Sampling_frequency = 30 000``).

A key is a name (a letter, then letters, digits or underscores); the value is the rest of the line, stripped. Lines of
another form (titles, free text) are ignored; a no-break space counts as a space.
"""

from __future__ import annotations

import re

KEY_VALUE_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$")


def parse_key_values(lines: list[str]) -> dict[str, str]:
    """Collect ``key = value`` lines; the first occurrence of a key wins, other lines are ignored."""
    values: dict[str, str] = {}
    for line in lines:
        match = KEY_VALUE_LINE.match(line.replace("\u00a0", " "))
        if match and match.group(1) not in values:
            values[match.group(1)] = match.group(2)
    return values
