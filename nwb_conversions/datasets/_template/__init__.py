"""TemplateDataset: one session folder of interleaved int16 samples described by a ``session.json``.

This module is the dataset's catalog entry and imports nothing heavy; the conversion is :mod:`.dataset`. The
package was made from the dataset template (``convert-to-nwb new-dataset``, README "Adding a dataset"); each of its
modules says what to replace.
"""

from __future__ import annotations

from ..catalog import DatasetEntry

ENTRY = DatasetEntry(
    key="template-dataset",
    summary="TemplateDataset: int16 recording + session.json (one session folder)",
    source_help="a TemplateDataset session folder <session_id>/ holding session.json and recording.bin",
)
