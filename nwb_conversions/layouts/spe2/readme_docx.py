"""SPE-2 ``READ ME.docx``: the per-recording acquisition parameters, as ``key = value`` lines.

Every SPE-2 pair folder carries a Word file whose lines read, for example::

    Probe_numChannels = 32
    Sampling_frequency = 30 000
    Probe_dtype = np.uint16
    Probe_voltage_step_size = 0.195e-6
    Probe_y_digitization = 32768
    Juxta_numChannels = 8
    Juxta_dtype = np.uint16
    Juxta_ADC_used_channel = 0
    Juxta_Gain = 100
    Juxta_y_digitization = 65536
    Juxta_y_range = 10

(the keys A. Buccino's ``loadReadMe`` parses). Recordings differ: ``2014_03_26_Pair_2_0`` stores float32 µV and a
uint32 ADC with the pipette on channel 1 at gain 1000, so dtypes, counts and scaling are read per recording.
Numbers may carry spaces as thousands separators (``30 000``); dtypes are written ``np.uint16``. Lines that are not
``key = value`` (titles, free text) are ignored; paragraphs and table cells are both read.

The document's lines are read by :func:`nwb_conversions.readers.docx_lines.read_docx_lines` (its XML straight from
the zip, entities left unresolved, its size bounded) and its ``key = value`` lines collected by
:func:`nwb_conversions.readers.key_value_lines.parse_key_values`, so a damaged or hostile file is one
:class:`~nwb_conversions.errors.SourceFormatError`. Every number must lie in :data:`PLAUSIBLE_RANGES` (a
well-formed ``Probe_y_digitization = 1e300`` would otherwise offset every sample by -2e293 V).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.docx_lines import read_docx_lines
from ...readers.key_value_lines import parse_key_values
from ...readers.source_access import check_plausible, format_number

#: Amplifier sample types seen in SPE-2: Intan counts (2014-11 and 2015) and float µV (2014_03_26_Pair_2_0).
AMPLIFIER_DTYPES = ("uint16", "float32")

#: ADC sample types seen in SPE-2: uint16 (most), uint32 / int32 (2014_03_26_Pair_2_0, per Barnett / paired_32ch.py).
ADC_DTYPES = ("uint16", "uint32", "int32")

#: Keys every ``READ ME.docx`` must give.
REQUIRED_KEYS = (
    "Probe_numChannels",
    "Sampling_frequency",
    "Probe_dtype",
    "Juxta_numChannels",
    "Juxta_dtype",
    "Juxta_ADC_used_channel",
    "Juxta_Gain",
    "Juxta_y_digitization",
    "Juxta_y_range",
)

#: Keys required only when the amplifier stores integer counts (they give the volts per count and the zero count).
INTEGER_AMPLIFIER_KEYS = ("Probe_voltage_step_size", "Probe_y_digitization")

#: What each key's value should look like, for error messages.
EXPECTED_VALUES = {
    "Probe_numChannels": "a whole number of channels such as 32",
    "Sampling_frequency": "a number in Hz such as 30 000",
    "Probe_dtype": "a dtype such as np.uint16",
    "Probe_voltage_step_size": "a number in volts such as 0.195e-6",
    "Probe_y_digitization": "a number of counts such as 32768",
    "Juxta_numChannels": "a whole number of channels such as 8",
    "Juxta_dtype": "a dtype such as np.uint16",
    "Juxta_ADC_used_channel": "a whole-number, 0-based channel index such as 0",
    "Juxta_Gain": "a number (the amplifier's gain) such as 100",
    "Juxta_y_digitization": "a number of ADC levels such as 65536",
    "Juxta_y_range": "a number in volts such as 10",
}

#: Plausible values: (lowest, highest, the range in words).
PLAUSIBLE_RANGES = {
    "Probe_numChannels": (1, 1024, "from 1 to 1024 channels"),
    "Juxta_numChannels": (1, 1024, "from 1 to 1024 channels"),
    "Sampling_frequency": (1e3, 1e6, "a rate from 1 kHz (1000) to 1 MHz (1e6)"),
    "Probe_voltage_step_size": (1e-9, 1e-3, "a step from 1e-9 to 1e-3 V"),
    "Juxta_Gain": (0.1, 1e5, "a gain from 0.1 to 1e5"),
    "Juxta_y_range": (0.1, 100.0, "a range from 0.1 to 100 V"),
}

#: ``Juxta_y_digitization`` is a number of ADC levels: a power of two up to 2**32.
MAX_DIGITIZATION_BITS = 32

EXPECTED = "a READ ME.docx with 'key = value' lines for " + ", ".join(REQUIRED_KEYS + INTEGER_AMPLIFIER_KEYS)


@dataclass(frozen=True)
class RecordingParameters:
    """The acquisition parameters of one SPE-2 recording.

    Attributes
    ----------
    amplifier_channels : int
        ``Probe_numChannels``: channels interleaved in ``amplifier*.bin`` (32 or 128).
    sampling_frequency : float
        ``Sampling_frequency`` in Hz, shared by the amplifier and the ADC.
    amplifier_dtype : numpy.dtype
        ``Probe_dtype``.
    amplifier_volts_per_count : float or None
        ``Probe_voltage_step_size`` (V); None if not given.
    amplifier_zero_count : float or None
        ``Probe_y_digitization``, the count of 0 V (32768 for Intan uint16); None if not given.
    adc_channels : int
        ``Juxta_numChannels``: channels interleaved in ``adc*.bin``.
    adc_dtype : numpy.dtype
        ``Juxta_dtype``.
    juxta_channel : int
        ``Juxta_ADC_used_channel`` (0-based).
    juxta_gain : float
        ``Juxta_Gain`` of the juxtacellular amplifier (V/V).
    juxta_digitization : float
        ``Juxta_y_digitization``: ADC levels over the input range (65536).
    juxta_range_volts : float
        ``Juxta_y_range``: the ADC input range in volts (10).
    """

    amplifier_channels: int
    sampling_frequency: float
    amplifier_dtype: np.dtype
    amplifier_volts_per_count: float | None
    amplifier_zero_count: float | None
    adc_channels: int
    adc_dtype: np.dtype
    juxta_channel: int
    juxta_gain: float
    juxta_digitization: float
    juxta_range_volts: float

    @property
    def juxta_volts_per_count(self) -> float:
        """Volts at the pipette per ADC count: ``Juxta_y_range / (Juxta_y_digitization × Juxta_Gain)``."""
        return self.juxta_range_volts / (self.juxta_digitization * self.juxta_gain)



def _number(text: str, key: str, file_path: Path) -> float:
    """Parse a number written with optional spaces as thousands separators (``30 000``)."""
    try:
        value = float(re.sub(r"[\s\u202f]", "", text))
    except ValueError:
        value = float("nan")
    if not np.isfinite(value):
        raise SourceFormatError(file_path, f"{key} = {text!r} is not a number", f"{EXPECTED_VALUES[key]} for {key}")
    return value


def _plausible(value: float, key: str, file_path: Path) -> float:
    lowest, highest, expected = PLAUSIBLE_RANGES[key]
    return check_plausible(file_path, key, value, lowest, highest, expected)


def _count(text: str, key: str, file_path: Path, *, minimum: int) -> int:
    value = _number(text, key, file_path)
    if value != int(value) or value < minimum:
        raise SourceFormatError(file_path, f"{key} = {text!r}", f"{EXPECTED_VALUES[key]} for {key} (≥ {minimum})")
    if key in PLAUSIBLE_RANGES:
        _plausible(value, key, file_path)
    return int(value)


def _positive(text: str, key: str, file_path: Path) -> float:
    value = _number(text, key, file_path)
    if value <= 0:
        raise SourceFormatError(file_path, f"{key} = {text!r}", f"a positive number for {key}")
    if key in PLAUSIBLE_RANGES:
        _plausible(value, key, file_path)
    return value


def _levels(text: str, key: str, file_path: Path) -> float:
    """``Juxta_y_digitization``: ADC levels, a power of two from 2 to 2**32 (65536 for a 16-bit ADC)."""
    value = _number(text, key, file_path)
    mantissa, exponent = np.frexp(value)
    if mantissa != 0.5 or not 2 <= exponent - 1 <= MAX_DIGITIZATION_BITS:
        raise SourceFormatError(
            file_path,
            f"{key} = {format_number(value)} is not a plausible number of ADC levels",
            f"{key} to be a power of two from 2 to 2**{MAX_DIGITIZATION_BITS}, such as 65536",
        )
    return value


def _zero_count(text: str, key: str, file_path: Path, dtype: np.dtype) -> float:
    """``Probe_y_digitization``: the count of 0 V, a whole number within the amplifier dtype's range (or, for a float
    amplifier, which does not use it, within 0..2**32)."""
    value = _number(text, key, file_path)
    if dtype.kind in "iu":
        lowest, highest = np.iinfo(dtype).min, np.iinfo(dtype).max
    else:
        lowest, highest = 0, 2**MAX_DIGITIZATION_BITS
    if value != int(value) or not lowest <= value <= highest:
        raise SourceFormatError(
            file_path,
            f"{key} = {format_number(value)} is outside the plausible range",
            f"{key} to be a whole count of 0 V within {dtype.name}'s range {lowest}..{highest}, such as 32768",
        )
    return value


def _dtype(text: str, key: str, file_path: Path, allowed: tuple[str, ...]) -> np.dtype:
    """Parse ``np.uint16`` / ``numpy.uint16`` / ``uint16`` into a little-endian dtype among ``allowed``."""
    name = re.sub(r"^(?:np|numpy)\.", "", text.strip().strip("'\""))
    if name not in allowed:
        raise SourceFormatError(
            file_path,
            f"{key} = {text!r}",
            f"{EXPECTED_VALUES[key]} for {key}, one of {', '.join('np.' + name for name in allowed)}",
        )
    return np.dtype(name).newbyteorder("<")


def read_readme_docx(file_path: str | Path) -> RecordingParameters:
    """Read an SPE-2 ``READ ME.docx`` strictly.

    Parameters
    ----------
    file_path : str or Path
        The ``READ ME.docx`` of one pair folder.

    Returns
    -------
    RecordingParameters

    Raises
    ------
    SourceFormatError
        If the file is unreadable, a required key is missing, a value is not a number / known dtype or lies outside
        its plausible range (:data:`PLAUSIBLE_RANGES`; ADC levels a power of two, the zero count within the
        amplifier dtype's range), or the juxta channel is not one of the ADC's channels.
    """
    file_path = Path(file_path)
    lines = read_docx_lines(file_path, expected=EXPECTED, document="a READ ME")
    values = parse_key_values(lines, file_path, "a READ ME.docx of 'key = value' lines")
    missing = [key for key in REQUIRED_KEYS if key not in values]
    if missing:
        raise SourceFormatError(file_path, f"missing key(s) {', '.join(missing)}", EXPECTED)
    amplifier_dtype = _dtype(values["Probe_dtype"], "Probe_dtype", file_path, AMPLIFIER_DTYPES)
    if amplifier_dtype.kind in "iu":
        missing = [key for key in INTEGER_AMPLIFIER_KEYS if key not in values]
        if missing:
            raise SourceFormatError(
                file_path, f"missing key(s) {', '.join(missing)} for {amplifier_dtype.name} amplifier counts", EXPECTED
            )
    step = values.get("Probe_voltage_step_size")
    zero = values.get("Probe_y_digitization")
    parameters = RecordingParameters(
        amplifier_channels=_count(values["Probe_numChannels"], "Probe_numChannels", file_path, minimum=1),
        sampling_frequency=_positive(values["Sampling_frequency"], "Sampling_frequency", file_path),
        amplifier_dtype=amplifier_dtype,
        amplifier_volts_per_count=None if step is None else _positive(step, "Probe_voltage_step_size", file_path),
        amplifier_zero_count=(
            None if zero is None else _zero_count(zero, "Probe_y_digitization", file_path, amplifier_dtype)
        ),
        adc_channels=_count(values["Juxta_numChannels"], "Juxta_numChannels", file_path, minimum=1),
        adc_dtype=_dtype(values["Juxta_dtype"], "Juxta_dtype", file_path, ADC_DTYPES),
        juxta_channel=_count(values["Juxta_ADC_used_channel"], "Juxta_ADC_used_channel", file_path, minimum=0),
        juxta_gain=_positive(values["Juxta_Gain"], "Juxta_Gain", file_path),
        juxta_digitization=_levels(values["Juxta_y_digitization"], "Juxta_y_digitization", file_path),
        juxta_range_volts=_positive(values["Juxta_y_range"], "Juxta_y_range", file_path),
    )
    if parameters.juxta_channel >= parameters.adc_channels:
        raise SourceFormatError(
            file_path,
            f"Juxta_ADC_used_channel = {parameters.juxta_channel} but Juxta_numChannels = {parameters.adc_channels}",
            f"a 0-based ADC channel below {parameters.adc_channels}",
        )
    return parameters
