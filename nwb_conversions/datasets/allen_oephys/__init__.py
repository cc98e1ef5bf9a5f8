"""Allen Dataset II (Ledochowitsch et al. 2019), cell-attached ephys + GCaMP.

This module is the dataset's catalog entry and imports nothing heavy; the conversion is :mod:`.dataset`.
"""

from __future__ import annotations

from ..catalog import DatasetEntry

ENTRY = DatasetEntry(
    key="allen-oephys",
    summary="Allen Dataset II: GCaMP6 ΔF/F + cell-attached ephys of one neuron (Ledochowitsch et al. 2019)",
    source_help="a Dataset II recording file <recording_id>.h5 (keys dff, dte, dto, ephys_raw, sptimes, ...)",
)
