"""SPE-1 ``cNN_expt_meta.csv``: the shapes and dtypes of a cell's Neuropixels and patch binaries.

The real file has a header ``npx,patch`` and one row of Python-2 literals, e.g.
``"[(384L, 24301033L), 'int16']","[40521060, 'float64']"``. The ``L`` suffixes are stripped and each cell is parsed
with ``ast.literal_eval`` (never ``eval``).
"""

from __future__ import annotations

import ast
import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SourceFormatError

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


def _parse_literal(text: str, file_path: Path):
    try:
        return ast.literal_eval(re.sub(r"(?<=\d)[lL]\b", "", text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise SourceFormatError(file_path, f"cannot parse {text!r} as a [shape, dtype] literal", EXPECTED_LAYOUT)


def read_expt_meta(file_path: str | Path) -> ExptMeta:
    """Parse a ``cNN_expt_meta.csv``.

    Raises
    ------
    SourceFormatError
        If the header, the literals or the dtypes are not as documented.
    """
    file_path = Path(file_path)
    try:
        with open(file_path, newline="", encoding="utf-8") as stream:
            rows = [row for row in csv.reader(stream) if row]
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceFormatError(file_path, f"unreadable ({exc.__class__.__name__})", EXPECTED_LAYOUT)
    if len(rows) < 2 or [name.strip() for name in rows[0][:2]] != ["npx", "patch"] or len(rows[1]) < 2:
        raise SourceFormatError(file_path, "not the documented two-column layout", EXPECTED_LAYOUT)
    npx, patch = (_parse_literal(text, file_path) for text in rows[1][:2])
    try:
        (npx_channels, npx_samples), npx_dtype = npx
        patch_shape, patch_dtype = patch
        patch_samples = patch_shape[0] if isinstance(patch_shape, (tuple, list)) else patch_shape
        return ExptMeta(
            npx_channels=int(npx_channels),
            npx_samples=int(npx_samples),
            npx_dtype=np.dtype(npx_dtype),
            patch_samples=int(patch_samples),
            patch_dtype=np.dtype(patch_dtype),
        )
    except (TypeError, ValueError):
        raise SourceFormatError(file_path, f"unexpected literals {rows[1][:2]}", EXPECTED_LAYOUT)


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
