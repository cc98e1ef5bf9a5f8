"""SPE-1 ground truth ``cNN_wc_spike_samples.npy``: sample indices of the patched cell's spikes on the patch clock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from neuroconv.basedatainterface import BaseDataInterface
from pynwb import NWBFile

from ..errors import SourceFormatError
from ..metadata.assembly import deep_update
from ..readers.npy import read_npy_vector
from .metadata_blocks import MetadataBlocksMixin
from .stub import STUB_SECONDS
from .units import GROUND_TRUTH_UNIT_SCHEMA, add_ground_truth_unit


class SpikeSamplesInterface(MetadataBlocksMixin, BaseDataInterface):
    """Spike sample indices (``.npy``, 1-D integers) on a trace's clock, written as one ground-truth unit.

    Parameters
    ----------
    file_path : str or Path
        The ``.npy`` file (read by :func:`~nwb_conversions.readers.npy.read_npy_vector`: never unpickled).
    num_clock_samples : int
        Length of the trace the indices refer to; every index must be below it.
    sampling_frequency : float, optional
        The clock's rate; may be set later by the converter's clock alignment.
    """

    display_name = "Ground-truth spike samples"
    keywords = ("ground truth", "spike times")
    associated_suffixes = (".npy",)
    info = "Sample indices of a patched cell's spikes, on the patch clock."
    metadata_blocks = {"GroundTruthUnit": GROUND_TRUTH_UNIT_SCHEMA}

    def __init__(
        self,
        file_path: str | Path,
        num_clock_samples: int,
        sampling_frequency: float | None = None,
        verbose: bool = False,
    ):
        file_path = Path(file_path)
        expected = f"a 1-D integer .npy of sample indices in [0, {num_clock_samples})"
        samples = read_npy_vector(file_path, kinds="iu", expected=expected)
        if samples.size and (samples.min() < 0 or samples.max() >= num_clock_samples):
            raise SourceFormatError(
                file_path,
                f"spike samples span [{samples.min()}, {samples.max()}], beyond the {num_clock_samples}-sample trace",
                expected,
            )
        samples = samples.astype(np.int64)
        #: Contradictions that were resolved, for the user and the file's notes.
        self.notes = []
        if samples.size and np.any(np.diff(samples) < 0):
            self.notes.append(f"{file_path}: spike samples are not in order; they were sorted")
        self.spike_samples = np.unique(samples)
        if not samples.size:
            self.notes.append(f"{file_path}: holds no spike samples, so the file has no ground-truth unit")
        if self.spike_samples.size < samples.size:
            self.notes.append(
                f"{file_path}: {samples.size - self.spike_samples.size} duplicated spike sample(s) were written once"
            )
        self.sampling_frequency = None if sampling_frequency is None else float(sampling_frequency)
        super().__init__(verbose=verbose, file_path=str(file_path), num_clock_samples=num_clock_samples)

    def default_metadata(self) -> dict:
        """Return the unit table's default description."""
        return {"GroundTruthUnit": {"description": "ground-truth spikes of the patched cell"}}

    def spike_times(self) -> np.ndarray:
        """Spike times in seconds: sample index / sampling frequency."""
        return self.spike_samples / self.sampling_frequency

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add the cell as one row of ``units``, with ``metadata["GroundTruthUnit"]["columns"]`` as columns."""
        if self.sampling_frequency is None:
            raise ValueError("the spike clock's sampling_frequency was not set (the converter aligns the clocks)")
        metadata = deep_update(self.get_metadata(), metadata or {})
        spike_times = self.spike_times()
        if stub_test:
            spike_times = spike_times[spike_times < STUB_SECONDS]
        add_ground_truth_unit(
            nwbfile, spike_times, metadata["GroundTruthUnit"], resolution=1.0 / self.sampling_frequency
        )
