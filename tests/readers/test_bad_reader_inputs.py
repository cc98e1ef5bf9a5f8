"""Concrete bad inputs, one row each: every reader raises one SourceFormatError naming the file and the fault.

Each row writes one damaged or implausible source and names the phrase its one-line message must contain; the
test checks the exception type, that the message is a single line starting with the file, and the phrase.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.interfaces.spike_samples import SpikeSamplesInterface
from nwb_conversions.layouts.allen_oephys.recording import read_oephys_recording
from nwb_conversions.layouts.spe1.data_summary import read_cell_facts
from nwb_conversions.layouts.spe1.expt_meta import read_expt_meta
from nwb_conversions.layouts.spe2.readme_docx import read_readme_docx
from nwb_conversions.metadata.assembly import check_user_metadata, load_yaml_mapping
from nwb_conversions.readers import npy, source_access
from nwb_conversions.readers.channel_map import read_channel_map_csv, read_kilosort_channel_map

from .bad_sources import (
    DATA_SUMMARY_CSV,
    EXPT_META_TEXT,
    NUM_MAP_CHANNELS,
    channel_positions,
    data_summary_rows,
    docx_bytes,
    mat_v5_bytes,
    npy_bytes,
    readme_docx_values,
    write_allen_recording,
    write_mat_v73,
    xlsx_bytes,
)

READERS = {
    "expt_meta.csv": read_expt_meta,
    "chanMap.mat": lambda path: read_kilosort_channel_map(path, num_channels=NUM_MAP_CHANNELS),
    "channel_map.csv": lambda path: read_channel_map_csv(path, num_channels=NUM_MAP_CHANNELS),
    "READ ME.docx": read_readme_docx,
    "103991.h5": read_oephys_recording,
    "Data Summary.xlsx": lambda path: read_cell_facts(path, "c1"),
    "Data Summary.csv": lambda path: read_cell_facts(path, "c1"),
    "metadata.yaml": lambda path: check_user_metadata(load_yaml_mapping(path), path),
    "c1_wc_spike_samples.npy": lambda path: SpikeSamplesInterface(path, num_clock_samples=1000),
}


def data(content):
    """A writer that puts ``content`` (bytes, or text in UTF-8) in the file."""

    def write(path, monkeypatch):
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))

    return write


def readme(**changes):
    return data(docx_bytes({**readme_docx_values(), **changes}))


def allen(**replace):
    return lambda path, monkeypatch: write_allen_recording(path, **replace)


def symlink_loop(path, monkeypatch):
    path.symlink_to(path)


def folder(path, monkeypatch):
    path.mkdir()


def permission_denied(content):
    """A readable file whose opening fails with EACCES (simulated: the tests may run as root, which chmod can't stop)."""

    def write(path, monkeypatch):
        data(content)(path, monkeypatch)
        real_open = open

        def refusing_open(file, *args, **kwargs):
            if Path(file) == path:
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        for module in (source_access, npy):
            monkeypatch.setattr(module, "open", refusing_open, raising=False)
        monkeypatch.setattr("builtins.open", refusing_open)

    return write


def shrinks_after_stat(content):
    """The file is cut to half after its size was taken (a copy still being written, a truncated download)."""

    def write(path, monkeypatch):
        data(content)(path, monkeypatch)
        real_check = npy.check_regular_file

        def check_then_truncate(file_path, expected):
            size = real_check(file_path, expected)
            os.truncate(file_path, size // 2)
            return size

        monkeypatch.setattr(npy, "check_regular_file", check_then_truncate)

    return write


def billion_laughs() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]")
    return "\n".join(lines) + "\nSubject: {description: *a9}\n"


def v5_with(**variables):
    return data(mat_v5_bytes(**variables))


def v73_with(**variables):
    return lambda path, monkeypatch: write_mat_v73(path, **variables)


positions = channel_positions()

# (id, reader key, writer, phrase the message must contain)
ROWS = [
    # cNN_expt_meta.csv
    ("expt-meta-huge-field", "expt_meta.csv", data('npx,patch\n"' + "9" * 200_000 + '",x\n'), "larger than"),
    ("expt-meta-infinite", "expt_meta.csv", data("npx,patch\n\"[(384L, 1e999), 'int16']\",\"[1, 'float64']\"\n"),
     "npx samples is inf, not a whole number"),
    ("expt-meta-zero-channels", "expt_meta.csv", data("npx,patch\n\"[(0, 10), 'int16']\",\"[1, 'float64']\"\n"),
     "npx channels = 0 is outside the plausible range"),
    ("expt-meta-object-dtype", "expt_meta.csv", data("npx,patch\n\"[(384, 10), 'O']\",\"[1, 'float64']\"\n"),
     "not a numeric dtype"),
    ("expt-meta-latin1", "expt_meta.csv", data(EXPT_META_TEXT.encode() + b"\xe9\n"), "is not UTF-8 text"),
    ("expt-meta-unclosed-quote", "expt_meta.csv", data('npx,patch\n"[(384L'), "not the documented two-column layout"),
    ("expt-meta-symlink-loop", "expt_meta.csv", symlink_loop, "cannot be read: Too many levels of symbolic links"),
    ("expt-meta-folder", "expt_meta.csv", folder, "is a folder, not a regular file"),
    ("expt-meta-permission", "expt_meta.csv", permission_denied(EXPT_META_TEXT), "cannot be read: Permission denied"),
    # chanMap.mat (v5 and v7.3) and channel-map CSV
    ("chanmap-v5-text", "chanMap.mat", v5_with(xcoords=np.array(["abcdefgh"])), "MATLAB char variable"),
    ("chanmap-v5-cell", "chanMap.mat", v5_with(xcoords=np.array([[1.0], "a"], dtype=object)), "MATLAB cell variable"),
    ("chanmap-v5-complex", "chanMap.mat", v5_with(xcoords=positions[:, :1] + 1j), "holds complex numbers"),
    ("chanmap-v73-text", "chanMap.mat", v73_with(xcoords=np.array(["abcdefgh"])), "MATLAB char variable"),
    ("chanmap-v5-implausible", "chanMap.mat", v5_with(ycoords=np.full((NUM_MAP_CHANNELS, 1), 1e9)),
     "y = 1e+09 µm"),
    ("chanmap-v5-truncated", "chanMap.mat", data(mat_v5_bytes()[:300]), "damaged MATLAB 5 file"),
    ("chanmap-empty", "chanMap.mat", data(b""), "not a MATLAB file"),
    ("chanmap-permission", "chanMap.mat", permission_denied(mat_v5_bytes()), "cannot be read: Permission denied"),
    ("channel-map-csv-inf", "channel_map.csv", data("".join(f"{i},0,{20 * i}\n" for i in range(7)) + "7,inf,0\n"),
     "non-finite coordinates"),
    ("channel-map-csv-nul", "channel_map.csv", data("0,0,0\n1,\x000,0\n"), "holds a NUL character"),
    # READ ME.docx: absurd but well-formed values, damaged packages
    ("readme-zero-count", "READ ME.docx", readme(Probe_y_digitization="1e300"),
     "Probe_y_digitization = 1e+300 is outside the plausible range"),
    ("readme-sampling", "READ ME.docx", readme(Sampling_frequency="1e300"),
     "Sampling_frequency = 1e+300 is outside the plausible range"),
    ("readme-step", "READ ME.docx", readme(Probe_voltage_step_size="0.195"), "Probe_voltage_step_size = 0.195 is"),
    ("readme-gain", "READ ME.docx", readme(Juxta_Gain="1e9"), "Juxta_Gain = 1e+09 is outside"),
    ("readme-range", "READ ME.docx", readme(Juxta_y_range="10000"), "Juxta_y_range = 10000 is outside"),
    ("readme-levels", "READ ME.docx", readme(Juxta_y_digitization="65000"),
     "Juxta_y_digitization = 65000 is not a plausible number of ADC levels"),
    ("readme-channels", "READ ME.docx", readme(Probe_numChannels="100000"), "Probe_numChannels = 100000 is outside"),
    ("readme-adc-channels", "READ ME.docx", readme(Juxta_numChannels="5000"), "Juxta_numChannels = 5000 is outside"),
    ("readme-truncated-zip", "READ ME.docx", data(docx_bytes(readme_docx_values())[:-40]),
     "not a readable Word document"),
    ("readme-entity-bomb", "READ ME.docx", data(b""), "not a readable Word document"),  # content set below
    # Allen Dataset II HDF5
    ("allen-dte-huge", "103991.h5", allen(dte=np.float64(1e300)), "'dte' (sampling period) is 1e+300 s, outside"),
    ("allen-dto-tiny", "103991.h5", allen(dto=np.float64(1e-300)), "'dto' (sampling period) is 1e-300 s, outside"),
    ("allen-threshold", "103991.h5", allen(quiroga=np.float64(1e6)), "'quiroga' (spike threshold) is 1e+06 V"),
    ("allen-text-trace", "103991.h5", allen(ephys_raw=np.array([b"a", b"b"])), "'ephys_raw' holds |S1 values"),
    ("allen-symlink-loop", "103991.h5", symlink_loop, "cannot be read: Too many levels of symbolic links"),
    ("allen-permission", "103991.h5", permission_denied(b"\x89HDF\r\n\x1a\n" + bytes(100)),
     "cannot be read: Permission denied"),
    # Data Summary (xlsx / csv)
    ("summary-corrupt-zip", "Data Summary.xlsx", data(xlsx_bytes(data_summary_rows())[:-100]), "unreadable table"),
    ("summary-wrong-sheet", "Data Summary.xlsx", data(xlsx_bytes(data_summary_rows(), extra_sheet_first=True)),
     "missing column(s)"),
    ("summary-text-distance", "Data Summary.xlsx",
     data(xlsx_bytes([data_summary_rows()[0], ["c1", "Juxta, VC", 159, 161, "far", "PC", "2017-11-28"]])),
     "cell c1: Distance is 'far'"),
    ("summary-empty", "Data Summary.xlsx", data(xlsx_bytes([])), "empty table"),
    ("summary-csv-empty", "Data Summary.csv", data(""), "empty table"),
    ("summary-csv-short-row", "Data Summary.csv", data(DATA_SUMMARY_CSV.splitlines()[0] + "\nc1,\"Juxta, VC\"\n"),
     "cell c1: Cell Type is empty"),
    ("summary-csv-distance", "Data Summary.csv", data(DATA_SUMMARY_CSV.replace("44.78", "1e9")),
     "cell c1: Distance is 1000000000.0"),
    # the user's metadata YAML
    ("yaml-billion-laughs", "metadata.yaml", data(billion_laughs()), "expands to more than 100000 nodes"),
    ("yaml-self-alias", "metadata.yaml", data("Subject: &s {description: [*s]}\n"), "refers to a node that contains"),
    ("yaml-nul", "metadata.yaml", data('Subject: {description: "a\\0b"}\n'), "Subject/description holds a NUL"),
    ("yaml-raw-nul", "metadata.yaml", data("Subject: {description: a\x00b}\n"), "holds a NUL character"),
    ("yaml-surrogate", "metadata.yaml", data('Subject: {description: "\\ud800"}\n'), "Unicode"),
    ("yaml-deep", "metadata.yaml", data("Subject: " + "[" * 10_000 + "]" * 10_000 + "\n"), "nests deeper than 64"),
    ("yaml-impossible-date", "metadata.yaml", data("NWBFile: {session_start_time: 2017-02-30}\n"),
     "day is out of range for month"),
    ("yaml-python-tag", "metadata.yaml", data("Subject: !!python/object/apply:os.system [ls]\n"), "not valid YAML"),
    ("yaml-int-key", "metadata.yaml", data("1: {sex: F}\n"), "the top level has the key 1"),
    ("yaml-latin1", "metadata.yaml", data(b"Subject: {description: caf\xe9}\n"), "is not UTF-8 text"),
    ("yaml-folder", "metadata.yaml", folder, "is a folder"),
    ("yaml-key-twice", "metadata.yaml", data("Subject:\n  sex: F\n  age: P60D\n  sex: M\n"),
     "the key 'sex' is given twice in one mapping with different values (lines 2 and 4)"),
    ("yaml-top-key-twice", "metadata.yaml", data("Subject: {sex: F}\nNWBFile: {}\nSubject: {sex: F, age: P1D}\n"),
     "the key 'Subject' is given twice in one mapping with different values (lines 1 and 3)"),
    # cNN_wc_spike_samples.npy
    ("npy-is-npz", "c1_wc_spike_samples.npy", data(b""), "a zip archive (an .npz"),  # content set below
    ("npy-pickle", "c1_wc_spike_samples.npy", data(npy_bytes(np.array([1, "a"], dtype=object))),
     "holds Python objects"),
    ("npy-raw-pickle", "c1_wc_spike_samples.npy", data(b"\x80\x04K\x01."), "a Python pickle"),
    ("npy-truncated", "c1_wc_spike_samples.npy", data(npy_bytes(np.arange(100))[:-3]), "truncated"),
    ("npy-shrinks", "c1_wc_spike_samples.npy", shrinks_after_stat(npy_bytes(np.arange(100))),
     "truncated while being read"),
    ("npy-float", "c1_wc_spike_samples.npy", data(npy_bytes(np.zeros(3))), "holds float64 values"),
    ("npy-2d", "c1_wc_spike_samples.npy", data(npy_bytes(np.zeros((2, 2), int))), "a 2-D int64 array"),
    ("npy-beyond-trace", "c1_wc_spike_samples.npy", data(npy_bytes(np.array([5, 5000]))), "beyond the 1000-sample"),
    ("npy-symlink-loop", "c1_wc_spike_samples.npy", symlink_loop, "Too many levels of symbolic links"),
]


def _npz_bytes() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, samples=np.arange(3))
    return buffer.getvalue()


