"""Ground truth detected on a juxtacellular trace (SPE-2 ships none): one ``units`` row, marked as this tool's.

The trace is one channel of a headerless binary (the Intan ADC file in SPE-2), read block by block by
:func:`nwb_conversions.analysis.spike_detection.detect_spikes`. The detection parameters come from the metadata block
``JuxtaSpikeDetection`` (``--metadata`` can change them per session); the unit records them as columns.
"""

from __future__ import annotations

from pathlib import Path

from neuroconv.basedatainterface import BaseDataInterface
from pynwb import NWBFile

from .. import __version__
from ..analysis.spike_detection import DetectionParameters, DetectionResult, detect_spikes
from ..metadata.assembly import deep_update
from ..readers.binary import open_interleaved_binary
from .metadata_blocks import MetadataBlocksMixin
from .schemas import block_schema
from .stub import first_seconds
from .units import GROUND_TRUTH_UNIT_SCHEMA, add_ground_truth_unit

#: Named in the unit's description and ``detected_by`` column.
DETECTOR = f"nwb_conversions {__version__} (spike_detection.detect_spikes)"

DETECTION_SCHEMA = block_schema(
    sign={"type": "string", "enum": ["auto", "positive", "negative"]},
    threshold_k={"type": "number", "exclusiveMinimum": 0},
    threshold_volts={"type": ["number", "null"], "exclusiveMinimum": 0},
    refractory_ms={"type": "number", "minimum": 0},
    block_seconds={"type": "number", "exclusiveMinimum": 0},
    noise_blocks={"type": "integer", "minimum": 1},
)


def detection_columns(result: DetectionResult) -> dict:
    """The ``units`` columns that record how the spikes were detected."""
    parameters = result.parameters
    columns = {
        "detected_by": ("software that detected the spikes (not the dataset's authors)", DETECTOR),
        "detection_sign": ("spike polarity used (auto: the larger excursion from the baseline)", result.sign),
        "detection_threshold_volts": (
            "threshold, as a distance from the baseline (median), in volts",
            result.threshold_volts,
        ),
        "detection_threshold_k": (
            "threshold in units of the robust noise σ (MAD / 0.6745); NaN when an absolute threshold was given",
            float("nan") if parameters.threshold_volts is not None else parameters.threshold_k,
        ),
        "detection_noise_volts": ("robust noise σ of the trace (MAD / 0.6745), in volts", result.noise_volts),
        "detection_refractory_ms": ("minimum separation of two spikes (ms)", parameters.refractory_ms),
    }
    return {name: {"description": description, "value": value} for name, (description, value) in columns.items()}


def detection_summary(result: DetectionResult) -> str:
    """One sentence saying how the spikes were found."""
    parameters = result.parameters
    rule = (
        f"{parameters.threshold_volts * 1e3:g} mV"
        if parameters.threshold_volts is not None
        else f"{parameters.threshold_k:g} × robust noise σ (MAD/0.6745) = {result.threshold_volts * 1e3:.4g} mV"
    )
    return (
        f"spike times detected by {DETECTOR} (not provided by the dataset): {result.sign} threshold of {rule} "
        f"from the median, one spike at the extremum of each crossing, {parameters.refractory_ms:g} ms refractory "
        f"period (larger peak kept); {len(result.spike_samples)} spikes"
    )


