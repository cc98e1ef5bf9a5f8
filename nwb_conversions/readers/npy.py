"""NumPy ``.npy`` arrays read strictly: the header is checked before any data is read, and nothing is unpickled.

``np.load`` silently returns an ``NpzFile`` for a zip (an ``.npz`` saved under an ``.npy`` name) and raises several
exception types for damaged files; :func:`read_npy_array` (and :func:`read_npy_vector`) instead check the magic
string, the header (version 1.0 or 2.0, a plain numeric dtype, never Python objects), the shape and that the file
holds exactly the bytes the header declares (a header declaring 2**40 elements allocates nothing), then read them
into the array, so every bad file is one :class:`~nwb_conversions.errors.SourceFormatError`.
"""

from __future__ import annotations

import math
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
    """Read a 1-D ``.npy`` array whose dtype kind is one of ``kinds`` (e.g. ``"iu"`` for integers): the parameters,
    result and errors of :func:`read_npy_array`, and an array of other than one dimension is refused."""
    return read_npy_array(file_path, kinds=kinds, expected=expected, ndims=(1,))


def read_npy_array(
    file_path: str | Path, *, kinds: str, expected: str, ndims: tuple[int, ...] | None = None
) -> np.ndarray:
    """Read an ``.npy`` array whose dtype kind is one of ``kinds``, checking its header before any data is read.

    Parameters
    ----------
    file_path : str or Path
        The ``.npy`` file (at most :data:`MAX_NPY_BYTES`).
    kinds : str
        Accepted ``numpy.dtype.kind`` letters.
    expected : str
        What the file should hold, for the error messages.
    ndims : tuple of int, optional
        Accepted numbers of dimensions (checked from the header, before the data is read); any if None.

    Returns
    -------
    numpy.ndarray
        The array, in the file's dtype (byte order included) and memory order.

    Raises
    ------
    SourceFormatError
        If the file cannot be read, is not an ``.npy`` (a zip, a pickle), its header is damaged, it holds Python
        objects or another dtype, has another number of dimensions, or is shorter or longer than its header declares.
    """
    file_path = Path(file_path)
    size = check_regular_file(file_path, expected)
    if size > MAX_NPY_BYTES:
        raise SourceFormatError(file_path, f"is {size} bytes, larger than such a file can be", expected)
    with reading(file_path, expected), open(file_path, "rb") as stream:
        shape, fortran_order, dtype = _read_header(stream, file_path, expected)
        if dtype.hasobject:
            raise SourceFormatError(file_path, "holds Python objects (a pickle, never unpickled)", expected)
        if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
            raise SourceFormatError(file_path, f"holds {printable(dtype)} values", expected)
        if ndims is not None and len(shape) not in ndims:
            raise SourceFormatError(file_path, f"a {len(shape)}-D {dtype} array of shape {shape}", expected)
        if math.prod(max(length, 1) for length in shape) * max(dtype.itemsize, 1) >= 2**63:
            problem = f"damaged .npy header (shape {shape} is too large for any array)"
            raise SourceFormatError(file_path, problem, expected)
        declared = math.prod(shape) * dtype.itemsize
        available = size - stream.tell()
        if declared != available:
            what = "truncated" if declared > available else "longer than declared"
            raise SourceFormatError(
                file_path, f"{what}: the header declares {declared} data bytes, the file holds {available}", expected
            )
        flat = np.empty(math.prod(shape), dtype=dtype)
        received = stream.readinto(flat.view(np.uint8))
    if received != declared:  # the file shrank while being read
        raise SourceFormatError(file_path, f"truncated while being read ({received} of {declared} bytes)", expected)
    return flat.reshape(shape, order="F" if fortran_order else "C")


def _read_header(stream, file_path: Path, expected: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The shape, Fortran order and dtype of the ``.npy`` header at the start of ``stream`` (left after it)."""
    start = stream.read(len(NPY_MAGIC))
    if start != NPY_MAGIC:
        raise SourceFormatError(file_path, _what_it_is(start), expected)
    stream.seek(0)
    try:
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy version {version[0]}.{version[1]}")
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = header(stream)
        if any(length < 0 for length in shape):
            raise ValueError(f"negative length in shape {shape}")
        return shape, fortran_order, dtype
    except Exception as exc:  # numpy's header parser raises ValueError, SyntaxError, tokenize errors, ...
        raise SourceFormatError(file_path, f"damaged .npy header ({one_line(exc)[:200]})", expected) from None
