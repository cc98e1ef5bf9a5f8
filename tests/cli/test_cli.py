"""The command line: example, inspect, the gate failing a conversion, and help."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from ..spe1_helpers import SUBJECT_YAML, assert_one_line_error, sample_release


def test_example_writes_sources_and_clean_nwb_files(tmp_path, run_cli):
    code, out, err = run_cli("example", "spe1", "--output-dir", tmp_path)
    assert code == 0, err
    output = tmp_path / "spe1_c14.nwb"
    assert output.is_file()
    assert f"wrote {output}" in out
    assert f"{output}: 0 CRITICAL, 0 BEST_PRACTICE_VIOLATION" in out
    assert f"NWB files are in {tmp_path.resolve()}" in out
    assert (tmp_path / "sources" / "spe1" / "c14" / "c14_npx_raw.bin").is_file()
    assert "warning:" not in err


def test_inspect_exits_1_on_critical_and_0_when_clean(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    bare, complete = tmp_path / "bare.nwb", tmp_path / "complete.nwb"
    subject = tmp_path / "subject.yaml"
    subject.write_text(SUBJECT_YAML)
    assert run_cli("spe1", cell_dir, bare)[0] == 0
    assert run_cli("spe1", cell_dir, complete, "--metadata", subject)[0] == 0
    code, out, _ = run_cli("inspect", bare)
    assert code == 1 and "CRITICAL check_subject_sex" in out
    code, out, _ = run_cli("inspect", complete)
    assert code == 0 and f"{complete}: 0 CRITICAL" in out
    code, _, err = run_cli("inspect", tmp_path / "missing.nwb")
    assert code == 1 and err.startswith(f"error: {tmp_path / 'missing.nwb'}: no such file; expected an NWB")


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "not an HDF5 file"),
        (b"just some text\n" * 10, "not an HDF5 file"),
        (None, "cannot be read as NWB"),  # the first 4 kB of a real file: truncated
        ("folder", "is a folder"),
    ],
)
def test_inspect_on_what_is_not_a_readable_nwb_file_is_one_line(tmp_path, run_cli, content, fragment):
    target = tmp_path / "bad.nwb"
    if content is None:
        cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
        complete = tmp_path / "complete.nwb"
        assert run_cli("spe1", cell_dir, complete, "--no-inspect")[0] == 0
        target.write_bytes(complete.read_bytes()[:4096])
    elif content == "folder":
        target.mkdir()
    else:
        target.write_bytes(content)
    code, out, err = run_cli("inspect", target)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: {target}: ") and fragment in err


def test_a_critical_finding_fails_the_conversion_and_leaves_no_file(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    metadata = tmp_path / "slash.yaml"
    metadata.write_text("Subject:\n  subject_id: rat/07\n  sex: U\n  age: P60D\n")
    output = tmp_path / "out.nwb"
    code, _, err = run_cli("spe1", cell_dir, output, "--metadata", metadata)
    assert code == 1
    assert err.count("\n") == 1 and "check_subject_id_no_slashes" in err and err.startswith(f"error: {output}: ")
    assert not output.exists() and not list(tmp_path.glob(".out.partial*"))
    assert run_cli("spe1", cell_dir, output, "--metadata", metadata, "--no-inspect")[0] == 0
    assert output.is_file()


def test_help_lists_the_dataset_commands(run_cli, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli("--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("spe1", "example", "inspect"):
        assert command in out


# --- robustness: every user mistake is one line, never a traceback; nothing is left behind -----------------


@pytest.mark.parametrize(
    "target, fragment",
    [
        ("c14/c14_npx_raw.bin", "lies inside the source folder"),
        ("c14/new.nwb", "lies inside the source folder"),
        ("Data Summary.xlsx", "is a source file of this conversion"),
        ("chanMap.mat", "is a source file of this conversion"),
        ("sample_metadata.yaml", "is a source file of this conversion"),
    ],
)
def test_overwrite_never_replaces_a_source_file(tmp_path, run_cli, target, fragment):
    cell_dir, metadata = sample_release(tmp_path, duration_s=0.2)
    release = cell_dir.parent
    before = {path: path.read_bytes() for path in release.rglob("*") if path.is_file()}
    output = release / target
    code, _, err = run_cli("spe1", cell_dir, output, "--overwrite", "--metadata", metadata)
    assert code == 1 and err.count("\n") == 1 and fragment in err, err
    assert {path: path.read_bytes() for path in release.rglob("*") if path.is_file()} == before


def test_unusable_output_paths_are_one_line(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    folder = tmp_path / "a_folder.nwb"
    folder.mkdir()
    code, _, err = run_cli("spe1", cell_dir, folder, "--overwrite")
    assert code == 1 and err.strip() == f"error: {folder}: is a folder; expected the path of the .nwb file to write"
    unwritable = Path("/proc/nwb_conversions_test/out.nwb")
    assert_one_line_error(run_cli("spe1", cell_dir, unwritable, "--no-inspect"), unwritable, "could not be written")


def test_a_failed_conversion_removes_the_folders_it_made(tmp_path, run_cli):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    metadata = tmp_path / "slash.yaml"
    metadata.write_text("Subject:\n  subject_id: rat/07\n  sex: U\n  age: P60D\n")
    output = tmp_path / "new" / "deeper" / "out.nwb"
    assert_one_line_error(run_cli("spe1", cell_dir, output, "--metadata", metadata), output, "no_slashes")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda cell: (cell / "c14_wc_spike_samples.npy").write_bytes(b""), "c14_wc_spike_samples.npy"),
        (lambda cell: (cell / "c14_expt_meta.csv").write_text('npx,patch\n"{[]: 1}","[1, \'float64\']"\n'), "expt_meta"),
    ],
)
def test_damaged_small_files_are_one_line(tmp_path, run_cli, damage, fragment):
    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    damage(cell_dir)
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1", cell_dir, output), output, fragment)


def test_sigterm_during_the_write_leaves_no_file(tmp_path, run_cli, monkeypatch):
    import nwb_conversions.writing.write as chunk_writer

    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)
    real_fill = chunk_writer.fill_dataset

    def fill_then_terminate(*args, **kwargs):
        real_fill(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(chunk_writer, "fill_dataset", fill_then_terminate)
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1", cell_dir, output), output, "interrupted", code=130)


def test_an_unexpected_error_is_one_line_too(tmp_path, run_cli, monkeypatch):
    import nwb_conversions.writing.write as chunk_writer

    cell_dir, _ = sample_release(tmp_path, duration_s=0.2)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(chunk_writer, "fill_dataset", broken)
    output = tmp_path / "out.nwb"
    assert_one_line_error(run_cli("spe1", cell_dir, output), output, "unexpected RuntimeError: a bug", code=2)
