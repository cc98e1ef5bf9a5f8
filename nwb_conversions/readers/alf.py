"""Strict readers of ALF files (``object.attribute.ext``): ``.npy`` arrays, one-value-per-line text, JSON.

ALF (the IBL / Steinmetz-lab file naming) stores each attribute of an object in its own file, and every attribute
of one object has one row per item: ``spikes.times.npy`` and ``spikes.clusters.npy`` one row per spike,
``clusters.*`` one row per cluster. :func:`read_alf_object` reads the attributes of one object and checks that
they agree on that row count.

Arrays are read with ``np.load(..., allow_pickle=False)``: a pickled or object ``.npy`` is refused, never
unpickled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SourceFormatError

#: The first bytes of every .npy file.
NPY_MAGIC = b"\x93NUMPY"

#: The dtype kinds a caller may ask for, by what they mean in the messages.
KIND_NAMES = {"f": "floating point", "iu": "integer", "b": "boolean", "biu": "boolean (or 0/1 integer)", "fiu": "numeric"}


def load_npy(file_path: str | Path, *, kinds: str, ndim: int | tuple[int, ...] = 1, what: str = "") -> np.ndarray:
    """Load one ``.npy`` array and check its dtype kind and number of dimensions.

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
    if not file_path.is_file():
        raise SourceFormatError(file_path, "no such file", expected)
    with open(file_path, "rb") as file:
        magic = file.read(len(NPY_MAGIC))
    if magic != NPY_MAGIC:
        problem = "an .npz archive, not one array" if magic.startswith(b"PK") else "not a .npy file (no NUMPY header)"
        raise SourceFormatError(file_path, problem, expected)
    try:
        array = np.load(file_path, allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):  # an object array: its data is a pickle
            raise SourceFormatError(
                file_path, "holds pickled Python objects (refused: never unpickled)", expected
            ) from None
        raise SourceFormatError(file_path, f"not a readable .npy file ({' '.join(str(error).split())})", expected)
    except (OSError, EOFError) as error:
        raise SourceFormatError(file_path, f"not a readable .npy file ({' '.join(str(error).split())})", expected)
    accepted_ndim = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if 1 in accepted_ndim and array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.dtype.kind not in kinds:
        raise SourceFormatError(file_path, f"holds {array.dtype} values", expected)
    if array.ndim not in accepted_ndim:
        raise SourceFormatError(
            file_path, f"has shape {array.shape}", f"{' or '.join(f'{n}-D' for n in accepted_ndim)} {expected}"
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


def read_lines(file_path: str | Path, *, expected: str) -> list[str]:
    """Read a text file with one value per line (ALF ``.txt`` attribute); whitespace around values is dropped.

    A final newline does not make an extra value.
    """
    file_path = Path(file_path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceFormatError(file_path, "not UTF-8 text", expected) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return [line.strip() for line in lines]
