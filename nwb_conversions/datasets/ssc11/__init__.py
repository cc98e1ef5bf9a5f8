"""SSC-11 (Peron et al. 2020), two-photon imaging in MATLAB structs.

This module is the dataset's catalog entry and imports nothing heavy; the conversion is :mod:`.dataset`.
"""

from __future__ import annotations

from ..catalog import DatasetEntry

ENTRY = DatasetEntry(
    key="ssc11",
    summary="SSC-11: 3-plane two-photon imaging, behaviour and ablation in MATLAB structs (Peron et al. 2020)",
    source_help="one an<ID>/session_neuropilone_<condition>_merged/an*sess_struct.mat file (MATLAB v5 or v7.3)",
)
