"""SSC-11 ``an*sess_struct.mat`` files, damaged or contradicting themselves: one line each, nothing left behind.

A row writes a small sample session (:func:`small_struct`) as MATLAB v5 (compressed or not) or v7.3, changes one
thing, and converts it. Rows cover damaged files (truncated, empty, a huge declared dimension, a class object),
wrongly typed or shaped fields, NaN where a number must be finite, and every fact the ``sess`` struct states twice
(a field against the data it describes) that disagrees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from nwb_conversions.samples.matlab_files import write_mat_v5
from nwb_conversions.samples.ssc11 import write_class_object_v5, write_class_object_v73, write_session_file
from nwb_conversions.samples.ssc11_struct import build_session_struct

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
}
