"""Neuropixels Opto (Steinmetz lab), ALF sorting + optogenetics.

This module is the dataset's catalog entry and imports nothing heavy; the conversion is :mod:`.dataset`.
"""

from __future__ import annotations

from ..catalog import DatasetEntry

ENTRY = DatasetEntry(
    key="np-opto",
    summary="Neuropixels Opto (Steinmetz lab): ALF spike sorting + 14-emitter optogenetic stimulation",
    source_help="a session folder <subject>_<date>_en<N>_p<P>/ (session.json, spikes.*.npy, clusters.*, stim.*.npy)",
)
