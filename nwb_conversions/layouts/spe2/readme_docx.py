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

The document's XML is read directly from the zip (``zipfile`` + ``lxml`` with entities left unresolved), its size
bounded, so a damaged or hostile file is one :class:`~nwb_conversions.errors.SourceFormatError`. Every number must lie
in :data:`PLAUSIBLE_RANGES` (a well-formed ``Probe_y_digitization = 1e300`` would otherwise offset every sample by
-2e293 V).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.source_access import check_plausible, format_number, printable, read_source_bytes

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

#: Largest ``READ ME.docx`` read, and largest main document XML in it (the real ones are a few kilobytes).
MAX_DOCX_BYTES = 32 * 1024 * 1024
MAX_DOCUMENT_XML_BYTES = 16 * 1024 * 1024

#: WordprocessingML's namespace and the relationship type of a package's main document.
WORD_NAMESPACE = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
OFFICE_DOCUMENT_RELATIONSHIP = "/officeDocument"

EXPECTED = "a READ ME.docx with 'key = value' lines for " + ", ".join(REQUIRED_KEYS + INTEGER_AMPLIFIER_KEYS)

_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.+?)\s*$")


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


def _main_document_part(archive: zipfile.ZipFile) -> str:
    """The package's main document (``word/document.xml`` in every Word file; the package relationships say)."""
    from lxml import etree

    names = set(archive.namelist())
    if "_rels/.rels" in names and archive.getinfo("_rels/.rels").file_size <= MAX_DOCUMENT_XML_BYTES:
        relationships = etree.fromstring(archive.read("_rels/.rels"), parser=_xml_parser())
        for relationship in relationships:
            if str(relationship.get("Type", "")).endswith(OFFICE_DOCUMENT_RELATIONSHIP):
                target = str(relationship.get("Target", "")).lstrip("/")
                if target in names:
                    return target
    return "word/document.xml"


def _xml_parser():
    """An lxml parser that resolves no entity, loads no DTD and reads nothing from the network."""
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)


def _paragraph_text(paragraph) -> str:
    """A ``w:p``'s text as Word shows it: runs' text, tabs as ``\\t``, line breaks as ``\\n``."""
    tags = [f"{WORD_NAMESPACE}{name}" for name in ("t", "tab", "br", "cr")]
    pieces = []
    for element in paragraph.iter(*tags):
        if element.tag == tags[0]:
            pieces.append(element.text or "")
        else:
            pieces.append("\t" if element.tag == tags[1] else "\n")
    return "".join(pieces)


def read_docx_lines(file_path: str | Path) -> list[str]:
    """Return the text lines of a ``.docx``: every body paragraph, then every table cell, split at line breaks.

    Raises
    ------
    SourceFormatError
        If the file cannot be read, is larger than :data:`MAX_DOCX_BYTES`, or is not a Word document (a zip with a
        well-formed main document of at most :data:`MAX_DOCUMENT_XML_BYTES`).
    """
    from lxml import etree

    file_path = Path(file_path)
    content = read_source_bytes(file_path, EXPECTED, max_bytes=MAX_DOCX_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            part = _main_document_part(archive)
            if archive.getinfo(part).file_size > MAX_DOCUMENT_XML_BYTES:
                raise SourceFormatError(file_path, f"{printable(part)} is larger than a READ ME can be", EXPECTED)
            root = etree.fromstring(archive.read(part), parser=_xml_parser())
        body = root.find(f"{WORD_NAMESPACE}body")
        if body is None:
            raise SourceFormatError(file_path, f"{printable(part)} has no document body", EXPECTED)
        texts = [_paragraph_text(paragraph) for paragraph in body.findall(f"{WORD_NAMESPACE}p")]
        texts += [
            "\n".join(_paragraph_text(paragraph) for paragraph in cell.findall(f"{WORD_NAMESPACE}p"))
            for cell in body.iter(f"{WORD_NAMESPACE}tc")
        ]
    except SourceFormatError:
        raise
    except Exception as exc:  # zipfile, zlib and lxml raise many types for damaged files
        raise SourceFormatError(
            file_path, f"not a readable Word document ({exc.__class__.__name__})", EXPECTED
        ) from None
    return [line for text in texts for line in text.splitlines()]


def parse_key_values(lines: list[str]) -> dict[str, str]:
    """Collect ``key = value`` lines; the first occurrence of a key wins, other lines are ignored."""
    values: dict[str, str] = {}
    for line in lines:
        match = _LINE.match(line.replace("\u00a0", " "))
        if match and match.group(1) not in values:
            values[match.group(1)] = match.group(2)
    return values


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
    values = parse_key_values(read_docx_lines(file_path))
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
