"""Fuzzing Allen Dataset II ``<recording_id>.h5``: 10 000 damaged files and absurd values; only one-line
SourceFormatErrors escape, and what is accepted has plausible periods and sorted, finite spike times."""

from __future__ import annotations

import random
import struct

import h5py
import numpy as np
import pytest

from nwb_conversions.layouts.allen_oephys.consistency import consistency_notes
from nwb_conversions.layouts.allen_oephys.recording import PLAUSIBLE_PERIODS, read_oephys_recording

from .harness import fuzz_bytes, fuzz_generated

ODD_VALUES = (0.0, -1.0, 1e300, 1e-300, -1e-4, np.nan, np.inf, -np.inf, 1e-4, 1 / 30, 5e-324, 2.0**63, 7.0)


def accepted(recording):
    for key, period in (("dte", recording.ephys_period), ("dto", recording.ophys_period)):
        assert PLAUSIBLE_PERIODS[key][0] <= period <= PLAUSIBLE_PERIODS[key][1]
    assert np.all(np.isfinite(recording.spike_times)) and np.all(np.diff(recording.spike_times) >= 0)
    assert recording.ephys_raw.shape == recording.ephys_baseline_subtracted.shape
    consistency_notes(recording)  # NaN traces and odd spikes are notes, never errors


@pytest.fixture(scope="module")
def base_file(tmp_path_factory):
    """A small recording (200 ephys samples, 20 frames), datasets stored contiguously; and where each one's data
    lies in the file."""
    path = tmp_path_factory.mktemp("allen") / "base.h5"
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as h5:
        h5["dff"] = rng.normal(size=20)
        h5["dte"] = np.float64(1e-4)
        h5["dto"] = np.float64(1 / 30)
        h5["ephys_raw"] = rng.normal(size=200) * 1e-3
        h5["ephys_baseline_subtracted"] = rng.normal(size=200) * 1e-3
        h5["genotype"] = np.bytes_(b"Emx1-IRES-Cre;Camk2a-tTA;Ai94")
        h5["quiroga"] = np.float64(2e-3)
        h5["sptimes"] = np.array([0.001, 0.005, 0.0123])
    with h5py.File(path, "r") as h5:
        offsets = {key: (h5[key].id.get_offset(), h5[key].size) for key in h5 if h5[key].dtype.kind == "f"}
    return path.read_bytes(), offsets


def test_byte_mutations(tmp_path, base_file):
    base, _ = base_file
    assert fuzz_bytes(tmp_path / "103991.h5", base, read_oephys_recording, 8000, accepted=accepted) >= 8000


def test_absurd_values(tmp_path, base_file):
    """Overwrite the stored numbers (periods, threshold, spike times, trace samples) with extreme ones."""
    base, offsets = base_file

    def odd_recording(rng: random.Random) -> bytes:
        data = bytearray(base)
        for key in rng.sample(sorted(offsets), rng.randint(1, 3)):
            offset, size = offsets[key]
            for index in rng.sample(range(size), min(size, rng.randint(1, 4))):
                data[offset + 8 * index : offset + 8 * index + 8] = struct.pack("<d", rng.choice(ODD_VALUES))
        return bytes(data)

    path = tmp_path / "103991.h5"
    assert fuzz_generated(path, odd_recording, read_oephys_recording, 2000, accepted=accepted) >= 2000
