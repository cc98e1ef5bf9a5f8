"""``convert-to-nwb spe1-arrow``: round trip of every segment, ground truth, template, geometry, split, patch trace,
``--raw``, the gate, and every bad input (one line, exit 1, no output file)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwb_conversions.publishing.gate import inspect_file
from nwb_conversions.samples.spe1 import write_spe1_cell

from ..pickle_payloads import MarkerPayload
from ..spe1_arrow_helpers import arrow_release, batch_of, read_rows, rows_in_order, write_rows
from ..spe1_helpers import SUBJECT_YAML, assert_one_line_error

FILTERED = "FilteredEphys"


@pytest.fixture
def subject_yaml(tmp_path):
    path = tmp_path / "subject.yaml"
    path.write_text(SUBJECT_YAML)
    return path


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The sample cell (ten 0.1 s segments in 3 shards over two splits), converted once with subject facts."""
    from nwb_conversions.cli.main import main

    tmp_path = tmp_path_factory.mktemp("spe1_arrow")
    cell_dir, _ = arrow_release(tmp_path)
    subject = tmp_path / "subject.yaml"
    subject.write_text(SUBJECT_YAML)
    output = tmp_path / "c14.nwb"
    assert main(["spe1-arrow", str(cell_dir), str(output), "--metadata", str(subject)]) == 0
    return cell_dir, output


def test_every_segment_round_trips_float32_exact_in_sample_id_order(converted):
    cell_dir, output = converted
    rows = rows_in_order(cell_dir)
    assert [row["split"] for row in rows] == ["train"] * 8 + ["test"] * 2
    expected = np.concatenate([np.asarray(row["cp"], dtype=np.float32).T for row in rows])
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        series = nwbfile.processing["ecephys"][FILTERED]["FilteredElectricalSeries"]
        assert series.data.dtype == np.float32 and series.data.shape == (30000, 384)
        np.testing.assert_array_equal(series.data[:], expected)
        assert series.conversion == 1e-6 and series.unit == "volts" and series.rate == 30000.0
        assert series.starting_time == int(rows[0]["sample_id"]) / 30000.0 == 10.0
        assert "bandpass_300_3000Hz + global_CMR" in series.description
        assert series.filtering == "bandpass_300_3000Hz + global_CMR"
        segments = nwbfile.intervals["BenchmarkSegments"].to_dataframe()
        assert segments["split"].tolist() == [row["split"] for row in rows]
        assert segments["sample_id"].tolist() == [int(row["sample_id"]) for row in rows]
        np.testing.assert_array_equal(segments["start_time"], [int(row["sample_id"]) / 30000 for row in rows])
        np.testing.assert_array_equal(segments["stop_time"], [(int(row["sample_id"]) + 3000) / 30000 for row in rows])


def test_ground_truth_unit_template_and_location(converted):
    cell_dir, output = converted
    rows = rows_in_order(cell_dir)
    metadata = json.loads((cell_dir / "conversion_metadata.json").read_text())
    peak = metadata["unit_peak_channel"]["0"]
    expected = np.sort(np.concatenate([int(row["sample_id"]) / 30000.0 + np.asarray(row["ctt"][peak]) / 1000.0
                                       for row in rows]))
    assert len(expected) == metadata["n_spikes_total"] > 0
    templates = np.load(cell_dir / "templates.npz", allow_pickle=False)
    with NWBHDF5IO(str(output), "r") as io:
        units = io.read().units
        np.testing.assert_array_equal(units["spike_times"][0], expected)
        waveform = units["waveform_mean"][0]
        assert waveform.dtype == np.float32
        np.testing.assert_array_equal(waveform, templates["templates"][0])
        assert units.waveform_rate == 30000.0 and units.waveform_unit == "microvolts"
        assert units.waveform_time_before_peak_in_ms == 1.0
        assert units["gt_electrode"][0] == 159 and units["peak_channel"][0] == 161
        np.testing.assert_array_equal(units["location_um"][0], metadata["unit_locations_um"]["0"])
        assert (units["chan_predicted"][0], units["patch_type"][0], units["cell_type"][0]) == (159, "Juxta, VC", "PC")
        assert len(units["electrodes"][0]) == 384


