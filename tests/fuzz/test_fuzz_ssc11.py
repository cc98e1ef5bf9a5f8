"""Fuzzing SSC-11 session structs: the streamed MATLAB 5 reader (compressed and uncompressed files, byte mutations,
and generated element trees whose values are known), and the ``sess`` layout reading damaged v7.3 files. Only
one-line SourceFormatErrors escape; what is accepted is plain values (lazy arrays readable) and a consistent
session (finite frame times, one row per ROI, each ROI in one plane)."""

from __future__ import annotations

import random
import struct
import zlib

import numpy as np
import pytest

from nwb_conversions.layouts.ssc11 import struct as session_struct
from nwb_conversions.layouts.ssc11.behavior import read_behavior
from nwb_conversions.layouts.ssc11.imaging import read_calcium_imaging
from nwb_conversions.readers import mat_v5_file, mat_v5_values
from nwb_conversions.readers.mat_v5_file import read_variables_v5
from nwb_conversions.readers.matlab_values import LazyMatlabArray, StructArray, materialize
from nwb_conversions.samples.ssc11 import write_session_file

from ..readers.mat_v5_builders import CLASS_OF, MI_UINT16, MI_UTF8, cell, chars, compressed, mat_file, numbers
from ..readers.mat_v5_builders import struct_array as struct_element
from ..readers.scipy_reference import assert_same_structure
from .harness import fuzz_bytes, fuzz_generated, mutate

SESSION = ("an274424", "session_neuropilone_preablate_merged", "an274424_vol_01_sess_struct.mat")


def tiny_session_struct() -> dict:
    """A complete but tiny ``sess``: 2 ROIs in 1 plane, 3 frames, 2 trials, a whisker, licks; plus a struct array
    of odd values (empty, int16, chars) for the reader."""
    ids, time = np.array([[11.0, 12.0]]), np.array([[0.0, 143.0, 286.0]])
    return {
        "mouseId": "an274424",
        "caTSA": {
            "ids": ids, "time": time, "timeUnit": 1.0, "trialIndices": np.array([[1.0, 1.0, 2.0]]),
            "valueMatrix": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), "numFOVs": 1.0, "roiFOVidx": np.ones((1, 2)),
            "roiArray": [{"roiIds": ids, "imageBounds": np.array([[512.0, 512.0]]),
                          "rois": [{"id": 11.0, "indices": np.array([[1.0], [2.0]])},
                                   {"id": 12.0, "indices": np.array([[262144.0]])}]}],
            "dffTimeSeriesArray": {"ids": ids, "time": time, "valueMatrix": np.array([[0.1, 0.2, 0.3], [0.0, -0.1, 0.5]])},
            "caPeakEventSeriesArray": {"ids": ids, "esa": [
                {"id": 11.0, "eventTimes": np.array([[143.0]]), "eventTrials": np.array([[1.0]])},
                {"id": 12.0, "eventTimes": np.array([[286.0]]), "eventTrials": np.array([[2.0]])}]},
            "cellFeatures": {"keys": ["eventRateHz"], "values": [np.array([[0.1, 0.2]])]},
        },
        "whiskerAngleTSA": {"ids": np.array([[1.0]]), "idStrs": ["c2"], "time": np.array([[0.0, 2.0]]),
                            "valueMatrix": np.array([[1.5, -2.5]])},
        "behavESA": {"esa": [{"idStr": "Left lick", "eventTimes": np.array([[100.0]]),
                              "eventTrials": np.array([[1.0]])}]},
        "trialIds": np.array([[1.0, 2.0]]), "trialStartTimes": np.array([[0.0, 200.0]]),
        "trialTypeMat": np.array([[True, False], [False, True]]), "trialTypeStr": ["HitL", "HitR"],
        "trial": [{"id": float(t + 1), "startTime": 200.0 * t, "endTime": 200.0 * t + 150.0, "typeIds": float(t + 1),
                   "behavParams": {"keys": ["polePositionAP"], "values": [90000.0 + t]}} for t in range(2)],
        "odd": StructArray([{"a": np.zeros((0, 0)), "b": "x"}, {"a": np.int16([[1, 2]]), "b": ""}], (2, 1)),
    }


def read_session(path):
    """What a conversion reads of a session file: the struct (loaded afresh), its imaging and its behaviour."""
    session_struct._LOADED.clear()  # loads are shared by file name, size and time; each input is new
    loaded = session_struct.load_session_struct(path)
    imaging = read_calcium_imaging(loaded)
    read_behavior(loaded)
    return loaded.sess, imaging


def accepted_session(result):
    sess, imaging = result
    check_plain(sess)
    assert np.all(np.isfinite(imaging.timestamps)) and np.unique(imaging.roi_ids).size == imaging.roi_ids.size
    rows = np.concatenate([plane.matrix_rows for plane in imaging.planes])
    assert sorted(rows.tolist()) == list(range(imaging.roi_ids.size))
    assert np.asarray(imaging.raw_f).shape == (imaging.timestamps.size, imaging.roi_ids.size)


