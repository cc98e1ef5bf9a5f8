"""Strict ``.npz`` archives: members read without unpickling, large members read lazily, piece by piece.

``numpy.load`` on an ``.npz`` reads a whole member on access. Here every member's ``.npy`` header is parsed first:
an object array (which only pickle can rebuild) is refused before any of its bytes are read, and a large member can
be opened as a lazy 1-D array that reads the requested samples from the zip member's stream (stored or deflated),
so a long patch trace is streamed rather than loaded.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError


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
        if not self.file_path.is_file():
            raise SourceFormatError(self.file_path, "no such file", expected)
        try:
            with zipfile.ZipFile(self.file_path) as archive:
                names = [name for name in archive.namelist() if name.endswith(".npy")]
                self.headers = {name[:-4]: self._read_header(archive, name) for name in names}
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise SourceFormatError(self.file_path, f"not a readable .npz archive ({exc})", expected) from None

    def _read_header(self, archive: zipfile.ZipFile, member: str) -> NpzMemberHeader:
        """Parse one member's ``.npy`` header; refuse object arrays."""
        with archive.open(member) as stream:
            try:
                version = np.lib.format.read_magic(stream)
                reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, fortran_order, dtype = reader(stream)
            except ValueError as exc:
                raise SourceFormatError(
                    self.file_path, f"member {member} is not a .npy array ({exc})", self.expected
                ) from None
            offset = stream.tell()
        name = member[:-4]
        if dtype.hasobject:
            raise SourceFormatError(
                self.file_path,
                f"'{name}' is an object array, which only pickle can load (refused: unpickling runs code)",
                f"{self.expected}, holding plain numeric or string arrays",
            )
        return NpzMemberHeader(name, tuple(shape), dtype, fortran_order, offset)

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
        """Read a (small) member whole, without pickle."""
        self.require(name)
        try:
            with zipfile.ZipFile(self.file_path) as archive, archive.open(f"{name}.npy") as stream:
                return np.lib.format.read_array(stream, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise SourceFormatError(self.file_path, f"'{name}' is unreadable ({exc})", self.expected) from None

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
        if self._stream is None or self._stream.tell() > position:
            self.close()
            self._archive = zipfile.ZipFile(self.file_path)
            self._stream = self._archive.open(f"{self.header.name}.npy")
        self._stream.seek(position)
        data = self._stream.read(count * self.dtype.itemsize)
        if len(data) != count * self.dtype.itemsize:
            raise SourceFormatError(
                self.file_path, f"'{self.header.name}' ends early", f"{self.length} values as its header declares"
            )
        values = np.frombuffer(data, dtype=self.dtype).copy()
        return values + self.shift if self.shift else values

    def close(self) -> None:
        """Close the open member stream, if any."""
        if self._stream is not None:
            self._stream.close()
            self._archive.close()
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
