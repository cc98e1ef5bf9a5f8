"""Strict ``.npz`` archives: members read without unpickling, large members read lazily, piece by piece.

``numpy.load`` on an ``.npz`` reads a whole member on access. Here every member's ``.npy`` header is parsed first:
an object array (which only pickle can rebuild) is refused before any of its bytes are read, a header must declare
exactly the bytes its member holds (so a damaged or hostile header declaring 10^12 values is refused before anything
is allocated), and a large member can be opened as a lazy 1-D array that reads the requested samples from the zip
member's stream (stored or deflated), so a long patch trace is streamed rather than loaded. A member stored twice
under one name (a zip can hold that; ``numpy.load`` would silently take the last) is accepted only when both copies
are the same bytes.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .source_access import check_regular_file, one_line

#: Largest member :meth:`NpzArchive.array` reads whole (a template set is ~0.1 MB); longer ones go through
#: :meth:`NpzArchive.vector`.
MAX_WHOLE_MEMBER_BYTES = 256 * 1024 * 1024

#: What a damaged zip or ``.npy`` header can raise while being read: a bad archive, a bad deflate stream or CRC, an
#: unsupported or encrypted member, a header numpy cannot parse.
DAMAGED_ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, SyntaxError, TypeError,
                          OverflowError, NotImplementedError, RuntimeError, RecursionError)


@dataclass(frozen=True)
class NpzMemberHeader:
    """The ``.npy`` header of one archive member.

    Attributes
    ----------
    name : str
        The array's key (the member name without ``.npy``).
    shape : tuple of int
    dtype : numpy.dtype
    fortran_order : bool
    data_offset : int
        Bytes from the start of the member's (uncompressed) stream to the first element.
    """

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    data_offset: int

    @property
    def data_bytes(self) -> int:
        """The bytes of data the header declares (an exact Python integer, however large the shape)."""
        return math.prod(self.shape) * self.dtype.itemsize


class NpzArchive:
    """An ``.npz`` file, opened strictly.

    Parameters
    ----------
    file_path : str or Path
        The archive.
    expected : str
        What the archive should be, for error messages (e.g. ``"templates.npz with templates and probe_positions"``).

    Raises
    ------
    SourceFormatError
        If the file is missing, not a zip archive, or a member is not a readable ``.npy`` array or holds objects.
    """

    def __init__(self, file_path: str | Path, *, expected: str):
        self.file_path = Path(file_path)
        self.expected = expected
        if not self.file_path.exists() and not self.file_path.is_symlink():
            raise SourceFormatError(self.file_path, "no such file", expected)
        check_regular_file(self.file_path, expected)
        try:
            with zipfile.ZipFile(self.file_path) as archive:
                members = self._unique_members(archive)
                self.headers = {info.filename[:-4]: self._read_header(archive, info) for info in members}
        except SourceFormatError:
            raise
        except DAMAGED_ARCHIVE_ERRORS as exc:
            raise SourceFormatError(
                self.file_path, f"not a readable .npz archive ({one_line(exc)[:200]})", expected
            ) from None

    def _unique_members(self, archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
        """The ``.npy`` members, one per name; a name stored twice must hold the same bytes both times."""
        members: dict[str, tuple[int, zipfile.ZipInfo]] = {}
        for position, info in enumerate(archive.infolist(), start=1):
            if not info.filename.endswith(".npy"):
                continue
            if info.filename not in members:
                members[info.filename] = (position, info)
                continue
            first_position, first = members[info.filename]
            if (first.CRC, first.file_size) != (info.CRC, info.file_size):
                raise SourceFormatError(
                    self.file_path,
                    f"'{info.filename[:-4]}' is stored twice (zip entries {first_position} and {position}) with "
                    f"different contents ({first.file_size} and {info.file_size} bytes, CRC {first.CRC:08x} and "
                    f"{info.CRC:08x})",
                    f"{self.expected}, each array once (or repeated identically)",
                )
        return [info for _, info in members.values()]

    def _read_header(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> NpzMemberHeader:
        """Parse one member's ``.npy`` header; refuse object arrays and a header that declares other than the
        member's bytes."""
        member, name = info.filename, info.filename[:-4]
        with archive.open(info) as stream:
            try:
                version = np.lib.format.read_magic(stream)
                reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, fortran_order, dtype = reader(stream)
            except Exception as exc:  # numpy's header parser raises ValueError, SyntaxError, tokenize errors, ...
                raise SourceFormatError(
                    self.file_path, f"member {member} is not a .npy array ({one_line(exc)[:200]})", self.expected
                ) from None
            offset = stream.tell()
        if dtype.hasobject:
            raise SourceFormatError(
                self.file_path,
                f"'{name}' is an object array, which only pickle can load (refused: unpickling runs code)",
                f"{self.expected}, holding plain numeric or string arrays",
            )
        header = NpzMemberHeader(name, tuple(shape), dtype, fortran_order, offset)
        if offset + header.data_bytes != info.file_size:
            raise SourceFormatError(
                self.file_path,
                f"'{name}' declares {dtype} {list(shape)} ({header.data_bytes} bytes) but its member holds "
                f"{info.file_size - offset} bytes after the header",
                f"{self.expected}, each array holding exactly the values its header declares",
            )
        return header

    def __contains__(self, name: str) -> bool:
        return name in self.headers

    def require(self, *names: str) -> None:
        """Raise if any of ``names`` is not in the archive."""
        missing = [name for name in names if name not in self.headers]
        if missing:
            raise SourceFormatError(
                self.file_path, f"no {', '.join(missing)} (it holds {', '.join(sorted(self.headers)) or 'nothing'})",
                self.expected,
            )

    def array(self, name: str) -> np.ndarray:
        """Read a (small) member whole, without pickle.

        Raises
        ------
        SourceFormatError
            If the member is absent, larger than :data:`MAX_WHOLE_MEMBER_BYTES` or unreadable.
        """
        self.require(name)
        size = self.headers[name].data_bytes
        if size > MAX_WHOLE_MEMBER_BYTES:
            raise SourceFormatError(
                self.file_path, f"'{name}' holds {size} bytes", f"{self.expected}: at most {MAX_WHOLE_MEMBER_BYTES}"
            )
        try:
            with zipfile.ZipFile(self.file_path) as archive, archive.open(f"{name}.npy") as stream:
                return np.lib.format.read_array(stream, allow_pickle=False)
        except DAMAGED_ARCHIVE_ERRORS as exc:
            raise SourceFormatError(
                self.file_path, f"'{name}' is unreadable ({one_line(exc)[:200]})", self.expected
            ) from None

    def scalar(self, name: str, kind: type):
        """Read a 0-d (or one-element) member as ``kind`` (``float``, ``int`` or ``str``)."""
        value = self.array(name)
        if value.size != 1:
            raise SourceFormatError(self.file_path, f"'{name}' holds {value.size} values", f"{self.expected}: one")
        try:
            return kind(value.reshape(()).item())
        except (TypeError, ValueError):
            raise SourceFormatError(
                self.file_path, f"'{name}' is {value.reshape(()).item()!r}", f"{self.expected}: a {kind.__name__}"
            ) from None

    def vector(self, name: str) -> NpzVector:
        """A lazy 1-D member: read piece by piece on slicing."""
        self.require(name)
        header = self.headers[name]
        if len(header.shape) != 1:
            raise SourceFormatError(
                self.file_path, f"'{name}' has shape {header.shape}", f"{self.expected}: a 1-D '{name}'"
            )
        return NpzVector(self.file_path, header)