def test_electrodes_positions_bad_and_ground_truth_channels(converted):
    cell_dir, output = converted
    templates = np.load(cell_dir / "templates.npz", allow_pickle=False)
    with NWBHDF5IO(str(output), "r") as io:
        electrodes = io.read().electrodes.to_dataframe()
    np.testing.assert_array_equal(electrodes[["rel_x", "rel_y"]].to_numpy(), templates["probe_positions"])
    assert np.flatnonzero(electrodes["bad_channel"]).tolist() == [36, 75, 112, 151, 188, 303]
    assert np.flatnonzero(electrodes["is_ground_truth_electrode"]).tolist() == [159]
    assert np.flatnonzero(electrodes["is_reference_site"]).tolist() == [36, 75, 112, 151, 188, 227, 264, 303, 340, 379]


def test_patch_trace_is_a_voltage_clamp_series_in_pa_on_its_timestamps(converted):
    cell_dir, output = converted
    patch = np.load(cell_dir / "patch.npz", allow_pickle=False)
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        series = nwbfile.acquisition["BenchmarkPatchTrace"]
        assert type(series).__name__ == "VoltageClampSeries"
        assert series.conversion == 1e-12 and series.unit == "amperes" and "pA" in series.description
        np.testing.assert_array_equal(series.data[:], patch["patch_v"])
        times = series.get_timestamps()
        np.testing.assert_allclose(times, patch["t_patch_s"], rtol=0, atol=1e-9)
        assert series.starting_time == patch["t_patch_s"][0] == 10.0  # regular: stored as starting time + rate


def test_spikeinterface_reads_the_filtered_series_with_its_geometry(converted):
    from spikeinterface.extractors import read_nwb_recording

    cell_dir, output = converted
    templates = np.load(cell_dir / "templates.npz", allow_pickle=False)
    recording = read_nwb_recording(
        str(output), electrical_series_path=f"processing/ecephys/{FILTERED}/FilteredElectricalSeries"
    )
    np.testing.assert_array_equal(recording.get_channel_locations(), templates["probe_positions"])
    np.testing.assert_allclose(recording.get_channel_gains(), 1.0)
    first = rows_in_order(cell_dir)[0]
    np.testing.assert_array_equal(recording.get_traces(start_frame=0, end_frame=3000),
                                  np.asarray(first["cp"], dtype=np.float32).T)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="There is no Probe attached")
        assert recording.get_probe().get_contact_count() == 384


def test_gate_is_clean_with_subject_facts(converted):
    counts = inspect_file(converted[1]).counts()
    assert counts.get("CRITICAL", 0) == 0 and counts.get("BEST_PRACTICE_VIOLATION", 0) == 0


