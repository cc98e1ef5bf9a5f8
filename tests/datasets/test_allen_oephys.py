"""``convert-to-nwb allen-oephys``: round trip through the CLI, readers, the DANDI gate, warnings and bad input."""

from __future__ import annotations

import h5py
import numpy as np
import pynapple
import pytest
import yaml
from pynwb import NWBHDF5IO

from nwb_conversions.publishing.gate import inspect_file
from nwb_conversions.samples.allen_oephys import write_allen_oephys_recording, write_sample

SHORT = dict(duration_s=4.0, num_spikes=8)


def source_values(path):
    """Every key of a recording file as a plain loader reads it: flattened arrays and the decoded genotype."""
    with h5py.File(path, "r") as h5:
        values = {key: np.asarray(h5[key][()]).ravel() for key in h5 if key != "genotype"}
        values["genotype"] = h5["genotype"][()].decode("utf-8")
    values["quiroga"] = values.get("quiroga", values.get("quiroma"))
    return values


def replace_key(path, key, value):
    """Replace one key of a recording file (``value`` None deletes it)."""
    with h5py.File(path, "a") as h5:
        del h5[key]
        if value is not None:
            h5[key] = value


@pytest.mark.parametrize(
    "storage",
    [dict(), dict(two_d=True), dict(misspelled_threshold_key=True)],
    ids=["1-D", "2-D", "quiroma"],
)
def test_cli_round_trip_is_exact(tmp_path, run_cli, storage):
    source, metadata_path = write_sample(tmp_path / "source", **SHORT, **storage)
    output = tmp_path / "out.nwb"
    code, stdout, stderr = run_cli("allen-oephys", source, output, "--metadata", metadata_path)
    assert code == 0, stderr
    assert "0 CRITICAL, 0 BEST_PRACTICE_VIOLATION" in stdout
    assert "warning:" not in stderr
    stored = source_values(source)
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.session_id == "103991"
        assert nwbfile.subject.genotype == stored["genotype"] == "Emx1-IRES-Cre;Camk2a-tTA;Ai94"
        assert nwbfile.subject.subject_id == "sample-mouse-01" and nwbfile.subject.species == "Mus musculus"
        assert nwbfile.institution == "Allen Institute for Brain Science"
        assert "doi:10.1101/800102" in nwbfile.related_publications
        dff_series = nwbfile.processing["ophys"]["DfOverF"]["RoiResponseSeries"]
        np.testing.assert_array_equal(dff_series.data[:, 0], stored["dff"])
        assert dff_series.rate == 1 / stored["dto"][0]
        for series, key in (
            (nwbfile.acquisition["CellAttachedVoltageRaw"], "ephys_raw"),
            (nwbfile.processing["icephys"]["CellAttachedVoltageBaselineSubtracted"], "ephys_baseline_subtracted"),
        ):
            np.testing.assert_array_equal(series.data[:], stored[key])
            assert series.rate == 1 / stored["dte"][0] == 10_000.0
        np.testing.assert_array_equal(nwbfile.units["spike_times"][0], stored["sptimes"])
        assert nwbfile.units["spike_detection_threshold"][0] == stored["quiroga"][0]
        assert nwbfile.imaging_planes["ImagingPlane"].indicator == "GCaMP6s"


def test_example_command_passes_the_gate(tmp_path, run_cli):
    code, stdout, stderr = run_cli("example", "allen-oephys", "--output-dir", tmp_path)
    assert code == 0, stderr
    output = tmp_path / "allen-oephys_103991.nwb"
    report = inspect_file(output)
    assert report.by_importance("CRITICAL") == []
    assert report.by_importance("BEST_PRACTICE_VIOLATION") == []
    assert report.by_importance("ERROR") == []
    assert {message.check_function_name for message in report.messages} <= {
        "check_session_start_time_old_date",  # the documented placeholder start time
        "check_single_row",  # one neuron per recording
    }


