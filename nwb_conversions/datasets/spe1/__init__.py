"""SPE-1 (Marques-Smith et al. 2018), Neuropixels + patch clamp.

This module is the dataset's catalog entry and imports nothing heavy; the conversion is :mod:`.dataset`.
"""

from __future__ import annotations

from ..catalog import DatasetEntry

ENTRY = DatasetEntry(
    key="spe1",
    summary="SPE-1 Neuropixels + patch-clamp cell (Marques-Smith et al. 2018)",
    source_help="an SPE-1 cell folder (cNN/) holding cNN_npx_raw.bin and cNN_patch_ch1.bin",
)