class JuxtacellularSpikeDetectionInterface(MetadataBlocksMixin, BaseDataInterface):
    """Detect the juxtacellular cell's spikes on its trace and add them as one ground-truth unit.

    Parameters
    ----------
    file_path : str or Path
        The binary holding the trace.
    sampling_frequency : float
        Samples per second.
    conversion : float
        Volts per stored value.
    offset : float, default: 0.0
        Volts at stored value 0.
    dtype : str, default: "uint16"
    num_channels : int, default: 1
        Channels interleaved in the file.
    channel : int, default: 0
        The pipette's channel (0-based).
    """

    display_name = "Juxtacellular spike detection"
    keywords = ("ground truth", "spike detection", "juxtacellular")
    associated_suffixes = (".bin",)
    info = "Ground-truth spikes detected on a juxtacellular trace by threshold crossing."
    metadata_blocks = {
        "GroundTruthUnit": GROUND_TRUTH_UNIT_SCHEMA,
        "JuxtaSpikeDetection": DETECTION_SCHEMA,
    }

    def __init__(
        self,
        file_path: str | Path,
        sampling_frequency: float,
        conversion: float,
        offset: float = 0.0,
        dtype: str = "uint16",
        num_channels: int = 1,
        channel: int = 0,
        verbose: bool = False,
    ):
        self.trace = open_interleaved_binary(file_path, num_channels=num_channels, dtype=dtype).channel(channel)
        self.sampling_frequency = float(sampling_frequency)
        self.conversion = float(conversion)
        self.offset = float(offset)
        self.result: DetectionResult | None = None
        self._detected_with = None
        super().__init__(verbose=verbose, file_path=str(file_path), channel=channel)

    def default_metadata(self) -> dict:
        """Return the default detection parameters and unit description."""
        return {
            "GroundTruthUnit": {"description": "ground-truth spikes of the juxtacellularly recorded cell"},
            "JuxtaSpikeDetection": DetectionParameters().as_dict(),
        }

    def detect(self, parameters: DetectionParameters, *, stub_test: bool = False) -> DetectionResult:
        """Run the detection on the trace (its first seconds only with ``stub_test``); keep and return the result.

        The result is kept and reused while the parameters and the stub window stay the same, so a converter can
        detect once when it builds the session (to say in the notes that a quiet cell gave no spike) and write
        the same result.
        """
        if self.result is not None and self._detected_with == (parameters, stub_test):
            return self.result
        trace = first_seconds(self.trace, self.sampling_frequency, stub_test=stub_test)
        self.result = detect_spikes(
            trace,
            sampling_frequency=self.sampling_frequency,
            conversion=self.conversion,
            offset=self.offset,
            parameters=parameters,
        )
        self._detected_with = (parameters, stub_test)
        return self.result

    def quiet_trace_note(self, result: DetectionResult) -> str | None:
        """Say that no spike crossed the threshold (no unit is then written); None when spikes were found."""
        if len(result.spike_samples):
            return None
        return (
            f"{self.source_data['file_path']}: no spike of the juxtacellular trace crossed the detection threshold "
            f"({result.sign}, {result.threshold_volts * 1e3:.4g} mV from the median; robust noise σ "
            f"{result.noise_volts * 1e3:.4g} mV), so no ground-truth unit was written. Set JuxtaSpikeDetection "
            "(threshold_volts or threshold_k) with --metadata to detect with another threshold."
        )

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Detect the spikes and add the cell as one ``units`` row with the detection's parameters as columns.

        A trace on which nothing crosses the threshold gives no unit (see :meth:`quiet_trace_note`).

        Parameters
        ----------
        nwbfile : NWBFile
        metadata : dict
            Uses ``metadata["JuxtaSpikeDetection"]`` (parameters) and ``metadata["GroundTruthUnit"]`` (description
            and extra columns).
        stub_test : bool, default: False
            Detect on the first few seconds only.
        """
        metadata = deep_update(self.get_metadata(), metadata or {})
        result = self.detect(DetectionParameters(**metadata["JuxtaSpikeDetection"]), stub_test=stub_test)
        if not len(result.spike_samples):  # a unit with no spikes says nothing and breaks readers: none is written
            return
        unit = metadata["GroundTruthUnit"]
        unit_metadata = {
            "description": f"{unit['description']}; {detection_summary(result)}",
            "columns": deep_update(detection_columns(result), unit.get("columns") or {}),
        }
        add_ground_truth_unit(
            nwbfile,
            result.spike_samples / self.sampling_frequency,
            unit_metadata,
            resolution=1.0 / self.sampling_frequency,
        )
