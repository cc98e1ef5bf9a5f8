"""JSON files that must hold an object, read strictly: bounded size, UTF-8, and no fact stated twice in two ways.

Python's ``json`` module keeps the last of two equal keys in one object (``{"rate": 30000, "rate": 25000}`` reads as
``{"rate": 25000}``), which would silently choose one of two contradictory facts. Here a key stated twice in one
object is accepted only when both values are equal; otherwise the file is refused with one line naming the key, both
values and, where they can be found, both lines.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from ..errors import SourceFormatError
from .source_access import decode_utf8, one_line, printable, read_source_bytes

#: Largest JSON file read (the releases' JSON files are a few kilobytes).
MAX_JSON_BYTES = 16 * 1024 * 1024


class _RepeatedKey(ValueError):
    """A key stated twice in one JSON object with two different values."""

    def __init__(self, key: str, first, second):
        super().__init__(key)
        self.key, self.first, self.second = key, first, second


def _object_without_contradictions(pairs: list[tuple[str, object]]) -> dict:
    """``object_pairs_hook``: the object, refusing a key given twice with two different values."""
    content: dict = {}
    for key, value in pairs:
        if key in content and not _same(content[key], value):
            raise _RepeatedKey(key, content[key], value)
        content[key] = value
    return content


def _same(first, second) -> bool:
    """Equal values of the same JSON type (``1`` and ``1.0``, ``1`` and ``true`` are different statements)."""
    return type(first) is type(second) and first == second


def _lines_of_key(text: str, key: str) -> list[int]:
    """The 1-based lines on which ``"key":`` appears in ``text``."""
    pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    return [text.count("\n", 0, match.start()) + 1 for match in pattern.finditer(text)]


def _repeated_key_problem(text: str, error: _RepeatedKey) -> str:
    lines = _lines_of_key(text, error.key)
    where = ""
    if len(lines) == 2:
        where = f" (both on line {lines[0]})" if lines[0] == lines[1] else f" (lines {lines[0]} and {lines[1]})"
    first, second = (one_line(json.dumps(value))[:80] for value in (error.first, error.second))
    return f"'{printable(error.key)}' is given twice in one object with different values: {first} and {second}{where}"


def read_json_object_text(file_path: str | Path, expected: str) -> tuple[dict, str]:
    """Read a JSON file that must hold an object; return it and the file's text verbatim.

    Parameters
    ----------
    file_path : str or Path
    expected : str
        What the file should be, for the error message.

    Raises
    ------
    SourceFormatError
        If the file is missing or unreadable, larger than :data:`MAX_JSON_BYTES`, not UTF-8, not valid JSON, does not
        hold an object, or states a key twice in one object with two different values.
    """
    file_path = Path(file_path)
    if not file_path.exists() and not file_path.is_symlink():
        raise SourceFormatError(file_path, "no such file", expected)
    text = decode_utf8(read_source_bytes(file_path, expected, max_bytes=MAX_JSON_BYTES), file_path, expected)
    try:
        content = json.loads(text, object_pairs_hook=_object_without_contradictions)
    except _RepeatedKey as error:
        raise SourceFormatError(file_path, _repeated_key_problem(text, error), f"{expected}, each key once") from None
    except json.JSONDecodeError as error:
        problem = f"not valid JSON ({error.msg} at line {error.lineno})"
        raise SourceFormatError(file_path, problem, expected) from None
    except RecursionError:
        raise SourceFormatError(file_path, "not valid JSON (nested too deeply)", expected) from None
    except ValueError as error:  # an integer of more digits than Python converts (4300)
        raise SourceFormatError(file_path, f"not valid JSON ({one_line(error)[:80]})", expected) from None
    if not isinstance(content, dict):
        raise SourceFormatError(file_path, f"holds a JSON {type(content).__name__}, not an object", expected)
    return content, text


def is_finite_number(value) -> bool:
    """Whether a value read from JSON is a number (not a boolean) that is finite as a float (not NaN, not 10**400)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def read_json_object(file_path: str | Path, expected: str) -> dict:
    """Read a JSON file that must hold an object (see :func:`read_json_object_text`)."""
    return read_json_object_text(file_path, expected)[0]
