"""MATLAB ``.mat`` files of either kind, v5/v7 (scipy) and v7.3 (HDF5), read into one plain structure.

The kinds are read by :mod:`.matlab_scipy` and :mod:`.matlab_hdf5`; the values they give are those of
:mod:`.matlab_values` (``StructArray``, ``LazyMatlabArray``, ``MatlabObjectError`` below are defined there).

The kind is chosen by sniffing the header (:func:`nwb_conversions.readers.mat.mat_version`). Both give the same
values, in MATLAB's orientation (a MATLAB ``R × T`` matrix has shape ``(R, T)``, whatever the file kind):

============================  ===================================================================================
MATLAB                        Python
============================  ===================================================================================
1 × 1 struct                  ``dict`` (field → value, in the file's field order)
struct array                  :class:`StructArray` (a ``list`` of dicts, MATLAB's linear order)
cell array                    ``list`` (MATLAB's column-major linear order)
char row                      ``str`` (a char matrix of several rows: a ``list`` of ``str``)
logical                       ``numpy.ndarray`` of ``bool``, at least 2-D
numeric                       ``numpy.ndarray``, at least 2-D (a scalar is ``(1, 1)``); from v7.3 files, arrays of
                              :data:`~.matlab_hdf5.LAZY_MIN_BYTES` or more are a :class:`LazyMatlabArray`, read
                              on demand
============================  ===================================================================================

``array.T`` gives the transpose of either an ndarray or a :class:`LazyMatlabArray` without reading it: a v7.3
file stores a MATLAB ``R × T`` matrix as a ``(T, R)`` HDF5 dataset, so ``matrix.T`` of a lazy array is that
dataset itself and its first-axis slices (blocks of time) are contiguous reads.

MATLAB class objects (classdef ``MCOS`` objects, old-style ``@class`` objects, function handles) cannot be read
without MATLAB: they are refused with :class:`MatlabObjectError`. So are sparse matrices.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SourceFormatError
from .mat import mat_version
from .matlab_hdf5 import read_variables_v73, variable_classes_v73
from .matlab_scipy import read_variables_v5, variable_classes_v5
from .matlab_values import EXPECTED


def read_mat_variables(file_path: str | Path, names: tuple[str, ...] | None = None) -> dict:
    """Read a MAT file's variables (all, or ``names``; those absent are absent from the result).

    Parameters
    ----------
    file_path : str or Path
    names : tuple of str, optional

    Returns
    -------
    dict
        Variable name → plain value (see the module docstring). Lazy arrays of a v7.3 file keep it open until
        they are garbage-collected.

    Raises
    ------
    SourceFormatError
        Not a MAT file, or truncated / corrupt.
    MatlabObjectError
        A variable read is a MATLAB class object (or holds one).
    """
    file_path = Path(file_path)
    version = mat_version(file_path)
    try:
        if version == "5":
            return read_variables_v5(file_path, names)
        return read_variables_v73(file_path, names)
    except SourceFormatError:
        raise
    except Exception as exc:  # scipy and h5py raise many types for truncated or corrupt files
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise SourceFormatError(file_path, f"unreadable MAT {version} file ({problem})", EXPECTED) from exc


def variable_classes(file_path: str | Path) -> dict[str, str]:
    """The MATLAB class of each variable of a MAT file (e.g. ``{"sess": "struct"}``), without reading the values.

    A class object's entry is its class name (v7.3) or ``object`` / ``opaque`` (v5; scipy names an MCOS
    object's variable ``None``).
    """
    file_path = Path(file_path)
    version = mat_version(file_path)
    try:
        if version == "5":
            return variable_classes_v5(file_path)
        return variable_classes_v73(file_path)
    except Exception as exc:  # as in read_mat_variables: corrupt files raise many types
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise SourceFormatError(file_path, f"unreadable MAT {version} file ({problem})", EXPECTED) from exc
