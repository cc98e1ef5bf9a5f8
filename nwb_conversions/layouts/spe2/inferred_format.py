"""SPE-2 pair layout without a ``READ ME.docx``: the common format, with the channel count the file sizes imply.

Most 2014-11 and 2015 recordings share one format (:data:`COMMON_FORMAT`). Without a ``READ ME.docx`` the channel
count is the one of 32 or 128 that makes the amplifier's sample count equal the ADC's. Because other layouts can
have the same sizes (float32 × 32 channels with a uint32 ADC is byte for byte uint16 × 32 channels at twice the
samples), the amplifier's first second must also look like Intan counts: most values near the zero count 32768.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.binary import open_interleaved_binary
from ...readers.source_access import check_regular_file
from .readme_docx import RecordingParameters

#: Amplifier channel counts with a known SPE-2 probe geometry.
PROBE_CHANNEL_COUNTS = (32, 128)

#: The format of the 2014-11 and 2015 recordings, assumed when a pair folder has no ``READ ME.docx``
#: (``amplifier_channels`` is then taken from the file sizes).
COMMON_FORMAT = RecordingParameters(
    amplifier_channels=0,
    sampling_frequency=30_000.0,
    amplifier_dtype=np.dtype("<u2"),
    amplifier_volts_per_count=0.195e-6,
    amplifier_zero_count=32768,
    adc_channels=8,
    adc_dtype=np.dtype("<u2"),
    juxta_channel=0,
    juxta_gain=100.0,
    juxta_digitization=65536,
    juxta_range_volts=10.0,
)

#: Without a ``READ ME.docx``: the seconds read from the start to check that the amplifier holds Intan counts ...
CENTRE_CHECK_SECONDS = 1.0

#: ... and the share of them that must lie within :data:`CENTRE_TOLERANCE_COUNTS` of the zero count 32768.
CENTRE_MIN_FRACTION = 0.9
CENTRE_TOLERANCE_COUNTS = 8192

def infer_common_format(files: dict) -> RecordingParameters:
    """Without a ``READ ME.docx``: the common format, with 32 or 128 channels as the file sizes require.

    Raises
    ------
    SourceFormatError
        If the ADC file is not whole samples of 8 uint16 channels, neither 32 nor 128 uint16 channels give the
        amplifier the ADC's sample count, or the amplifier's values are not centred on 32768 (see
        :func:`check_centred_counts`).
    """
    adc_frame = COMMON_FORMAT.adc_channels * COMMON_FORMAT.adc_dtype.itemsize
    adc_size = check_regular_file(files["adc"], "an ADC binary (adc*.bin)")
    if adc_size == 0 or adc_size % adc_frame:
        raise SourceFormatError(
            files["adc"],
            f"no READ ME.docx, and the size {adc_size} bytes is not a whole number of 8-channel uint16 samples",
            f"a multiple of {adc_frame} bytes (the common format), or a READ ME.docx giving Juxta_numChannels/dtype",
        )
    adc_samples = adc_size // adc_frame
    amplifier_size = check_regular_file(files["amplifier"], "an amplifier binary (amplifier*.bin)")
    itemsize = COMMON_FORMAT.amplifier_dtype.itemsize
    matches = [count for count in PROBE_CHANNEL_COUNTS if amplifier_size == adc_samples * count * itemsize]
    if len(matches) != 1:
        raise SourceFormatError(
            files["amplifier"],
            f"no READ ME.docx, and the size {amplifier_size} bytes is not the ADC's {adc_samples} samples × "
            f"{' or '.join(str(count) for count in PROBE_CHANNEL_COUNTS)} uint16 channels",
            "a READ ME.docx giving Probe_numChannels and Probe_dtype, or a pair in the common format",
        )
    parameters = dataclasses.replace(COMMON_FORMAT, amplifier_channels=matches[0])
    check_centred_counts(files["amplifier"], parameters)
    return parameters


def check_centred_counts(amplifier_path: Path, parameters: RecordingParameters) -> None:
    """Check that the amplifier's first second, read as ``parameters`` say, looks like Intan counts around 32768.

    File sizes alone cannot tell the common format from others of the same byte count (the float32 layout of
    2014_03_26_Pair_2_0 is exactly uint16 × 32 channels at twice the samples); common-format recordings sit around
    the zero count 32768, and extracellular signals seldom leave ±8192 counts (±1.6 mV).

    Raises
    ------
    SourceFormatError
        If fewer than :data:`CENTRE_MIN_FRACTION` of the values lie within :data:`CENTRE_TOLERANCE_COUNTS` of
        ``parameters.amplifier_zero_count``.
    """
    recording = open_interleaved_binary(
        amplifier_path, num_channels=parameters.amplifier_channels, dtype=parameters.amplifier_dtype
    )
    block = recording[0 : int(CENTRE_CHECK_SECONDS * parameters.sampling_frequency)].astype(np.int64)
    fraction = np.mean(np.abs(block - int(parameters.amplifier_zero_count)) <= CENTRE_TOLERANCE_COUNTS)
    if fraction < CENTRE_MIN_FRACTION:
        raise SourceFormatError(
            amplifier_path,
            f"no READ ME.docx, and the values are not centred on {parameters.amplifier_zero_count:g} as the common "
            f"uint16 format is (only {100 * fraction:.0f} % within ±{CENTRE_TOLERANCE_COUNTS} counts)",
            "a READ ME.docx giving Probe_dtype / Probe_numChannels (e.g. the float32 layout of 2014_03_26_Pair_2_0)",
        )
