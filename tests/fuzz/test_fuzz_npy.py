"""Fuzzing ``cNN_wc_spike_samples.npy``: 10 000 damaged arrays and headers, only one-line SourceFormatErrors escape."""

from __future__ import annotations

import random

import numpy as np

from nwb_conversions.readers.npy import read_npy_vector

from ..readers.bad_sources import npy_bytes
from .harness import fuzz_bytes, fuzz_generated, random_number_text

EXPECTED = "a 1-D integer .npy of sample indices"


def read(path):
    return read_npy_vector(path, kinds="iu", expected=EXPECTED)


def accepted(vector):
    assert vector.ndim == 1 and vector.dtype.kind in "iu"


def test_byte_mutations_of_a_spike_sample_file(tmp_path):
    base = npy_bytes(np.array([12, 500, 30_000, 2_000_000], dtype=np.int64))
    assert fuzz_bytes(tmp_path / "c1_wc_spike_samples.npy", base, read, 6000, accepted=accepted) >= 6000


def header_file(rng: random.Random) -> bytes:
    """An ``.npy`` with a well-framed but wrong header: odd dtypes, shapes, flags, versions, lengths."""
    descr = rng.choice(("'<i8'", "'>i4'", "'|u1'", "'<f8'", "'|O'", "'<U3'", "[('a', '<i8')]", "'<i8,<i8'",
                        "'(2,)<i8'", "'V8'", "'<M8[s]'", "42", "None", "'" + "x" * 300 + "'"))
    shape = rng.choice(("()", "(3,)", "(0,)", "(2, 2)", f"({random_number_text(rng)},)", "(-1,)", "[3]", "3",
                        "(2**62,)", "(" + "1," * 70 + ")"))
    order = rng.choice(("False", "True", "0", "'no'"))
    content = f"'descr': {descr}, 'fortran_order': {order}, 'shape': {shape}, "
    if rng.random() < 0.2:
        content = rng.choice((f"'descr': {descr}, 'shape': {shape}, ", f"'shape': {shape}, 'extra': 1, ", "[1, 2]",
                              "__import__('os')", ""))
    header = "{" + content + "}"
    header = header.encode("latin1", "replace") + b" " * rng.randint(0, 80) + b"\n"
    framing_ok = rng.random() < 0.8  # mostly a well-framed header, so numpy's header parser sees the content
    version = rng.choice((b"\x01\x00", b"\x02\x00") if framing_ok else (b"\x03\x00", b"\x00\x00", b"\xff\xff"))
    width = 4 if version[0] >= 2 else 2
    length = len(header) if framing_ok else rng.choice((len(header) - 1, len(header) + 5, 0, 2 ** (8 * width) - 1))
    payload = rng.randbytes(rng.choice((0, 8, 24, 7, 4096)))
    return b"\x93NUMPY" + version + length.to_bytes(width, "little") + header + payload


def test_structured_but_wrong_headers(tmp_path):
    path = tmp_path / "c1_wc_spike_samples.npy"
    assert fuzz_generated(path, header_file, read, 4000, accepted=accepted) >= 4000
