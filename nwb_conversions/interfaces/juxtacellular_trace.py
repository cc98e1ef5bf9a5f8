"""A juxtacellular or patch-clamp pipette trace stored as one channel of a headerless binary.

Serves SPE-1 (``cNN_patch_ch1.bin``, float64 in pA or mV) and SPE-2 (one channel of the Intan ADC file, in counts).
The stored values are written as they are, with ``conversion``/``offset`` to SI units: lossless.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from neuroconv.basedatainterface import BaseDataInterface
from pynwb import NWBFile

from ..metadata.assembly import deep_update
from ..readers.binary import open_interleaved_binary
from ..writing.plan import StreamedArray
from .electrodes import get_or_create_device
from .icephys import ICEPHYS_METADATA_SCHEMA, series_type_of
from .metadata_blocks import MetadataBlocksMixin
from .stub import first_seconds


class JuxtacellularTraceInterface(MetadataBlocksMixin, BaseDataInterface):
    """One pipette channel of a binary file as a ``VoltageClampSeries`` or ``CurrentClampSeries``.

    Parameters
    ----------
    file_path : str or Path
        The binary file.
    recording_mode : {"voltage_clamp", "current_clamp"}
        Voltage clamp records a current (``VoltageClampSeries``), current clamp a voltage (``CurrentClampSeries``).
    conversion : float
        SI units (amperes or volts) per stored value, e.g. 1e-12 for pA, 1e-3 for mV.
    offset : float, default: 0.0
        SI value at stored value 0.
    sampling_frequency : float, optional
        Samples per second; may be set later by the converter's clock alignment (``sampling_frequency`` attribute).
    dtype : str, default: "float64"
    num_channels : int, default: 1
        Channels interleaved in the file.
    channel : int, default: 0
        The pipette's channel (0-based).
    """

    display_name = "Juxtacellular / patch-clamp trace"
    keywords = ("intracellular electrophysiology", "juxtacellular", "patch clamp")
    associated_suffixes = (".bin",)
    info = "A pipette trace stored as one channel of a headerless binary."
    metadata_blocks = {"Icephys": ICEPHYS_METADATA_SCHEMA}

    def __init__(
        self,
        file_path: str | Path,
        recording_mode: Literal["voltage_clamp", "current_clamp"],
        conversion: float,
        offset: float = 0.0,
        sampling_frequency: float | None = None,
        dtype: str = "float64",
        num_channels: int = 1,
        channel: int = 0,
        verbose: bool = False,
    ):
        self.series_type = series_type_of(recording_mode)
        self.trace = open_interleaved_binary(file_path, num_channels=num_channels, dtype=dtype).channel(channel)
        self.recording_mode = recording_mode
        self.conversion = float(conversion)
        self.offset = float(offset)
        self.sampling_frequency = None if sampling_frequency is None else float(sampling_frequency)
        super().__init__(verbose=verbose, file_path=str(file_path), recording_mode=recording_mode)

    @property
    def num_samples(self) -> int:
        """Samples in the trace."""
        return self.trace.shape[0]

    def default_metadata(self) -> dict:
        """Return complete defaults: the amplifier, the pipette and the series' name."""
        return {
            "Icephys": {
                "Device": {"name": "PipetteAmplifier", "description": "amplifier of the pipette"},
                "IntracellularElectrode": {"name": "IntracellularElectrode", "description": "pipette"},
                "PatchClampSeries": {"name": "PatchClampSeries", "stimulus_description": "N/A"},
            }
        }

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add the pipette electrode and the streamed trace to ``acquisition``.

        Parameters
        ----------
        nwbfile : NWBFile
        metadata : dict
            Uses ``metadata["Icephys"]``: ``Device``, ``IntracellularElectrode``, ``PatchClampSeries``.
        stub_test : bool, default: False
            Write only the first few seconds.
        """
        if self.sampling_frequency is None:
            raise ValueError("the trace's sampling_frequency was not set (the converter aligns the clocks)")
        metadata = deep_update(self.get_metadata(), metadata or {})
        icephys = metadata["Icephys"]
        device = get_or_create_device(nwbfile, icephys["Device"])
        electrode = nwbfile.create_icephys_electrode(device=device, **icephys["IntracellularElectrode"])
        trace = first_seconds(self.trace, self.sampling_frequency, stub_test=stub_test)
        series_metadata = dict(icephys["PatchClampSeries"])
        nwbfile.add_acquisition(
            self.series_type(
                name=series_metadata.pop("name"),
                description=series_metadata.pop("description", f"pipette trace ({self.recording_mode})"),
                stimulus_description=series_metadata.pop("stimulus_description", "N/A"),
                data=StreamedArray(trace),
                electrode=electrode,
                rate=self.sampling_frequency,
                starting_time=0.0,
                conversion=self.conversion,
                offset=self.offset,
            )
        )
