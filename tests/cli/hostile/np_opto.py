"""Neuropixels Opto session folders, damaged: truncated, empty, wrong-type, wrong-shape, contradictory, huge-header,
pickled and NaN inputs over the ALF ``.npy`` files, the text attributes, ``session.json`` and the ``stim.*`` files.

Each row writes a small sample release (README layout), damages one file of its session and expects one line naming
that file (for a contradiction: ``session.json``'s key and the file it disagrees with).
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Callable

import numpy as np

from nwb_conversions.samples.np_opto import write_sample
from nwb_conversions.samples.np_opto_spikes import SampleSize

from ...pickle_payloads import payload_npy_bytes
from ..failure_table import Case

SMALL = SampleSize(num_clusters=12, repeats=1)

#: Marker file a pickled row's payload would create if it were ever unpickled.
MARKER = "unpickled"


def session_case(tmp: Path, change: Callable[[Path], Path | None], names: str, fragment: str) -> Case:
    """A sample release whose session ``change`` damages (it may return the session's new path)."""
    session, metadata = write_sample(tmp / "release", size=SMALL)
    session = change(session) or session
    output = tmp / "out" / "out.nwb"
    return Case(["np-opto", session, output, "--metadata", metadata, "--no-inspect"], names, fragment,
                tmp / "release", output, absent=(tmp / MARKER,))


def row(change: Callable[[Path], Path | None], names: str, fragment: str):
    """A table row: ``change`` applied to a fresh sample session."""
    return lambda tmp, _monkeypatch: session_case(tmp, change, names, fragment)


def array_edit(name: str, edit: Callable[[np.ndarray], np.ndarray]):
    """Replace ``<name>.npy`` by ``edit`` of its array."""
    def change(session: Path) -> None:
        path = session / f"{name}.npy"
        np.save(path, edit(np.load(path)))
    return change


def set_value(index, value):
    def edit(array: np.ndarray) -> np.ndarray:
        array = array.copy()
        array[index] = value
        return array
    return edit


def file_bytes(name: str, make: Callable[[bytes], bytes]):
    """Replace the file ``name`` by ``make`` of its bytes."""
    def change(session: Path) -> None:
        path = session / name
        path.write_bytes(make(path.read_bytes()))
    return change


def json_edit(**changes):
    """Set keys of ``session.json`` (written with ``allow_nan``: NaN is written as JSON's ``NaN``)."""
    def change(session: Path) -> None:
        path = session / "session.json"
        content = json.loads(path.read_text())
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(content.get(key), dict):
                content[key].update(value)
            else:
                content[key] = value
        path.write_text(json.dumps(content, indent=2))
    return change


def stated(key: str, offset: int):
    """``session.json``'s ``key`` (a count) off by ``offset``."""
    def change(session: Path) -> None:
        content = json.loads((session / "session.json").read_text())
        json_edit(**{key: content[key] + offset})(session)
    return change


def npy_header(descr: str, shape: tuple, *, pad: int = 0, payload: bytes = b"\0" * 64) -> bytes:
    """An ``.npy`` (version 2.0) whose header declares ``descr`` and ``shape`` over ``payload``; ``pad`` spaces make
    the header that much longer."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}" + " " * pad
    header += " " * (-(len(header) + 13) % 64) + "\n"
    return b"\x93NUMPY\x02\x00" + len(header).to_bytes(4, "little") + header.encode("latin1") + payload


def npz_bytes(_: bytes) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, times=np.arange(3.0))
    return buffer.getvalue()


def sparse(name: str, size: int):
    """Grow the file ``name`` to ``size`` bytes (a sparse file: nothing is written)."""
    def change(session: Path) -> None:
        with open(session / name, "r+b") as stream:
            stream.truncate(size)
    return change


def pickled(name: str):
    def change(session: Path) -> None:
        (session / name).write_bytes(payload_npy_bytes(session.parents[3] / MARKER, count=3))
    return change


def rename_session(new_name: str):
    def change(session: Path) -> Path:
        return session.rename(session.parent / new_name)
    return change


def ks_label_twice(session: Path) -> None:
    path = session / "clusters.KSLabel.csv"
    text = path.read_text()
    path.write_text(text + ("3,mua\n" if "\n3,good\n" in text else "3,good\n"))


def folder_for(name: str):
    def change(session: Path) -> None:
        (session / name).unlink()
        (session / name).mkdir()
    return change


def no_pulses(session: Path) -> None:
    for name in ("times", "emissionSites", "powerMW", "durations"):
        array_edit(f"stim.{name}", lambda array: array[:0])(session)


def positions_3d(positions: np.ndarray) -> np.ndarray:
    return np.column_stack([positions, np.zeros(len(positions))])


TIMES = "spikes.times.npy"
ID = "AL0034_2024-12-05_en1_p0"

ROWS = {
    # truncated
    "truncated spikes.times.npy": row(file_bytes(TIMES, lambda b: b[: len(b) // 2]), TIMES, "truncated: the header"),
    "truncated clusters.templates.npy header": row(
        file_bytes("clusters.templates.npy", lambda b: b[:30]), "clusters.templates.npy", "damaged .npy header"
    ),
    "truncated session.json": row(file_bytes("session.json", lambda b: b[:-40]), "session.json", "not valid JSON"),
    "truncated clusters.KSLabel.csv row": row(
        file_bytes("clusters.KSLabel.csv", lambda b: b[: b.index(b"\n5,") + 2]), "clusters.KSLabel.csv",
        "line 7 is '5'",
    ),
    # empty
    "empty stim.durations.npy": row(file_bytes("stim.durations.npy", lambda b: b""), "stim.durations.npy",
                                    "not a NumPy .npy file"),
    "empty session.json": row(file_bytes("session.json", lambda b: b""), "session.json", "not valid JSON"),
    "empty clusters.waveformType.txt": row(
        file_bytes("clusters.waveformType.txt", lambda b: b""), "clusters.waveformType.txt",
        "has 0 lines but there are 12 clusters",
    ),
    "no stim pulse but n_trials 28": row(no_pulses, "session.json", "'n_trials' is 28 but stim.times.npy has 0 rows"),
    # wrong type
    "float spikes.clusters.npy": row(array_edit("spikes.clusters", lambda a: a.astype(float)), "spikes.clusters.npy",
                                     "holds float64 values"),
    "float stim.emissionSites.npy": row(array_edit("stim.emissionSites", lambda a: a + 0.5),
                                        "stim.emissionSites.npy", "holds float64 values"),
    "text spikes.times.npy": row(array_edit("spikes.times", lambda a: a.astype(str)), TIMES, "holds <U"),
    "session.json n_spikes as text": row(json_edit(n_spikes="3007"), "session.json", "'n_spikes' is '3007'"),
    "session.json probe_index true": row(json_edit(probe_index=True), "session.json", "'probe_index' is True"),
    "session.json spike_time_range_s a number": row(
        json_edit(spike_time_range_s=35.0), "session.json", "'spike_time_range_s' is 35.0"
    ),
    "an .npz saved as spikes.times.npy": row(file_bytes(TIMES, npz_bytes), TIMES, "a zip archive"),
    "a folder as stim.times.npy": row(folder_for("stim.times.npy"), "stim.times.npy", "is a folder"),
    "clusters.KSLabel.csv not UTF-8": row(
        file_bytes("clusters.KSLabel.csv", lambda b: b + b"\xff\xfe,good\n"), "clusters.KSLabel.csv", "not UTF-8"
    ),
    # wrong shape
    "clusters.channelPositions.npy with 3 columns": row(
        array_edit("clusters.channelPositions", positions_3d), "clusters.channelPositions.npy", "has shape (384, 3)"
    ),
    "2-D clusters.templates.npy": row(array_edit("clusters.templates", lambda a: a[:, :, 0]),
                                      "clusters.templates.npy", "a 2-D float64 array of shape (12, 61)"),
    "spikes.times.npy of two columns": row(array_edit("spikes.times", lambda a: np.column_stack([a, a])), TIMES,
                                           "has shape ("),
    # huge header
    "spikes.times.npy declaring 2**40 elements": row(
        file_bytes(TIMES, lambda b: npy_header("<f8", (2**40,))), TIMES,
        "truncated: the header declares 8796093022208 data bytes, the file holds 64",
    ),
    "clusters.templates.npy declaring 2**50 elements": row(
        file_bytes("clusters.templates.npy", lambda b: npy_header("<f8", (2**20, 2**20, 2**10))),
        "clusters.templates.npy", "truncated: the header declares",
    ),
    "stim.powerMW.npy with a 100 kB header": row(
        file_bytes("stim.powerMW.npy", lambda b: npy_header("<f8", (8,), pad=100_000)), "stim.powerMW.npy",
        "damaged .npy header",
    ),
    "clusters.templates.npy declaring no rows of 2**62 x 2**62": row(
        file_bytes("clusters.templates.npy", lambda b: npy_header("<f8", (0, 2**62, 2**62), payload=b"")),
        "clusters.templates.npy", "is too large for any array",
    ),
    "clusters.channelPositions.npy declaring a negative shape": row(
        file_bytes("clusters.channelPositions.npy", lambda b: npy_header("<f8", (-2, -4))),
        "clusters.channelPositions.npy", "damaged .npy header (negative length in shape (-2, -4))",
    ),
    "a 17 MiB session.json": row(sparse("session.json", 17 * 2**20), "session.json",
                                 "is 17825792 bytes, larger than such a file can be"),
    # pickled
    "pickled spikes.clusters.npy": row(pickled("spikes.clusters.npy"), "spikes.clusters.npy", "holds Python objects"),
    "pickled clusters.qcPass.npy": row(pickled("clusters.qcPass.npy"), "clusters.qcPass.npy", "holds Python objects"),
    "raw pickle as stim.powerMW.npy": row(file_bytes("stim.powerMW.npy", lambda b: b"\x80\x04K\x01."),
                                          "stim.powerMW.npy", "a Python pickle"),
    # contradictory: session.json against the arrays
    "n_spikes disagrees with spikes.times": row(stated("n_spikes", 1), "session.json",
                                                "'n_spikes' is 3008 but spikes.times.npy has 3007 rows"),
    "n_clusters disagrees with clusters.*": row(stated("n_clusters", -1), "session.json",
                                                "'n_clusters' is 11 but the clusters.* files have 12 rows"),
    "n_channels disagrees with channelPositions": row(
        stated("n_channels", -64), "session.json", "'n_channels' is 320 but clusters.channelPositions.npy has 384"
    ),
    "n_trials disagrees with stim.times": row(stated("n_trials", 2), "session.json",
                                              "'n_trials' is 30 but stim.times.npy has 28 rows"),
    "n_qc_pass disagrees with qcPass": row(stated("n_qc_pass", 1), "session.json",
                                           "'n_qc_pass' is 3 but clusters.qcPass.npy passes 2 clusters"),
    "n_qc_fail disagrees with qcPass": row(stated("n_qc_fail", -1), "session.json",
                                           "'n_qc_fail' is 9 but clusters.qcPass.npy fails 10 clusters"),
    "spike_time_range_s disagrees with spikes.times": row(
        json_edit(spike_time_range_s=[0.0866, 36.0]), "session.json",
        "'spike_time_range_s' is [0.0866, 36.0] but spikes.times.npy spans [0.0866, 35.02596666666667]",
    ),
    "stim_time_range_s disagrees with stim.times": row(
        json_edit(stim_time_range_s=[4.0, 32.031166666666664]), "session.json",
        "'stim_time_range_s' is [4.0, 32.031166666666664] but stim.times.npy spans",
    ),
    "top_chan beyond the channels": row(json_edit(top_chan=500), "session.json",
                                        "'top_chan' is 500 but clusters.channelPositions.npy has 384 channels"),
    "qcPass disagrees with the metrics and thresholds": row(
        json_edit(qc_thresholds={"presence_ratio_min": 0.0, "isi_violations_ratio_max": 1.0,
                                 "amplitude_cutoff_max": 1.0}),
        "clusters.qcPass.npy", "fails QC, but its metrics (presence_ratio",
    ),
    "templates disagree with channelPositions on the channels": row(
        array_edit("clusters.templates", lambda a: a[:, :, :-1]), "clusters.templates.npy",
        "has 383 channels but clusters.channelPositions.npy has 384",
    ),
    "a Kilosort label stated twice, differently": row(ks_label_twice, "clusters.KSLabel.csv",
                                                      "cluster 3 is labelled"),
    # contradictory: the session id against the folder name and session.json's keys
    "folder name disagrees with session_id": row(
        rename_session("AL0034_2024-12-06_en1_p0"), "session.json",
        f"'session_id' is '{ID}' but its folder is named 'AL0034_2024-12-06_en1_p0'",
    ),
    "subject disagrees with session_id": row(json_edit(subject="AL_0035"), "session.json",
                                             f"'subject' is 'AL_0035' but 'session_id' '{ID}' says AL0034"),
    "date disagrees with session_id": row(json_edit(date="2024-12-06"), "session.json",
                                          f"'date' is '2024-12-06' but 'session_id' '{ID}' says 2024-12-05"),
    "en disagrees with session_id": row(json_edit(en=3), "session.json", f"'en' is 3 but 'session_id' '{ID}' says 1"),
    "probe_index disagrees with session_id": row(json_edit(probe_index=2), "session.json",
                                                 f"'probe_index' is 2 but 'session_id' '{ID}' says 0"),
    # NaN
    "NaN in stim.times": row(array_edit("stim.times", set_value(3, np.nan)), "stim.times.npy", "row 3 is nan"),
    "NaN in stim.powerMW": row(array_edit("stim.powerMW", set_value(0, np.nan)), "stim.powerMW.npy", "row 0 is nan"),
    "infinite spike time": row(array_edit("spikes.times", set_value(5, np.inf)), TIMES,
                               "1 spike times are NaN or infinite (first at row 5)"),
    "NaN channel position": row(array_edit("clusters.channelPositions", set_value((5, 0), np.nan)),
                                "clusters.channelPositions.npy", "row 5 is [nan, 60.0]"),
    "NaN sampling_rate in session.json": row(json_edit(sampling_rate=math.nan), "session.json",
                                             "'sampling_rate' = nan is outside the plausible range"),
    "NaN in spike_time_range_s": row(json_edit(spike_time_range_s=[math.nan, 35.0]), "session.json",
                                     "'spike_time_range_s' is [nan, 35.0]"),
    "NaN QC threshold": row(json_edit(qc_thresholds={"presence_ratio_min": math.nan}), "session.json",
                            "qc_thresholds 'presence_ratio_min' is nan"),
}
