"""MATLAB ``.mat`` files, version 5 (scipy) and 7.3 (HDF5), told apart by their header."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SourceFormatError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def mat_version(file_path: str | Path) -> str:
    """Return ``"7.3"`` for an HDF5-based MAT file, ``"5"`` for a MATLAB 5 file.

    Raises
    ------
    SourceFormatError
        If the file is neither.
    """
    file_path = Path(file_path)
    try:
        with open(file_path, "rb") as stream:
            header = stream.read(520)
    except OSError as exc:
        raise SourceFormatError(file_path, f"unreadable ({exc.strerror})", "a MATLAB .mat file (v5 or v7.3)")
    if header[512:520] == HDF5_SIGNATURE or header[:8] == HDF5_SIGNATURE:
        return "7.3"
    if header[:6] == b"MATLAB" and len(header) >= 128:
        return "5"
    raise SourceFormatError(file_path, "not a MATLAB file (no v5 or v7.3 header)", "a MATLAB .mat file (v5 or v7.3)")


def read_mat_variables(file_path: str | Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read top-level numeric variables from a MAT file of either version, in MATLAB's orientation.

    v7.3 files store arrays transposed (HDF5 is row-major); they are transposed back, so both versions give the
    same shapes. Variables absent from the file are absent from the result.
    """
    file_path = Path(file_path)
    version = mat_version(file_path)
    try:
        if version == "5":
            from scipy.io import loadmat

            content = loadmat(str(file_path), variable_names=list(names))
            return {name: np.asarray(content[name]) for name in names if name in content}
        import h5py

        with h5py.File(file_path, "r") as mat:
            return {name: np.asarray(mat[name][()]).T for name in names if name in mat}
    except SourceFormatError:
        raise
    except Exception as exc:  # scipy and h5py raise many types for corrupt files
        raise SourceFormatError(file_path, f"unreadable MAT {version} file ({exc})", "a valid MATLAB .mat file")
