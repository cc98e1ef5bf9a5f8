"""Fuzzing the Zarr store check (:func:`nwb_conversions.publishing.zarr_check.check_zarr_store`): 10 000 damaged
``.zarray`` files, structured-but-wrong array metadata and damaged chunks. Only a one-line SourceFormatError naming a
file of the store escapes, within bounded time; and a store the check accepts is then read whole by zarr, as the
gate would, without crashing the interpreter (a damaged chunk that passes the check can only fail as a Python error,
which the gate reports in one line).
"""

from __future__ import annotations

import json
import random
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import zarr

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.publishing.zarr_check import check_zarr_store

from .harness import (
    INPUTS_PER_EXAMPLE,
    MAX_SECONDS_PER_READ,
    fuzz,
    mutate,
    mutation_examples,
    random_number_text,
    write_input,
)


@pytest.fixture
def store(tmp_path) -> Path:
    """A small store: one int16 array of 100 × 7 in 40 × 4 Blosc chunks (six chunk files), with attributes."""
    path = tmp_path / "s.zarr"
    group = zarr.open_group(str(path), mode="w")
    array = group.create_dataset("a", shape=(100, 7), chunks=(40, 4), dtype="<i2")
    array[...] = np.arange(700, dtype="<i2").reshape(100, 7)
    array.attrs["unit"] = "volts"
    return path


def check_then_read(store: Path) -> None:
    """The check, then (if it accepts the store) zarr's own read of the whole array, as the gate's reader does."""
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_zarr_store(store, nwb=False)
    except SourceFormatError as error:
        message = str(error)
        assert "\n" not in message and message.startswith(f"{store}/"), message
    else:
        try:
            zarr.open_group(str(store), mode="r")["a"][...]
        except Exception:  # a Python error: the gate turns it into one line
            pass
    assert time.perf_counter() - started < MAX_SECONDS_PER_READ


def fuzz_file(path: Path, store: Path, make, num_inputs: int) -> int:
    """Write ``make(rng, kind)`` to ``path`` for each input, then check (and read) the store."""

    def feed(example) -> int:
        kind, seed = example
        rng = random.Random(seed)
        for _ in range(INPUTS_PER_EXAMPLE):
            write_input(path, make(rng, kind))
            check_then_read(store)
        return INPUTS_PER_EXAMPLE

    return fuzz(num_inputs, mutation_examples(), feed)


def test_byte_mutations_of_array_metadata(store):
    path = store / "a" / ".zarray"
    base = path.read_bytes()
    assert fuzz_file(path, store, lambda rng, kind: mutate(rng, base, kind), 4000) >= 4000


def array_metadata(rng: random.Random, _kind: str) -> bytes:
    """A well-formed ``.zarray`` with wrong values: shapes, chunks, dtypes, codecs, fill values, orders."""

    def number():
        text = random_number_text(rng)
        try:
            return json.loads(text)
        except ValueError:
            return text

    shape = rng.choice(([100, 7], [100], [], [0, 7], [2**62, 7], [100, 7, 1], [number(), 7], "100", None))
    chunks = rng.choice(([40, 4], [100, 7], [1, 1], [0, 4], [2**40, 4], [40], [number(), 4], [40.0, 4], [True, 4]))
    dtype = rng.choice(("<i2", ">i2", "<i8", "|O", "<f8", "|b1", "<U3", "|V2", [["x", "<i2"]], 42, "<q9", ""))
    codec = rng.choice((
        {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}, None, {"id": "zlib", "level": 1},
        {"id": "pickle", "protocol": 5}, {"id": "nope"}, {"id": 7}, "blosc", [], {"id": "json2"},
    ))
    filters = rng.choice((None, [], [{"id": "vlen-utf8"}], [{"id": "pickle"}], [{"id": "json2"}], {"id": "x"}, [1]))
    metadata = {"zarr_format": rng.choice((2, 2, 2, 3, "2")), "shape": shape, "chunks": chunks, "dtype": dtype,
                "compressor": codec, "filters": filters, "fill_value": rng.choice((0, None, "NaN", "x", 1e300, [1])),
                "order": rng.choice(("C", "C", "F", "Z", None))}
    if rng.random() < 0.2:
        metadata["dimension_separator"] = rng.choice(("/", ".", "-", None))
    if rng.random() < 0.1:
        del metadata[rng.choice(list(metadata))]
    return json.dumps(metadata).encode()


def test_structured_but_wrong_array_metadata(store):
    assert fuzz_file(store / "a" / ".zarray", store, array_metadata, 3000) >= 3000


def test_byte_mutations_of_a_chunk(store):
    path = store / "a" / "1.0"
    base = path.read_bytes()
    assert fuzz_file(path, store, lambda rng, kind: mutate(rng, base, kind), 3000) >= 3000
