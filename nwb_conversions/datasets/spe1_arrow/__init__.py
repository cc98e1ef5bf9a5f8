"""SPE-1 Arrow (the Zhao et al. 2026 benchmark re-packaging of SPE-1).

This module is the dataset's catalog entry and imports nothing heavy; the conversion is :mod:`.dataset`.
"""

from __future__ import annotations

from pathlib import Path

from ..catalog import DatasetEntry

ENTRY = DatasetEntry(
    key="spe1-arrow",
    summary="SPE-1 Arrow re-packaging for the Zhao et al. 2026 spike-localization benchmark (one cell)",
    source_help="an SPE-1 Arrow cell folder (cNN/, a DatasetDict with train/, test/, templates.npz, patch.npz)",
    extra_arguments=(
        (
            ("--raw",),
            dict(
                type=Path,
                metavar="CELL_DIR",
                dest="raw_cell_dir",
                help="also write the raw SPE-1 recording of the same cell (a spe1 cell folder cNN/)",
            ),
        ),
    ),
)
