"""SPE-2 (Neto et al. 2016), polytrodes + juxtacellular.

This module is the dataset's catalog entry and imports nothing heavy; the conversion is :mod:`.dataset`.
"""

from __future__ import annotations

from ..catalog import DatasetEntry

ENTRY = DatasetEntry(
    key="spe2",
    summary="SPE-2 polytrode + juxtacellular pair (Neto et al. 2016)",
    source_help="an SPE-2 pair folder (YYYY_MM_DD_Pair_N_M/) holding amplifier*.bin, adc*.bin and READ ME.docx",
)