class NpzVector:
    """A read-only, lazily read 1-D array stored as one ``.npz`` member.

    Slicing reads only the requested elements from the member's stream. Reads moving forward (as a writer streams
    an array) continue the open stream; a read before the current position reopens it. A view may add a constant
    ``shift`` to every value (see :meth:`shifted`).
    """

    def __init__(self, file_path: Path, header: NpzMemberHeader, length: int | None = None, shift: float = 0.0):
        self.file_path = file_path
        self.header = header
        self.dtype = header.dtype
        self.length = header.shape[0] if length is None else length
        self.shift = shift
        self._archive = None
        self._stream = None

    @property
    def shape(self) -> tuple[int]:
        return (self.length,)

    @property
    def ndim(self) -> int:
        return 1

    def __len__(self) -> int:
        return self.length

    def head(self, length: int) -> NpzVector:
        """A lazy view of the first ``length`` elements."""
        return NpzVector(self.file_path, self.header, min(length, self.length), self.shift)

    def shifted(self, shift: float) -> NpzVector:
        """A lazy view with ``shift`` added to every value (e.g. timestamps moved onto another clock)."""
        return NpzVector(self.file_path, self.header, self.length, self.shift + shift)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Elements ``[start, stop)``."""
        start, stop = max(0, start), min(stop, self.length)
        count = max(0, stop - start)
        position = self.header.data_offset + start * self.dtype.itemsize
        try:
            if self._stream is None or self._stream.tell() > position:
                self.close()
                self._archive = zipfile.ZipFile(self.file_path)
                self._stream = self._archive.open(f"{self.header.name}.npy")
            self._stream.seek(position)
            data = self._stream.read(count * self.dtype.itemsize)
        except DAMAGED_ARCHIVE_ERRORS as exc:
            self.close()
            raise SourceFormatError(
                self.file_path, f"'{self.header.name}' is unreadable ({one_line(exc)[:200]})",
                f"{self.length} values as its header declares",
            ) from None
        if len(data) != count * self.dtype.itemsize:
            raise SourceFormatError(
                self.file_path, f"'{self.header.name}' ends early", f"{self.length} values as its header declares"
            )
        values = np.frombuffer(data, dtype=self.dtype).copy()
        return values + self.shift if self.shift else values

    def close(self) -> None:
        """Close the open member stream, if any."""
        for opened in (self._stream, self._archive):
            if opened is not None:
                opened.close()
        self._stream = self._archive = None

    def __getitem__(self, key):
        if isinstance(key, tuple):
            (key,) = key
        if isinstance(key, slice):
            start, stop, step = key.indices(self.length)
            return self.read(start, stop)[::step] if step > 0 else np.asarray(self)[key]
        index = int(key) + (self.length if key < 0 else 0)
        if not 0 <= index < self.length:
            raise IndexError(f"index {key} out of range for {self.length} values")
        return self.read(index, index + 1)[0]

    def __array__(self, dtype=None, copy=None):
        data = self.read(0, self.length)
        return data.astype(dtype) if dtype is not None else data

    def __getstate__(self):
        return {**self.__dict__, "_archive": None, "_stream": None}

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
