"""SSC-11 ``an*sess_struct.mat`` files, damaged or contradicting themselves: one line each, nothing left behind.

A row writes a small sample session (:func:`small_struct`) as MATLAB v5 (compressed or not) or v7.3, changes one
thing, and converts it. Rows cover damaged files (truncated, empty, a huge declared dimension, a class object),
wrongly typed or shaped fields, NaN where a number must be finite, and every fact the ``sess`` struct states twice
(a field against the data it describes) that disagrees.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Callable

import h5py
import numpy as np

from nwb_conversions.samples.matlab_files import write_mat_v5, write_mat_v73
from nwb_conversions.samples.ssc11 import write_class_object_v5, write_class_object_v73, write_session_file
from nwb_conversions.samples.ssc11_struct import build_session_struct

from ...readers.mat_v5_builders import FUNCTION, array, mat_file, numbers, struct_array
from ..failure_table import Case

SOURCE = Path("an274424") / "session_neuropilone_preablate_merged" / "an274424_vol_01_sess_struct.mat"


def small_struct() -> dict:
    """A sample struct of 42 frames, 2 + 3 + 2 ROIs and 3 trials (ROI ids 1010001, 1010002, 1020001, ...)."""
    return build_session_struct(num_frames=42, rois_per_plane=(2, 3, 2), num_trials=3)


def session_case(tmp: Path, prepare: Callable[[Path], None], fragment: str, *extra) -> Case:
    """Write the session file with ``prepare(path)`` and convert it; the line must name the file."""
    source = tmp / "release" / SOURCE
    source.parent.mkdir(parents=True)
    prepare(source)
    output = tmp / "out" / "session.nwb"
    return Case(["ssc11", source, output, "--no-inspect", *extra], source.name, fragment, tmp / "release", output)


def struct_case(tmp: Path, change: Callable[[dict], object], fragment: str, version: str = "7.3") -> Case:
    """The small struct, changed by ``change(sess)``, written as ``version``."""

    def prepare(path: Path) -> None:
        sess = small_struct()
        change(sess)
        write_session_file(path, sess, version=version)

    return session_case(tmp, prepare, fragment)


def written_then(version: str, damage: Callable[[Path], None]) -> Callable[[Path], None]:
    """Write the small struct as ``version``, then ``damage(path)``."""

    def prepare(path: Path) -> None:
        write_session_file(path, small_struct(), version=version)
        damage(path)

    return prepare


def cut_to(fraction: float) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(path.read_bytes()[: int(path.stat().st_size * fraction)])


def set_field(dotted: str, value) -> Callable[[dict], None]:
    """``sess.<dotted> = value``; a number in the path indexes a cell (0-based)."""

    def change(sess: dict) -> None:
        *parents, last = dotted.split(".")
        target = sess
        for name in parents:
            target = target[int(name)] if name.isdigit() else target[name]
        target[last] = value

    return change


def ca(sess: dict) -> dict:
    return sess["caTSA"]


def patch_v5(old: bytes, new: bytes) -> Callable[[Path], None]:
    """Replace the first ``old`` bytes of the ``sess`` variable by ``new``, inside its zlib stream if compressed."""

    def patch(path: Path) -> None:
        content = path.read_bytes()
        kind, count = struct.unpack("<II", content[128:136])
        if kind == 15:  # miCOMPRESSED
            inner = zlib.decompress(content[136 : 136 + count])
            assert old in inner
            packed = zlib.compress(inner.replace(old, new, 1))
            path.write_bytes(content[:128] + struct.pack("<II", 15, len(packed)) + packed + content[136 + count :])
        else:
            assert old in content[128:]
            path.write_bytes(content[:128] + content[128:].replace(old, new, 1))

    return patch


#: The dimensions element of the small struct's first 7 x 42 matrix, caTSA.valueMatrix (miINT32, 8 bytes).
MATRIX_DIMS = struct.pack("<IIii", 5, 8, 7, 42)
HUGE_DIMS = struct.pack("<IIii", 5, 8, 2**20, 2**20)


def huge_v73_matrix(path: Path) -> None:
    """caTSA.valueMatrix replaced by a dataset declaring 7 x 2**40 doubles that the file does not hold."""
    write_session_file(path, small_struct(), version="7.3")
    with h5py.File(path, "a") as mat:
        del mat["sess/caTSA/valueMatrix"]
        huge = mat.create_dataset("sess/caTSA/valueMatrix", shape=(2**40, 7), dtype="f8", chunks=(4096, 7))
        huge.attrs["MATLAB_class"] = np.bytes_("double")


def damaged_chunk_read_while_writing(path: Path, monkeypatch) -> None:
    """A v7.3 file whose raw F is compressed in chunks, one of them damaged: found only when the writer reads it."""
    from nwb_conversions.readers import matlab_hdf5

    monkeypatch.setattr(matlab_hdf5, "LAZY_MIN_BYTES", 1024)
    sess = build_session_struct(num_frames=3000, rois_per_plane=(2, 3, 2), num_trials=3)
    write_mat_v73(path, {"sess": sess}, compression="gzip")
    with h5py.File(path, "r") as mat:
        chunk = mat["sess/caTSA/valueMatrix"].id.get_chunk_info(0)
    with open(path, "r+b") as stream:
        stream.seek(chunk.byte_offset + 16)
        stream.write(b"\xff" * 64)


def function_handle_inside(path: Path) -> None:
    """A hand-built v5 file whose ``sess`` holds a function handle."""
    path.write_bytes(mat_file(struct_array("sess", (1, 1), ["ids", "callback"], numbers("", [[1.0]]),
                                           array(FUNCTION, (1, 1), ""))))


def sparse_matrix(sess: dict) -> None:
    from scipy.sparse import csc_matrix

    ca(sess)["valueMatrix"] = csc_matrix(ca(sess)["valueMatrix"])


def stored_twice(path: Path) -> None:
    write_session_file(path, small_struct(), version="6")
    content = path.read_bytes()
    path.write_bytes(content + content[128:])


def elsewhere(tmp: Path, monkeypatch) -> Case:
    """The session file of an274424 inside another animal's folder."""
    source = tmp / "release" / "an274425" / "session_neuropilone_preablate_merged" / "an274424_vol_01_sess_struct.mat"
    source.parent.mkdir(parents=True)
    write_session_file(source, small_struct(), version="5")
    output = tmp / "out" / "session.nwb"
    return Case(["ssc11", source, output, "--no-inspect"], source.name,
                "the file name says an274424 but its animal folder an274425/ says an274425", tmp / "release", output)


