"""Checks of an SPE-1 Arrow cell folder's files against each other and against SPE-1, and the spike times they give.

Each check raises :class:`~nwb_conversions.errors.SourceFormatError` naming the file, what it holds and what it
should hold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SourceFormatError
from ..layouts.spe1_arrow.segments import Segment
from ..layouts.spe1_arrow.side_files import ConversionMetadata, PatchRecording, Templates
from ..readers.channel_map import read_channel_map_csv
from .neuropixels_binary import NUM_CHANNELS, SAMPLING_FREQUENCY


def check_rate_and_lengths(metadata: ConversionMetadata, segments: list[Segment], metadata_path: Path) -> None:
    """The rate is SPE-1's, the channel count the shards', every segment as long as ``segment_duration_s`` says.

    Only the last segment of the window may be shorter (a trailing partial segment: an assumption, the release
    does not say whether its conversion keeps one).
    """
    first = segments[0]
    if metadata.num_channels != NUM_CHANNELS:
        raise SourceFormatError(
            metadata_path, f"num_channels is {metadata.num_channels}", f"{NUM_CHANNELS}, as the shards' rows hold"
        )
    if metadata.sampling_frequency != SAMPLING_FREQUENCY or first.num_samples != metadata.segment_samples:
        raise SourceFormatError(
            metadata_path,
            f"sampling_frequency {metadata.sampling_frequency} Hz × segment_duration_s "
            f"{metadata.segment_duration_s} s = {metadata.segment_samples} samples per segment",
            f"the SPE-1 Neuropixels rate {SAMPLING_FREQUENCY} Hz and the shards' {first.num_samples} samples per "
            f"segment ({first.shard.name})",
        )
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment.num_samples > metadata.segment_samples or (segment.num_samples < metadata.segment_samples
                                                              and not last):
            raise SourceFormatError(
                segment.shard,
                f"the segment at sample_id {segment.start_sample} holds {segment.num_samples} samples per channel",
                f"{metadata.segment_samples} (segment_duration_s × sampling_frequency) in every row; only the "
                "window's last segment may be shorter",
            )


def collect_spike_times(metadata: ConversionMetadata, segments: list[Segment]) -> dict[int, np.ndarray]:
    """Each unit's spike times (s, recording clock): segment start + ctt / 1000, listed on its peak channel."""
    times = {unit: [] for unit in range(metadata.num_units)}
    for segment in segments:
        length_ms = segment.num_samples * 1000.0 / metadata.sampling_frequency
        outside = ~((segment.spike_times_ms >= 0) & (segment.spike_times_ms < length_ms))  # NaN is outside too
        if outside.any():
            raise SourceFormatError(
                segment.shard,
                f"the segment at sample_id {segment.start_sample} lists a spike at ctt = "
                f"{segment.spike_times_ms[outside][0]} ms",
                f"spike times within the segment's {segment.num_samples} samples: 0 <= ctt < {length_ms:g} ms",
            )
        for channel, unit, milliseconds in zip(segment.spike_channels, segment.spike_units, segment.spike_times_ms):
            if unit not in times or channel != metadata.peak_channels[unit]:
                raise SourceFormatError(
                    segment.shard,
                    f"the segment at sample_id {segment.start_sample} lists a spike of unit {unit} on channel "
                    f"{channel}",
                    f"unit indices 0..{metadata.num_units - 1} (cit), listed on the unit's peak channel "
                    f"{metadata.peak_channels.get(unit, '')} (unit_peak_channel)",
                )
            times[unit].append(segment.start_sample / metadata.sampling_frequency + milliseconds / 1000.0)
    return {unit: np.sort(np.array(values, dtype=np.float64)) for unit, values in times.items()}


def check_channel_map(channel_map_path: str | Path, templates: Templates, templates_path: Path) -> None:
    """``templates.npz`` ``probe_positions`` equal the SPE-1 channel map (a headerless ``channel,x,y`` CSV, µm)."""
    shipped = read_channel_map_csv(channel_map_path, num_channels=NUM_CHANNELS)
    if not np.array_equal(shipped, templates.probe_positions):
        channel = int(np.flatnonzero(np.any(shipped != templates.probe_positions, axis=1))[0])
        raise SourceFormatError(
            templates_path,
            f"probe_positions of channel {channel} are {templates.probe_positions[channel].tolist()} µm",
            f"the SPE-1 channel map's {shipped[channel].tolist()} µm for every channel",
        )


def check_patch_cell(patch: PatchRecording, metadata: ConversionMetadata) -> None:
    """``patch.npz`` is the trace of the cell ``conversion_metadata.json`` names (when it names one)."""
    if metadata.cell_id is not None and patch.cell_id != metadata.cell_id:
        raise SourceFormatError(
            patch.path, f"cell_id is {patch.cell_id!r}", f"{metadata.cell_id!r}, the cell of conversion_metadata.json"
        )
