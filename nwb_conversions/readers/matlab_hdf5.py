"""MATLAB v7.3 ``.mat`` files (HDF5) read with h5py into the plain values of
:mod:`nwb_conversions.readers.matlab_values`.

A v7.3 file stores a MATLAB ``R × T`` matrix as a ``(T, R)`` HDF5 dataset; values are returned in MATLAB's
orientation. Numeric arrays of :data:`LAZY_MIN_BYTES` or more stay on disk as a
:class:`~nwb_conversions.readers.matlab_values.LazyMatlabArray` over a :class:`CheckedDataset`, whose reads turn
any h5py failure (a damaged chunk found only then) into one :class:`~nwb_conversions.errors.SourceFormatError`.
A dataset declaring more values than the file can hold for it (:data:`MAX_INFLATE_RATIO` times its stored bytes),
or an "empty" array with elements, is refused before anything is read. h5py is imported when a file is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .matlab_values import (
    EXPECTED,
    NUMERIC_CLASSES,
    PLAIN_CLASSES,
    LazyMatlabArray,
    MatlabObjectError,
    StructArray,
    char_rows,
)
from .source_access import one_line, printable

#: v7.3 numeric arrays of at least this many bytes stay on disk (a :class:`LazyMatlabArray`).
LAZY_MIN_BYTES = 8 * 1024 * 1024

#: Deepest nesting of structs and cells read.
MAX_DEPTH = 64

#: Groups of a v7.3 file that are MATLAB's bookkeeping, not variables.
V73_INTERNAL_GROUPS = ("#refs#", "#subsystem#")

#: A dataset's values may take at most this many times its stored bytes (deflate's limit, 1032, rounded up), plus
#: :data:`STORAGE_SLACK_BYTES`.
MAX_INFLATE_RATIO = 1100
STORAGE_SLACK_BYTES = 1 << 16

#: Largest chunk accepted when it is larger than the array itself (MATLAB's chunks never are), and largest attribute.
MAX_CHUNK_BYTES = 64 * 1024 * 1024
MAX_ATTRIBUTE_BYTES = 1024 * 1024


def unreadable_v73(file_path: Path, exc: BaseException, where: str = "") -> SourceFormatError:
    """The one-line error for an h5py failure while reading ``file_path`` (``where``: the variable read)."""
    problem = one_line(exc) or type(exc).__name__
    return SourceFormatError(file_path, f"unreadable MAT 7.3 file ({where + ': ' if where else ''}{problem})", EXPECTED)


class CheckedDataset:
    """An HDF5 dataset read on demand (first-axis slices are contiguous reads), whose every read failure is one
    SourceFormatError naming the file and the variable."""

    def __init__(self, dataset, file_path: Path, where: str):
        self.dataset = dataset
        self.file_path = file_path
        self.where = where
        self.shape = tuple(int(n) for n in dataset.shape)
        self.dtype = dataset.dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        try:
            return self.dataset[key]
        except Exception as exc:  # h5py raises OSError, ValueError, ... for a damaged chunk
            raise unreadable_v73(self.file_path, exc, self.where) from None

    def __array__(self, dtype=None, copy=None):
        values = np.asarray(self[()])
        return values.astype(dtype) if dtype is not None else values


def variable_classes_v73(file_path: Path) -> dict[str, str]:
    """The MATLAB class of each variable of a v7.3 file, from its attributes (a class object's: its class name)."""
    import h5py

    with h5py.File(file_path, "r") as mat:
        classes = {}
        for name in mat:
            if name in V73_INTERNAL_GROUPS:
                continue
            matlab_class = _class_of(mat[name], _label(name)) or ""
            is_object = "MATLAB_object_decode" in mat[name].attrs and matlab_class in PLAIN_CLASSES
            classes[_label(name)] = "object" if is_object else matlab_class
        return classes


def read_variables_v73(file_path: Path, names) -> dict:
    """Read a v7.3 file's variables (all, or ``names``) as plain values; lazy arrays keep the file open."""
    import h5py

    mat = h5py.File(file_path, "r")
    selected = [name for name in mat if name not in V73_INTERNAL_GROUPS and (names is None or name in names)]
    return {_label(name): _from_hdf5(mat, mat[name], file_path, _label(name)) for name in selected}


def _label(name) -> str:
    """A member name as a key and in messages (h5py gives a name that is not UTF-8 as bytes)."""
    return printable(name.decode("utf-8", "replace") if isinstance(name, bytes) else name)


def _attribute(item, name: str, where: str = ""):
    """An HDF5 attribute of ``item`` (MATLAB writes text as bytes: returned as printable text), or None if absent.

    An attribute of a variable-length type is refused unread: HDF5 reads those from the file's global heap, where
    a damaged heap makes it loop forever (an infinite loop in ``H5HG__cache_heap_deserialize``, found by fuzzing).
    """
    import h5py

    if name not in item.attrs:
        return None
    attribute = h5py.h5a.open(item.id, name.encode())
    if attribute.dtype.kind == "O":
        raise SourceFormatError(item.file.filename, f"{where or item.name}: attribute {name} has a variable-length "
                                "type", f"{name} as MATLAB writes it (fixed-size text or numbers)")
    declared = int(np.prod(attribute.shape, dtype=object)) * attribute.dtype.itemsize
    if declared > MAX_ATTRIBUTE_BYTES:
        raise SourceFormatError(item.file.filename, f"{where or item.name}: attribute {name} declares {declared} "
                                "bytes", f"{name} as MATLAB writes it (a few bytes)")
    value = item.attrs[name]
    if isinstance(value, np.ndarray):
        value = value.item() if value.size == 1 else value.tobytes()
    if isinstance(value, bytes):
        return printable(value.decode("ascii", "replace"))
    return value if isinstance(value, (int, float, np.number)) else printable(str(value))


def _class_of(item, where: str) -> str | None:
    """The ``MATLAB_class`` attribute as text (None if absent)."""
    matlab_class = _attribute(item, "MATLAB_class", where)
    if matlab_class is not None and not isinstance(matlab_class, str):
        raise SourceFormatError(item.file.filename, f"{where}: MATLAB_class is {matlab_class!r}, not a class name",
                                EXPECTED)
    return matlab_class


def _check_fixed_size(item, file_path: Path, where: str) -> None:
    """Refuse a dataset of a variable-length type (or region references) before reading it (see :func:`_attribute`);
    MATLAB writes numbers, text as numbers, and object references."""
    import h5py

    dtype = item.dtype
    parts = [dtype[name] for name in dtype.names] if dtype.names else [dtype]
    if any(part.kind == "O" and (dtype.names or h5py.check_ref_dtype(part) is not h5py.Reference) for part in parts):
        raise SourceFormatError(file_path, f"{where} has a variable-length type ({dtype})",
                                f"{where} as MATLAB writes it (numbers, or object references)")


def _from_hdf5(mat, item, file_path: Path, where: str, depth: int = 0):
    """One HDF5 group or dataset of ``mat`` as a plain value (``where`` names it in messages: ``sess.trial{2}``)."""
    import h5py

    if depth > MAX_DEPTH:  # a cell may even refer to itself
        raise SourceFormatError(file_path, f"{where} nests deeper than {MAX_DEPTH} levels",
                                f"structs and cells nested at most {MAX_DEPTH} deep")

    matlab_class = _class_of(item, where)
    if "MATLAB_object_decode" in item.attrs or (
        matlab_class is not None
        and matlab_class not in NUMERIC_CLASSES
        and matlab_class not in ("struct", "cell", "char", "logical")
    ):
        raise MatlabObjectError(
            file_path, f"{where} is a MATLAB class object ({matlab_class}), which only MATLAB can read", EXPECTED
        )
    if "MATLAB_sparse" in item.attrs:
        raise SourceFormatError(file_path, f"{where} is a sparse matrix", "dense numeric arrays")
    if isinstance(item, h5py.Group):
        if matlab_class not in (None, "struct"):
            raise SourceFormatError(file_path, f"{where} is an HDF5 group of MATLAB class {matlab_class}", EXPECTED)
        return _struct_from_group(mat, item, file_path, where, depth)
    _check_fixed_size(item, file_path, where)
    empty = _attribute(item, "MATLAB_empty", where)
    if empty is not None and not isinstance(empty, str) and int(empty):
        return _empty_value(matlab_class, item, file_path, where)
    _check_stored_size(item, file_path, where)
    if item.dtype == h5py.ref_dtype:
        if matlab_class != "cell":
            raise SourceFormatError(file_path, f"{where} holds object references but is not a cell", EXPECTED)
        references = np.asarray(item[()]).T
        return [
            _from_hdf5(mat, mat[reference], file_path, f"{where}{{{index + 1}}}", depth + 1)
            for index, reference in enumerate(references.flatten(order="F"))
        ]
    if matlab_class == "char":
        codes = np.asarray(item[()]).T
        return char_rows(np.vectorize(chr, otypes=["U1"])(codes) if codes.size else codes.astype("U1"))
    if matlab_class == "logical":
        return np.atleast_2d(np.asarray(item[()]).T.astype(bool))
    if matlab_class is None:
        raise SourceFormatError(file_path, f"{where} has no MATLAB_class attribute", EXPECTED)
    dtype = NUMERIC_CLASSES[matlab_class]
    if item.dtype.names is not None:  # complex: a compound of real and imag
        values = np.asarray(item[()])
        return np.atleast_2d((values["real"] + 1j * values["imag"]).T)
    if item.size * np.dtype(dtype).itemsize >= LAZY_MIN_BYTES and item.ndim == 2:
        return LazyMatlabArray(CheckedDataset(item, file_path, where), dtype)
    return np.atleast_2d(np.asarray(item[()], dtype=dtype).T)


def _check_stored_size(item, file_path: Path, where: str) -> None:
    """Refuse a dataset declaring more values than its stored bytes can hold (a damaged or hostile dataspace), or
    chunks larger than its values and :data:`MAX_CHUNK_BYTES` (HDF5 allocates a whole chunk to read any of it: a
    damaged chunk shape would allocate gigabytes for a few values)."""
    declared = item.size * item.dtype.itemsize
    chunk_bytes = int(np.prod(item.chunks, dtype=object)) * item.dtype.itemsize if item.chunks else 0
    if chunk_bytes > max(MAX_CHUNK_BYTES, declared):
        raise SourceFormatError(
            file_path, f"{where} is stored in chunks of shape {tuple(item.chunks[::-1])} ({chunk_bytes} bytes each) "
            f"for {declared} bytes of values", f"chunks of at most {MAX_CHUNK_BYTES} bytes, or the array's size",
        )
    if declared > STORAGE_SLACK_BYTES and declared > MAX_INFLATE_RATIO * item.id.get_storage_size():
        raise SourceFormatError(
            file_path,
            f"{where} declares shape {tuple(item.shape[::-1])} ({declared} bytes) but the file stores "
            f"{item.id.get_storage_size()} bytes of it",
            "every declared value stored in the file",
        )


def _empty_value(matlab_class: str | None, item, file_path: Path, where: str):
    """The value of an empty MATLAB array (v7.3 stores its dimensions as the dataset's data)."""
    if item.dtype.kind not in "iu" or item.size > 64:
        raise SourceFormatError(file_path, f"{where} is marked empty but holds {item.size} {item.dtype} values",
                                "an empty array's dimensions (at most 64 integers)")
    dims = tuple(int(n) for n in np.asarray(item[()]).ravel()[::-1]) or (0, 0)
    if 0 not in dims or min(dims) < 0:
        raise SourceFormatError(file_path, f"{where} is marked empty but has dimensions {dims}",
                                "an empty array to have a dimension of 0")
    if matlab_class == "char":
        return ""
    if matlab_class == "cell":
        return []
    if matlab_class == "struct":
        return StructArray([], dims)
    if matlab_class == "logical":
        return np.zeros(dims, dtype=bool)
    return np.zeros(dims, dtype=NUMERIC_CLASSES.get(matlab_class, np.float64))


def _struct_from_group(mat, group, file_path: Path, where: str, depth: int):
    """A 1 × 1 struct (fields are values) or a struct array (fields are reference datasets without a class)."""
    import h5py

    fields = {_label(name): group[name] for name in group}  # HDF5's order: MATLAB's is a variable-length attribute
    is_array = bool(fields) and all(
        isinstance(member, h5py.Dataset)
        and member.dtype == h5py.ref_dtype
        and _class_of(member, f"{where}.{member.name}") is None
        for member in fields.values()
    )
    if not is_array:
        return {name: _from_hdf5(mat, member, file_path, f"{where}.{name}", depth + 1)
                for name, member in fields.items()}
    shapes = {member.shape for member in fields.values()}
    if len(shapes) != 1:
        raise SourceFormatError(file_path, f"{where}: struct array fields of different sizes", EXPECTED)
    matlab_shape = tuple(int(n) for n in next(iter(shapes))[::-1])
    for name, member in fields.items():
        _check_stored_size(member, file_path, f"{where}.{name}")
    columns = {name: np.asarray(member[()]).T.flatten(order="F") for name, member in fields.items()}
    count = int(np.prod(matlab_shape))
    elements = [
        {name: _from_hdf5(mat, mat[columns[name][index]], file_path, f"{where}({index + 1}).{name}", depth + 1)
         for name in fields}
        for index in range(count)
    ]
    return StructArray(elements, matlab_shape)
