"""The samples of SPE-1 Arrow segments as one lazily read ``(samples, channels)`` float32 array.

The segments (:mod:`nwb_conversions.layouts.spe1_arrow.segments`) give where each row's ``cp`` values lie in its
shard: one float32 run, channel after channel. A block of samples ``[a, b)`` of every channel is read with
positioned file reads of exactly those bytes (384 runs of ``b - a`` values) into a ``(b - a, channels)`` array.
Slicing the memory map itself would be simpler, but the pages it touches stay resident and the kernel maps around
each access: a 46 MB second of a 138 MB row mapped ~130 MB.
"""

from __future__ import annotations

import numpy as np

from ...errors import SourceFormatError
from ...readers.lazy_rows import LazyRows
from .segments import Segment

#: Channels read into one temporary block before being transposed into the output (64 × 1 s = 7.7 MB).
CHANNELS_PER_READ = 64


class SegmentedRecording(LazyRows):
    """The segments' samples as one lazily read ``(samples, channels)`` float32 array, in ``sample_id`` order.

    Slicing the first axis (``recording[start:stop]``) reads only the rows and samples needed and returns a
    C-contiguous numpy array; :meth:`head` returns a lazy view of the first samples.

    Parameters
    ----------
    segments : list of Segment
        Contiguous, in order (from :func:`index_segments`).
    num_channels : int
    num_samples : int, optional
        Samples in this view (default: all).
    """

    dtype = np.dtype("float32")

    def __init__(self, segments: list[Segment], *, num_channels: int, num_samples: int | None = None):
        self.segments = segments
        self.num_channels = num_channels
        lengths = np.array([segment.num_samples for segment in segments], dtype=np.int64)
        self.segment_starts = np.concatenate([[0], np.cumsum(lengths)])
        total = int(self.segment_starts[-1])
        self.num_samples = total if num_samples is None else min(num_samples, total)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.num_samples, self.num_channels)

    def head(self, num_samples: int) -> SegmentedRecording:
        """A lazy view of the first ``num_samples`` samples."""
        return SegmentedRecording(self.segments, num_channels=self.num_channels, num_samples=num_samples)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of all channels, ``(n, channels)`` float32."""
        start, stop = max(0, start), min(stop, self.num_samples)
        out = np.empty((max(0, stop - start), self.num_channels), dtype=self.dtype)
        if stop <= start:
            return out
        first = int(np.searchsorted(self.segment_starts, start, side="right")) - 1
        position = start
        for index in range(first, len(self.segments)):
            if position >= stop:
                break
            segment_start = int(self.segment_starts[index])
            within_stop = min(stop, int(self.segment_starts[index + 1])) - segment_start
            within_start = position - segment_start
            self._copy_samples(self.segments[index], within_start, within_stop, out[position - start :])
            position = segment_start + within_stop
        return out

    def _copy_samples(self, segment: Segment, first: int, stop: int, out: np.ndarray) -> None:
        """Read samples ``[first, stop)`` of one segment into ``out[: stop - first]`` (time × channels), a group
        of channels at a time, each channel's run with one positioned read."""
        count = stop - first
        channel_bytes = segment.num_samples * 4
        with open(segment.shard, "rb", buffering=0) as stream:
            for group_start in range(0, self.num_channels, CHANNELS_PER_READ):
                group = np.empty((min(CHANNELS_PER_READ, self.num_channels - group_start), count), dtype="<f4")
                for index, row in enumerate(group):
                    channel = group_start + index
                    stream.seek(segment.values_offset + channel * channel_bytes + first * 4)
                    if stream.readinto(row) != row.nbytes:
                        raise SourceFormatError(segment.shard, "the file ends inside a row", "a complete shard")
                out[:count, group_start : group_start + len(group)] = group.T
