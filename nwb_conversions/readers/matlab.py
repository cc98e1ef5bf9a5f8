"""MATLAB ``.mat`` files of either kind, v5/v7 (scipy) and v7.3 (HDF5), read into one plain structure.

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
                              :data:`LAZY_MIN_BYTES` or more are a :class:`LazyMatlabArray`, read on demand
============================  ===================================================================================

``array.T`` gives the transpose of either an ndarray or a :class:`LazyMatlabArray` without reading it: a v7.3
file stores a MATLAB ``R × T`` matrix as a ``(T, R)`` HDF5 dataset, so ``matrix.T`` of a lazy array is that
dataset itself and its first-axis slices (blocks of time) are contiguous reads.

MATLAB class objects (classdef ``MCOS`` objects, old-style ``@class`` objects, function handles) cannot be read
without MATLAB: they are refused with :class:`MatlabObjectError`. So are sparse matrices.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .mat import mat_version

#: v7.3 numeric arrays of at least this many bytes stay on disk (a :class:`LazyMatlabArray`).
LAZY_MIN_BYTES = 8 * 1024 * 1024

#: MATLAB numeric classes and their numpy dtypes.
NUMERIC_CLASSES = {
    "double": np.float64,
    "single": np.float32,
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "uint16": np.uint16,
    "int32": np.int32,
    "uint32": np.uint32,
    "int64": np.int64,
    "uint64": np.uint64,
}

#: Groups of a v7.3 file that are MATLAB's bookkeeping, not variables.
V73_INTERNAL_GROUPS = ("#refs#", "#subsystem#")

EXPECTED = "a MATLAB .mat file (v5/v7 or v7.3) saved with plain structs, cells and arrays"


class StructArray(list):
    """A MATLAB struct array (anything but 1 × 1): a list of dicts in MATLAB's linear order.

    Attributes
    ----------
    matlab_shape : tuple of int
        The array's MATLAB dimensions.
    """

    def __init__(self, elements=(), matlab_shape: tuple[int, ...] | None = None):
        super().__init__(elements)
        self.matlab_shape = tuple(matlab_shape) if matlab_shape is not None else (1, len(self))


class MatlabObjectError(SourceFormatError):
    """A variable is a MATLAB class object, which only MATLAB can read."""


class LazyMatlabArray:
    """A numeric array of a v7.3 file, read on demand, in MATLAB's orientation.

    ``shape`` is MATLAB's; ``T`` is the HDF5 dataset itself (its C-order rows are MATLAB's columns), so
    ``lazy.T[a:b]`` reads only rows ``a:b`` of the transposed matrix. ``numpy.asarray(lazy)`` reads it whole.

    Parameters
    ----------
    dataset : h5py.Dataset
    dtype : numpy.dtype
    """

    def __init__(self, dataset, dtype):
        self.dataset = dataset
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(n) for n in dataset.shape[::-1])
        self.ndim = len(self.shape)

    @property
    def T(self):  # noqa: N802 - numpy's name
        """The transpose, lazily: the HDF5 dataset (MATLAB 2-D arrays only)."""
        if self.ndim != 2:
            raise ValueError("the lazy transpose is defined for 2-D MATLAB arrays only")
        return self.dataset

    def __array__(self, dtype=None, copy=None):
        values = np.asarray(self.dataset[()], dtype=self.dtype).T
        return values.astype(dtype) if dtype is not None else values

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"LazyMatlabArray(shape={self.shape}, dtype={self.dtype})"


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
            return _read_v5(file_path, names)
        return _read_v73(file_path, names)
    except SourceFormatError:
        raise
    except Exception as exc:  # scipy and h5py raise many types for truncated or corrupt files
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise SourceFormatError(file_path, f"unreadable MAT {version} file ({problem})", EXPECTED) from exc


#: MATLAB classes that are plain data (anything else is a class object, a function handle, ...).
PLAIN_CLASSES = frozenset(NUMERIC_CLASSES) | {"struct", "cell", "char", "logical", "sparse"}


def variable_classes(file_path: str | Path) -> dict[str, str]:
    """The MATLAB class of each variable of a MAT file (e.g. ``{"sess": "struct"}``), without reading the values.

    A class object's entry is its class name (v7.3) or ``object`` / ``opaque`` (v5; scipy names an MCOS
    object's variable ``None``).
    """
    file_path = Path(file_path)
    version = mat_version(file_path)
    try:
        if version == "5":
            from scipy.io import whosmat

            return {name: matlab_class for name, _, matlab_class in whosmat(str(file_path))}
        import h5py

        with h5py.File(file_path, "r") as mat:
            classes = {}
            for name in mat:
                if name in V73_INTERNAL_GROUPS:
                    continue
                matlab_class = _attribute(mat[name], "MATLAB_class") or ""
                is_object = "MATLAB_object_decode" in mat[name].attrs and matlab_class in PLAIN_CLASSES
                classes[name] = "object" if is_object else matlab_class
            return classes
    except Exception as exc:  # as in read_mat_variables: corrupt files raise many types
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise SourceFormatError(file_path, f"unreadable MAT {version} file ({problem})", EXPECTED) from exc


def materialize(value):
    """Return ``value`` with every :class:`LazyMatlabArray` read into memory (for comparisons and small files)."""
    if isinstance(value, LazyMatlabArray):
        return np.asarray(value)
    if isinstance(value, StructArray):
        return StructArray([materialize(item) for item in value], value.matlab_shape)
    if isinstance(value, dict):
        return {key: materialize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [materialize(item) for item in value]
    return value


# --- v5 / v7 (scipy) -------------------------------------------------------------------------------------------


def _read_v5(file_path: Path, names) -> dict:
    from scipy.io import loadmat

    content = loadmat(
        str(file_path),
        variable_names=None if names is None else list(names) + ["None"],
        squeeze_me=False,
        struct_as_record=True,
        chars_as_strings=False,
        mat_dtype=True,  # MATLAB's class: logical → bool, doubles stored as integers → float64
    )
    variables = {key: value for key, value in content.items() if not key.startswith("__")}
    if "None" in variables:  # scipy names a classdef (MCOS) object's variable "None"
        raise MatlabObjectError(file_path, "holds a MATLAB class object (MCOS), which only MATLAB can read", EXPECTED)
    return {name: _from_scipy(value, file_path, name) for name, value in variables.items()}


def _from_scipy(value, file_path: Path, where: str):
    from scipy.io.matlab import MatlabFunction, MatlabObject, MatlabOpaque

    if isinstance(value, (MatlabObject, MatlabOpaque, MatlabFunction)):
        kind = getattr(value, "classname", None) or type(value).__name__
        raise MatlabObjectError(file_path, f"{where} is a MATLAB class object ({kind}), which only MATLAB can read", EXPECTED)
    if hasattr(value, "tocsc"):
        raise SourceFormatError(file_path, f"{where} is a sparse matrix", "dense numeric arrays")
    if not isinstance(value, np.ndarray):
        raise SourceFormatError(file_path, f"{where} has an unsupported MATLAB type ({type(value).__name__})", EXPECTED)
    if value.dtype.names is not None:
        elements = [
            {field: _from_scipy(element[field], file_path, f"{where}.{field}") for field in value.dtype.names}
            for element in value.flatten(order="F")
        ]
        if value.shape == (1, 1):
            return elements[0]
        return StructArray(elements, value.shape)
    if value.dtype.kind == "O":
        return [_from_scipy(element, file_path, f"{where}{{{index + 1}}}") for index, element in enumerate(value.flatten(order="F"))]
    if value.dtype.kind == "U":
        return _char_rows(value)
    return np.asarray(value)


def _char_rows(chars: np.ndarray):
    """A MATLAB char array (rows × columns of single characters) as a string, or a list of row strings."""
    if chars.size == 0:
        return ""
    chars = chars.reshape(chars.shape[0], -1) if chars.ndim != 2 else chars
    rows = ["".join(row) for row in chars]
    return rows[0] if len(rows) == 1 else rows


# --- v7.3 (HDF5) -----------------------------------------------------------------------------------------------


def _read_v73(file_path: Path, names) -> dict:
    import h5py

    mat = h5py.File(file_path, "r")
    selected = [name for name in mat if name not in V73_INTERNAL_GROUPS and (names is None or name in names)]
    return {name: _from_hdf5(mat, mat[name], file_path, name) for name in selected}


def _attribute(item, name: str) -> str | None:
    value = item.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.item() if value.size == 1 else value.tobytes()
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _from_hdf5(mat, item, file_path: Path, where: str):
    import h5py

    matlab_class = _attribute(item, "MATLAB_class")
    if "MATLAB_object_decode" in item.attrs or (
        matlab_class is not None and matlab_class not in NUMERIC_CLASSES and matlab_class not in ("struct", "cell", "char", "logical")
    ):
        raise MatlabObjectError(
            file_path, f"{where} is a MATLAB class object ({matlab_class}), which only MATLAB can read", EXPECTED
        )
    if "MATLAB_sparse" in item.attrs:
        raise SourceFormatError(file_path, f"{where} is a sparse matrix", "dense numeric arrays")
    if isinstance(item, h5py.Group):
        if matlab_class not in (None, "struct"):
            raise SourceFormatError(file_path, f"{where} is an HDF5 group of MATLAB class {matlab_class}", EXPECTED)
        return _struct_from_group(mat, item, file_path, where)
    if item.attrs.get("MATLAB_empty") is not None and int(np.asarray(item.attrs["MATLAB_empty"]).ravel()[0]):
        return _empty_value(matlab_class, item)
    if item.dtype == h5py.ref_dtype:
        if matlab_class != "cell":
            raise SourceFormatError(file_path, f"{where} holds object references but is not a cell", EXPECTED)
        references = np.asarray(item[()]).T
        return [
            _from_hdf5(mat, mat[reference], file_path, f"{where}{{{index + 1}}}")
            for index, reference in enumerate(references.flatten(order="F"))
        ]
    if matlab_class == "char":
        codes = np.asarray(item[()]).T
        return _char_rows(np.vectorize(chr, otypes=["U1"])(codes) if codes.size else codes.astype("U1"))
    if matlab_class == "logical":
        return np.atleast_2d(np.asarray(item[()]).T.astype(bool))
    if matlab_class is None:
        raise SourceFormatError(file_path, f"{where} has no MATLAB_class attribute", EXPECTED)
    dtype = NUMERIC_CLASSES[matlab_class]
    if item.dtype.names is not None:  # complex: a compound of real and imag
        values = np.asarray(item[()])
        return np.atleast_2d((values["real"] + 1j * values["imag"]).T)
    if item.size * np.dtype(dtype).itemsize >= LAZY_MIN_BYTES and item.ndim == 2:
        return LazyMatlabArray(item, dtype)
    return np.atleast_2d(np.asarray(item[()], dtype=dtype).T)


def _empty_value(matlab_class: str | None, item):
    """The value of an empty MATLAB array (v7.3 stores its dimensions as the dataset's data)."""
    dims = tuple(int(n) for n in np.asarray(item[()]).ravel()[::-1]) or (0, 0)
    if matlab_class == "char":
        return ""
    if matlab_class == "cell":
        return []
    if matlab_class == "struct":
        return StructArray([], dims)
    if matlab_class == "logical":
        return np.zeros(dims, dtype=bool)
    return np.zeros(dims, dtype=NUMERIC_CLASSES.get(matlab_class, np.float64))


def _struct_from_group(mat, group, file_path: Path, where: str):
    """A 1 × 1 struct (fields are values) or a struct array (fields are reference datasets without a class)."""
    import h5py

    field_names = _field_order(group)
    fields = {name: group[name] for name in field_names}
    is_array = bool(fields) and all(
        isinstance(member, h5py.Dataset) and member.dtype == h5py.ref_dtype and _attribute(member, "MATLAB_class") is None
        for member in fields.values()
    )
    if not is_array:
        return {name: _from_hdf5(mat, member, file_path, f"{where}.{name}") for name, member in fields.items()}
    shapes = {member.shape for member in fields.values()}
    if len(shapes) != 1:
        raise SourceFormatError(file_path, f"{where}: struct array fields of different sizes", EXPECTED)
    matlab_shape = tuple(int(n) for n in next(iter(shapes))[::-1])
    columns = {name: np.asarray(member[()]).T.flatten(order="F") for name, member in fields.items()}
    count = int(np.prod(matlab_shape))
    elements = [
        {name: _from_hdf5(mat, mat[columns[name][index]], file_path, f"{where}({index + 1}).{name}") for name in fields}
        for index in range(count)
    ]
    return StructArray(elements, matlab_shape)


def _field_order(group) -> list[str]:
    """The struct's fields in MATLAB's order (attribute ``MATLAB_fields``), else the group's member order."""
    declared = group.attrs.get("MATLAB_fields")
    if declared is None:
        return list(group)
    names = ["".join(np.asarray(name).astype(bytes).astype(str)) for name in declared]
    return [name for name in names if name in group] + [name for name in group if name not in names]
