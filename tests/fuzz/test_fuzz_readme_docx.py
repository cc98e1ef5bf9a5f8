"""Fuzzing SPE-2 ``READ ME.docx``: 10 000 damaged packages, damaged document XML and absurd key values; only
one-line SourceFormatErrors escape, and what is accepted lies within the plausible ranges."""

from __future__ import annotations

import random

from nwb_conversions.layouts.spe2.readme_docx import PLAUSIBLE_RANGES, read_readme_docx

from ..readers.bad_sources import docx_bytes, readme_docx_values
from .harness import fuzz_bytes, fuzz_generated, random_number_text, rezip


def accepted(parameters):
    for key, value in (
        ("Probe_numChannels", parameters.amplifier_channels),
        ("Juxta_numChannels", parameters.adc_channels),
        ("Sampling_frequency", parameters.sampling_frequency),
        ("Juxta_Gain", parameters.juxta_gain),
        ("Juxta_y_range", parameters.juxta_range_volts),
    ):
        lowest, highest, _ = PLAUSIBLE_RANGES[key]
        assert lowest <= value <= highest, (key, value)
    assert 0 <= parameters.juxta_channel < parameters.adc_channels
    assert 2 <= parameters.juxta_digitization <= 2**32


BASE = docx_bytes(readme_docx_values(), extra_lines=("Notes: pipette lowered at 10 µm/s",))


def test_byte_mutations_of_the_package(tmp_path):
    assert fuzz_bytes(tmp_path / "READ ME.docx", BASE, read_readme_docx, 4000, accepted=accepted) >= 4000


def test_byte_mutations_of_the_document_xml(tmp_path):
    def damaged_document(mutation):
        return rezip(BASE, "word/document.xml", mutation)

    path = tmp_path / "READ ME.docx"
    assert fuzz_bytes(path, BASE, read_readme_docx, 3000, accepted=accepted, transform=damaged_document) >= 3000


def readme_with_odd_values(rng: random.Random) -> bytes:
    values = readme_docx_values()
    for key in rng.sample(sorted(values), rng.randint(1, 3)):
        if rng.random() < 0.15:
            del values[key]
        elif key.endswith("dtype"):
            values[key] = rng.choice(("np.uint16", "np.float32", "np.uint32", "np.int8", "uint16", "'np.uint16'",
                                      "np.float64", "numpy.int32", ""))
        else:
            values[key] = random_number_text(rng)
    extra = tuple(rng.choice(("Sampling_frequency = 1", "= 3", "Juxta_Gain =", "x" * 5000, "\t")) for _ in
                  range(rng.randint(0, 2)))
    return docx_bytes(values, extra_lines=extra)


def test_absurd_values(tmp_path):
    path = tmp_path / "READ ME.docx"
    assert fuzz_generated(path, readme_with_odd_values, read_readme_docx, 3000, accepted=accepted) >= 3000
