"""Write plain MATLAB structures (see :mod:`nwb_conversions.readers.matlab`) as real v5/v7 and v7.3 MAT files.

v5 (MATLAB's ``-v6``, uncompressed, and ``-v7``, compressed) goes through ``scipy.io.savemat``. v7.3 is written
with h5py in MATLAB's own layout, so the reader is exercised on the true format: a 512-byte user block holding MATLAB's 128-byte header text, a ``MATLAB_class``
attribute on every variable, structs as groups (``MATLAB_fields`` lists the field order), cell arrays and struct
arrays as datasets of object references into ``#refs#``, char arrays as ``uint16`` with ``MATLAB_int_decode = 2``,
logicals as ``uint8`` with ``MATLAB_int_decode = 1``, empty arrays as their dimensions with ``MATLAB_empty = 1``,
and every array transposed (HDF5 is row-major, MATLAB column-major: a MATLAB ``R × T`` matrix is a ``(T, R)``
dataset).

A :class:`BlockMatrix` value is written block by block (only into v7.3 files), so a benchmark can write a
multi-GB matrix with bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import h5py
import numpy as np

from ..readers.matlab_values import NUMERIC_CLASSES, StructArray

#: The text of a v7.3 header (MATLAB pads it with spaces to 116 bytes).
V73_HEADER_TEXT = "MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Apr  8 10:00:00 2019 HDF5 schema 1.00 ."

MATLAB_CLASS_OF_DTYPE = {np.dtype(dtype): name for name, dtype in NUMERIC_CLASSES.items()}


@dataclass
class BlockMatrix:
    """A large MATLAB ``rows × columns`` matrix produced in blocks of columns (e.g. ROI × time, blocks of time).

    Attributes
    ----------
    matlab_shape : (int, int)
    dtype : numpy dtype
    block : callable
        ``block(start, stop) -> ndarray`` of shape ``(stop - start, rows)``: columns ``start:stop`` transposed.
    columns_per_block : int
    """

    matlab_shape: tuple[int, int]
    dtype: np.dtype
    block: Callable[[int, int], np.ndarray]
    columns_per_block: int = 1000


def write_mat_v5(path: str | Path, variables: dict, *, compress: bool = True) -> Path:
    """Write ``variables`` (name → plain value) as a MATLAB 5 file, compressed (MATLAB's ``-v7``) or not
    (``-v6``); return its path."""
    from scipy.io import savemat

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(
        str(path),
        {name: _to_scipy(value) for name, value in variables.items()},
        format="5",
        long_field_names=True,
        do_compression=compress,
        oned_as="row",
    )
    return path


def _to_scipy(value):
    if isinstance(value, StructArray):
        names = list(value[0]) if value else []
        array = np.empty(value.matlab_shape, dtype=[(name, object) for name in names])
        flat = array.reshape(-1, order="F")
        for index, element in enumerate(value):
            flat[index] = tuple(_to_scipy(element[name]) for name in names)
        return array
    if isinstance(value, dict):
        return {key: _to_scipy(item) for key, item in value.items()}
    if isinstance(value, list):
        cell = np.empty((1, len(value)), dtype=object)
        for index, item in enumerate(value):
            cell[0, index] = _to_scipy(item)
        return cell
    if isinstance(value, BlockMatrix):
        raise TypeError("a BlockMatrix can only be written into a v7.3 file")
    return value


def write_mat_v73(path: str | Path, variables: dict, *, compression: str | None = None) -> Path:
    """Write ``variables`` (name → plain value) as a MATLAB v7.3 (HDF5) file; return its path.

    Parameters
    ----------
    compression : str, optional
        ``"gzip"`` compresses large arrays as MATLAB does by default; None stores them raw.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w", userblock_size=512, libver="earliest") as mat:
        writer = _V73Writer(mat, compression)
        for name, value in variables.items():
            writer.write(mat, name, value)
    with open(path, "r+b") as stream:
        stream.write(v73_header())
    return path


def v73_header() -> bytes:
    """MATLAB's 128-byte v7.3 header: text (116 bytes), subsystem offset (8), version 0x0200, endian ``IM``."""
    text = V73_HEADER_TEXT.encode("ascii").ljust(116, b" ")
    return text + b"\x00" * 8 + b"\x00\x02" + b"IM"


class _V73Writer:
    """Writes values into a v7.3 file, naming referenced objects in ``#refs#`` as MATLAB does (a, b, ..., ba)."""

    def __init__(self, mat: h5py.File, compression: str | None):
        self.mat = mat
        self.compression = compression
        self.count = 0

    def _reference(self, value) -> h5py.Reference:
        refs = self.mat.require_group("#refs#")
        name, number = "", self.count
        self.count += 1
        while True:
            name = chr(ord("a") + number % 26) + name
            number //= 26
            if number == 0:
                break
        return self.write(refs, name, value).ref

    def write(self, parent: h5py.Group, name: str, value):
        if isinstance(value, StructArray):
            return self._struct_array(parent, name, value)
        if isinstance(value, dict):
            group = parent.create_group(name)
            _set_class(group, "struct")
            group.attrs["MATLAB_fields"] = _field_names(list(value))
            for key, item in value.items():
                self.write(group, key, item)
            return group
        if isinstance(value, list):
            if not value:
                return _empty(parent, name, "cell", (0, 0))
            references = np.array([self._reference(item) for item in value], dtype=h5py.ref_dtype)
            dataset = parent.create_dataset(name, data=references.reshape(len(value), 1))
            _set_class(dataset, "cell")
            return dataset
        if isinstance(value, str):
            if not value:
                return _empty(parent, name, "char", (0, 0))
            codes = np.array([ord(char) for char in value], dtype=np.uint16).reshape(-1, 1)
            dataset = parent.create_dataset(name, data=codes)
            _set_class(dataset, "char")
            dataset.attrs["MATLAB_int_decode"] = np.int32(2)
            return dataset
        if isinstance(value, BlockMatrix):
            return self._block_matrix(parent, name, value)
        array = np.asarray(value)
        if array.ndim < 2:
            array = array.reshape(1, -1)
        if array.dtype == bool:
            if array.size == 0:
                return _empty(parent, name, "logical", array.shape)
            dataset = parent.create_dataset(name, data=array.T.astype(np.uint8), **self._filters(array))
            _set_class(dataset, "logical")
            dataset.attrs["MATLAB_int_decode"] = np.int32(1)
            return dataset
        matlab_class = MATLAB_CLASS_OF_DTYPE[array.dtype]
        if array.size == 0:
            return _empty(parent, name, matlab_class, array.shape)
        dataset = parent.create_dataset(name, data=np.ascontiguousarray(array.T), **self._filters(array))
        _set_class(dataset, matlab_class)
        return dataset

    def _filters(self, array) -> dict:
        if self.compression and array.nbytes >= 64 * 1024:
            return dict(compression=self.compression, chunks=True)
        return {}

    def _struct_array(self, parent, name, value: StructArray):
        if not value:
            return _empty(parent, name, "struct", value.matlab_shape)
        group = parent.create_group(name)
        _set_class(group, "struct")
        names = list(value[0])
        group.attrs["MATLAB_fields"] = _field_names(names)
        for field in names:
            references = np.array([self._reference(element[field]) for element in value], dtype=h5py.ref_dtype)
            group.create_dataset(field, data=references.reshape(value.matlab_shape[::-1], order="C"))
        return group

    def _block_matrix(self, parent, name, value: BlockMatrix):
        rows, columns = value.matlab_shape
        chunk_rows = max(1, min(columns, value.columns_per_block))
        options = dict(chunks=(chunk_rows, rows))
        if self.compression:
            options["compression"] = self.compression
        dataset = parent.create_dataset(name, shape=(columns, rows), dtype=value.dtype, **options)
        for start in range(0, columns, value.columns_per_block):
            stop = min(columns, start + value.columns_per_block)
            dataset[start:stop] = value.block(start, stop)
        _set_class(dataset, MATLAB_CLASS_OF_DTYPE[np.dtype(value.dtype)])
        return dataset


def _set_class(item, matlab_class: str) -> None:
    item.attrs["MATLAB_class"] = np.bytes_(matlab_class)


def _field_names(names: list[str]) -> np.ndarray:
    """The ``MATLAB_fields`` attribute: a vlen array of per-name character arrays."""
    field_names = np.empty(len(names), dtype=h5py.vlen_dtype(np.dtype("S1")))
    for index, field in enumerate(names):
        field_names[index] = np.array(list(field), dtype="S1")
    return field_names


def _empty(parent, name: str, matlab_class: str, matlab_shape) -> h5py.Dataset:
    dataset = parent.create_dataset(name, data=np.array(tuple(matlab_shape)[::-1], dtype=np.uint64))
    _set_class(dataset, matlab_class)
    dataset.attrs["MATLAB_empty"] = np.uint8(1)
    return dataset
