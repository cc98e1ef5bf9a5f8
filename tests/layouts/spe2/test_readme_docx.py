"""SPE-2 ``READ ME.docx``: parsing the documented keys, and strict errors on missing or unparseable values."""

from __future__ import annotations

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.layouts.spe2.readme_docx import read_readme_docx
from nwb_conversions.samples.spe2 import LAYOUTS, readme_values, write_readme_docx


def write(tmp_path, values, **changes):
    values = {**values, **changes}
    kept = {key: value for key, value in values.items() if value is not None}
    return write_readme_docx(tmp_path / "READ ME.docx", kept)


def test_common_format_values(tmp_path):
    parameters = read_readme_docx(write(tmp_path, readme_values(LAYOUTS["common32"])))
    assert parameters.amplifier_channels == 32
    assert parameters.sampling_frequency == 30000.0  # written "30 000"
    assert parameters.amplifier_dtype == np.dtype("<u2")
    assert parameters.amplifier_volts_per_count == pytest.approx(0.195e-6)
    assert parameters.amplifier_zero_count == 32768
    assert (parameters.adc_channels, parameters.adc_dtype, parameters.juxta_channel) == (8, np.dtype("<u2"), 0)
    assert parameters.juxta_volts_per_count == pytest.approx(10 / (65536 * 100))  # 1.526 µV per count


def test_float32_layout_needs_no_amplifier_step(tmp_path):
    parameters = read_readme_docx(write(tmp_path, readme_values(LAYOUTS["float32"])))
    assert parameters.amplifier_dtype == np.dtype("<f4")
    assert parameters.amplifier_volts_per_count is None
    assert (parameters.adc_dtype, parameters.juxta_channel, parameters.juxta_gain) == (np.dtype("<u4"), 1, 1000.0)
    assert parameters.juxta_volts_per_count == pytest.approx(10 / (65536 * 1000))


def test_keys_in_a_table_cell_and_free_text_are_read(tmp_path):
    import docx

    values = readme_values(LAYOUTS["common128"])
    document = docx.Document()
    document.add_paragraph("Notes: the pipette was lowered at 10 µm/s")
    table = document.add_table(rows=len(values), cols=1)
    for row, (key, value) in zip(table.rows, values.items()):
        row.cells[0].text = f"{key} = {value}"
    document.save(str(tmp_path / "READ ME.docx"))
    assert read_readme_docx(tmp_path / "READ ME.docx").amplifier_channels == 128


def test_missing_key_is_named(tmp_path):
    path = write(tmp_path, readme_values(LAYOUTS["common32"]), Juxta_Gain=None, Sampling_frequency=None)
    with pytest.raises(SourceFormatError, match="missing key.*Sampling_frequency.*Juxta_Gain"):
        read_readme_docx(path)


def test_integer_amplifier_needs_its_step_size(tmp_path):
    path = write(tmp_path, readme_values(LAYOUTS["common32"]), Probe_voltage_step_size=None)
    with pytest.raises(SourceFormatError, match="Probe_voltage_step_size"):
        read_readme_docx(path)


@pytest.mark.parametrize(
    "key, value",
    [
        ("Sampling_frequency", "thirty thousand"),
        ("Probe_numChannels", "32.5"),
        ("Probe_dtype", "np.int8"),
        ("Juxta_dtype", "np.float64"),
        ("Juxta_Gain", "-100"),
        ("Juxta_ADC_used_channel", "8"),
        ("Probe_voltage_step_size", "0.195 µV"),
    ],
)
def test_unparseable_values(tmp_path, key, value):
    path = write(tmp_path, readme_values(LAYOUTS["common32"]), **{key: value})
    with pytest.raises(SourceFormatError, match=key):
        read_readme_docx(path)


def test_not_a_word_document(tmp_path):
    path = tmp_path / "READ ME.docx"
    path.write_text("Probe_numChannels = 32\n")
    with pytest.raises(SourceFormatError, match="not a readable Word document"):
        read_readme_docx(path)


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("Sampling_frequency", "fast", "expected a number in Hz such as 30 000 for Sampling_frequency"),
        ("Probe_voltage_step_size", "small", "expected a number in volts such as 0.195e-6 for Probe_voltage_step_size"),
        ("Juxta_Gain", "high", "expected a number (the amplifier's gain) such as 100 for Juxta_Gain"),
        ("Juxta_dtype", "int", "expected a dtype such as np.uint16 for Juxta_dtype, one of np.uint16, np.uint32"),
        ("Probe_numChannels", "many", "expected a whole number of channels such as 32 for Probe_numChannels"),
        ("Juxta_ADC_used_channel", "one", "a whole-number, 0-based channel index such as 0 for Juxta_ADC"),
    ],
)
def test_unparseable_values_say_what_the_key_expects(tmp_path, key, value, expected):
    path = write(tmp_path, readme_values(LAYOUTS["common32"]), **{key: value})
    with pytest.raises(SourceFormatError) as raised:
        read_readme_docx(path)
    assert expected in str(raised.value)
    assert key == "Sampling_frequency" or "30 000" not in str(raised.value)


def test_a_key_repeated_with_the_same_value_is_accepted(tmp_path):
    import docx

    document = docx.Document()
    for key, value in readme_values(LAYOUTS["common32"]).items():
        document.add_paragraph(f"{key} = {value}")
    document.add_paragraph("Sampling_frequency = 30000")  # the same number as "30 000", spaces aside
    document.save(str(tmp_path / "READ ME.docx"))
    assert read_readme_docx(tmp_path / "READ ME.docx").sampling_frequency == 30000.0


def test_a_key_repeated_with_another_value_is_refused_naming_both_lines(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Juxta_Gain = 1000")  # the sample says 100
    for key, value in readme_values(LAYOUTS["common32"]).items():
        document.add_paragraph(f"{key} = {value}")
    document.save(str(tmp_path / "READ ME.docx"))
    both = r"Juxta_Gain is given twice with different values: '1000' \(line 1\) and '100' \(line 10\)"
    with pytest.raises(SourceFormatError, match=both):
        read_readme_docx(tmp_path / "READ ME.docx")
