"""``convert-to-nwb spe1``: patch series per patch type, ground truth, sync, the gate, DANDI, and every bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwb_conversions.publishing.gate import inspect_file

from ..spe1_helpers import SUBJECT_YAML, assert_one_line_error, sample_release


def convert(run_cli, cell_dir: Path, output: Path, *extra):
    return run_cli("spe1", cell_dir, output, *extra)


@pytest.fixture
def subject_yaml(tmp_path):
    path = tmp_path / "subject.yaml"
    path.write_text(SUBJECT_YAML)
    return path


def expected_patch_rate(cell_dir: Path, cell_id: str) -> float:
    npx_samples = next(cell_dir.glob(f"{cell_id}_npx_raw*.bin")).stat().st_size // (384 * 2)
    patch_samples = next(cell_dir.glob(f"{cell_id}_patch_ch1*.bin")).stat().st_size // 8
    return 30000.0 * patch_samples / npx_samples


def test_juxta_vc_cell_gives_a_voltage_clamp_series_and_exact_spike_times(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = sample_release(tmp_path, duration_s=1.0)
    output = tmp_path / "c14.nwb"
    code, out, err = convert(run_cli, cell_dir, output, "--metadata", subject_yaml)
    assert code == 0, err
    assert f"wrote {output}" in out
    rate = expected_patch_rate(cell_dir, "c14")
    spike_samples = np.load(cell_dir / "c14_wc_spike_samples.npy")
    patch = np.fromfile(cell_dir / "c14_patch_ch1.bin", dtype="<f8")
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        series = nwbfile.acquisition["PatchClampSeries"]
        assert type(series).__name__ == "VoltageClampSeries"
        assert series.conversion == 1e-12 and series.unit == "amperes"
        assert series.rate == rate
        np.testing.assert_array_equal(series.data[:], patch)
        units = nwbfile.units.to_dataframe()
        assert len(units) == 1
        np.testing.assert_array_equal(units.iloc[0]["spike_times"], spike_samples / rate)
        row = units.iloc[0]
        assert (row["chan_predicted"], row["chan_highest"], row["patch_type"], row["cell_type"]) == (
            159,
            161,
            "Juxta, VC",
            "PC",
        )
        assert row["distance_um"] == pytest.approx(44.78, abs=0.01)
        assert nwbfile.units.resolution == 1 / rate
        assert nwbfile.session_id == "c14"
        assert nwbfile.session_start_time.date().isoformat() == "2017-11-28"
        assert "placeholder" in nwbfile.notes
        npx_sync = np.fromfile(cell_dir / "c14_npx_sync.bin", dtype="<i2")
        np.testing.assert_array_equal(nwbfile.acquisition["SyncNeuropixels"].data[:], npx_sync)
        assert nwbfile.acquisition["SyncPatch"].rate == rate


def test_whole_cell_ic_cell_with_copy_suffix_gives_a_current_clamp_series(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = sample_release(tmp_path, cell_id="c5", patch_type="WC, IC", duration_s=0.5, copy_suffix="-001")
    output = tmp_path / "c5.nwb"
    code, _, err = convert(run_cli, cell_dir, output, "--metadata", subject_yaml)
    assert code == 0, err
    rate = expected_patch_rate(cell_dir, "c5")
    spike_samples = np.load(cell_dir / "c5_wc_spike_samples-001.npy")
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        series = nwbfile.acquisition["PatchClampSeries"]
        assert type(series).__name__ == "CurrentClampSeries"
        assert series.conversion == 1e-3 and series.unit == "volts"
        assert series.rate == rate
        assert "whole-cell" in series.electrode.description
        np.testing.assert_array_equal(nwbfile.units["spike_times"][0], spike_samples / rate)
        assert nwbfile.units["patch_type"][0] == "WC, IC"


def test_gate_is_clean_with_subject_facts(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.5)
    output = tmp_path / "c14.nwb"
    assert convert(run_cli, cell_dir, output, "--metadata", subject_yaml)[0] == 0
    counts = inspect_file(output).counts()
    assert counts.get("CRITICAL", 0) == 0
    assert counts.get("BEST_PRACTICE_VIOLATION", 0) == 0


def test_without_subject_facts_the_file_is_written_and_the_warning_lists_what_dandi_needs(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.5)
    output = tmp_path / "c14.nwb"
    code, _, err = convert(run_cli, cell_dir, output)
    assert code == 0 and output.is_file()
    warning = next(line for line in err.splitlines() if line.startswith("warning:"))
    assert warning.endswith("the source does not document: subject_id, sex, age. Supply them with --metadata FILE.yaml:")
    assert "  subject_id:" in err and "  sex:" in err and "  age:" in err and "  species:" not in err
    critical = {message.check_function_name for message in inspect_file(output).by_importance("CRITICAL")}
    assert critical == {"check_subject_id_exists", "check_subject_sex", "check_subject_age"}


def test_stub_writes_only_the_first_seconds(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = sample_release(tmp_path, duration_s=2.5)
    output = tmp_path / "stub.nwb"
    assert convert(run_cli, cell_dir, output, "--metadata", subject_yaml, "--stub")[0] == 0
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.acquisition["ElectricalSeries"].data.shape == (60000, 384)
        assert max(nwbfile.units["spike_times"][0]) < 2.0


def test_dandi_validate_passes_after_organize(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.5)
    output = tmp_path / "c14.nwb"
    assert convert(run_cli, cell_dir, output, "--metadata", subject_yaml)[0] == 0
    dandiset = tmp_path / "dandiset"
    dandiset.mkdir()
    (dandiset / "dandiset.yaml").write_text("identifier: DANDI:000000\nname: sample\ndescription: sample\n")
    dandi = [str(Path(sys.executable).parent / "dandi")]
    organize = subprocess.run(dandi + ["organize", "-d", str(dandiset), "--files-mode", "copy", str(output)],
                              capture_output=True, text=True)
    assert organize.returncode == 0, organize.stderr
    organized = list(dandiset.glob("sub-*/*.nwb"))
    assert [path.name for path in organized] == ["sub-rat-07_ecephys+icephys.nwb"]
    validate = subprocess.run(dandi + ["validate", str(dandiset)], capture_output=True, text=True)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "No errors found" in validate.stdout


# --- bad input: one line, exit 1, no output file -------------------------------------------------------------


def test_missing_npx_file(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    (cell_dir / "c14_npx_raw.bin").unlink()
    output = tmp_path / "out.nwb"
    assert_one_line_error(convert(run_cli, cell_dir, output), output, "npx_raw", "expected")


def test_missing_patch_file(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    (cell_dir / "c14_patch_ch1.bin").unlink()
    output = tmp_path / "out.nwb"
    assert_one_line_error(convert(run_cli, cell_dir, output), output, "patch_ch1")


def test_npx_size_not_a_multiple_of_384_int16(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    with open(cell_dir / "c14_npx_raw.bin", "ab") as stream:
        stream.write(b"\x00" * 10)
    output = tmp_path / "out.nwb"
    assert_one_line_error(convert(run_cli, cell_dir, output), output, "c14_npx_raw.bin", "768 bytes")


def test_expt_meta_disagreeing_with_the_files(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    (cell_dir / "c14_expt_meta.csv").write_text("npx,patch\n\"[(384L, 99L), 'int16']\",\"[5, 'float64']\"\n")
    output = tmp_path / "out.nwb"
    assert_one_line_error(convert(run_cli, cell_dir, output), output, "c14_expt_meta.csv", "99 samples")


def test_spike_samples_beyond_the_patch_trace(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    patch_samples = (cell_dir / "c14_patch_ch1.bin").stat().st_size // 8
    np.save(cell_dir / "c14_wc_spike_samples.npy", np.array([10, patch_samples + 5], dtype=np.int64))
    output = tmp_path / "out.nwb"
    assert_one_line_error(convert(run_cli, cell_dir, output), output, "c14_wc_spike_samples.npy", "beyond")


def test_cell_absent_from_the_data_summary_needs_a_patch_type(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = sample_release(tmp_path, cell_id="c99", duration_s=0.2)
    output = tmp_path / "out.nwb"
    assert_one_line_error(convert(run_cli, cell_dir, output), output, "c99", "patch_type")
    with_type = tmp_path / "c99.yaml"
    with_type.write_text(SUBJECT_YAML + "Cell:\n  patch_type: Juxta, IC\n  cell_type: PC\n")
    code, _, err = convert(run_cli, cell_dir, output, "--metadata", with_type)
    assert code == 0, err
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert type(nwbfile.acquisition["PatchClampSeries"]).__name__ == "CurrentClampSeries"
        assert nwbfile.units["patch_type"][0] == "Juxta, IC"
        assert "chan_predicted" not in nwbfile.units.colnames


def test_unreadable_channel_map(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    (cell_dir.parent / "chanMap.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 50)
    output = tmp_path / "out.nwb"
    assert_one_line_error(convert(run_cli, cell_dir, output), output, "chanMap.mat")


def test_existing_output_without_overwrite(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    output = tmp_path / "out.nwb"
    output.write_bytes(b"keep me")
    code, _, err = convert(run_cli, cell_dir, output)
    assert code == 1 and err.startswith("error: ") and "--overwrite" in err
    assert output.read_bytes() == b"keep me"
    assert convert(run_cli, cell_dir, output, "--overwrite", "--metadata", subject_yaml)[0] == 0
    assert output.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"


@pytest.mark.parametrize(
    "yaml_text, fragment",
    [
        ("- just\n- a list\n", "not a mapping"),
        ("Subject: {sex: X}\n", "Subject/sex"),
        ("NWBFile: {sesion_description: typo}\n", "NWBFile"),
        ("Cell: {chan_predicted: 999}\n", "Cell/chan_predicted"),
        ("Subject: [unclosed\n", "not valid YAML"),
        ("NWBFile: {session_start_time: 2017-01-01}\n", "NWBFile/session_start_time"),
        ("NWBFile: {session_start_time: notadate}\n", "not a date-time with a time zone"),
        ("Cell: hello\n", "'Cell' holds a str, not a mapping"),
        ("NWBFile: [1, 2]\n", "'NWBFile' holds a list"),
        ("Cell: {patch_type: 'Juxta, VC', date: yesterday}\n", "Cell/date"),
        ("Extracellular: {Device: {name: X, bogus: 1}}\n", "Extracellular/Device"),
        ("Icephys: {Device: {name: Amp, description: 5}}\n", "Icephys/Device/description"),
        ("Extracellular: {ElectricalSeries: {name: a/b}}\n", "pynwb refused the metadata"),
        ("Icephys: {PatchClampSeries: {name: SyncPatch}}\n", "pynwb refused the metadata"),
    ],
)
def test_metadata_that_is_not_a_mapping_or_fails_the_schema(tmp_path, run_cli, yaml_text, fragment):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    metadata = tmp_path / "bad.yaml"
    metadata.write_text(yaml_text)
    output = tmp_path / "out.nwb"
    assert_one_line_error(convert(run_cli, cell_dir, output, "--metadata", metadata), output, "bad.yaml", fragment)


def test_the_release_root_tables_are_optional(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    (cell_dir.parent / "chanMap.mat").unlink()
    (cell_dir.parent / "Data Summary.xlsx").unlink()
    moved = tmp_path / "elsewhere" / "c14"
    shutil.move(str(cell_dir), str(moved))
    output = tmp_path / "out.nwb"
    assert convert(run_cli, moved, output, "--metadata", subject_yaml)[0] == 0
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.units["chan_predicted"][0] == 159
        assert nwbfile.electrodes["rel_y"][383] == 3840.0


def test_a_pickled_expt_meta_is_not_loaded_but_noted(tmp_path, run_cli, subject_yaml):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    (cell_dir / "c14_expt_meta.csv").unlink()
    (cell_dir / "c14_expt_meta.npy").write_bytes(b"\x93NUMPY pickled dict")
    code, _, err = convert(run_cli, cell_dir, tmp_path / "out.nwb", "--metadata", subject_yaml)
    assert code == 0, err
    assert "cNN_expt_meta.npy (an early, pickled version) is not read" in err


def test_a_cell_listed_twice_in_the_data_summary_must_agree(tmp_path, run_cli, subject_yaml):
    from ..spe1_helpers import repeat_summary_row

    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    summary = cell_dir.parent / "Data Summary.xlsx"
    first, second = repeat_summary_row(summary, "c14", blank_rows=2)  # the same row pasted again: accepted
    output = tmp_path / "same.nwb"
    code, _, err = convert(run_cli, cell_dir, output, "--metadata", subject_yaml, "--no-inspect")
    assert code == 0, err
    with NWBHDF5IO(str(output), "r") as io:
        units = io.read().units
        assert (units["chan_predicted"][0], units["patch_type"][0]) == (159, "Juxta, VC")
    first, third = repeat_summary_row(summary, "c14", {"chan_predicted": 160})
    assert third == second + 2
    output = tmp_path / "other.nwb"
    assert_one_line_error(
        convert(run_cli, cell_dir, output, "--metadata", subject_yaml), output, "Data Summary.xlsx",
        f"cell c14 is listed on rows {first} and {third} with different values (chan_predicted: 159 and 160)",
    )