def check_plain(value):
    """Every value is one of the reader's plain types, and lazy arrays read."""
    if isinstance(value, dict):
        for item in value.values():
            check_plain(item)
    elif isinstance(value, list):
        for item in value:
            check_plain(item)
    elif isinstance(value, LazyMatlabArray):
        assert np.asarray(value).shape == value.shape
    else:
        assert isinstance(value, (str, np.ndarray)) and (isinstance(value, str) or value.ndim >= 2), type(value)


@pytest.fixture
def session_path(tmp_path, monkeypatch):
    """Where the inputs go; arrays of 16 bytes or more stay on disk (the lazy paths are fuzzed too)."""
    monkeypatch.setattr(mat_v5_values, "LAZY_MIN_BYTES", 16)
    monkeypatch.setattr(mat_v5_file, "IN_MEMORY_BYTES", 256)  # a larger compressed variable is spilled
    path = tmp_path.joinpath(*SESSION)
    path.parent.mkdir(parents=True)
    return path


@pytest.mark.parametrize("version, inputs", [("5", 2000), ("6", 10_000)], ids=["v7-compressed", "v6-uncompressed"])
def test_byte_mutations_of_a_v5_session(session_path, version, inputs):
    """Uncompressed: 10 000 inputs; compressed: 2 000 here (most stop at zlib) and 8 000 inside the stream, below."""
    base = write_session_file(session_path, tiny_session_struct(), version=version).read_bytes()
    assert fuzz_bytes(session_path, base, read_session, inputs, accepted=accepted_session) >= inputs


def test_mutations_inside_the_zlib_stream_of_a_v5_session(session_path):
    """Damage inside the compressed variable, recompressed: what a checksum would not catch (the reader stops at
    the declared size, before zlib's checksum)."""
    base = write_session_file(session_path, tiny_session_struct(), version="5").read_bytes()
    kind, count = struct.unpack("<II", base[128:136])
    inner = zlib.decompress(base[136 : 136 + count])

    def recompressed(damage) -> bytes:
        packed = zlib.compress(damage(inner))
        return base[:128] + struct.pack("<II", kind, len(packed)) + packed + base[136 + count :]

    count = fuzz_bytes(session_path, base, read_session, 8000, accepted=accepted_session, transform=recompressed)
    assert count >= 8000


def test_byte_mutations_of_a_v73_session(session_path):
    base = write_session_file(session_path, tiny_session_struct(), version="7.3").read_bytes()
    assert fuzz_bytes(session_path, base, read_session, 10_000, accepted=accepted_session) >= 10_000


# ---- generated element trees: valid ones read back exactly, damaged ones are one line -----------------------------


def random_array(rng: random.Random, order: str, depth: int, name: str = "") -> tuple[bytes, object]:
    """An array element of a random kind, and the plain value the reader must give for it."""
    kind = rng.choice(("numbers", "numbers", "chars", "cell", "struct") if depth < 4 else ("numbers", "chars"))
    if kind == "numbers":
        dtype = np.dtype(rng.choice(sorted(CLASS_OF)))
        dims = rng.choice(((1, 1), (1, rng.randint(0, 6)), (rng.randint(1, 4), rng.randint(1, 4)), (2, 1, 3)))
        values = np.arange(int(np.prod(dims)), dtype=dtype).reshape(dims, order="F")
        return numbers(name, values, order), values
    if kind == "chars":
        text = "".join(rng.choice("abc ΔF/F€") for _ in range(rng.randint(0, 8)))
        storage = MI_UINT16 if not text or rng.random() < 0.5 else MI_UTF8
        return chars(name, text, storage, order), text
    count = rng.randint(0, 3)
    if kind == "cell":
        items = [random_array(rng, order, depth + 1) for _ in range(count)]
        return cell(name, (1, count), *(item for item, _ in items), order=order), [value for _, value in items]
    fields = [f"f{index}" for index in range(rng.randint(0, 3))]
    elements = [[random_array(rng, order, depth + 1) for _ in fields] for _ in range(count)]
    content = [item for element_items in elements for item, _ in element_items]
    values = [dict(zip(fields, (value for _, value in element_items))) for element_items in elements]
    value = values[0] if count == 1 else StructArray(values, (1, count))
    return struct_element(name, (1, count), fields, *content, order=order), value


def generated_file(rng: random.Random, expected: dict) -> bytes:
    """A file of 1-3 random variables, compressed or not, in either byte order; a third of them damaged."""
    order = rng.choice("<>")
    expected.clear()
    elements = []
    for index in range(rng.randint(1, 3)):
        array, expected[f"v{index}"] = random_array(rng, order, 0, f"v{index}")
        elements.append(compressed(array, order) if rng.random() < 0.5 else array)
    content = mat_file(*elements, order=order)
    if rng.random() < 0.33:
        expected.clear()
        return mutate(rng, content, rng.choice(("flip", "overwrite", "truncate", "delete", "splice", "several")))
    return content


def test_generated_element_trees(session_path):
    """Random trees of numbers (every class, both byte orders, on disk or not), chars, cells and structs, compressed
    or not: read back exactly; damaged, one line."""
    expected: dict = {}

    def accepted(variables):
        if expected:  # an undamaged file reads back exactly what was written
            assert_same_structure(materialize(variables), expected)
        else:
            check_plain(variables)

    count = fuzz_generated(session_path, lambda rng: generated_file(rng, expected), read_variables_v5, 5000,
                           accepted=accepted)
    assert count >= 5000