def _entity_bomb_docx() -> bytes:
    import zipfile

    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    document = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]><w:document '
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&a9;'
        "</w:t></w:r></w:p></w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


SPECIAL_CONTENT = {"npy-is-npz": _npz_bytes, "readme-entity-bomb": _entity_bomb_docx}


@pytest.mark.parametrize("row_id, reader, write, phrase", ROWS, ids=[row[0] for row in ROWS])
def test_bad_input_is_one_source_format_error(tmp_path, monkeypatch, row_id, reader, write, phrase):
    path = tmp_path / reader
    if row_id in SPECIAL_CONTENT:
        write = data(SPECIAL_CONTENT[row_id]())
    write(path, monkeypatch)
    started = time.perf_counter()
    with pytest.raises(SourceFormatError) as raised:
        READERS[reader](path)
    elapsed = time.perf_counter() - started
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith(f"{path}: ") and raised.value.file == path
    assert phrase in message, message
    assert elapsed < 1.0, f"{row_id} took {elapsed:.2f} s"


def test_the_table_covers_every_reader():
    assert {row[1] for row in ROWS} == set(READERS) and len(ROWS) >= 30


def test_valid_sources_under_non_utf8_names_are_read(tmp_path):
    """A name that is not UTF-8 (``caf\\xe9``, from an old archive) does not stop any reader."""
    folder = tmp_path / os.fsdecode(b"caf\xe9")
    folder.mkdir()
    (folder / "expt_meta.csv").write_text(EXPT_META_TEXT)
    assert read_expt_meta(folder / "expt_meta.csv").npx_samples == 24301033
    (folder / "chanMap.mat").write_bytes(mat_v5_bytes())
    np.testing.assert_array_equal(READERS["chanMap.mat"](folder / "chanMap.mat"), channel_positions())
    (folder / "READ ME.docx").write_bytes(docx_bytes(readme_docx_values()))
    assert read_readme_docx(folder / "READ ME.docx").amplifier_channels == 32
    h5_path = write_allen_recording(folder / "103991.h5")
    assert read_oephys_recording(h5_path).spike_times.size == 3
    (folder / "Data Summary.xlsx").write_bytes(xlsx_bytes(data_summary_rows()))
    assert read_cell_facts(folder / "Data Summary.xlsx", "c1")["chan_predicted"] == 159
    (folder / "metadata.yaml").write_text("Subject: {sex: F}\n")
    assert load_yaml_mapping(folder / "metadata.yaml") == {"Subject": {"sex": "F"}}
    (folder / "s.npy").write_bytes(npy_bytes(np.array([3, 1, 2], dtype=">i4")))
    assert SpikeSamplesInterface(folder / "s.npy", num_clock_samples=10).spike_samples.tolist() == [1, 2, 3]


def test_allen_h5_declaring_more_data_than_stored_is_refused_before_reading(tmp_path):
    """A damaged dataspace (dims bit-flipped to 2**40) must not become a terabyte allocation."""
    path = write_allen_recording(tmp_path / "103991.h5")
    with h5py.File(path, "a") as h5:
        del h5["dff"]
        h5.create_dataset("dff", shape=(2**28,), dtype="f8")  # contiguous, never written: nothing stored
    with pytest.raises(SourceFormatError, match="'dff' declares 2147483648 bytes but 0 are stored"):
        read_oephys_recording(path)


def test_a_metadata_key_given_twice_with_one_value_is_accepted(tmp_path):
    path = tmp_path / "metadata.yaml"
    path.write_text("Subject:\n  sex: F\n  age: P60D\n  sex: F\nbase: &b {sex: U}\nother:\n  <<: *b\n  sex: M\n")
    assert load_yaml_mapping(path) == {
        "Subject": {"sex": "F", "age": "P60D"}, "base": {"sex": "U"}, "other": {"sex": "M"}
    }
