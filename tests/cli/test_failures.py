"""Every failure a realistic user can cause is one line, with the right exit code, the right file, and no damage.

Each row of :data:`FAILURES` sets up a mistake (a bad source, bad metadata, an output in the way, an environment
that refuses) and runs ``convert-to-nwb`` in-process. Every row asserts: the exit code, exactly one stderr line
``error: ...`` naming the file at fault and saying what is wrong, no output and no temporary file left, and the
sources byte-for-byte unchanged. Fault injection that needs a separate process (SIGKILL, a file size limit,
concurrent runs, an unprivileged user) follows the table.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import openpyxl
import pytest

from nwb_conversions.samples.allen_oephys import write_allen_oephys_recording
from nwb_conversions.samples.spe1 import write_spe1_release
from nwb_conversions.samples.spe2 import readme_values, write_readme_docx, write_spe2_pair

from .failure_table import Case, check_case

SUBJECT = "Subject:\n  subject_id: animal-01\n  sex: U\n  age: P60D\n"


def spe1(tmp: Path, **options) -> tuple[Path, Path, Path]:
    """A sample SPE-1 release; returns the cell folder, a subject YAML and the output path."""
    options.setdefault("duration_s", 0.2)
    cell, _ = write_spe1_release(tmp / "release", **options)
    subject = tmp / "release" / "subject.yaml"
    subject.write_text(SUBJECT)
    return cell, subject, tmp / "out" / "out.nwb"


def spe1_case(tmp: Path, change: Callable[[Path], None], names: str, fragment: str, *extra, **options) -> Case:
    cell, subject, output = spe1(tmp, **options)
    change(cell)
    return Case(["spe1", cell, output, "--metadata", subject, *extra], names, fragment, cell.parent, output)


def metadata_case(tmp: Path, text: str, fragment: str) -> Case:
    cell, _, output = spe1(tmp)
    bad = tmp / "release" / "bad.yaml"
    bad.write_bytes(text.encode("utf-8", "surrogatepass"))
    return Case(["spe1", cell, output, "--metadata", bad], "bad.yaml", fragment, cell.parent, output)


def set_summary(cell: Path, column: str, value) -> None:
    """Change the cell's row of the release's Data Summary.xlsx."""
    path = cell.parent / "Data Summary.xlsx"
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == cell.name:
            row[header.index(column)].value = value
    workbook.save(path)


def truncate(path: Path, size: int) -> None:
    with open(path, "r+b") as stream:
        stream.truncate(size)


def output_case(tmp: Path, make_output: Callable[[Path], Path], names: str, fragment: str, *extra) -> Case:
    cell, subject, _ = spe1(tmp)
    output = make_output(tmp)
    return Case(["spe1", cell, output, "--metadata", subject, *extra], names, fragment, cell.parent, output)


def spe2_case(tmp: Path, change: Callable[[Path], None], names: str, fragment: str, layout: str = "common32") -> Case:
    pair, _ = write_spe2_pair(tmp / "release", layout=layout, duration_s=0.3)
    change(pair)
    output = tmp / "out.nwb"
    return Case(["spe2", pair, output, "--no-inspect"], names, fragment, tmp / "release", output)


def rename_amplifier(pair: Path, name: str) -> None:
    (amplifier,) = pair.glob("amplifier*.bin")
    amplifier.rename(pair / name)


def set_readme(pair: Path, **values) -> None:
    write_readme_docx(pair / "READ ME.docx", {**readme_values_of(pair), **values})


def readme_values_of(pair: Path) -> dict:
    from nwb_conversions.samples.spe2 import LAYOUTS

    layout = next(spec for spec in LAYOUTS.values() if spec.folder == pair.name)
    return readme_values(layout)


def allen_case(tmp: Path, change: Callable[[Path], None], fragment: str, names: str = "103991.h5") -> Case:
    source = write_allen_oephys_recording(tmp / "release", duration_s=5.0, num_spikes=10)
    change(source)
    output = tmp / "out.nwb"
    return Case(["allen-oephys", source, output, "--no-inspect"], names, fragment, tmp / "release", output)


def h5_edit(key: str, value) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        with h5py.File(path, "a") as h5:
            if key in h5:
                del h5[key]
            if value is not None:
                h5.create_dataset(key, data=value)

    return change


FAILURES: dict[str, Callable[[Path], Case]] = {
    # --- SPE-1 sources ---------------------------------------------------------------------------------------
    "spe1 cell folder missing": lambda t: Case(["spe1", t / "c14", t / "o.nwb"], "c14", "not a folder", t, t / "o.nwb"),
    "spe1 no Neuropixels binary": lambda t: spe1_case(
        t, lambda c: (c / "c14_npx_raw.bin").unlink(), "c14", "no file named like cNN_npx_raw.bin"
    ),
    "spe1 two Neuropixels binaries": lambda t: spe1_case(
        t, lambda c: shutil.copy(c / "c14_npx_raw.bin", c / "c14_npx_raw-001.bin"), "c14", "several files match"
    ),
    "spe1 binary not whole samples": lambda t: spe1_case(
        t, lambda c: truncate(c / "c14_npx_raw.bin", 384 * 2 * 100 + 3), "c14_npx_raw.bin", "not a whole number"
    ),
    "spe1 expt_meta disagrees": lambda t: spe1_case(
        t, lambda c: truncate(c / "c14_npx_raw.bin", 384 * 2 * 5000), "c14_expt_meta.csv", "npx has"
    ),
    "spe1 patch cut to half (rate doubles)": lambda t: spe1_case(
        t,
        lambda c: ((c / "c14_expt_meta.csv").unlink(), (c / "c14_patch_sync.bin").unlink(),
                   truncate(c / "c14_patch_ch1.bin", (c / "c14_patch_ch1.bin").stat().st_size // 16 * 8)),
        "c14_patch_ch1.bin",
        "Patch Samp. Freq. (Hz)) says 50023.8987 Hz",
    ),
    "spe1 Data Summary rate 1000 Hz": lambda t: spe1_case(
        t, lambda c: set_summary(c, "Patch Samp. Freq. (Hz)", 1000), "c14_patch_ch1.bin", "says 1000.0000 Hz"
    ),
    "spe1 Data Summary chan_predicted 999": lambda t: spe1_case(
        t, lambda c: set_summary(c, "chan_predicted", 999), "Data Summary.xlsx", "chan_predicted is 999"
    ),
    "spe1 Data Summary distance -50": lambda t: spe1_case(
        t, lambda c: set_summary(c, "Distance", -50), "Data Summary.xlsx", "Distance is -50"
    ),
    "spe1 Data Summary impossible date": lambda t: spe1_case(
        t, lambda c: set_summary(c, "Date", "2017-13-45"), "Data Summary.xlsx", "is not a date"
    ),
    "spe1 Data Summary text channel": lambda t: spe1_case(
        t, lambda c: set_summary(c, "chan_highest", "near the tip"), "Data Summary.xlsx", "chan_highest is"
    ),
    "spe1 sync length disagrees": lambda t: spe1_case(
        t, lambda c: truncate(c / "c14_npx_sync.bin", 200), "c14_npx_sync.bin", "100 samples"
    ),
    "spe1 spike samples beyond the trace": lambda t: spe1_case(
        t, lambda c: np.save(c / "c14_wc_spike_samples.npy", np.array([5, 10**9])), "c14_wc_spike_samples.npy", "beyond"
    ),
    "spe1 spike samples not integers": lambda t: spe1_case(
        t, lambda c: np.save(c / "c14_wc_spike_samples.npy", np.array([0.5, 1.5])), "c14_wc_spike_samples.npy", "float"
    ),
    "spe1 spike samples file is text": lambda t: spe1_case(
        t, lambda c: (c / "c14_wc_spike_samples.npy").write_text("1, 2, 3"), "c14_wc_spike_samples.npy", "not a NumPy .npy file"
    ),
    "spe1 chanMap.mat corrupt": lambda t: spe1_case(
        t, lambda c: (c.parent / "chanMap.mat").write_bytes(b"MATLAB 5.0 MAT-file" + bytes(60)), "chanMap.mat", ""
    ),
    "spe1 cell absent, no patch type": lambda t: spe1_case(t, lambda c: None, "Data Summary", "patch type", cell_id="c99"),
    # --- the user's metadata ---------------------------------------------------------------------------------
    "metadata file missing": lambda t: Case(
        ["spe1", spe1(t)[0], t / "o.nwb", "--metadata", t / "none.yaml"], "none.yaml", "no such metadata", t, t / "o.nwb"
    ),
    "metadata not YAML": lambda t: metadata_case(t, "Subject: [unclosed\n", "not valid YAML"),
    "metadata a list": lambda t: metadata_case(t, "- a\n- b\n", "not a mapping"),
    "metadata block not a mapping": lambda t: metadata_case(t, "Subject: hello\n", "'Subject' holds a str"),
    "metadata sex X": lambda t: metadata_case(t, SUBJECT.replace("sex: U", "sex: X"), "Subject/sex"),
    "metadata start time without zone": lambda t: metadata_case(
        t, "NWBFile:\n  session_start_time: 2017-11-28T10:00:00\n", "with a time zone"
    ),
    "metadata unknown device field": lambda t: metadata_case(
        t, "Extracellular:\n  Device: {name: P, colour: red}\n", "Extracellular/Device"
    ),
    "metadata deprecated manufacturer": lambda t: metadata_case(
        t, "Extracellular:\n  Device: {name: P, manufacturer: imec}\n", "Extracellular/Device"
    ),
    "metadata slash in a name": lambda t: metadata_case(
        t, "Extracellular:\n  ElectricalSeries: {name: a/b}\n", "pynwb refused the metadata"
    ),
    "metadata cell channel 999": lambda t: metadata_case(t, "Cell: {chan_predicted: 999}\n", "Cell/chan_predicted"),
    "metadata not UTF-8": lambda t: metadata_case(t, "Subject:\n  description: caf\udce9\n", "is not UTF-8 text"),
    # --- the output ------------------------------------------------------------------------------------------
    "output exists": lambda t: output_case(
        t, lambda t: (t / "keep.nwb").write_bytes(b"keep") and t / "keep.nwb", "keep.nwb", "already exists"
    ),
    "output is a folder": lambda t: output_case(t, lambda t: (t / "d.nwb").mkdir() or t / "d.nwb", "d.nwb", "is a folder"),
    "output inside the cell folder": lambda t: output_case(
        t, lambda t: t / "release" / "c14" / "out.nwb", "c14/out.nwb", "inside the source folder", "--overwrite"
    ),
    "output is the Data Summary": lambda t: output_case(
        t, lambda t: t / "release" / "Data Summary.xlsx", "Data Summary.xlsx", "is a source file", "--overwrite"
    ),
    "output is chanMap.mat": lambda t: output_case(
        t, lambda t: t / "release" / "chanMap.mat", "chanMap.mat", "is a source file", "--overwrite"
    ),
    "output is the metadata YAML": lambda t: output_case(
        t, lambda t: t / "release" / "subject.yaml", "subject.yaml", "is a source file", "--overwrite"
    ),
    "output is a FIFO": lambda t: output_case(
        t, lambda t: os.mkfifo(t / "fifo.nwb") or t / "fifo.nwb", "fifo.nwb", "not a regular file", "--overwrite"
    ),
    "output is a dangling symlink": lambda t: output_case(
        t, lambda t: (t / "link.nwb").symlink_to(t / "nowhere") or t / "link.nwb", "link.nwb", "already exists"
    ),
    "output under a file": lambda t: output_case(
        t, lambda t: (t / "plain").write_text("x") and t / "plain" / "out.nwb", "plain/out.nwb", "is a file, not a folder"
    ),
    "output name too long": lambda t: output_case(t, lambda t: t / ("n" * 300 + ".nwb"), "nnnn", "too long"),
    "output on an unwritable file system": lambda t: output_case(
        t, lambda t: Path("/proc/nwb_conversions_test/out.nwb"), "/proc/nwb_conversions_test", "could not be written"
    ),
    # --- SPE-2 -------------------------------------------------------------------------------------------------
    "spe2 no amplifier": lambda t: spe2_case(
        t, lambda p: next(p.glob("amplifier*.bin")).unlink(), "2014_11_25_Pair_3_0", "no file named like amplifier"
    ),
    "spe2 no adc": lambda t: spe2_case(t, lambda p: next(p.glob("adc*.bin")).unlink(), "Pair_3_0", "no file named like adc"),
    "spe2 impossible timestamp": lambda t: spe2_case(
        t,
        lambda p: (rename_amplifier(p, "amplifier2014-13-45T25_61_61.bin"),
                   next(p.glob("adc*.bin")).rename(p / "adc2014-13-45T25_61_61.bin")),
        "amplifier2014-13-45T25_61_61.bin",
        "is not a date and time",
    ),
    "spe2 adc shorter than amplifier": lambda t: spe2_case(
        t, lambda p: truncate(next(p.glob("adc*.bin")), 16 * 100), "adc2014-11-25T23_00_08.bin", "100 samples"
    ),
    "spe2 docx missing key": lambda t: spe2_case(
        t, lambda p: write_readme_docx(p / "READ ME.docx", {"Probe_numChannels": "32"}), "READ ME.docx", "missing"
    ),
    "spe2 docx unparseable rate": lambda t: spe2_case(
        t, lambda p: set_readme(p, Sampling_frequency="thirty thousand"), "READ ME.docx", "Sampling_frequency"
    ),
    "spe2 docx 48 channels": lambda t: spe2_case(
        t, lambda p: set_readme(p, Probe_numChannels="48"), "amplifier2014-11-25T23_00_08.bin", "48 amplifier channels"
    ),
    "spe2 float32 without docx": lambda t: spe2_case(
        t, lambda p: (p / "READ ME.docx").unlink(), "amplifier", "not centred", layout="float32"
    ),
    "spe2 not a folder": lambda t: Case(["spe2", t / "nope", t / "o.nwb"], "nope", "not a folder", t, t / "o.nwb"),
    # --- Allen Dataset II --------------------------------------------------------------------------------------
    "allen not HDF5": lambda t: allen_case(t, lambda p: p.write_text("hello"), "HDF5"),
    "allen missing dff": lambda t: allen_case(t, h5_edit("dff", None), "dff"),
    "allen negative dte": lambda t: allen_case(t, h5_edit("dte", -1.0), "dte"),
    "allen unsorted sptimes": lambda t: allen_case(t, h5_edit("sptimes", np.array([3.0, 1.0, 2.0])), "not sorted"),
    "allen NaN spike time": lambda t: allen_case(t, h5_edit("sptimes", np.array([1.0, np.nan])), "sptimes"),
    "allen genotype a number": lambda t: allen_case(t, h5_edit("genotype", 5.0), "genotype"),
    "allen file missing": lambda t: Case(["allen-oephys", t / "1.h5", t / "o.nwb"], "1.h5", "", t, t / "o.nwb"),
    # --- the environment ---------------------------------------------------------------------------------------
    "symlink loop as the source": lambda t: (
        (t / "loop").symlink_to(t / "loop"),
        Case(["spe1", t / "loop", t / "o.nwb"], "loop", "", t, t / "o.nwb"),
    )[1],
    "newline in the source path": lambda t: Case(
        ["spe1", t / "a\nb", t / "o.nwb"], "a\\nb", "not a folder", t, t / "o.nwb"
    ),
    "non-UTF-8 folder name": lambda t: Case(
        ["spe1", t / "c\udcff14", t / "o.nwb"], "c\\udcff14", "not a folder", t, t / "o.nwb"
    ),
}


@pytest.mark.parametrize("name", list(FAILURES))
def test_every_failure_is_one_line_and_leaves_nothing_behind(name, tmp_path, run_cli):
    check_case(FAILURES[name](tmp_path), run_cli, tmp_path)


def test_the_table_covers_enough_cases():
    assert len(FAILURES) >= 55


# --- accepted, with one note each -------------------------------------------------------------------------------


def test_an_empty_ground_truth_file_gives_no_unit_and_a_note(tmp_path, run_cli):
    cell, subject, output = spe1(tmp_path)
    np.save(cell / "c14_wc_spike_samples.npy", np.array([], dtype=np.int64))
    code, out, err = run_cli("spe1", cell, output, "--metadata", subject)
    assert code == 0, err
    assert "holds no spike samples" in err and "0 CRITICAL" in out


def test_unsorted_duplicated_ground_truth_is_sorted_and_noted(tmp_path, run_cli):
    cell, subject, output = spe1(tmp_path)
    np.save(cell / "c14_wc_spike_samples.npy", np.array([900, 100, 100, 500], dtype=np.int64))
    code, _, err = run_cli("spe1", cell, output, "--metadata", subject)
    assert code == 0, err
    assert "not in order; they were sorted" in err and "1 duplicated spike sample(s)" in err
    import pynwb

    with pynwb.NWBHDF5IO(str(output), "r") as io:
        rate = io.read().acquisition["PatchClampSeries"].rate
        np.testing.assert_allclose(io.read().units["spike_times"][0], np.array([100, 500, 900]) / rate)


def test_an_empty_allen_spike_train_gives_no_units_and_a_note(tmp_path, run_cli):
    source = write_allen_oephys_recording(tmp_path / "release", duration_s=5.0, num_spikes=10)
    h5_edit("sptimes", np.array([], dtype=float))(source)
    code, _, err = run_cli("allen-oephys", source, tmp_path / "o.nwb")
    assert code == 0, err
    assert "holds no spike times" in err


def test_amplifier_and_adc_with_different_timestamps_are_noted(tmp_path, run_cli):
    pair, _ = write_spe2_pair(tmp_path / "release", duration_s=0.3)
    adc = next(pair.glob("adc*.bin"))
    adc.rename(pair / "adc2014-11-25T23_00_09.bin")
    code, _, err = run_cli("spe2", pair, tmp_path / "o.nwb", "--no-inspect")
    assert code == 0, err
    assert "carry different timestamps" in err


def test_a_251_character_output_name_is_written(tmp_path, run_cli):
    cell, subject, _ = spe1(tmp_path)
    output = tmp_path / ("n" * 247 + ".nwb")
    assert run_cli("spe1", cell, output, "--metadata", subject, "--no-inspect")[0] == 0
    assert output.is_file()


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1e9"])
def test_a_bad_worker_count_is_one_line(tmp_path, run_cli, monkeypatch, value):
    cell, subject, output = spe1(tmp_path)
    monkeypatch.setenv("NWB_CONVERSIONS_WORKERS", value)
    code, _, err = run_cli("spe1", cell, output, "--metadata", subject)
    assert code == 1 and err.count("\n") == 1 and "NWB_CONVERSIONS_WORKERS" in err
    assert not output.exists()


def test_example_twice_needs_overwrite_and_a_read_only_folder_is_one_line(tmp_path, run_cli):
    assert run_cli("example", "allen-oephys", "--output-dir", tmp_path)[0] == 0
    code, _, err = run_cli("example", "allen-oephys", "--output-dir", tmp_path)
    assert code == 1 and err.count("\n") == 1 and "already exists" in err
    assert run_cli("example", "allen-oephys", "--output-dir", tmp_path, "--overwrite")[0] == 0
    code, _, err = run_cli("example", "allen-oephys", "--output-dir", "/proc/nwb_conversions_example")
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: /proc/nwb_conversions_example")


def test_a_file_appearing_at_the_output_during_the_run_is_kept(tmp_path, run_cli, monkeypatch):
    """Two runs onto one new path, or a file created mid-run: the final rename refuses to replace it."""
    import nwb_conversions.writing.write as chunk_writer

    cell, subject, output = spe1(tmp_path)
    real_fill = chunk_writer.fill_dataset

    def fill_while_someone_writes_the_output(*args, **kwargs):
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(b"another run's file")
        return real_fill(*args, **kwargs)

    monkeypatch.setattr(chunk_writer, "fill_dataset", fill_while_someone_writes_the_output)
    code, _, err = run_cli("spe1", cell, output, "--metadata", subject)
    assert code == 1 and err.count("\n") == 1 and "already exists" in err
    assert output.read_bytes() == b"another run's file"
    assert not list(output.parent.glob(".*partial*"))


def test_a_source_truncated_during_the_run_is_named(tmp_path, run_cli, monkeypatch):
    import nwb_conversions.writing.write as chunk_writer

    cell, subject, output = spe1(tmp_path, duration_s=1.5)
    real_fill = chunk_writer.fill_dataset

    def fill_after_truncating(dataset, source, **kwargs):
        truncate(cell / "c14_npx_raw.bin", 384 * 2 * 1000)
        return real_fill(dataset, source, **kwargs)

    monkeypatch.setattr(chunk_writer, "fill_dataset", fill_after_truncating)
    code, _, err = run_cli("spe1", cell, output, "--metadata", subject)
    assert code == 1 and err.count("\n") == 1 and "c14_npx_raw.bin" in err and "was it truncated?" in err
    assert not output.exists()


# --- fault injection in separate processes -----------------------------------------------------------------------


def command(*args) -> list[str]:
    return [sys.executable, "-m", "nwb_conversions.cli.main", *[str(arg) for arg in args]]


def test_sigkill_mid_write_then_a_rerun_cleans_up(tmp_path):
    """The command and its conversion process both killed (a power cut, ``kill -9`` of the process group)."""
    cell, subject, output = spe1(tmp_path, duration_s=4.0)
    output.parent.mkdir(parents=True)
    process = subprocess.Popen(
        command("spe1", cell, output, "--metadata", subject),
        env={**os.environ, "NWB_CONVERSIONS_WORKERS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not list(output.parent.glob(".*partial*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(0.2)  # the group's other process is reaped by init
    left = list(output.parent.glob(".*partial*"))
    assert left and not output.exists()
    rerun = subprocess.run(command("spe1", cell, output, "--metadata", subject), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "removed 1 temporary file(s) left beside the output by an earlier, killed run" in rerun.stderr
    assert not list(output.parent.glob(".*partial*")) and output.is_file()


def test_a_file_size_limit_is_one_line(tmp_path):
    import resource

    cell, subject, output = spe1(tmp_path, duration_s=1.0)

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    result = subprocess.run(
        command("spe1", cell, output, "--metadata", subject),
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "out.nwb" in result.stderr and "File too large" in result.stderr
    assert not output.exists() and not list(output.parent.glob(".*partial*"))


def test_concurrent_runs_onto_one_output_never_replace_each_other(tmp_path):
    cell, subject, output = spe1(tmp_path, duration_s=1.0)
    runs = [
        subprocess.Popen(
            command("spe1", cell, output, "--metadata", subject, "--no-inspect"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(run.wait(), run.stderr.read()) for run in runs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    failed = next(err for code, err in results if code == 1)
    assert failed.count("\n") == 1 and "already exists" in failed
    with h5py.File(output, "r") as h5:
        assert h5["acquisition/ElectricalSeries/data"].shape == (30_000, 384)
    assert not list(output.parent.glob(".*partial*"))


def test_a_source_the_system_refuses_to_read_is_named(tmp_path, run_cli, monkeypatch):
    """What an unprivileged user meets on a file without read permission, simulated for the Neuropixels binary."""
    from nwb_conversions.readers.binary import InterleavedBinary

    cell, subject, output = spe1(tmp_path)

    real_read, real_read_frames_into = InterleavedBinary.read, InterleavedBinary._read_frames_into

    def refused(self):
        return PermissionError(13, "Permission denied", str(self.file_path))

    def read(self, start, stop):
        if self.file_path.name == "c14_npx_raw.bin":
            raise refused(self)
        return real_read(self, start, stop)

    def read_frames_into(self, start, frames):
        if self.file_path.name == "c14_npx_raw.bin":
            raise refused(self)
        return real_read_frames_into(self, start, frames)

    monkeypatch.setattr(InterleavedBinary, "read", read)
    monkeypatch.setattr(InterleavedBinary, "_read_frames_into", read_frames_into)
    code, _, err = run_cli("spe1", cell, output, "--metadata", subject)
    assert code == 1 and err.count("\n") == 1, err
    assert "c14_npx_raw.bin: cannot be read (Permission denied)" in err and not output.exists()


def can_run_as(user) -> bool:
    """Whether this interpreter can be started by ``user`` (it may live under a private home folder)."""
    def switch():
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    try:
        return subprocess.run([sys.executable, "-c", "0"], preexec_fn=switch, capture_output=True).returncode == 0
    except OSError:
        return False


def test_as_an_unprivileged_user_unreadable_sources_and_unwritable_folders_are_one_line(tmp_path):
    import pwd

    if os.geteuid() != 0:
        pytest.skip("switching to an unprivileged user needs root")
    nobody = pwd.getpwnam("nobody")
    if not can_run_as(nobody):
        pytest.skip("this Python cannot be started by an unprivileged user (it lives under a private folder)")
    cell, subject, _ = spe1(tmp_path)
    for path in [tmp_path, *tmp_path.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    os.chmod(cell / "c14_npx_raw.bin", 0o000)

    def become_nobody():
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    os.makedirs(tmp_path / "cache", mode=0o777)
    unreadable = subprocess.run(
        command("spe1", cell, tmp_path / "cache" / "o.nwb", "--metadata", subject),
        capture_output=True, text=True, preexec_fn=become_nobody, env=env,
    )
    assert unreadable.returncode == 1, unreadable.stderr
    assert unreadable.stderr.count("\n") == 1 and "c14_npx_raw.bin" in unreadable.stderr
    os.chmod(cell / "c14_npx_raw.bin", 0o644)
    unwritable = subprocess.run(
        command("spe1", cell, locked / "o.nwb", "--metadata", subject),
        capture_output=True, text=True, preexec_fn=become_nobody, env=env,
    )
    assert unwritable.returncode == 1, unwritable.stderr
    assert unwritable.stderr.count("\n") == 1 and "locked/o.nwb" in unwritable.stderr
    assert "Permission denied" in unwritable.stderr


def test_an_unusable_cache_folder_is_one_line(tmp_path):
    cell, subject, output = spe1(tmp_path)
    result = subprocess.run(
        command("spe1", cell, output, "--metadata", subject),
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_CACHE_HOME": "/proc/nwb_conversions_cache"},
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: /proc/nwb_conversions_cache")


def test_an_unknown_metadata_block_is_noted(tmp_path, run_cli):
    cell, subject, output = spe1(tmp_path)
    subject.write_text(SUBJECT + "Subjet:\n  sex: F\n")
    code, _, err = run_cli("spe1", cell, output, "--metadata", subject)
    assert code == 0, err
    assert "the top-level key 'Subjet' is not used by this conversion and was ignored (did you mean 'Subject'?)" in err


def test_nan_in_the_patch_trace_and_a_degenerate_channel_map_are_noted(tmp_path, run_cli):

    cell, subject, output = spe1(tmp_path)
    patch = np.fromfile(cell / "c14_patch_ch1.bin", dtype="<f8")
    patch[10:20] = np.nan
    patch.tofile(cell / "c14_patch_ch1.bin")
    (cell.parent / "chanMap.mat").unlink()
    flat = tmp_path / "release" / "flat"
    flat.mkdir()
    code, _, err = run_cli("spe1", cell, output, "--metadata", subject, "--no-inspect")
    assert code == 0, err
    assert "c14_patch_ch1.bin" in err and "NaN" in err
