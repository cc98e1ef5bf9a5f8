"""MATLAB ``.mat`` files, version 5 (:mod:`.mat_v5`, our own strict reader) and 7.3 (HDF5), told apart by their
header.

Only numeric variables are read, and only after their class and size are known from the file's headers, so a
``char`` or ``cell`` variable, or a damaged header declaring a huge array, is an error rather than a crash or a
gigabyte allocation. (scipy's ``loadmat`` is not used: it crashes the interpreter on some damaged files.)
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .mat_v5 import read_v5_variables
from .source_access import one_line, printable, read_source_bytes

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

EXPECTED_MAT = "a MATLAB .mat file (v5 or v7.3)"

#: Largest ``.mat`` file read (they are read whole; a channel map is a few kilobytes).
MAX_MAT_BYTES = 64 * 1024 * 1024

#: MATLAB classes of plain numeric arrays (``logical``, ``char``, ``cell``, ``struct`` and objects are refused).
NUMERIC_CLASSES = ("double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")


#: The header's version field (bytes 124-125, in the file's byte order) of a v7.3 file.
V73_VERSION = {b"IM": b"\x00\x02", b"MI": b"\x02\x00"}


def _version_of(header: bytes) -> str | None:
    """``"7.3"`` (an HDF5 signature, or a MATLAB header whose version field says 7.3), ``"5"`` or None."""
    if header[512:520] == HDF5_SIGNATURE or header[:8] == HDF5_SIGNATURE:
        return "7.3"
    if header[:6] == b"MATLAB" and len(header) >= 128:
        return "7.3" if V73_VERSION.get(header[126:128]) == header[124:126] else "5"
    return None


def mat_version(file_path: str | Path) -> str:
    """Return ``"7.3"`` for an HDF5-based MAT file, ``"5"`` for a MATLAB 5 file, from the 128-byte header.

    Raises
    ------
    SourceFormatError
        If the file cannot be read or is neither.
    """
    file_path = Path(file_path)
    try:
        with open(file_path, "rb") as stream:
            header = stream.read(520)
    except OSError as error:
        raise SourceFormatError(file_path, f"cannot be read: {error.strerror or error}", EXPECTED_MAT) from None
    version = _version_of(header)
    if version is None:
        raise SourceFormatError(file_path, "not a MATLAB file (no v5 or v7.3 header)", EXPECTED_MAT)
    return version


def read_mat_variables(
    file_path: str | Path, names: tuple[str, ...], *, max_elements: int = 1_000_000
) -> dict[str, np.ndarray]:
    """Read top-level numeric variables from a MAT file of either version, in MATLAB's orientation.

    v7.3 files store arrays transposed (HDF5 is row-major); they are transposed back, so both versions give the
    same shapes. Variables absent from the file are absent from the result.

    Parameters
    ----------
    file_path : str or Path
        The ``.mat`` file (at most :data:`MAX_MAT_BYTES`).
    names : tuple of str
        The variables to read.
    max_elements : int, default: 1 000 000
        Largest number of elements a variable may have.

    Raises
    ------
    SourceFormatError
        If the file cannot be read, is not a MAT file, or a requested variable is not a numeric array (text, cell,
        struct, sparse, complex, logical) or has more than ``max_elements`` elements.
    """
    file_path = Path(file_path)
    content = read_source_bytes(file_path, EXPECTED_MAT, max_bytes=MAX_MAT_BYTES)
    version = _version_of(content[:520])
    if version is None:
        raise SourceFormatError(file_path, "not a MATLAB file (no v5 or v7.3 header)", EXPECTED_MAT)
    if version == "5":
        return read_v5_variables(content, file_path, names, max_elements=max_elements)
    try:
        return _read_v73(io.BytesIO(content), file_path, names, max_elements)
    except SourceFormatError:
        raise
    except Exception as exc:  # h5py raises many types for corrupt files
        problem = f"unreadable MAT {version} file ({type(exc).__name__}: {one_line(exc)[:200]})"
        raise SourceFormatError(file_path, problem, "a valid MATLAB .mat file") from None


def _check_variable(file_path: Path, name: str, matlab_class: str, shape: tuple, max_elements: int) -> None:
    expected = f"'{name}' to be a numeric array of at most {max_elements} elements"
    if matlab_class not in NUMERIC_CLASSES:
        raise SourceFormatError(file_path, f"'{name}' is a MATLAB {matlab_class} variable, not numbers", expected)
    size = int(np.prod(shape, dtype=object))
    if size > max_elements:
        raise SourceFormatError(file_path, f"'{name}' has {size} elements", expected)


def _read_v73(stream: io.BytesIO, file_path: Path, names: tuple[str, ...], max_elements: int) -> dict:
    import h5py

    variables = {}
    with h5py.File(stream, "r") as mat:
        for name in names:
            if name not in mat:
                continue
            node = mat[name]
            if not isinstance(node, h5py.Dataset):
                _check_variable(file_path, name, "struct or cell", (), max_elements)
            matlab_class = node.attrs.get("MATLAB_class", b"double")
            if isinstance(matlab_class, bytes):
                matlab_class = matlab_class.decode("ascii", "replace")
            matlab_class = printable(matlab_class)
            if node.dtype.kind not in "iuf":
                matlab_class = f"{matlab_class} ({node.dtype})"
            if node.shape is None:
                raise SourceFormatError(file_path, f"'{name}' is an empty dataspace", f"'{name}' to hold numbers")
            _check_variable(file_path, name, str(matlab_class), node.shape, max_elements)
            variables[name] = np.asarray(node[()]).T
    return variables
