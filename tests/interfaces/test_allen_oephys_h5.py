"""The Allen Dataset II reader and interface: storage variants, round trip, placeholders, consistency notes."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import h5py
import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.interfaces.allen_oephys_h5 import AllenOephysRecordingInterface, describe_genotype, indicator_of
from nwb_conversions.layouts.allen_oephys.consistency import consistency_notes
from nwb_conversions.layouts.allen_oephys.recording import read_oephys_recording
from nwb_conversions.samples.allen_oephys import write_allen_oephys_recording

SHORT = dict(duration_s=4.0, num_spikes=8)


def replace_key(path, key, value):
    """Replace one key of a recording file (``value`` None deletes it)."""
    with h5py.File(path, "a") as h5:
        del h5[key]
        if value is not None:
            h5[key] = value


def source_arrays(path):
    """Read every key with plain h5py, flattened, as a loader of the release would."""
    with h5py.File(path, "r") as h5:
        return {key: np.asarray(h5[key][()]).ravel() for key in h5 if key != "genotype"}


@pytest.fixture(scope="module")
def recording_path(tmp_path_factory):
    return write_allen_oephys_recording(tmp_path_factory.mktemp("allen"), **SHORT)


def test_reader_returns_the_stored_values(recording_path):
    recording = read_oephys_recording(recording_path)
    stored = source_arrays(recording_path)
    assert recording.recording_id == "103991"
    assert recording.ephys_period == 1e-4 and recording.ophys_period == pytest.approx(1 / 30)
    assert recording.ephys_raw.shape == (40_000,) and recording.dff.shape == (120,)
    for attribute, key in [
        ("dff", "dff"),
        ("ephys_raw", "ephys_raw"),
        ("ephys_baseline_subtracted", "ephys_baseline_subtracted"),
        ("spike_times", "sptimes"),
    ]:
        np.testing.assert_array_equal(getattr(recording, attribute), stored[key])
    assert recording.spike_threshold == stored["quiroga"][0] and recording.threshold_key == "quiroga"
    assert recording.genotype == "Emx1-IRES-Cre;Camk2a-tTA;Ai94"
    assert len(recording.spike_times) == 8


def test_two_d_storage_reads_as_the_same_vectors(tmp_path, recording_path):
    two_d_path = write_allen_oephys_recording(tmp_path, two_d=True, **SHORT)
    with h5py.File(two_d_path, "r") as h5:
        assert h5["dff"].shape == (1, 120) and h5["sptimes"].shape == (8, 1) and h5["dte"].shape == (1, 1)
    one_d, two_d = read_oephys_recording(recording_path), read_oephys_recording(two_d_path)
    for name in ("dff", "ephys_raw", "ephys_baseline_subtracted", "spike_times"):
        assert getattr(two_d, name).ndim == 1
        np.testing.assert_array_equal(getattr(two_d, name), getattr(one_d, name))
    assert (two_d.ephys_period, two_d.ophys_period, two_d.spike_threshold) == (
        one_d.ephys_period,
        one_d.ophys_period,
        one_d.spike_threshold,
    )


def test_misspelled_threshold_key_is_accepted(tmp_path):
    path = write_allen_oephys_recording(tmp_path, misspelled_threshold_key=True, **SHORT)
    recording = read_oephys_recording(path)
    with h5py.File(path, "r") as h5:
        assert "quiroga" not in h5
        assert recording.spike_threshold == h5["quiroma"][()]
    assert recording.threshold_key == "quiroma"


@pytest.mark.parametrize(
    "stored",
    [
        "Cux2-CreERT2;Camk2a-tTA;Ai93",
        np.array([b"Cux2-CreERT2;Camk2a-tTA;Ai93"]),
        np.array([["Cux2-CreERT2;Camk2a-tTA;Ai93"]], dtype=h5py.string_dtype()),
    ],
    ids=["str-scalar", "bytes-1-element", "str-1x1"],
)
def test_genotype_storage_variants(tmp_path, stored):
    path = write_allen_oephys_recording(tmp_path, **SHORT)
    replace_key(path, "genotype", stored)
    replace_key(path, "dte", np.array([1e-4]))
    recording = read_oephys_recording(path)
    assert recording.genotype == "Cux2-CreERT2;Camk2a-tTA;Ai93"
    assert recording.ephys_period == 1e-4


@pytest.mark.parametrize(
    "key, value, problem",
    [
        ("dto", np.float64(0.0), "'dto' (sampling period) is 0.0"),
        ("dte", np.float64(np.inf), "'dte' (sampling period) is inf"),
        ("sptimes", np.array([0.5, 0.2, 0.9]), "'sptimes' is not sorted"),
        ("ephys_raw", np.zeros((2, 40_000)), "'ephys_raw' has shape 2 × 40000, which is not a vector"),
        ("ephys_baseline_subtracted", np.zeros(10), "'ephys_raw' has 40000 samples but"),
        ("genotype", np.float64(3.0), "'genotype' holds a float"),
        ("quiroga", None, "missing key(s) quiroga (or quiroma)"),
    ],
)
def test_reader_errors_name_file_and_problem(tmp_path, key, value, problem):
    path = write_allen_oephys_recording(tmp_path, **SHORT)
    replace_key(path, key, value)
    with pytest.raises(SourceFormatError) as raised:
        read_oephys_recording(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert problem in str(raised.value)


def test_genotype_gives_indicator_and_subject_description():
    assert indicator_of("Emx1-IRES-Cre;Camk2a-tTA;Ai94") == "GCaMP6s"
    assert indicator_of("Emx1-IRES-Cre;Camk2a-tTA;Ai93") == "GCaMP6f"
    assert indicator_of("Cux2-CreERT2; Camk2a-tTA; Ai93") == "GCaMP6f"
    assert indicator_of("Emx1-IRES-Cre;Ai14") is None
    assert describe_genotype("Cux2-CreERT2;Camk2a-tTA;Ai93") == (
        "transgenic mouse Cux2-CreERT2;Camk2a-tTA;Ai93: Cre line Cux2-CreERT2, tTA line Camk2a-tTA, reporter Ai93 "
        "(GCaMP6f)"
    )


def write_with_interface(source_path, output_path, *, stub_test=False):
    """Convert with the interface alone (no dataset YAML) and return the output path."""
    interface = AllenOephysRecordingInterface(file_path=source_path)
    metadata = interface.get_metadata()
    metadata["NWBFile"]["session_start_time"] = datetime(2019, 1, 1, tzinfo=timezone.utc)
    nwbfile = interface.create_nwbfile(metadata=metadata, stub_test=stub_test)
    with NWBHDF5IO(str(output_path), "w") as io:
        io.write(nwbfile)
    return output_path


def test_interface_round_trip_is_exact(tmp_path, recording_path):
    stored = source_arrays(recording_path)
    output = write_with_interface(recording_path, tmp_path / "recording.nwb")
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.session_id == "103991"
        assert nwbfile.subject.genotype == "Emx1-IRES-Cre;Camk2a-tTA;Ai94"
        assert "Cre line Emx1-IRES-Cre" in nwbfile.subject.description

        dff_series = nwbfile.processing["ophys"]["DfOverF"]["RoiResponseSeries"]
        assert dff_series.data.shape == (120, 1)
        np.testing.assert_array_equal(dff_series.data[:, 0], stored["dff"])
        assert dff_series.rate == 1 / stored["dto"][0] and dff_series.starting_time == 0.0

        raw = nwbfile.acquisition["CellAttachedVoltageRaw"]
        subtracted = nwbfile.processing["icephys"]["CellAttachedVoltageBaselineSubtracted"]
        for series, key in ((raw, "ephys_raw"), (subtracted, "ephys_baseline_subtracted")):
            np.testing.assert_array_equal(series.data[:], stored[key])
            assert series.rate == 1 / stored["dte"][0] and series.unit == "volts" and series.conversion == 1.0
            assert series.electrode.name == "CellAttachedPipette" and series.electrode.location == "VISp2/3"
        assert raw.electrode.cell_id == "103991"

        units = nwbfile.units
        assert len(units) == 1 and units.resolution == stored["dte"][0]
        np.testing.assert_array_equal(units["spike_times"][0], stored["sptimes"])
        assert units["spike_detection_threshold"][0] == stored["quiroga"][0]
        assert "'quiroga'" in units["spike_detection_threshold"].description


def test_imaging_placeholders_are_stated(tmp_path, recording_path):
    output = write_with_interface(recording_path, tmp_path / "recording.nwb")
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        plane_segmentation = nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
        assert len(plane_segmentation) == 1
        np.testing.assert_array_equal(plane_segmentation["image_mask"][0], np.zeros((1, 1)))
        assert "placeholder" in plane_segmentation.description and "no image" in plane_segmentation.description
        imaging_plane = nwbfile.imaging_planes["ImagingPlane"]
        assert imaging_plane.indicator == "GCaMP6s" and imaging_plane.location == "VISp2/3"
        assert imaging_plane.imaging_rate == pytest.approx(30.0)
        assert math.isnan(imaging_plane.excitation_lambda)
        assert "excitation_lambda is NaN: the wavelength is not documented" in imaging_plane.description
        channel = imaging_plane.optical_channel[0]
        assert math.isnan(channel.emission_lambda) and "emission_lambda is NaN" in channel.description


def test_stub_keeps_the_first_two_seconds(tmp_path, recording_path):
    output = write_with_interface(recording_path, tmp_path / "stub.nwb", stub_test=True)
    recording = read_oephys_recording(recording_path)
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.acquisition["CellAttachedVoltageRaw"].data.shape == (20_000,)
        assert nwbfile.processing["ophys"]["DfOverF"]["RoiResponseSeries"].data.shape == (60, 1)
        np.testing.assert_array_equal(
            nwbfile.units["spike_times"][0], recording.spike_times[recording.spike_times < 2.0]
        )


def test_consistency_notes(tmp_path, recording_path):
    assert consistency_notes(read_oephys_recording(recording_path)) == []
    path = write_allen_oephys_recording(tmp_path, **SHORT)
    spike_times = read_oephys_recording(path).spike_times
    quiet_time = 0.05  # before the first planted spike (the margin is 0.2 s): no threshold crossing near it
    shifted = np.sort(np.concatenate([[quiet_time], spike_times, [4.5]]))
    replace_key(path, "sptimes", shifted)
    notes = consistency_notes(read_oephys_recording(path))
    assert len(notes) == 2
    assert "1 of 10 spike times (sptimes) fall outside the ephys trace [0, 4 s) (first: 4.5 s)" in notes[0]
    assert "1 of 10 spike times (sptimes) have no sample of ephys_baseline_subtracted" in notes[1]
    assert "(first: 0.05 s)" in notes[1]
