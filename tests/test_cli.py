"""The command line: example, inspect, the gate failing a conversion, and help."""

from __future__ import annotations

import pytest

from .spe1_helpers import SUBJECT_YAML, sample_release


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
    assert code == 1 and err.strip() == f"error: {tmp_path / 'missing.nwb'}: no such file; expected an NWB file"


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
