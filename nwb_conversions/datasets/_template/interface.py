"""A NeuroConv data interface for the TemplateDataset recording: one ``TimeSeries`` of stored int16 counts.

Replace it with your format's interface (or use one of :mod:`nwb_conversions.interfaces` when your format is
already there). Keep it a NeuroConv citizen: ``get_metadata()`` returns only what the source records,
``add_to_nwbfile`` adds NWB objects and nothing else, large data go in as a :class:`~nwb_conversions.writing.plan.
StreamedArray` (the fast writer and NeuroConv's own write the same bytes), raw data stay in their counts with NWB's
``conversion``. When a second dataset reads the same format, move the interface to ``interfaces/``.
"""

from __future__ import annotations

from pathlib import Path

from neuroconv.basedatainterface import BaseDataInterface
from pynwb import NWBFile, TimeSeries

from ...interfaces.metadata_blocks import MetadataBlocksMixin
from ...interfaces.stub import first_seconds
from ...writing.plan import StreamedArray
from .layout import read_session


class TemplateDatasetRecordingInterface(MetadataBlocksMixin, BaseDataInterface):
    """The recording of one TemplateDataset session folder, in ``acquisition/Recording``.

    Parameters
    ----------
    folder_path : str or Path
        The session folder ``<session_id>/``.
    """

    display_name = "TemplateDataset recording"
    keywords = ("extracellular",)
    associated_suffixes = (".bin", ".json")
    info = "Interleaved int16 samples with a session.json."

    def __init__(self, folder_path: str | Path, verbose: bool = False):
        self.session = read_session(folder_path)
        super().__init__(verbose=verbose, folder_path=str(folder_path))

    #: The interface's own metadata blocks and their schemas (none here: the recording needs only NWBFile's).
    metadata_blocks = {}

    def default_metadata(self) -> dict:
        """The session id and start time the session's files record (merged over NeuroConv's base metadata)."""
        return {"NWBFile": {"session_id": self.session.session_id, "session_start_time": self.session.start_time}}

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add the recording as stored counts with ``conversion`` (volts per count) at the recorded rate."""
        samples = first_seconds(self.session.recording, self.session.sampling_rate_hz, stub_test=stub_test)
        nwbfile.add_acquisition(
            TimeSeries(
                name="Recording",
                description="the recorded channels, int16 counts as stored (conversion gives volts)",
                data=StreamedArray(samples),
                unit="volts",
                conversion=self.session.volts_per_count,
                rate=self.session.sampling_rate_hz,
                starting_time=0.0,
            )
        )
