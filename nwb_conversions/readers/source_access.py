"""Reading a source file defensively: every failure becomes one :class:`~nwb_conversions.errors.SourceFormatError`.

Three things every reader needs, kept here so they are written once:

- :func:`reading` turns the operating system's errors (permission denied, a symbolic link loop, a folder where a
  file should be, a file that vanished or shrank) and Unicode errors into ``<file>: cannot be read: <reason>``;
- :func:`read_source_bytes` reads a small file whole, after checking that it is a regular file of bounded size (a
  FIFO would block, ``/dev/zero`` never ends), so a parser sees one consistent snapshot even if the file changes;
- :func:`check_plausible` rejects a number outside the range a real recording can have, naming the file and the key,
  so a typo such as ``1e300`` is an error rather than a value written as if true.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import SourceFormatError


def one_line(text: object) -> str:
    """``text`` as a single line: runs of whitespace (newlines included) become one space."""
    return " ".join(str(text).split())


def printable(name: object) -> str:
    """A name read from a file (a key, a variable) as messages show it: as is when printable, else its ``repr``
    (so a newline or a control character in it never splits or garbles the one-line message)."""
    text = str(name)
    return text if text.isprintable() else repr(text)


def cannot_read(file_path: str | Path, exc: BaseException, expected: str) -> SourceFormatError:
    """The error for an operating-system or Unicode failure while reading ``file_path``."""
    if isinstance(exc, UnicodeDecodeError):
        problem = f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    elif isinstance(exc, UnicodeError):
        problem = f"cannot be read: {one_line(exc) or 'its name or content is not valid Unicode'}"
    elif isinstance(exc, OSError) and exc.strerror:
        problem = f"cannot be read: {one_line(exc.strerror)}"
    else:
        problem = f"cannot be read: {one_line(exc) or type(exc).__name__}"
    return SourceFormatError(file_path, problem, expected)


@contextmanager
def reading(file_path: str | Path, expected: str) -> Iterator[None]:
    """Within the block, turn ``OSError`` and ``UnicodeError`` into a :class:`SourceFormatError` on ``file_path``."""
    try:
        yield
    except SourceFormatError:
        raise
    except (OSError, UnicodeError) as exc:
        raise cannot_read(file_path, exc, expected) from None


def check_regular_file(file_path: str | Path, expected: str) -> int:
    """Return the size of ``file_path`` in bytes, after checking that it exists and is a regular file.

    Raises
    ------
    SourceFormatError
        If it does not exist, cannot be reached (permissions, a symbolic link loop) or is not a regular file.
    """
    with reading(file_path, expected):
        status = os.stat(file_path)
    if not stat.S_ISREG(status.st_mode):
        kind = "a folder" if stat.S_ISDIR(status.st_mode) else "a device, pipe or socket"
        raise SourceFormatError(file_path, f"is {kind}, not a regular file", expected)
    return status.st_size


def read_source_bytes(file_path: str | Path, expected: str, *, max_bytes: int) -> bytes:
    """Read a small source file whole.

    Parameters
    ----------
    file_path : str or Path
        The file.
    expected : str
        What the file should be, for the error messages.
    max_bytes : int
        Largest size accepted; a real file of this kind is far smaller.

    Raises
    ------
    SourceFormatError
        If the file is not a readable regular file, or is larger than ``max_bytes``.
    """
    size = check_regular_file(file_path, expected)
    if size > max_bytes:
        raise SourceFormatError(
            file_path, f"is {size} bytes, larger than such a file can be", f"{expected} (at most {max_bytes} bytes)"
        )
    with reading(file_path, expected):
        with open(file_path, "rb") as stream:
            content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:  # it grew since the check
        raise SourceFormatError(file_path, "grew while being read", f"{expected} (at most {max_bytes} bytes)")
    return content


def decode_utf8(content: bytes, file_path: str | Path, expected: str) -> str:
    """Decode UTF-8 text (a leading byte-order mark, as Excel writes, is dropped); NUL characters are refused."""
    with reading(file_path, expected):
        text = content.decode("utf-8-sig")
    if "\x00" in text:
        raise SourceFormatError(file_path, f"holds a NUL character at offset {text.index(chr(0))}", expected)
    return text


def check_zip_size(archive: zipfile.ZipFile, file_path: str | Path, expected: str, *, max_bytes: int) -> None:
    """Refuse a zip archive (``.docx``, ``.xlsx``) whose members would unpack to more than ``max_bytes``.

    ``zipfile`` never returns more than a member's declared size, so bounding the declared sizes bounds memory.
    """
    total = sum(info.file_size for info in archive.infolist())
    if total > max_bytes:
        raise SourceFormatError(
            file_path, f"unpacks to {total} bytes, more than such a file can hold", f"{expected} (at most {max_bytes})"
        )


def format_number(value: float) -> str:
    """A number as the messages show it: ``30000``, ``1e+300``, ``0.000195``; an integer too large for a float as
    its first digits and its length."""
    try:
        return f"{value:g}"
    except OverflowError:
        digits = str(abs(int(value)))[:6] if abs(int(value)).bit_length() < 10_000 else "…"
        return f"{'-' if value < 0 else ''}{digits}… ({abs(int(value)).bit_length()}-bit integer)"


def check_plausible(
    file_path: str | Path, key: str, value: float, lowest: float, highest: float, expected: str
) -> float:
    """Return ``value`` if ``lowest <= value <= highest``; otherwise raise naming the file and the key.

    Parameters
    ----------
    file_path : str or Path
        The source the value was read from.
    key : str
        Where in the source: a key, a column, a variable.
    value : float
        The value read (NaN is never plausible).
    lowest, highest : float
        The plausible range, inclusive.
    expected : str
        The range in words, e.g. ``"a sampling rate from 1 kHz to 1 MHz"``.

    Raises
    ------
    SourceFormatError
        ``<file>: <key> = <value> is outside the plausible range; expected <key> to be <expected>``.
    """
    if not lowest <= value <= highest:
        raise SourceFormatError(
            file_path,
            f"{key} = {format_number(value)} is outside the plausible range",
            f"{key} to be {expected}",
        )
    return value
