"""The per-cell side files of the SPE-1 Arrow re-packaging: ``conversion_metadata.json``, ``templates.npz``,
``patch.npz``; read strictly and checked against each other and against the Arrow segments.

Keys follow the dataset's README (Hugging Face ``frthjf/spe1-zhao2026-benchmark``). Where it is silent, the plausible
cases are accepted and named: ``patch.npz`` times are on the recording's clock (as ``sample_id``) or relative to the
window's start (then shifted by the first ``sample_id`` / rate, see :func:`patch_clock_offset`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.json_object import read_json_object
from ...readers.npz import NpzArchive, NpzVector
from ...readers.source_access import check_plausible, one_line

CONVERSION_METADATA_EXPECTED = (
    "conversion_metadata.json with sampling_frequency, num_channels, num_units, segment_duration_s, "
    "gt_electrode_chan_idx, bad_channel_ids, unit_peak_channel and unit_locations_um"
)


@dataclass(frozen=True)
class ConversionMetadata:
    """What ``conversion_metadata.json`` records (the parts the conversion uses), plus the raw mapping.

    Attributes
    ----------
    sampling_frequency : float
    num_channels, num_units : int
    segment_duration_s : float
    gt_electrode : int
        ``gt_electrode_chan_idx``: the electrode closest to the pipette tip.
    bad_channels : tuple of int
    peak_channels : dict
        ``unit_peak_channel``: unit index → channel.
    locations_um : dict
        ``unit_locations_um``: unit index → (x, y, z).
    raw : dict
        The whole file (for descriptions: preprocessing, template method, split).
    """

    sampling_frequency: float
    num_channels: int
    num_units: int
    segment_duration_s: float
    gt_electrode: int
    bad_channels: tuple[int, ...]
    peak_channels: dict
    locations_um: dict
    raw: dict

    @property
    def segment_samples(self) -> int:
        """Samples per segment: ``segment_duration_s`` × ``sampling_frequency``."""
        return int(round(self.segment_duration_s * self.sampling_frequency))

    @property
    def preprocessing(self) -> str:
        return str(self.raw.get("source_metadata", {}).get("preprocessing", "not recorded"))

    @property
    def template_method(self) -> str:
        return str(self.raw.get("template_metadata", {}).get("extraction_method", "not recorded"))

    @property
    def train_fraction(self):
        return self.raw.get("train_fraction")

    @property
    def cell_id(self) -> str | None:
        return self.raw.get("source_metadata", {}).get("cell_id")


#: Plausible ranges of the numbers ``conversion_metadata.json`` records: key → (lowest, highest, in words). A value
#: beyond them (``num_units: 1e18``) is a damaged file, refused before anything is sized by it.
PLAUSIBLE_METADATA = {
    "sampling_frequency": (1.0, 1e6, "a rate in Hz from 1 to 1e6"),
    "segment_duration_s": (1e-6, 1e5, "a duration in s from 1e-6 to 1e5"),
    "num_channels": (1, 100_000, "from 1 to 100000 channels"),
    "num_units": (1, 100_000, "from 1 to 100000 units"),
}


def _shown(value) -> str:
    """A value read from the file as a message shows it: one line, at most 80 characters."""
    return one_line(repr(value))[:80]


def _require(mapping: dict, key: str, kind, path: Path):
    value = mapping.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise SourceFormatError(path, f"'{key}' is {_shown(value)}", CONVERSION_METADATA_EXPECTED)
    if key in PLAUSIBLE_METADATA:
        check_plausible(path, f"'{key}'", value, *PLAUSIBLE_METADATA[key])
    return value


def _channel(value, key: str, path: Path, num_channels: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < num_channels:
        raise SourceFormatError(path, f"'{key}' holds {_shown(value)}", f"channel indices in 0..{num_channels - 1}")
    return value


def _location(value, unit: str, path: Path) -> tuple[float, float, float]:
    """``unit_locations_um[unit]``: ``[x, y]`` or ``[x, y, z]`` finite µm (z = 0 when absent)."""
    if not (isinstance(value, list) and len(value) in (2, 3) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e9 for v in value)):
        raise SourceFormatError(path, f"unit_locations_um[{unit}] is {_shown(value)}", "[x, y] or [x, y, z] in µm")
    return tuple(float(v) for v in value) + ((0.0,) if len(value) == 2 else ())


def read_conversion_metadata(path: Path) -> ConversionMetadata:
    """Read and check ``conversion_metadata.json``.

    Raises
    ------
    SourceFormatError
        On a missing key, a value of the wrong type or beyond :data:`PLAUSIBLE_METADATA`, or a channel index out of
        range.
    """
    raw = read_json_object(path, CONVERSION_METADATA_EXPECTED)
    rate = float(_require(raw, "sampling_frequency", (int, float), path))
    num_channels = _require(raw, "num_channels", int, path)
    num_units = _require(raw, "num_units", int, path)
    duration = float(_require(raw, "segment_duration_s", (int, float), path))
    gt_electrode = _channel(raw.get("gt_electrode_chan_idx"), "gt_electrode_chan_idx", path, num_channels)
    bad = _require(raw, "bad_channel_ids", list, path)
    bad_channels = tuple(_channel(channel, "bad_channel_ids", path, num_channels) for channel in bad)
    peaks = _require(raw, "unit_peak_channel", dict, path)
    locations = _require(raw, "unit_locations_um", dict, path)
    units = [str(unit) for unit in range(num_units)]
    if sorted(peaks) != units or sorted(locations) != units:
        raise SourceFormatError(
            path, f"unit_peak_channel / unit_locations_um list units {_shown(sorted(peaks))} / "
            f"{_shown(sorted(locations))}", f"one entry per unit 0..{num_units - 1} (num_units = {num_units})",
        )
    peak_channels = {int(unit): _channel(peaks[unit], "unit_peak_channel", path, num_channels) for unit in units}
    locations_um = {int(unit): _location(locations[unit], unit, path) for unit in units}
    return ConversionMetadata(rate, num_channels, num_units, duration, gt_electrode, bad_channels, peak_channels,
                              locations_um, raw)


@dataclass(frozen=True)
class Templates:
    """``templates.npz``: mean waveforms ``(units, samples, channels)`` µV, geometry, alignment."""

    templates: np.ndarray
    probe_positions: np.ndarray
    sampling_frequency: float
    nbefore: int
    nafter: int


def read_templates(path: Path, metadata: ConversionMetadata) -> Templates:
    """Read ``templates.npz`` and check its shapes and rate against ``conversion_metadata.json``."""
    expected = (
        f"templates.npz with templates float32 [{metadata.num_units}, nbefore + nafter, {metadata.num_channels}], "
        f"probe_positions [{metadata.num_channels}, 2], sampling_frequency, nbefore, nafter"
    )
    archive = NpzArchive(path, expected=expected)
    archive.require("templates", "probe_positions", "sampling_frequency", "nbefore", "nafter")
    templates, positions = archive.array("templates"), archive.array("probe_positions")
    nbefore, nafter = archive.scalar("nbefore", int), archive.scalar("nafter", int)
    rate = archive.scalar("sampling_frequency", float)
    shape = (metadata.num_units, nbefore + nafter, metadata.num_channels)
    if templates.shape != shape or templates.dtype.kind != "f":
        raise SourceFormatError(path, f"templates is {templates.dtype} {list(templates.shape)}", expected)
    if not np.isfinite(templates).all():
        unit, sample, channel = (int(index) for index in np.argwhere(~np.isfinite(templates))[0])
        raise SourceFormatError(path, f"templates holds {templates[unit, sample, channel]} at unit {unit}, sample "
                                f"{sample}, channel {channel}", "finite mean waveforms in µV")
    if positions.shape != (metadata.num_channels, 2) or positions.dtype.kind not in "fiu":
        raise SourceFormatError(path, f"probe_positions is {positions.dtype} {list(positions.shape)}", expected)
    if rate != metadata.sampling_frequency:
        raise SourceFormatError(
            path, f"sampling_frequency is {rate}", f"{metadata.sampling_frequency} as conversion_metadata.json says"
        )
    return Templates(templates, positions.astype(np.float64), rate, nbefore, nafter)


@dataclass(frozen=True)
class PatchRecording:
    """``patch.npz``: the pipette trace (lazy) on its own timestamps (lazy), the GT spike times, labels."""

    path: Path
    trace: NpzVector
    timestamps: NpzVector
    spike_times_s: np.ndarray
    patch_type: str
    cell_id: str


def read_patch(path: Path) -> PatchRecording:
    """Open ``patch.npz``: ``patch_v`` and ``t_patch_s`` stay lazy (they are long); the rest is read."""
    expected = "patch.npz with patch_v [N], t_patch_s [N], spike_times_s [K], patch_type and cell_id"
    archive = NpzArchive(path, expected=expected)
    archive.require("patch_v", "t_patch_s", "spike_times_s", "patch_type", "cell_id")
    trace, timestamps = archive.vector("patch_v"), archive.vector("t_patch_s")
    if trace.shape != timestamps.shape or trace.dtype.kind != "f" or timestamps.dtype.kind != "f" or not len(trace):
        raise SourceFormatError(
            path, f"patch_v is {trace.dtype} {list(trace.shape)}, t_patch_s {timestamps.dtype} {list(timestamps.shape)}",
            expected,
        )
    spike_times = archive.array("spike_times_s")
    if spike_times.ndim != 1 or spike_times.dtype.kind != "f":
        raise SourceFormatError(path, f"spike_times_s is {spike_times.dtype} {list(spike_times.shape)}", expected)
    if not np.isfinite(spike_times).all():
        index = int(np.flatnonzero(~np.isfinite(spike_times))[0])
        raise SourceFormatError(path, f"spike_times_s[{index}] is {spike_times[index]}", "finite spike times in s")
    return PatchRecording(path, trace, timestamps, spike_times.astype(np.float64),
                          archive.scalar("patch_type", str), archive.scalar("cell_id", str))


def patch_clock_offset(patch: PatchRecording, spike_times_s: np.ndarray, window_start_s: float,
                       tolerance_s: float) -> float:
    """Return the shift that puts ``patch.npz`` times on the recording's clock: 0, or the window's start.

    The README says the times are "NPX-aligned" without saying whether the 10 s skipped before the window are
    subtracted. ``spike_times_s`` must equal the segments' spike times (segment start + ctt / 1000) within
    ``tolerance_s``, either as they are (offset 0) or after adding ``window_start_s``.

    Raises
    ------
    SourceFormatError
        If the counts differ or neither offset makes the times agree.
    """
    theirs = np.sort(patch.spike_times_s)
    expected = (
        f"the spike times of the segments' cit/ctt ({len(spike_times_s)} spikes, segment start + ctt / 1000), on the "
        f"recording's clock or relative to the window's start ({window_start_s} s), within {tolerance_s * 1e3:.3f} ms"
    )
    if len(theirs) != len(spike_times_s):
        raise SourceFormatError(patch.path, f"spike_times_s holds {len(theirs)} spikes", expected)
    for offset in (0.0, window_start_s):
        if not len(theirs) or np.max(np.abs(theirs + offset - spike_times_s)) <= tolerance_s:
            return offset
    worst = np.max(np.abs(theirs - spike_times_s))
    raise SourceFormatError(patch.path, f"spike_times_s differ from them by up to {worst:.6f} s", expected)
