"""A synchronisation channel stored as its own headerless binary (SPE-1 ``cNN_npx_sync.bin``, ``cNN_patch_sync.bin``).

The pulse coding is not documented, so the values are written as stored, in arbitrary units.
"""

from __future__ import annotations

from pathlib import Path

from neuroconv.basedatainterface import BaseDataInterface
from pynwb import NWBFile, TimeSeries

from ..readers.binary import open_interleaved_binary
from ..writing.plan import StreamedArray
from .stub import first_seconds


class SyncChannelInterface(BaseDataInterface):
    """One sync trace as a plain ``TimeSeries`` in ``acquisition``.

    Parameters
    ----------
    file_path : str or Path
        The binary file (one channel).
    dtype : str
        Stored sample type.
    series_name : str
        The ``TimeSeries`` name, e.g. ``"SyncNeuropixels"``.
    description : str
        What the channel records.
    sampling_frequency : float, optional
        Samples per second; may be set later by the converter's clock alignment.
    """

    display_name = "Sync channel"
    keywords = ("synchronisation",)
    associated_suffixes = (".bin",)
    info = "A single-channel synchronisation trace in a headerless binary."

    def __init__(
        self,
        file_path: str | Path,
        dtype: str,
        series_name: str,
        description: str,
        sampling_frequency: float | None = None,
        verbose: bool = False,
    ):
        self.trace = open_interleaved_binary(file_path, num_channels=1, dtype=dtype).channel(0)
        self.series_name = series_name
        self.description = description
        self.sampling_frequency = None if sampling_frequency is None else float(sampling_frequency)
        super().__init__(verbose=verbose, file_path=str(file_path))

    @property
    def num_samples(self) -> int:
        """Samples in the trace."""
        return self.trace.shape[0]

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add the trace to ``acquisition`` (stored values, unit ``a.u.``)."""
        trace = first_seconds(self.trace, self.sampling_frequency, stub_test=stub_test)
        nwbfile.add_acquisition(
            TimeSeries(
                name=self.series_name,
                description=self.description,
                data=StreamedArray(trace),
                unit="a.u.",
                rate=self.sampling_frequency,
                starting_time=0.0,
            )
        )
