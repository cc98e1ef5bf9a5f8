"""A base interface for headerless, sample-interleaved extracellular recordings (Neuropixels, Intan polytrodes).

Subclasses know their format (channel count, dtype, scaling, geometry); this class streams the samples into an
``ElectricalSeries`` in their stored digital counts, with NWB's ``conversion``/``offset`` giving volts, so the raw
data round-trip bit-exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from neuroconv.basedatainterface import BaseDataInterface
from pynwb import NWBFile
from pynwb.ecephys import ElectricalSeries

from ..metadata.assembly import deep_update
from ..readers.binary import open_interleaved_binary
from ..writing.plan import StreamedArray
from .electrodes import add_probe_electrodes
from .metadata_blocks import MetadataBlocksMixin
from .schemas import DEVICE_SCHEMA, ELECTRODE_GROUP_SCHEMA, block_schema, named_block
from .stub import first_seconds

EXTRACELLULAR_METADATA_SCHEMA = block_schema(
    Device=DEVICE_SCHEMA,
    ElectrodeGroup=ELECTRODE_GROUP_SCHEMA,
    ElectricalSeries=named_block("name", "description"),
    electrode_location={"type": "string"},
)


class InterleavedBinaryRecordingInterface(MetadataBlocksMixin, BaseDataInterface):
    """Stream a sample-interleaved binary into an ``ElectricalSeries`` with an electrodes table.

    Parameters
    ----------
    file_path : str or Path
        The binary file.
    num_channels : int
        Channels per sample.
    dtype : str
        Stored sample type.
    sampling_frequency : float
        Samples per second.
    conversion : float
        Volts per count.
    offset : float, default: 0.0
        Volts at count 0 (NWB: value = data × conversion + offset).
    """

    keywords = ("extracellular electrophysiology", "raw binary")
    metadata_blocks = {"Extracellular": EXTRACELLULAR_METADATA_SCHEMA}

    def __init__(
        self,
        file_path: str | Path,
        *,
        num_channels: int,
        dtype: str,
        sampling_frequency: float,
        conversion: float,
        offset: float = 0.0,
        verbose: bool = False,
    ):
        self.samples = open_interleaved_binary(file_path, num_channels=num_channels, dtype=dtype)
        self.sampling_frequency = float(sampling_frequency)
        self.conversion = float(conversion)
        self.offset = float(offset)
        super().__init__(verbose=verbose, file_path=str(file_path))

    @property
    def num_samples(self) -> int:
        """Samples per channel in the file."""
        return self.samples.shape[0]

    def electrode_positions_um(self) -> np.ndarray:
        """Return ``(num_channels, 2)`` x/y positions in µm for the file's channels (NaN where unknown)."""
        raise NotImplementedError

    def electrode_columns(self) -> dict[str, tuple[str, np.ndarray]]:
        """Return extra electrodes-table columns, ``{name: (description, values per channel)}``."""
        return {}

    def default_metadata(self) -> dict:
        """Return complete defaults: a probe device, its electrode group and the series' name."""
        return {
            "Extracellular": {
                "Device": {"name": "Probe", "description": "extracellular probe"},
                "ElectrodeGroup": {
                    "name": "ProbeShank",
                    "description": "the probe's recorded sites",
                    "location": "unknown",
                },
                "ElectricalSeries": {"name": "ElectricalSeries"},
                "electrode_location": "unknown",
            }
        }

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add the electrodes and the streamed ``ElectricalSeries`` to ``acquisition``.

        Parameters
        ----------
        nwbfile : NWBFile
        metadata : dict
            Uses ``metadata["Extracellular"]``: ``Device``, ``ElectrodeGroup``, ``ElectricalSeries``,
            ``electrode_location``.
        stub_test : bool, default: False
            Write only the first few seconds.
        """
        metadata = deep_update(self.get_metadata(), metadata or {})
        extracellular = metadata["Extracellular"]
        region = add_probe_electrodes(
            nwbfile,
            device_metadata=extracellular["Device"],
            group_metadata=extracellular["ElectrodeGroup"],
            positions_um=self.electrode_positions_um(),
            electrode_location=extracellular.get("electrode_location", "unknown"),
            extra_columns=self.electrode_columns(),
        )
        samples = first_seconds(self.samples, self.sampling_frequency, stub_test=stub_test)
        series_metadata = extracellular.get("ElectricalSeries", {})
        nwbfile.add_acquisition(
            ElectricalSeries(
                name=series_metadata.get("name", "ElectricalSeries"),
                description=series_metadata.get("description", "raw extracellular voltage, stored in ADC counts"),
                data=StreamedArray(samples, rows_per_chunk=int(round(self.sampling_frequency))),
                electrodes=region,
                rate=self.sampling_frequency,
                starting_time=0.0,
                conversion=self.conversion,
                offset=self.offset,
            )
        )