def test_pynapple_sees_the_unit_and_the_dff(tmp_path, run_cli):
    source, metadata_path = write_sample(tmp_path / "source", **SHORT)
    output = tmp_path / "out.nwb"
    assert run_cli("allen-oephys", source, output, "--metadata", metadata_path)[0] == 0
    stored = source_values(source)
    data = pynapple.load_file(str(output))
    units = data["units"]
    assert len(units) == 1
    np.testing.assert_allclose(units[0].t, stored["sptimes"], rtol=0, atol=1e-9)
    dff = data["RoiResponseSeries"]
    assert dff.shape == (120, 1)
    np.testing.assert_array_equal(dff.values[:, 0], stored["dff"])
    np.testing.assert_allclose(dff.t, np.arange(120) * stored["dto"][0], atol=1e-9)
    raw = data["CellAttachedVoltageRaw"]
    np.testing.assert_array_equal(raw.values, stored["ephys_raw"])


def test_without_subject_facts_the_file_is_written_with_a_warning(tmp_path, run_cli):
    source = write_allen_oephys_recording(tmp_path / "source", **SHORT)
    output = tmp_path / "out.nwb"
    code, stdout, stderr = run_cli("allen-oephys", source, output)
    assert code == 0, stderr
    assert output.is_file()
    assert "DANDI needs subject facts that the source does not document: subject_id, sex, age" in stderr
    assert "note: The source does not record the session start time" in stderr
    assert "DANDI:000048" in stderr
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.session_start_time.isoformat() == "1900-01-01T00:00:00+00:00"
        assert "session_start_time 1900-01-01T00:00:00+00:00 is a placeholder" in nwbfile.notes
        assert nwbfile.subject.sex is None and nwbfile.subject.species == "Mus musculus"


def test_user_metadata_comes_last(tmp_path, run_cli):
    source = write_allen_oephys_recording(tmp_path / "source", **SHORT)
    metadata_path = tmp_path / "mine.yaml"
    metadata_path.write_text(
        yaml.safe_dump(
            {
                "NWBFile": {"session_start_time": "2018-05-04T10:00:00-07:00"},
                "Subject": {"subject_id": "m1", "sex": "F", "age": "P120D"},
                "CalciumImaging": {"ImagingPlane": {"excitation_lambda": 920.0}},
            }
        )
    )
    output = tmp_path / "out.nwb"
    code, stdout, stderr = run_cli("allen-oephys", source, output, "--metadata", metadata_path)
    assert code == 0, stderr
    assert "note:" not in stderr and "warning:" not in stderr
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.session_start_time.isoformat() == "2018-05-04T10:00:00-07:00"
        assert nwbfile.subject.sex == "F"
        imaging_plane = nwbfile.imaging_planes["ImagingPlane"]
        assert imaging_plane.excitation_lambda == 920.0 and "excitation_lambda is NaN" not in imaging_plane.description


def test_suspicious_spike_times_are_noted_not_refused(tmp_path, run_cli):
    source, metadata_path = write_sample(tmp_path / "source", **SHORT)
    spike_times = source_values(source)["sptimes"]
    replace_key(source, "sptimes", np.concatenate([[0.05], spike_times, [9.0]]))
    output = tmp_path / "out.nwb"
    code, stdout, stderr = run_cli("allen-oephys", source, output, "--metadata", metadata_path)
    assert code == 0, stderr
    notes = [line for line in stderr.splitlines() if line.startswith("note: ")]
    assert any("1 of 10 spike times (sptimes) fall outside the ephys trace" in line for line in notes)
    assert any("have no sample of ephys_baseline_subtracted" in line for line in notes)
    with NWBHDF5IO(str(output), "r") as io:
        assert len(io.read().units["spike_times"][0]) == 10


def not_hdf5(path):
    path.write_bytes(b"dff,dte\n1.0,0.0001\n")


