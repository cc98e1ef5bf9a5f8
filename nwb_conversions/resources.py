"""Files shipped with the package: the dataset-level metadata folder (``metadata/`` in a checkout).

A core module like :mod:`nwb_conversions.errors`: every layer may import it, and it imports nothing of the package.
"""

from __future__ import annotations

from pathlib import Path


def shipped_metadata_dir() -> Path:
    """Return the folder of the dataset-level metadata files shipped with the package.

    A wheel carries them inside the package (``nwb_conversions/_metadata``); a source checkout keeps them in the
    top-level ``metadata/`` folder.
    """
    packaged = Path(__file__).parent / "_metadata"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "metadata"
