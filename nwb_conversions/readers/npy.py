"""NumPy ``.npy`` arrays read strictly: the header is checked before any data is read, and nothing is unpickled.

``np.load`` silently returns an ``NpzFile`` for a zip (an ``.npz`` saved under an ``.npy`` name) and raises several
exception types for damaged files; :func:`read_npy_vector` instead checks the magic string, the header (version
1.0 or 2.0, a plain numeric dtype, never Python objects), the shape and that the file holds exactly the bytes the
header declares, then reads them, so every bad file is one :class:`~nwb_conversions.errors.SourceFormatError`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .source_access import check_regular_file, one_line, printable, reading

NPY_MAGIC = b"\x93NUMPY"

#: Largest ``.npy`` read into memory (a billion spike times would be far beyond any recording's).
MAX_NPY_BYTES = 2**30

#: What other files start with, for a message that says what the file is instead.
OTHER_SIGNATURES = {
    b"PK\x03\x04": "a zip archive (an .npz saved under an .npy name?)",
    b"PK\x05\x06": "an empty zip archive",
    b"\x80": "a Python pickle",
}


def _what_it_is(start: bytes) -> str:
    for signature, description in OTHER_SIGNATURES.items():
        if start.startswith(signature):
            return description
    return "not a NumPy .npy file (no \\x93NUMPY header)"


def read_npy_vector(file_path: str | Path, *, kinds: str, expected: str) -> np.ndarray:
    """Read a 1-D ``.npy`` array whose dtype kind is one of ``kinds`` (e.g. ``"iu"`` for integers).

    Parameters
    ----------
    file_path : str or Path
        The ``.npy`` file (at most :data:`MAX_NPY_BYTES`).
    kinds : str
        Accepted ``numpy.dtype.kind`` letters.
    expected : str
        What the file should hold, for the error messages.

    Returns
    -------
    numpy.ndarray
        The vector, in the file's dtype (byte order included).

    Raises
    ------
    SourceFormatError
        If the file cannot be read, is not an ``.npy`` (a zip, a pickle), its header is damaged, it holds Python
        objects or another dtype, it is not 1-D, or it is shorter or longer than its header declares.
    """
    file_path = Path(file_path)
    size = check_regular_file(file_path, expected)
    if size > MAX_NPY_BYTES:
        raise SourceFormatError(file_path, f"is {size} bytes, larger than such a file can be", expected)
    with reading(file_path, expected), open(file_path, "rb") as stream:
        start = stream.read(len(NPY_MAGIC))
        if start != NPY_MAGIC:
            raise SourceFormatError(file_path, _what_it_is(start), expected)
        stream.seek(0)
        try:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
            else:
                raise ValueError(f"unsupported .npy version {version[0]}.{version[1]}")
        except Exception as exc:  # numpy's header parser raises ValueError, SyntaxError, tokenize errors, ...
            problem = f"damaged .npy header ({one_line(exc)[:200]})"
            raise SourceFormatError(file_path, problem, expected) from None
        if dtype.hasobject:
            raise SourceFormatError(file_path, "holds Python objects (a pickle, never unpickled)", expected)
        if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
            raise SourceFormatError(file_path, f"holds {printable(dtype)} values", expected)
        if len(shape) != 1:
            raise SourceFormatError(file_path, f"a {len(shape)}-D {dtype} array of shape {shape}", expected)
        declared = shape[0] * dtype.itemsize
        available = size - stream.tell()
        if declared != available:
            what = "truncated" if declared > available else "longer than declared"
            raise SourceFormatError(
                file_path, f"{what}: the header declares {declared} data bytes, the file holds {available}", expected
            )
        data = stream.read(declared)
    if len(data) != declared:  # the file shrank while being read
        raise SourceFormatError(file_path, f"truncated while being read ({len(data)} of {declared} bytes)", expected)
    return np.frombuffer(data, dtype=dtype).copy()