ROWS: dict[str, Callable[[Path, object], Case]] = {
    # --- damaged files -----------------------------------------------------------------------------------------
    "empty file": lambda t, m: session_case(t, lambda p: p.write_bytes(b""), "not a MATLAB file"),
    "text file": lambda t, m: session_case(t, lambda p: p.write_text("roi,time\n" * 40), "not a MATLAB file"),
    "v5 header only": lambda t, m: session_case(
        t, written_then("5", lambda p: p.write_bytes(p.read_bytes()[:128])), "no 'sess' variable"
    ),
    "v5 truncated": lambda t, m: session_case(t, written_then("5", cut_to(0.6)), "damaged MATLAB 5 file"),
    "v7.3 truncated": lambda t, m: session_case(t, written_then("7.3", cut_to(0.6)), "unreadable MAT 7.3 file"),
    "v7.3 superblock zeroed": lambda t, m: session_case(
        t, written_then("7.3", lambda p: p.write_bytes(p.read_bytes()[:512] + bytes(64) + p.read_bytes()[576:])),
        "MAT 7.3",
    ),
    "v5 class object (MCOS)": lambda t, m: session_case(t, write_class_object_v5, "MATLAB class object"),
    "v7.3 class object": lambda t, m: session_case(t, write_class_object_v73, "MATLAB class object"),
    # --- wrong type / shape ------------------------------------------------------------------------------------
    "no sess variable": lambda t, m: session_case(
        t, lambda p: write_mat_v5(p, {"session": np.zeros((1, 1))}), "no 'sess' variable (variables: session)"
    ),
    "sess is a number": lambda t, m: session_case(
        t, lambda p: write_mat_v5(p, {"sess": np.zeros((1, 1))}), "'sess' is not a 1 x 1 struct"
    ),
    "caTSA.time is a matrix": lambda t, m: struct_case(
        t, lambda s: ca(s).update(time=np.tile(ca(s)["time"], (2, 1))), "sess.caTSA.time has shape (2, 42)"
    ),
    "caTSA.ids is text": lambda t, m: struct_case(t, set_field("caTSA.ids", "1010001"), "sess.caTSA.ids"),
    # --- contradictions ----------------------------------------------------------------------------------------
    "caTSA.time shorter than valueMatrix": lambda t, m: struct_case(
        t, lambda s: ca(s).update(time=ca(s)["time"][:, :-1]),
        "sess.caTSA.time has 41 entries but sess.caTSA.valueMatrix has 42 time points",
    ),
    "caTSA.ids vs valueMatrix rows (v5)": lambda t, m: struct_case(
        t, lambda s: ca(s).update(valueMatrix=ca(s)["valueMatrix"][:-1]),
        "sess.caTSA.valueMatrix has 6 rows but sess.caTSA.ids lists 7 ROI ids", version="5",
    ),
    "dff rows vs caTSA.ids": lambda t, m: struct_case(
        t, lambda s: ca(s)["dffTimeSeriesArray"].update(valueMatrix=ca(s)["dffTimeSeriesArray"]["valueMatrix"][:-1]),
        "sess.caTSA.dffTimeSeriesArray.valueMatrix has 6 rows but sess.caTSA.ids lists 7 ROI ids",
    ),
    "ROI in two planes": lambda t, m: struct_case(
        t, lambda s: (ca(s)["roiArray"][1]["roiIds"].__setitem__((0, 0), 1010001.0),
                      ca(s)["roiArray"][1]["rois"][0].update(id=1010001.0)),
        "sess.caTSA.roiArray{2}.roiIds lists ROI id 1010001, which sess.caTSA.roiArray{1}.roiIds lists too",
    ),
    "trial fields of different lengths": lambda t, m: struct_case(
        t, set_field("trialIds", np.array([[101.0, 102.0]])), "the trial fields have mismatched lengths"
    ),
    # --- NaN ---------------------------------------------------------------------------------------------------
    "NaN pixel index": lambda t, m: struct_case(
        t, lambda s: ca(s)["roiArray"][0]["rois"][1].update(indices=np.array([[5.0], [np.nan]])), "pixel index nan"
    ),
    "NaN ROI id": lambda t, m: struct_case(
        t, lambda s: ca(s)["ids"].__setitem__((0, 3), np.nan), "sess.caTSA.ids holds non-integer values"
    ),
    "NaN frame time (v5)": lambda t, m: struct_case(
        t, lambda s: ca(s)["time"].__setitem__((0, 7), np.nan), "sess.caTSA.time(8) is nan", version="5"
    ),
    "NaN lick time (v6)": lambda t, m: struct_case(
        t, lambda s: s["behavESA"]["esa"][0]["eventTimes"].__setitem__((0, 0), np.nan),
        "sess.behavESA.esa{1}.eventTimes(1) is nan", version="6",
    ),
    "infinite trial start": lambda t, m: struct_case(
        t, lambda s: s["trialStartTimes"].__setitem__((0, 1), np.inf), "sess.trialStartTimes(2) is inf"
    ),
    # --- huge headers, class objects and sparse matrices inside the struct ----------------------------------
    "v6 valueMatrix declares 2**40 elements": lambda t, m: session_case(
        t, written_then("6", patch_v5(MATRIX_DIMS, HUGE_DIMS)),
        "sess.caTSA.valueMatrix: the array declares 1099511627776 elements but stores 294",
    ),
    "v5 compressed valueMatrix declares 2**40 elements": lambda t, m: session_case(
        t, written_then("5", patch_v5(MATRIX_DIMS, HUGE_DIMS)), "declares 1099511627776 elements but stores 294"
    ),
    "v5 compressed sess declares 2 GB": lambda t, m: session_case(
        t, lambda p: p.write_bytes(mat_file(struct.pack("<II", 15, 16) + zlib.compress(struct.pack("<II", 14, 2**31))
                                            .ljust(16, b"\0"))), "more than zlib can inflate it to",
    ),
    "v7.3 valueMatrix dataspace of 2**40": lambda t, m: session_case(
        t, huge_v73_matrix, "sess.caTSA.valueMatrix declares shape (7, 1099511627776)"
    ),
    "v7.3 damaged chunk found while writing": lambda t, m: session_case(
        t, lambda p: damaged_chunk_read_while_writing(p, m), "unreadable MAT 7.3 file (sess.caTSA.valueMatrix: "
    ),
    "v5 function handle inside sess": lambda t, m: session_case(
        t, function_handle_inside, "sess.callback is a MATLAB class object (function handle)"
    ),
    "v5 sparse valueMatrix": lambda t, m: struct_case(t, sparse_matrix, "sess.caTSA.valueMatrix is a sparse matrix",
                                                      version="5"),
    "v6 sess stored twice": lambda t, m: session_case(
        t, stored_twice, "the variable 'sess' is stored twice"
    ),
    "v6 truncated": lambda t, m: session_case(t, written_then("6", cut_to(0.5)), "damaged MATLAB 5 file"),
    "empty sess struct": lambda t, m: struct_case(t, lambda s: s.clear(), "no field sess.caTSA", version="5"),
    "caTSA.time is text (v6)": lambda t, m: struct_case(t, set_field("caTSA.time", "0 143 286"),
                                                        "sess.caTSA.time is not numeric", version="6"),
    # --- facts stated twice ------------------------------------------------------------------------------------
    "ΔF/F time vs raw F time (v5)": lambda t, m: struct_case(
        t, lambda s: ca(s)["dffTimeSeriesArray"].update(time=np.where(np.arange(42) == 5, 0.0, ca(s)["time"])),
        "sess.caTSA.dffTimeSeriesArray.time(6) is 0 s but sess.caTSA.time(6) is 2.764285714 s", version="5",
    ),
    "roiFOVidx vs roiArray": lambda t, m: struct_case(
        t, lambda s: ca(s)["roiFOVidx"].__setitem__((0, 0), 2.0),
        "sess.caTSA.roiFOVidx(1) is 2 but ROI 1010001 (sess.caTSA.ids(1)) is in sess.caTSA.roiArray{1}",
    ),
    "numFOVs vs roiArray (v6)": lambda t, m: struct_case(
        t, lambda s: ca(s).update(numFOVs=np.array([[2.0]])), "sess.caTSA.numFOVs is 2 but sess.caTSA.roiArray holds 3",
        version="6",
    ),
    "trial{2}.id vs trialIds(2) (v6)": lambda t, m: struct_case(
        t, lambda s: s["trial"][1].update(id=7.0), "sess.trial{2}.id is 7 but sess.trialIds(2) is 102", version="6"
    ),
    "trial{1}.typeIds vs trialTypeMat": lambda t, m: struct_case(
        t, lambda s: s["trial"][0].update(typeIds=3.0), "sess.trial{1}.typeIds is [3] but sess.trialTypeMat(:, 1)"
    ),
    "cellFeatures key twice": lambda t, m: struct_case(
        t, lambda s: (ca(s)["cellFeatures"]["keys"].append("eventRateHz"),
                      ca(s)["cellFeatures"]["values"].append(np.ones((1, 7)))),
        "sess.caTSA.cellFeatures.keys{1} and sess.caTSA.cellFeatures.keys{5} are both 'eventRateHz'",
    ),
    "event series eventTrials vs eventTimes": lambda t, m: struct_case(
        t, lambda s: s["whiskerBarInReachES"].update(eventTrials=np.array([[101.0]])),
        "sess.whiskerBarInReachES.eventTrials has 1 entries but sess.whiskerBarInReachES.eventTimes has 3 events",
    ),
    "calcium event series id vs ids (v5)": lambda t, m: struct_case(
        t, lambda s: ca(s)["caPeakEventSeriesArray"]["esa"][0].update(id=3.0),
        "sess.caTSA.caPeakEventSeriesArray.esa{1}.id is 3 but sess.caTSA.caPeakEventSeriesArray.ids(1) is 1010001",
        version="5",
    ),
    "mouseId vs the path": lambda t, m: struct_case(
        t, lambda s: s.update(mouseId="an123456"), "sess.mouseId is 'an123456' but the path says an274424"
    ),
    "file in another animal's folder": elsewhere,
}
