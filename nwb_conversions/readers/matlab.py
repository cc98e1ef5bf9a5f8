"""MATLAB ``.mat`` files of either kind, v5/v7 and v7.3 (HDF5), read into one plain structure.

The kinds are read by :mod:`.mat_v5_file` (pure Python, streamed) and :mod:`.matlab_hdf5` (h5py); the values
they give are those of :mod:`.matlab_values` (``StructArray``, ``LazyMatlabArray``, ``MatlabObjectError`` below
are defined there).

The kind is chosen by sniffing the header (:func:`nwb_conversions.readers.mat.mat_version`). Both give the same
values, in MATLAB's orientation (a MATLAB ``R × T`` matrix has shape ``(R, T)``, whatever the file kind):

============================  ===================================================================================
MATLAB                        Python
============================  ===================================================================================
1 × 1 struct                  ``dict`` (field → value; v5: in MATLAB's field order, v7.3: in HDF5's, by name)
struct array                  :class:`StructArray` (a ``list`` of dicts, MATLAB's linear order)
cell array                    ``list`` (MATLAB's column-major linear order)
char row                      ``str`` (a char matrix of several rows: a ``list`` of ``str``)
logical                       ``numpy.ndarray`` of ``bool``, at least 2-D
numeric                       ``numpy.ndarray``, at least 2-D (a scalar is ``(1, 1)``; complex numbers complex);
                              real arrays of :data:`~.mat_v5_values.LAZY_MIN_BYTES` (v5) or
                              :data:`~.matlab_hdf5.LAZY_MIN_BYTES` (v7.3) or more are a :class:`LazyMatlabArray`,
                              read on demand
============================  ===================================================================================

``array.T`` gives the transpose of either an ndarray or a :class:`LazyMatlabArray` without reading it: both kinds
store a MATLAB ``R × T`` matrix column-major, i.e. as a C-order ``(T, R)`` array (a v7.3 file's HDF5 dataset, a v5
file's bytes, read by a :class:`~.mat_v5_disk.DiskArray`), so ``matrix.T`` of a lazy array is that array itself
and its first-axis slices (blocks of time) are contiguous reads.

v7.3 struct fields come in HDF5's order because MATLAB's order is in a variable-length attribute, and HDF5 loops
forever on a damaged one (its global heap; found by fuzzing): no variable-length data is read from v7.3 files.
Neither reader loads a file whole, and neither can crash the interpreter on a damaged v5 file (the v5 reader is
pure Python); every failure of either is one :class:`~nwb_conversions.errors.SourceFormatError`.

MATLAB class objects (classdef ``MCOS`` objects, old-style ``@class`` objects, function handles) cannot be read
without MATLAB: they are refused with :class:`MatlabObjectError`. So are sparse matrices. Where the readers differ
from scipy's ``loadmat`` (which the tests compare them with): complex numbers keep their imaginary part, a 1 × 1
struct without fields is ``{}``, and an empty array in a cell is ``(0, 0)``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import SourceFormatError
from .mat import mat_version
from .mat_v5_file import read_variables_v5, variable_classes_v5
from .matlab_hdf5 import read_variables_v73, unreadable_v73, variable_classes_v73
from .matlab_values import EXPECTED
from .source_access import check_regular_file


def read_mat_variables(file_path: str | Path, names: tuple[str, ...] | None = None) -> dict:
    """Read a MAT file's variables (all, or ``names``; those absent are absent from the result).

    Parameters
    ----------
    file_path : str or Path
    names : tuple of str, optional

    Returns
    -------
    dict
        Variable name → plain value (see the module docstring). Lazy arrays keep their file (the source, or a v5
        file's unlinked spill file) open until they are garbage-collected.

    Raises
    ------
    SourceFormatError
        Not a MAT file, or truncated / corrupt.
    MatlabObjectError
        A variable read is a MATLAB class object (or holds one).
    """
    return _by_kind(file_path, lambda path: read_variables_v5(path, names),
                    lambda path: read_variables_v73(path, names))


def variable_classes(file_path: str | Path) -> dict[str, str]:
    """The MATLAB class of each variable of a MAT file (e.g. ``{"sess": "struct"}``), without reading the values.

    A class object's entry is its class name (v7.3) or ``object`` / ``opaque`` / ``function_handle`` (v5).
    """
    return _by_kind(file_path, variable_classes_v5, variable_classes_v73)


def _by_kind(file_path: str | Path, read_v5: Callable[[Path], dict], read_v73: Callable[[Path], dict]) -> dict:
    """``read_v5(path)`` or ``read_v73(path)``, by the file's header; any h5py failure is one SourceFormatError."""
    file_path = Path(file_path)
    check_regular_file(file_path, EXPECTED)
    if mat_version(file_path) == "5":
        return read_v5(file_path)
    try:
        return read_v73(file_path)
    except SourceFormatError:
        raise
    except Exception as exc:  # h5py raises many types for truncated or corrupt files
        raise unreadable_v73(file_path, exc) from None
