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
