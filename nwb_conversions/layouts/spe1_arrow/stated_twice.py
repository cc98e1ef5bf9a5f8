"""Facts an SPE-1 Arrow cell folder states twice, checked to agree: ``conversion_metadata.json`` against itself, the
shards, ``templates.npz`` and ``dataset_stats.json``.

Each check raises one :class:`~nwb_conversions.errors.SourceFormatError` naming both places. What the release leaves
open is not made into a rule: ``source_metadata.duration_s`` may be the window asked for while a short recording
(c37: 2.25 min) gives fewer segments, so only shards holding *more* than it are refused; ``dataset_info.json``
``splits`` and ``state.json`` ``_split`` are not compared with the folders (``datasets`` leaves them stale after
``train_test_split`` and names every ``from_generator`` split ``train``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.json_object import is_finite_number, read_json_object
from ...readers.source_access import format_number
from .segments import Segment
from .side_files import ConversionMetadata, Templates

#: Pairs of keys of ``conversion_metadata.json`` that state the same fact (dotted paths into the file).
SAME_FACT_KEYS = (
    ("n_spikes_total", "template_metadata.n_spikes_total"),
    ("n_spikes_used_for_templates", "template_metadata.n_spikes_used"),
)

#: Tolerance on a position (µm) restated from ``probe_positions`` (float32) in JSON.
POSITION_TOLERANCE_UM = 1e-3


def _lookup(mapping: dict, dotted: str):
    """The value at ``a.b.c`` in nested objects, or None when any level is absent."""
    value = mapping
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def check_metadata_stated_twice(metadata: ConversionMetadata, path: Path) -> None:
    """Keys of ``conversion_metadata.json`` that restate each other (:data:`SAME_FACT_KEYS`) hold equal values."""
    for first, second in SAME_FACT_KEYS:
        one, other = _lookup(metadata.raw, first), _lookup(metadata.raw, second)
        if one is not None and other is not None and (one != other or isinstance(one, bool) != isinstance(other, bool)):
            raise SourceFormatError(path, f"{first} is {one!r} but {second} is {other!r}",
                                    "the two keys to state the same value")


def check_templates_window(metadata: ConversionMetadata, templates: Templates, templates_path: Path) -> None:
    """``templates.npz`` ``nbefore``/``nafter`` are ``template_metadata``'s, and its ``ms_before``/``ms_after`` at
    the sampling rate."""
    rate_per_ms = metadata.sampling_frequency / 1000.0
    for key, stored in (("nbefore", templates.nbefore), ("nafter", templates.nafter)):
        milliseconds = _lookup(metadata.raw, f"template_metadata.ms_{key[1:]}")
        statements = [(f"template_metadata.{key}", _lookup(metadata.raw, f"template_metadata.{key}"))]
        if is_finite_number(milliseconds):
            statements.append((f"template_metadata.ms_{key[1:]} × {rate_per_ms:g} samples/ms",
                               round(milliseconds * rate_per_ms, 6)))
        for name, value in statements:
            if value is not None and value != stored:
                raise SourceFormatError(templates_path, f"{key} is {stored} but conversion_metadata.json {name} is "
                                        f"{value!r}", "the template window both files state")


def check_unit_locations(metadata: ConversionMetadata, templates: Templates, metadata_path: Path) -> None:
    """``unit_locations_um`` (x, y) is ``probe_positions`` of ``gt_electrode_chan_idx`` (the release's README says
    so: the ground-truth electrode's position), for the single ground-truth unit."""
    if metadata.num_units != 1:
        return
    stated = np.array(metadata.locations_um[0][:2])
    electrode = templates.probe_positions[metadata.gt_electrode]
    if not np.all(np.abs(stated - electrode) <= POSITION_TOLERANCE_UM):
        raise SourceFormatError(
            metadata_path,
            f"unit_locations_um[0] is {stated.tolist()} µm but templates.npz probe_positions of gt_electrode_chan_idx "
            f"{metadata.gt_electrode} is {electrode.tolist()} µm",
            "the ground-truth electrode's position in both",
        )


def sample_id_origin(metadata: ConversionMetadata, segments: list[Segment]) -> int:
    """Where ``sample_id`` counts from, in samples of the raw recording: 0, or ``skip_seconds`` × rate.

    The release does not say whether ``sample_id`` counts from the raw recording's start or from the window's,
    which starts ``skip_seconds`` in. Both are accepted, told apart by the first segment's ``sample_id``:
    ``skip_seconds`` × rate (the raw recording's clock: origin 0), or 0 (the window's clock: the origin is
    ``skip_seconds`` × rate). Any other first ``sample_id`` contradicts ``skip_seconds`` and is refused.
    Without a ``skip_seconds``, ``sample_id`` is read on the raw recording's clock.
    """
    skip = _lookup(metadata.raw, "source_metadata.skip_seconds")
    first = segments[0].start_sample
    if not is_finite_number(skip):
        return 0
    skip_samples = round(skip * metadata.sampling_frequency)
    if abs(first - skip * metadata.sampling_frequency) < 0.5:
        return 0
    if first == 0:
        return skip_samples
    raise SourceFormatError(
        segments[0].shard, f"the first segment starts at sample_id {first}",
        f"{format_number(skip_samples)} (the raw recording's clock) or 0 (the window's clock): "
        f"source_metadata.skip_seconds = {skip} s in conversion_metadata.json",
    )


def check_window(metadata: ConversionMetadata, segments: list[Segment], spike_count: int, path: Path) -> None:
    """The shards against ``source_metadata``'s window length and ``n_spikes_total``: the segments hold at most
    ``duration_s`` of samples and list ``n_spikes_total`` spikes."""
    rate = metadata.sampling_frequency
    held = segments[-1].stop_sample - segments[0].start_sample
    duration = _lookup(metadata.raw, "source_metadata.duration_s")
    if is_finite_number(duration) and held > duration * rate + 0.5:
        raise SourceFormatError(
            segments[-1].shard, f"the segments hold {held} samples ({held / rate:g} s)",
            f"at most source_metadata.duration_s = {duration} s ({format_number(duration * rate)} samples) as "
            "conversion_metadata.json says",
        )
    total = metadata.raw.get("n_spikes_total")
    if isinstance(total, int) and not isinstance(total, bool) and total != spike_count:
        raise SourceFormatError(path, f"n_spikes_total is {total} but the shards' cit/ctt list {spike_count} spike(s)",
                                "the number of ground-truth spikes the segments list")


def check_dataset_stats(path: Path, num_channels: int) -> None:
    """``dataset_stats.json`` (when present) holds one value per channel of the shards in each of its lists."""
    if not path.exists() and not path.is_symlink():
        return
    stats = read_json_object(path, "dataset_stats.json with per-channel median, iqr and abs_iqr")
    for key, values in stats.items():
        if isinstance(values, list) and len(values) != num_channels:
            raise SourceFormatError(path, f"'{key}' holds {len(values)} values",
                                    f"one per channel: {num_channels}, as the shards' rows and num_channels hold")
        if isinstance(values, list) and not all(is_finite_number(value) for value in values):
            raise SourceFormatError(path, f"'{key}' holds a value that is not a finite number",
                                    "per-channel statistics in µV")
