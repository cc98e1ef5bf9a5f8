"""The note helpers readers offer the datasets: valid but suspicious sources are described in one line each."""

from __future__ import annotations

import h5py
import numpy as np

from nwb_conversions.layouts.allen_oephys.consistency import consistency_notes
from nwb_conversions.layouts.allen_oephys.recording import read_oephys_recording
from nwb_conversions.readers.channel_map import degenerate_geometry_note
from nwb_conversions.readers.trace_checks import non_finite_note
from nwb_conversions.readers.yaml_metadata import unknown_top_level_key_notes

from .bad_sources import write_allen_recording


def test_degenerate_geometry_note():
    usable = np.column_stack([np.zeros(4), 20.0 * np.arange(4)])
    assert degenerate_geometry_note(usable, "chanMap.mat") is None
    assert degenerate_geometry_note(np.full((4, 2), 7.0), "chanMap.mat") == (
        "chanMap.mat: all 4 channels with a position sit at the same point (7, 7) µm, so the geometry carries no "
        "information; it was written as it is"
    )
    assert degenerate_geometry_note(np.full((4, 2), np.nan), "map.csv") == (
        "map.csv: no channel has a known position, so the electrodes carry no geometry"
    )
    partly_known = np.array([[0.0, 0.0], [np.nan, np.nan], [0.0, 0.0]])
    assert "all 2 channels with a position" in degenerate_geometry_note(partly_known, "map.csv")
    assert degenerate_geometry_note(np.array([[1.0, 2.0]]), "one.csv") is None  # one site: nothing to compare


def test_non_finite_note_reads_all_or_sampled_blocks():
    trace = np.zeros(1000)
    assert non_finite_note(trace, "patch.bin") is None
    trace[[10, 11, 990]] = [np.nan, np.inf, -np.inf]
    assert non_finite_note(trace, "patch.bin", name="the patch trace", num_blocks=None, block_samples=100) == (
        "patch.bin: the patch trace holds 1 NaN and 2 infinite value(s) in all samples (first at sample 10)"
    )
    # sampled: 3 of 10 blocks (first, middle, last) → samples 0-99, 400-499, 900-999
    note = non_finite_note(trace, "patch.bin", num_blocks=3, block_samples=100)
    assert note == "patch.bin: the trace holds 1 NaN and 2 infinite value(s) in 300 sampled of 1000 samples (first at " \
        "sample 10)"
    assert non_finite_note(np.arange(10, dtype=np.int16), "npx.bin") is None  # integers cannot be NaN


def test_non_finite_note_on_a_2d_lazy_trace(tmp_path):
    data = np.zeros((500, 3), dtype=np.float64)
    data[250, 2] = np.nan
    data.tofile(tmp_path / "patch.bin")
    mapped = np.memmap(tmp_path / "patch.bin", dtype=np.float64, mode="r", shape=(500, 3))
    assert non_finite_note(mapped, "patch.bin", num_blocks=None, block_samples=64).endswith(
        "holds 1 NaN and 0 infinite value(s) in all samples (first at sample 250)"
    )


def test_unknown_top_level_key_notes():
    metadata = {"NWBFile": {}, "Subjet": {"sex": "F"}, "Zzz": {}}
    notes = unknown_top_level_key_notes(metadata, ["NWBFile", "Subject", "Ecephys"], "meta.yaml")
    assert notes == [
        "meta.yaml: the top-level key 'Subjet' is not used by this conversion and was ignored (did you mean "
        "'Subject'?)",
        "meta.yaml: the top-level key 'Zzz' is not used by this conversion and was ignored (known keys: Ecephys, "
        "NWBFile, Subject)",
    ]
    assert unknown_top_level_key_notes({"Subject": {}}, ["Subject"]) == []


def test_nan_in_allen_traces_is_a_note(tmp_path):
    path = write_allen_recording(tmp_path / "103991.h5")
    with h5py.File(path, "a") as h5:
        dff = h5["dff"][()]
        dff[[3, 4]] = np.nan
        h5["dff"][...] = dff
    notes = consistency_notes(read_oephys_recording(path))
    assert f"{path}: 'dff' holds 2 NaN and 0 infinite value(s) in all samples (first at sample 3); they are written " \
        "as they are" in notes
