"""Fuzzing ``cNN_expt_meta.csv``: 10 000 damaged or ill-formed files, only one-line SourceFormatErrors escape."""

from __future__ import annotations

import random

from nwb_conversions.layouts.spe1.expt_meta import PLAUSIBLE_CHANNELS, PLAUSIBLE_SAMPLES, read_expt_meta

from ..readers.bad_sources import EXPT_META_TEXT
from .harness import fuzz_bytes, fuzz_generated, random_number_text


def accepted(meta):
    assert PLAUSIBLE_CHANNELS[0] <= meta.npx_channels <= PLAUSIBLE_CHANNELS[1]
    for samples in (meta.npx_samples, meta.patch_samples):
        assert PLAUSIBLE_SAMPLES[0] <= samples <= PLAUSIBLE_SAMPLES[1]
    assert meta.npx_dtype.kind in "iuf" and meta.patch_dtype.kind in "iuf"


def test_byte_mutations_of_the_real_file(tmp_path):
    path = tmp_path / "c45_expt_meta.csv"
    assert fuzz_bytes(path, EXPT_META_TEXT.encode(), read_expt_meta, 6000, accepted=accepted) >= 6000


def literal(rng: random.Random, depth: int = 0) -> str:
    """A Python-2-style literal: mostly ``[(channels, samples), dtype]`` shapes, sometimes anything."""
    dtype = repr(rng.choice(("int16", "float64", "O", "U10", "i2,i4", "S0", "complex64", "bool", "nodtype", "")))
    number = random_number_text(rng) + rng.choice(("", "L", "l"))
    if depth > 3:
        return number
    shapes = (
        lambda: f"[({number}, {random_number_text(rng)}L), {dtype}]",
        lambda: f"[{number}, {dtype}]",
        lambda: f"[({number},), {dtype}]",
        lambda: f"[{literal(rng, depth + 1)}, {literal(rng, depth + 1)}]",
        lambda: f"({literal(rng, depth + 1)},)",
        lambda: "{" + f"{number}: {dtype}" + "}",
        lambda: rng.choice(("[]", "()", "None", "__import__('os')", "[" * 300, "1" * 2000, "b'x'", "{1, 2}")),
    )
    return rng.choice(shapes)()


def generated_file(rng: random.Random) -> bytes:
    if rng.random() < 0.8:  # mostly the documented framing, so the literals themselves are exercised
        return f'npx,patch\n"{literal(rng)}","{literal(rng)}"\n'.encode("utf-8", "surrogatepass")
    header = rng.choice(("npx,patch", "npx, patch", "patch,npx", "npx", ""))
    rows = [header] + [",".join(f'"{literal(rng)}"' for _ in range(rng.choice((2, 1, 3)))) for _ in range(2)]
    return "\n".join(rows[: rng.choice((1, 2, 3))]).encode("utf-8", "surrogatepass")


def test_structured_but_wrong_literals(tmp_path):
    path = tmp_path / "c45_expt_meta.csv"
    assert fuzz_generated(path, generated_file, read_expt_meta, 4000, accepted=accepted) >= 4000
