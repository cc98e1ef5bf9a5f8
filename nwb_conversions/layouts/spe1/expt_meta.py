"""SPE-1 ``cNN_expt_meta.csv``: the shapes and dtypes of a cell's Neuropixels and patch binaries.

The real file has a header ``npx,patch`` and one row of Python-2 literals, e.g.
``"[(384L, 24301033L), 'int16']","[40521060, 'float64']"``. The ``L`` suffixes are stripped and each cell is parsed
with ``ast.literal_eval`` (never ``eval``).
"""

from __future__ import annotations

import ast
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.source_access import check_plausible, decode_utf8, one_line, read_source_bytes

EXPECTED_LAYOUT = "a header 'npx,patch' and one row like \"[(384L, 24301033L), 'int16']\",\"[40521060, 'float64']\""


@dataclass(frozen=True)
class ExptMeta:
    """The declared layout of one SPE-1 cell.

    Attributes
    ----------
    npx_channels, npx_samples : int
        The Neuropixels matrix is ``npx_channels × npx_samples``.
    npx_dtype : numpy.dtype
    patch_samples : int
    patch_dtype : numpy.dtype
    """

    npx_channels: int
    npx_samples: int
    npx_dtype: np.dtype
    patch_samples: int
    patch_dtype: np.dtype


#: The file is two short lines; anything larger is not a ``cNN_expt_meta.csv``.
MAX_FILE_BYTES = 64 * 1024

#: Longest literal accepted (the real ones are about 30 characters).
MAX_LITERAL_CHARS = 1000

#: Plausible sizes: channels of a probe, samples of a recording (10¹² is a year at 30 kHz).
PLAUSIBLE_CHANNELS = (1, 1024)
PLAUSIBLE_SAMPLES = (1, 10**12)

#: Sample types a binary of this release can have (numbers only; never object or text).
NUMERIC_KINDS = "iuf"


def _parse_literal(text: str, column: str, file_path: Path):
    """Parse one cell's Python-2 literal with ``ast.literal_eval`` (never ``eval``)."""
    if len(text) > MAX_LITERAL_CHARS:
        raise SourceFormatError(file_path, f"the {column} cell is {len(text)} characters long", EXPECTED_LAYOUT)
    try:
        return ast.literal_eval(re.sub(r"(?<=\d)[lL]\b", "", text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise SourceFormatError(
            file_path, f"cannot parse {column} = {text!r} as a [shape, dtype] literal", EXPECTED_LAYOUT
        ) from None


def _whole_number(value, name: str, file_path: Path, plausible: tuple[int, int]) -> int:
    """A count from the literal: a Python int (never a bool or a float) in the ``plausible`` range."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise SourceFormatError(file_path, f"{name} is {value!r}, not a whole number", EXPECTED_LAYOUT)
    return int(check_plausible(file_path, name, value, *plausible, f"from {plausible[0]} to {plausible[1]}"))


def _numeric_dtype(value, name: str, file_path: Path) -> np.dtype:
    """A dtype from the literal: a name such as ``'int16'`` of a plain numeric type."""
    try:
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]+[0-9]*", value):
            raise TypeError  # one plain name, never numpy's comma or dict specifications
        dtype = np.dtype(value)
    except (TypeError, ValueError, OverflowError, MemoryError, SyntaxError):
        raise SourceFormatError(file_path, f"{name} is {value!r}, not a dtype name", EXPECTED_LAYOUT) from None
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise SourceFormatError(file_path, f"{name} is {value!r}, not a numeric dtype", "a dtype such as 'int16'")
    return dtype


def _pair(value, column: str, file_path: Path) -> tuple:
    """A ``[shape, dtype]`` literal as a 2-tuple."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise SourceFormatError(file_path, f"{column} is {value!r}, not a [shape, dtype] pair", EXPECTED_LAYOUT)
    return tuple(value)


def read_expt_meta(file_path: str | Path) -> ExptMeta:
    """Parse a ``cNN_expt_meta.csv``.

    Raises
    ------
    SourceFormatError
        If the file cannot be read, or the header, the literals, the dtypes or the sizes (see
        :data:`PLAUSIBLE_CHANNELS`, :data:`PLAUSIBLE_SAMPLES`) are not as documented.
    """
    file_path = Path(file_path)
    content = read_source_bytes(file_path, EXPECTED_LAYOUT, max_bytes=MAX_FILE_BYTES)
    text = decode_utf8(content, file_path, EXPECTED_LAYOUT)
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise SourceFormatError(file_path, f"not CSV ({one_line(exc)})", EXPECTED_LAYOUT) from None
    if len(rows) < 2 or [name.strip() for name in rows[0][:2]] != ["npx", "patch"] or len(rows[1]) < 2:
        raise SourceFormatError(file_path, "not the documented two-column layout", EXPECTED_LAYOUT)
    npx_shape, npx_dtype = _pair(_parse_literal(rows[1][0], "npx", file_path), "npx", file_path)
    patch_shape, patch_dtype = _pair(_parse_literal(rows[1][1], "patch", file_path), "patch", file_path)
    if not isinstance(npx_shape, (list, tuple)) or len(npx_shape) != 2:
        raise SourceFormatError(file_path, f"the npx shape is {npx_shape!r}", "a (channels, samples) pair for npx")
    if isinstance(patch_shape, (list, tuple)):
        if len(patch_shape) != 1:
            raise SourceFormatError(file_path, f"the patch shape is {patch_shape!r}", "a sample count for patch")
        patch_shape = patch_shape[0]
    return ExptMeta(
        npx_channels=_whole_number(npx_shape[0], "npx channels", file_path, PLAUSIBLE_CHANNELS),
        npx_samples=_whole_number(npx_shape[1], "npx samples", file_path, PLAUSIBLE_SAMPLES),
        npx_dtype=_numeric_dtype(npx_dtype, "npx dtype", file_path),
        patch_samples=_whole_number(patch_shape, "patch samples", file_path, PLAUSIBLE_SAMPLES),
        patch_dtype=_numeric_dtype(patch_dtype, "patch dtype", file_path),
    )


#: Channels of the SPE-1 Neuropixels binary.
NPX_CHANNELS = 384


def check_binaries_against_expt_meta(files: dict, npx_samples: int, patch_samples: int) -> None:
    """Check ``cNN_expt_meta.csv``'s declared shapes and dtypes against the binaries' sizes.

    Parameters
    ----------
    files : dict
        The cell's files: ``expt_meta`` (or None: nothing to check), ``npx``, ``patch``.
    npx_samples, patch_samples : int
        Samples in the Neuropixels (per channel) and patch binaries.

    Raises
    ------
    SourceFormatError
        Naming every disagreement.
    """
    if files["expt_meta"] is None:
        return
    meta = read_expt_meta(files["expt_meta"])
    problems = []
    if meta.npx_channels != NPX_CHANNELS or meta.npx_dtype.name != "int16":
        problems.append(f"npx is ({meta.npx_channels}, …) {meta.npx_dtype.name}, not (384, …) int16")
    if meta.npx_samples != npx_samples:
        problems.append(f"npx has {meta.npx_samples} samples but {files['npx'].name} holds {npx_samples}")
    if meta.patch_samples != patch_samples or meta.patch_dtype.name != "float64":
        problems.append(
            f"patch is {meta.patch_samples} {meta.patch_dtype.name} but {files['patch'].name} holds "
            f"{patch_samples} float64"
        )
    if problems:
        raise SourceFormatError(files["expt_meta"], "; ".join(problems), "shapes and dtypes that match the binaries")