BAD_INPUTS = {
    "not-hdf5": (not_hdf5, "not an HDF5 file"),
    "missing-dff": (lambda path: replace_key(path, "dff", None), "missing key(s) dff"),
    "missing-sptimes": (lambda path: replace_key(path, "sptimes", None), "missing key(s) sptimes"),
    "missing-genotype": (lambda path: replace_key(path, "genotype", None), "missing key(s) genotype"),
    "missing-threshold": (lambda path: replace_key(path, "quiroga", None), "missing key(s) quiroga (or quiroma)"),
    "dte-zero": (lambda path: replace_key(path, "dte", 0.0), "'dte' (sampling period) is 0.0"),
    "dte-negative": (lambda path: replace_key(path, "dte", -1e-4), "'dte' (sampling period) is -0.0001"),
    "dte-nan": (lambda path: replace_key(path, "dte", np.nan), "'dte' (sampling period) is nan"),
    "dto-inf": (lambda path: replace_key(path, "dto", np.array([[np.inf]])), "'dto' (sampling period) is inf"),
    "dto-negative": (lambda path: replace_key(path, "dto", -1 / 30), "'dto' (sampling period) is -0.0333"),
    "sptimes-unsorted": (
        lambda path: replace_key(path, "sptimes", np.array([0.3, 1.2, 0.7])),
        "'sptimes' is not sorted (1 decrease(s); first: [1] = 1.2 > [2] = 0.7)",
    ),
    "sptimes-nan": (lambda path: replace_key(path, "sptimes", np.array([0.3, np.nan])), "'sptimes'[1] is nan"),
    "sptimes-inf": (lambda path: replace_key(path, "sptimes", np.array([0.3, np.inf])), "'sptimes'[1] is inf"),
    "dff-2xN": (
        lambda path: replace_key(path, "dff", np.zeros((2, 60))),
        "'dff' has shape 2 × 60, which is not a vector",
    ),
    "ephys-2xN": (
        lambda path: replace_key(path, "ephys_baseline_subtracted", np.zeros((2, 20_000))),
        "'ephys_baseline_subtracted' has shape 2 × 20000, which is not a vector",
    ),
    "both-threshold-keys-disagree": (
        lambda path: (replace_key(path, "quiroga", np.float64(0.002)), add_key(path, "quiroma", np.float64(0.004))),
        "the spike threshold is stated twice with different values: 'quiroga' is 0.002 V and 'quiroma' is 0.004 V",
    ),
    "both-threshold-keys-nan": (
        lambda path: (replace_key(path, "quiroga", np.nan), add_key(path, "quiroma", np.nan)),
        "'quiroga' (spike threshold) is nan",
    ),
}


def add_key(path, key, value):
    with h5py.File(path, "a") as h5:
        h5[key] = value


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_error_line_and_no_output(tmp_path, run_cli, case):
    corrupt, problem = BAD_INPUTS[case]
    source = write_allen_oephys_recording(tmp_path / "source", **SHORT)
    corrupt(source)
    output = tmp_path / "out" / "recording.nwb"
    code, stdout, stderr = run_cli("allen-oephys", source, output)
    assert code == 1
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"error: {source}: ")
    assert problem in lines[0]
    assert "Traceback" not in stderr
    assert not output.exists()
    assert not output.parent.exists() or list(output.parent.iterdir()) == []


def test_the_threshold_under_both_spellings_is_accepted_when_equal(tmp_path, run_cli):
    source = write_allen_oephys_recording(tmp_path / "source", **SHORT)
    with h5py.File(source, "a") as h5:
        threshold = h5["quiroga"][()]
        h5["quiroma"] = np.array([[threshold]]).reshape(1, 1)  # the same value, stored 1 × 1
    output = tmp_path / "out.nwb"
    code, _, stderr = run_cli("allen-oephys", source, output, "--no-inspect")
    assert code == 0, stderr
    with NWBHDF5IO(str(output), "r") as io:
        units = io.read().units
        assert units["spike_detection_threshold"][0] == np.ravel(threshold)[0]
        assert "'quiroga'" in units["spike_detection_threshold"].description