def test_whole_cell_ic_cell_with_window_relative_patch_times(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = arrow_release(tmp_path, cell_id="c5", num_segments=3, patch_clock="window")
    output = tmp_path / "c5.nwb"
    code, _, err = run_cli("spe1-arrow", cell_dir, output, "--metadata", subject_yaml, "--no-inspect")
    assert code == 0, err
    patch = np.load(cell_dir / "patch.npz", allow_pickle=False)
    assert patch["t_patch_s"][0] == 0.0 and str(patch["patch_type"]) == "wc-ic"
    with NWBHDF5IO(str(output), "r") as io:
        series = io.read().acquisition["BenchmarkPatchTrace"]
        assert type(series).__name__ == "CurrentClampSeries" and series.conversion == 1e-3
        assert series.starting_time == 10.0  # shifted onto the recording's clock by the first sample_id / 30 kHz


def test_sample_ids_counted_from_the_window_give_the_same_times(tmp_path, run_cli, subject_yaml):
    """The release does not say whether sample_id counts from the raw recording or from the 10 s crop: both are read
    onto the recording's clock, and the BenchmarkSegments table keeps sample_id as stated."""
    outputs = {}
    for clock in ("recording", "window"):
        cell_dir, _ = arrow_release(tmp_path / clock, num_segments=3, sample_id_clock=clock)
        outputs[clock] = tmp_path / f"{clock}.nwb"
        code, _, err = run_cli("spe1-arrow", cell_dir, outputs[clock], "--metadata", subject_yaml, "--no-inspect")
        assert code == 0, err
        assert ("counts from the window's start" in err) == (clock == "window")
    files = {clock: NWBHDF5IO(str(path), "r") for clock, path in outputs.items()}
    try:
        recording, window = (files[clock].read() for clock in ("recording", "window"))
        assert window.processing["ecephys"][FILTERED].electrical_series["FilteredElectricalSeries"].starting_time == 10.0
        np.testing.assert_array_equal(window.units["spike_times"][0], recording.units["spike_times"][0])
        segments = {name: file.intervals["BenchmarkSegments"] for name, file in (("r", recording), ("w", window))}
        np.testing.assert_array_equal(segments["w"]["start_time"][:], segments["r"]["start_time"][:])
        assert list(segments["w"]["sample_id"][:]) == [0, 3000, 6000]
        assert list(segments["r"]["sample_id"][:]) == [300000, 303000, 306000]
    finally:
        for file in files.values():
            file.close()


def test_a_first_sample_id_that_fits_neither_clock_is_refused(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = arrow_release(tmp_path, num_segments=3, skip_seconds=5.0)
    metadata_path = cell_dir / "conversion_metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["source_metadata"]["skip_seconds"] = 10.0
    metadata_path.write_text(json.dumps(metadata))
    code, _, err = run_cli("spe1-arrow", cell_dir, tmp_path / "o.nwb", "--metadata", subject_yaml)
    assert code == 1 and err.count("\n") == 1, err
    assert "the first segment starts at sample_id 150000; expected 300000 (the raw recording's clock) or 0" in err


def test_raw_recording_in_the_same_file_on_one_clock(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = arrow_release(tmp_path, num_segments=5, segment_duration_s=0.2, skip_seconds=0.2)
    raw_dir = write_spe1_cell(tmp_path / "raw" / "c14", duration_s=1.5)
    output = tmp_path / "both.nwb"
    code, _, err = run_cli("spe1-arrow", cell_dir, output, "--metadata", subject_yaml, "--raw", raw_dir)
    assert code == 0, err
    raw = np.fromfile(raw_dir / "c14_npx_raw.bin", dtype="<i2").reshape(-1, 384)
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        np.testing.assert_array_equal(nwbfile.acquisition["ElectricalSeries"].data[:], raw)
        filtered = nwbfile.processing["ecephys"][FILTERED]["FilteredElectricalSeries"]
        assert filtered.starting_time == 0.2 and filtered.data.shape == (30000, 384)
        assert len(nwbfile.electrodes) == 384
        assert filtered.electrodes.table is nwbfile.acquisition["ElectricalSeries"].electrodes.table
        assert np.flatnonzero(nwbfile.electrodes["bad_channel"][:]).tolist() == [36, 75, 112, 151, 188, 303]
        raw_spikes = np.load(raw_dir / "c14_wc_spike_samples.npy")
        assert len(nwbfile.units["spike_times"][0]) == len(raw_spikes)
        benchmark_units = nwbfile.processing["ecephys"]["BenchmarkUnits"]
        assert benchmark_units["gt_electrode"][0] == 159 and len(benchmark_units["waveform_mean"][0]) == 90
        assert {"PatchClampSeries", "BenchmarkPatchTrace"} <= set(nwbfile.acquisition)
        assert nwbfile.acquisition["BenchmarkPatchTrace"].electrode is nwbfile.acquisition["PatchClampSeries"].electrode
    counts = inspect_file(output).counts()
    assert counts.get("CRITICAL", 0) == 0 and counts.get("BEST_PRACTICE_VIOLATION", 0) == 0


def test_stub_writes_only_the_first_seconds(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = arrow_release(tmp_path, num_segments=5, segment_duration_s=0.5, rows_per_shard=2)
    output = tmp_path / "stub.nwb"
    code, _, err = run_cli("spe1-arrow", cell_dir, output, "--metadata", subject_yaml, "--stub", "--no-inspect")
    assert code == 0, err
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.processing["ecephys"][FILTERED]["FilteredElectricalSeries"].data.shape == (60000, 384)
        spike_times = nwbfile.units["spike_times"][0]
        assert len(spike_times) and max(spike_times) < 12.0
        assert nwbfile.acquisition["BenchmarkPatchTrace"].data.shape[0] == pytest.approx(2 * 50023.9, abs=2)


# --- bad input: one line, exit 1, no output file -------------------------------------------------------------


@pytest.fixture(scope="module")
def pristine_release(tmp_path_factory):
    """A five-segment sample release, written once; each bad-input test damages its own copy."""
    cell_dir, _ = arrow_release(tmp_path_factory.mktemp("pristine"), num_segments=5)
    return cell_dir.parent


@pytest.fixture
def sample_cell(pristine_release, tmp_path):
    """A fresh copy of the five-segment sample cell (its release root beside it)."""
    shutil.copytree(pristine_release, tmp_path / "release")
    return tmp_path / "release" / "c14"


def shard(cell_dir: Path, split: str = "train", index: int = 0) -> Path:
    return sorted((cell_dir / split).glob("data-*.arrow"))[index]


def rewrite_row(cell_dir: Path, row: int, change) -> None:
    """Rewrite row ``row`` of the first train shard through ``change(row_dict) -> row_dict``."""
    rows = read_rows(shard(cell_dir))
    rows[row] = change(dict(rows[row]))
    write_rows(shard(cell_dir), [batch_of(item) for item in rows])


def _with(row: dict, **changes) -> dict:
    return {**row, **changes}


BAD_SHARDS = {
    "383 channels": (lambda r: _with(r, cp=r["cp"][:383], cit=r["cit"][:383], ctt=r["ctt"][:383]),
                     ["train/data-00000-of-00001.arrow", "383 channels", "384 channels"]),
    "shorter row": (lambda r: _with(r, cp=r["cp"][:, :2990]), ["2990 samples per channel", "3000"]),
    "overlap": (lambda r: _with(r, sample_id=r["sample_id"] - 5), ["overlaps", "contiguous"]),
    "gap": (lambda r: _with(r, sample_id=r["sample_id"] + 30), ["gap", "contiguous"]),
    "cit/ctt disagree": (lambda r: _with(r, cit=[c + [0] if c else c for c in r["cit"]]),
                         ["channel 161 has", "cit but", "ctt entries"]),
    "spike on another channel": (lambda r: _with(r, cit=[[0]] + r["cit"][1:], ctt=[[1.0]] + r["ctt"][1:]),
                                 ["unit 0 on channel 0", "peak channel 161"]),
}


@pytest.mark.parametrize("case", sorted(BAD_SHARDS))
def test_bad_shard_rows(tmp_path, run_cli, sample_cell, case):
    cell_dir = sample_cell
    change, fragments = BAD_SHARDS[case]
    rewrite_row(cell_dir, 1 if case != "cit/ctt disagree" else next(
        index for index, row in enumerate(read_rows(shard(cell_dir))) if row["cit"][161]), change)
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1-arrow", cell_dir, output), output, *fragments)


def test_a_missing_segment_is_a_gap(tmp_path, run_cli, sample_cell):
    cell_dir = sample_cell
    rows = read_rows(shard(cell_dir))
    write_rows(shard(cell_dir), [batch_of(row) for index, row in enumerate(rows) if index != 1])
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1-arrow", cell_dir, output), output, "leaves a gap after the one at 300000")


@pytest.mark.parametrize(
    "key, value, fragments",
    [
        ("num_channels", 383, ["conversion_metadata.json", "num_channels is 383", "384"]),
        ("sampling_frequency", 25000.0, ["conversion_metadata.json", "sampling_frequency 25000.0 Hz", "2500 samples"]),
        ("segment_duration_s", 0.2, ["6000 samples per segment", "3000 samples"]),
        ("bad_channel_ids", [36, 999], ["bad_channel_ids", "0..383"]),
    ],
)
def test_conversion_metadata_that_disagrees_with_the_shards(tmp_path, run_cli, sample_cell, key, value, fragments):
    cell_dir = sample_cell
    path = cell_dir / "conversion_metadata.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), key: value}))
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1-arrow", cell_dir, output), output, *fragments)


@pytest.mark.parametrize("archive", ["templates.npz", "patch.npz"])
def test_object_arrays_in_an_npz_are_refused_never_unpickled(tmp_path, run_cli, sample_cell, archive):
    cell_dir = sample_cell
    sentinel = tmp_path / "unpickled"
    MarkerPayload(sentinel).run()
    assert sentinel.exists()  # the payload works
    sentinel.unlink()
    original = dict(np.load(cell_dir / archive, allow_pickle=False))
    key = "nbefore" if archive == "templates.npz" else "cell_id"
    np.savez(cell_dir / archive, **{**original, key: np.array([MarkerPayload(sentinel)], dtype=object)})
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1-arrow", cell_dir, output), output, archive, f"'{key}' is an object array")
    assert not sentinel.exists()


def test_patch_spike_times_that_disagree_with_the_segments(tmp_path, run_cli, sample_cell):
    cell_dir = sample_cell
    patch = dict(np.load(cell_dir / "patch.npz", allow_pickle=False))
    patch["spike_times_s"] = patch["spike_times_s"] + 0.01
    np.savez(cell_dir / "patch.npz", **patch)
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1-arrow", cell_dir, output), output, "patch.npz", "spike_times_s differ")


def test_probe_positions_that_disagree_with_the_spe1_channel_map(tmp_path, run_cli, sample_cell):
    cell_dir = sample_cell
    templates = dict(np.load(cell_dir / "templates.npz", allow_pickle=False))
    templates["probe_positions"][7] = (0.0, 0.0)
    np.savez(cell_dir / "templates.npz", **templates)
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1-arrow", cell_dir, output), output, "templates.npz", "channel 7")


@pytest.mark.parametrize("damage", ["no dataset_dict.json", "no state.json", "missing shard", "plain folder"])
def test_a_folder_that_is_not_a_dataset_dict(tmp_path, run_cli, sample_cell, damage):
    cell_dir = sample_cell
    if damage == "no dataset_dict.json":
        (cell_dir / "dataset_dict.json").unlink()
        fragments = ["no dataset_dict.json", "DatasetDict"]
    elif damage == "no state.json":
        (cell_dir / "test" / "state.json").unlink()
        fragments = ["state.json", "no such file"]
    elif damage == "missing shard":
        shard(cell_dir, "test").unlink()
        fragments = ["data-00000-of-00001.arrow", "missing"]
    else:
        cell_dir = tmp_path / "plain"
        cell_dir.mkdir()
        fragments = ["plain", "DatasetDict"]
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1-arrow", cell_dir, output), output, *fragments)


@pytest.mark.parametrize("problem", ["other cell", "too short"])
def test_a_raw_recording_that_does_not_fit(tmp_path, run_cli, problem):
    cell_dir, _ = arrow_release(tmp_path, num_segments=3, skip_seconds=0.2)
    if problem == "other cell":
        raw_dir, fragments = write_spe1_cell(tmp_path / "raw" / "c15", cell_id="c15", duration_s=1.0), ["holds cell c15"]
    else:
        raw_dir, fragments = write_spe1_cell(tmp_path / "raw" / "c14", duration_s=0.3), ["9000 samples", "15000"]
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1-arrow", cell_dir, output, "--raw", raw_dir), output, *fragments)


def test_facts_stated_twice_that_agree_and_what_the_release_leaves_open_are_accepted(tmp_path, run_cli, subject_yaml):
    """An identical member stored twice in templates.npz, the cell's Data Summary row pasted twice, and a duration_s
    longer than the shards hold (a recording shorter than the window asked for, as c37's): all accepted, and the
    values are the files'. A first sample_id other than skip_seconds × rate is not (read on the raw recording's clock,
    the window would be written where the segments do not say it is)."""
    import zipfile

    from ..spe1_helpers import repeat_summary_row

    cell_dir, _ = arrow_release(tmp_path, num_segments=3, segment_duration_s=0.01)
    with zipfile.ZipFile(cell_dir / "templates.npz") as archive:
        nafter = archive.read("nafter.npy")
    with warnings.catch_warnings(), zipfile.ZipFile(cell_dir / "templates.npz", "a") as archive:
        warnings.simplefilter("ignore")
        archive.writestr("nafter.npy", nafter)
    repeat_summary_row(cell_dir.parent / "Data Summary.xlsx", "c14")
    path = cell_dir / "conversion_metadata.json"
    metadata = json.loads(path.read_text())
    metadata["source_metadata"].update(duration_s=300.0)
    path.write_text(json.dumps(metadata))
    output = tmp_path / "agree.nwb"
    code, _, err = run_cli("spe1-arrow", cell_dir, output, "--metadata", subject_yaml, "--no-inspect")
    assert code == 0, err
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        series = nwbfile.processing["ecephys"][FILTERED]["FilteredElectricalSeries"]
        assert series.starting_time == 10.0 and series.data.shape == (900, 384)
        assert len(nwbfile.units["spike_times"][0]) == metadata["n_spikes_total"]
        assert len(nwbfile.units["waveform_mean"][0]) == 90
    metadata["source_metadata"].update(skip_seconds=0.0)
    path.write_text(json.dumps(metadata))
    output = tmp_path / "early.nwb"
    assert_one_line_error(run_cli("spe1-arrow", cell_dir, output, "--metadata", subject_yaml), output,
                          "train/data-00000-of-00001.arrow", "starts at sample_id 300000; expected 0")
