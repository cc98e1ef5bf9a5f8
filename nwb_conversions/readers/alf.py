"""Strict readers of ALF files (``object.attribute.ext``): ``.npy`` arrays and small text attributes.

ALF (the IBL / Steinmetz-lab file naming) stores each attribute of an object in its own file, and every attribute
of one object has one row per item: ``spikes.times.npy`` and ``spikes.clusters.npy`` one row per spike,
``clusters.*`` one row per cluster. :func:`read_alf_object` reads the attributes of one object and checks that
they agree on that row count.

Arrays are read by :mod:`nwb_conversions.readers.npy`, header first: a pickled or object ``.npy`` is refused, never
unpickled, and a header that declares more data than the file holds is refused before anything is allocated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from .npy import read_npy_array
from .source_access import decode_utf8, read_source_bytes

#: The dtype kinds a caller may ask for, by what they mean in the messages.
KIND_NAMES = {
    "f": "floating point", "iu": "integer", "b": "boolean", "biu": "boolean (or 0/1 integer)", "fiu": "numeric"
}

#: Largest ALF text attribute read (one short value per cluster: a few kilobytes in the release).
MAX_TEXT_BYTES = 16 * 1024 * 1024


def load_npy(file_path: str | Path, *, kinds: str, ndim: int | tuple[int, ...] = 1, what: str = "") -> np.ndarray:
    """Load one ``.npy`` array and check its dtype kind and number of dimensions.

    The header is checked before any data is read (:func:`nwb_conversions.readers.npy.read_npy_array`): a header
    declaring more elements than the file holds is refused without allocating them, and an object array is refused
    without being unpickled.

    Parameters
    ----------
    file_path : str or Path
        The ``.npy`` file.
    kinds : str
        Accepted numpy dtype kinds, e.g. ``"f"`` (float), ``"iu"`` (integers), ``"biu"`` (booleans or integers).
    ndim : int or tuple of int, default: 1
        Accepted numbers of dimensions. A 1-D attribute stored as an (N, 1) column is accepted and flattened.
    what : str, optional
        What the array holds, for the messages (e.g. ``"spike times in seconds"``).

    Raises
    ------
    SourceFormatError
        If the file is missing, is not a readable ``.npy``, holds Python objects (it is refused, not unpickled), or
        has another dtype kind or shape.
    """
    file_path = Path(file_path)
    expected = f"a .npy array of {KIND_NAMES.get(kinds, kinds)} values" + (f" ({what})" if what else "")
    if not file_path.exists() and not file_path.is_symlink():
        raise SourceFormatError(file_path, "no such file", expected)
    accepted = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    column = 1 in accepted and 2 not in accepted
    array = read_npy_array(file_path, kinds=kinds, expected=expected, ndims=accepted + ((2,) if column else ()))
    if column and array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim not in accepted:
        raise SourceFormatError(
            file_path, f"has shape {array.shape}", f"{expected}, {' or '.join(f'{n}-D' for n in accepted)}"
        )
    return array


def read_alf_object(
    folder: str | Path,
    object_name: str,
    attributes: dict[str, dict],
    *,
    optional: tuple[str, ...] = (),
) -> tuple[dict[str, np.ndarray], int]:
    """Read the ``.npy`` attributes of one ALF object and check they have the same number of rows.

    Parameters
    ----------
    folder : str or Path
        The session folder.
    object_name : str
        The ALF object, e.g. ``"spikes"``.
    attributes : dict
        ``{attribute: load_npy keyword arguments}``, e.g. ``{"times": dict(kinds="f", what="seconds")}``.
    optional : tuple of str
        Attributes whose file may be absent (they are left out of the result).

    Returns
    -------
    arrays : dict of numpy.ndarray
        By attribute name.
    num_rows : int
        The common length of the attributes' first axis.

    Raises
    ------
    SourceFormatError
        If a required file is missing or unreadable, or two attributes disagree on the number of rows.
    """
    folder = Path(folder)
    arrays, lengths = {}, {}
    for attribute, options in attributes.items():
        path = folder / f"{object_name}.{attribute}.npy"
        if attribute in optional and not path.is_file():
            continue
        arrays[attribute] = load_npy(path, **options)
        lengths[attribute] = len(arrays[attribute])
    if len(set(lengths.values())) > 1:
        first, *others = lengths
        mismatch = next(name for name in others if lengths[name] != lengths[first])
        raise SourceFormatError(
            folder / f"{object_name}.{mismatch}.npy",
            f"has {lengths[mismatch]} rows but {object_name}.{first}.npy has {lengths[first]}",
            f"one row per item of '{object_name}' in every {object_name}.* file (ALF)",
        )
    return arrays, next(iter(lengths.values()), 0)


def read_text(file_path: str | Path, *, expected: str) -> str:
    """Read a small ALF text attribute (``.txt``, ``.csv``) whole: a regular UTF-8 file of at most
    :data:`MAX_TEXT_BYTES`, without NUL characters."""
    content = read_source_bytes(file_path, expected, max_bytes=MAX_TEXT_BYTES)
    return decode_utf8(content, file_path, expected)


def read_lines(file_path: str | Path, *, expected: str) -> list[str]:
    """Read a text file with one value per line (ALF ``.txt`` attribute); whitespace around values is dropped.

    A final newline does not make an extra value; Windows line ends are accepted.
    """
    lines = read_text(file_path, expected=expected).split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return [line.strip() for line in lines]
