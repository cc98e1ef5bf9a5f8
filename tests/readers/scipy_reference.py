"""The reference the streamed MATLAB 5 reader is checked against: scipy's ``loadmat`` (which the package read v5
files with until it crashed on damaged files and held whole structs in memory), turned into the plain values of
:mod:`nwb_conversions.readers.matlab_values`. Used by the tests only, on valid files.

Known differences, where the streamed reader is right and this reference is not: scipy (``mat_dtype=True``) drops
the imaginary part of complex numbers, and refuses a 1 × 1 struct without fields.

:func:`assert_same_structure` is the deep comparison of plain values these checks (and the fuzzers) use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers.matlab_values import EXPECTED, MatlabObjectError, StructArray, char_rows


def scipy_variable_classes(file_path: Path) -> dict[str, str]:
    """The MATLAB class of each variable of a v5/v7 file, from its headers (a class object's: ``object``/``opaque``)."""
    from scipy.io import whosmat

    return {name: matlab_class for name, _, matlab_class in whosmat(str(file_path))}


def scipy_read_variables(file_path: Path, names=None) -> dict:
    """Read a v5/v7 file's variables (all, or ``names``) as plain values; raise on a MATLAB class object."""
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
    """One value loaded by scipy as a plain value (``where`` names it in messages, e.g. ``sess.trial{2}``)."""
    from scipy.io.matlab import MatlabFunction, MatlabObject, MatlabOpaque

    if isinstance(value, (MatlabObject, MatlabOpaque, MatlabFunction)):
        kind = getattr(value, "classname", None) or type(value).__name__
        raise MatlabObjectError(
            file_path, f"{where} is a MATLAB class object ({kind}), which only MATLAB can read", EXPECTED
        )
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
        return [
            _from_scipy(element, file_path, f"{where}{{{index + 1}}}")
            for index, element in enumerate(value.flatten(order="F"))
        ]
    if value.dtype.kind == "U":
        return char_rows(value)
    return np.asarray(value)


def assert_same_structure(left, right, where="value", *, ordered=True):
    """Deep equality with types, shapes and dtypes (StructArray shapes too); struct fields in the same order unless
    not ``ordered`` (a v7.3 struct's fields come in HDF5's order)."""
    assert type(left) is type(right), where
    if isinstance(left, dict):
        assert list(left) == list(right) if ordered else sorted(left) == sorted(right), where
        for key in left:
            assert_same_structure(left[key], right[key], f"{where}.{key}", ordered=ordered)
    elif isinstance(left, list):
        assert len(left) == len(right), where
        if isinstance(left, StructArray):
            assert left.matlab_shape == right.matlab_shape, where
        for index, (a, b) in enumerate(zip(left, right)):
            assert_same_structure(a, b, f"{where}[{index}]", ordered=ordered)
    elif isinstance(left, np.ndarray):
        assert left.dtype == right.dtype and left.shape == right.shape, where
        np.testing.assert_array_equal(left, right, err_msg=where)
    else:
        assert left == right, where
