"""Preprocessed recording segments stored as Arrow rows (the SPE-1 Arrow re-packaging), read with pyarrow alone.

Each row of a shard is one segment: ``sample_id`` (zero-padded sample index of the segment's start on the
recording's clock), ``cp`` (``list<list<float32>>``, channels × samples, µV), and ground-truth spikes ``cit`` (unit
index) / ``ctt`` (ms within the segment) per channel. :func:`index_segments` walks the shards once, touching only
offsets and the small spike columns.

Reading: a shard is memory-mapped and its record batches opened zero-copy, which gives, from Arrow's flat buffers,
where each row's ``cp`` values lie in the file: one float32 run, channel after channel, T samples each. From there
:class:`~nwb_conversions.layouts.spe1_arrow.recording.SegmentedRecording` reads samples × channels blocks lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ...errors import SourceFormatError
from ...readers.dataset_dict_features import check_shard_features
from ...readers.source_access import cannot_read, one_line, printable

#: The columns of a segment row and the Arrow types they must have (list or large_list at each level).
SEGMENT_COLUMNS = {
    "sample_id": "string",
    "cp": "list<list<float32>>",
    "cit": "list<list<int32>>",
    "ctt": "list<list<float64>>",
}


@dataclass(frozen=True)
class Segment:
    """One row: where it is stored, the samples it covers, and its ground-truth spikes.

    Attributes
    ----------
    split : str
        ``train`` or ``test``.
    shard : Path
    batch, row : int
        The record batch within the shard's stream, and the row within the batch.
    start_sample : int
        ``sample_id``: the segment's first sample on the recording's clock.
    num_samples : int
        ``T``: samples per channel.
    values_offset : int
        Byte offset in the shard of the row's first ``cp`` value (channel 0, sample 0); channel ``c`` starts
        ``c × T × 4`` bytes later.
    spike_channels, spike_units : numpy.ndarray
        The channel each spike is listed on, and its unit index (``cit``).
    spike_times_ms : numpy.ndarray
        ``ctt``: spike times in ms from the segment's start.
    """

    split: str
    shard: Path
    batch: int
    row: int
    start_sample: int
    num_samples: int
    values_offset: int
    spike_channels: np.ndarray
    spike_units: np.ndarray
    spike_times_ms: np.ndarray

    @property
    def stop_sample(self) -> int:
        """One past the segment's last sample."""
        return self.start_sample + self.num_samples


def _is_nested_list_of(arrow_type: pa.DataType, predicate) -> bool:
    """True for ``list<list<x>>`` (list or large_list at each level) with ``predicate(x)``."""
    for _ in range(2):
        if not (pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)):
            return False
        arrow_type = arrow_type.value_type
    return predicate(arrow_type)


def check_schema(schema: pa.Schema, shard: Path) -> None:
    """Refuse a shard without the segment columns, or with other types."""
    expected = f"Arrow columns {', '.join(f'{name} {kind}' for name, kind in SEGMENT_COLUMNS.items())}"
    checks = {
        "sample_id": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t),
        "cp": lambda t: _is_nested_list_of(t, pa.types.is_float32),
        "cit": lambda t: _is_nested_list_of(t, pa.types.is_integer),
        "ctt": lambda t: _is_nested_list_of(t, pa.types.is_floating),
    }
    repeated = sorted({name for name in schema.names if schema.names.count(name) > 1})
    if repeated:
        raise SourceFormatError(shard, f"the column '{printable(repeated[0])}' appears twice",
                                f"{expected}, each once (datasets maps each column name to one feature)")
    for name, check in checks.items():
        if name not in schema.names:
            columns = ", ".join(printable(column) for column in schema.names)
            raise SourceFormatError(shard, f"no '{name}' column (columns: {one_line(columns)[:200]})", expected)
        if not check(schema.field(name).type):
            raise SourceFormatError(shard, f"'{name}' is {one_line(schema.field(name).type)[:200]}", expected)


def _offsets(array) -> np.ndarray:
    """A list array's offsets as int64 numpy (absolute into ``array.values``)."""
    return array.offsets.to_numpy().astype(np.int64)


def _sample_id(value, shard: Path, row: int) -> int:
    """Parse ``sample_id``: a zero-padded decimal sample index (or an integer)."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit():
        raise SourceFormatError(
            shard, f"row {row}: sample_id is {value!r}", "a zero-padded sample index such as '000300000'"
        )
    return int(text)


def channel_layout(cp, row: int, shard: Path, num_channels: int) -> tuple[int, int]:
    """Return ``(first value index, samples per channel)`` of row ``row``'s ``cp``, checking its shape.

    Raises
    ------
    SourceFormatError
        If the row has another channel count, channels of different lengths, or missing values.
    """
    outer = _offsets(cp)
    first_channel, stop_channel = outer[row], outer[row + 1]
    channels = int(stop_channel - first_channel)
    if cp.is_null().to_numpy(zero_copy_only=False)[row] or channels != num_channels:
        raise SourceFormatError(
            shard, f"row {row}: cp has {channels} channels", f"{num_channels} channels of equal length per row"
        )
    inner = _offsets(cp.values)[first_channel : stop_channel + 1]
    lengths = np.diff(inner)
    if lengths.min() != lengths.max() or lengths[0] == 0:
        raise SourceFormatError(
            shard,
            f"row {row}: cp channels hold {lengths.min()} to {lengths.max()} samples",
            f"{num_channels} non-empty channels of equal length per row",
        )
    return int(inner[0]), int(lengths[0])


def _row_spikes(batch: pa.RecordBatch, row: int, shard: Path, num_channels: int):
    """The ``cit``/``ctt`` spikes of one row: channels, unit indices and ms, with matching per-channel lengths."""
    per_column = {}
    for name in ("cit", "ctt"):
        column = batch.column(name)
        outer = _offsets(column)
        if outer[row + 1] - outer[row] != num_channels:
            raise SourceFormatError(
                shard, f"row {row}: {name} lists {outer[row + 1] - outer[row]} channels", f"{num_channels}, like cp"
            )
        inner = _offsets(column.values)[outer[row] : outer[row + 1] + 1]
        values = column.values.values.slice(inner[0], inner[-1] - inner[0])
        if values.null_count:
            raise SourceFormatError(shard, f"row {row}: {name} holds missing values", "numbers only")
        per_column[name] = (np.diff(inner), values.to_numpy(zero_copy_only=False))
    (cit_lengths, units), (ctt_lengths, times) = per_column["cit"], per_column["ctt"]
    if not np.array_equal(cit_lengths, ctt_lengths):
        channel = int(np.flatnonzero(cit_lengths != ctt_lengths)[0])
        raise SourceFormatError(
            shard,
            f"row {row}: channel {channel} has {cit_lengths[channel]} cit but {ctt_lengths[channel]} ctt entries",
            "one unit index (cit) per spike time (ctt) on every channel",
        )
    channels = np.repeat(np.arange(num_channels), cit_lengths)
    return channels, units.astype(np.int64), times.astype(np.float64)


def _file_offset(values: pa.Array, first_value: int, map_address: int, shard: Path) -> int:
    """Byte offset in the mapped file of ``values[first_value]`` (a float32 array backed by the map)."""
    if values.null_count:
        raise SourceFormatError(shard, "cp holds missing values", "float32 values only")
    return values.buffers()[1].address - map_address + (values.offset + first_value) * values.type.byte_width


def index_shard(shard: Path, split: str, *, num_channels: int, features: tuple[dict, Path] | None = None
                ) -> list[Segment]:
    """Read the layout of every row of one shard (offsets, ``sample_id``, spikes), not its samples.

    Every record batch is validated in full (offsets within their buffers, lengths consistent) before any of its
    values is touched, so a damaged stream is an error rather than a read out of bounds. ``features`` (the split's
    ``dataset_info.json`` features and path) must match the shard's schema.
    """
    try:
        with pa.memory_map(str(shard)) as source:
            map_address, map_size = source.read_buffer(1).address, source.size()
            source.seek(0)
            reader = pa.ipc.open_stream(source)
            check_schema(reader.schema, shard)
            if features is not None:
                check_shard_features(*features, reader.schema, shard)
            segments = []
            for batch_index, batch in enumerate(reader):
                batch.validate(full=True)
                segments.extend(_batch_segments(batch, batch_index, split, shard, len(segments), num_channels,
                                                (map_address, map_size)))
    except (pa.ArrowException, OSError, UnicodeError) as exc:  # UnicodeError: a column name that is not UTF-8
        if isinstance(exc, OSError) and exc.errno is not None:  # the system's refusal, not pyarrow's verdict
            raise cannot_read(shard, exc, "an Arrow IPC stream shard") from None
        raise SourceFormatError(
            shard, f"not a readable Arrow IPC stream ({one_line(exc)[:300]})", "an Arrow IPC stream shard"
        ) from None
    return segments


def _batch_segments(batch: pa.RecordBatch, batch_index: int, split: str, shard: Path, first_row: int,
                    num_channels: int, mapping: tuple[int, int]) -> list[Segment]:
    """The segments of one validated record batch (``first_row``: the shard's row number of its first row)."""
    map_address, map_size = mapping
    cp = batch.column("cp")
    sample_ids = batch.column("sample_id").to_pylist()
    segments = []
    for row in range(batch.num_rows):
        first_value, num_samples = channel_layout(cp, row, shard, num_channels)
        offset = _file_offset(cp.values.values, first_value, map_address, shard)
        if not 0 <= offset <= map_size - num_channels * num_samples * 4:
            raise SourceFormatError(
                shard, f"row {row}: cp values are not stored in the file as they are read (a compressed "
                "or byte-swapped IPC stream)", "uncompressed little-endian Arrow IPC streams, as "
                "datasets' save_to_disk writes them",
            )
        channels, units, times = _row_spikes(batch, row, shard, num_channels)
        segments.append(
            Segment(split, shard, batch_index, row, _sample_id(sample_ids[row], shard, first_row + row),
                    num_samples, offset, channels, units, times)
        )
    return segments


def index_segments(shards_by_split: dict[str, list[Path]], *, num_channels: int,
                   features_by_split: dict[str, tuple[dict, Path]] | None = None) -> list[Segment]:
    """Index every row of every split and order them by ``sample_id`` (check them with :func:`check_contiguous`).

    ``features_by_split`` maps a split to its ``dataset_info.json`` features and path; each shard of the split must
    match them.

    Raises
    ------
    SourceFormatError
        On a malformed shard, a shard whose schema differs from its split's features, or no rows at all.
    """
    features_by_split = features_by_split or {}
    segments = [
        segment
        for split, shards in shards_by_split.items()
        for shard in shards
        for segment in index_shard(shard, split, num_channels=num_channels, features=features_by_split.get(split))
    ]
    if not segments:
        raise SourceFormatError(next(iter(shards_by_split.values()))[0].parent.parent, "no segment rows",
                                "at least one row in the shards")
    return sorted(segments, key=lambda segment: segment.start_sample)


def check_contiguous(segments: list[Segment]) -> None:
    """Segments in ``sample_id`` order must tile one span: each starts where the previous one ends.

    Raises
    ------
    SourceFormatError
        Naming the first segment that overlaps its predecessor or leaves a gap after it.
    """
    for previous, segment in zip(segments, segments[1:]):
        if segment.start_sample != previous.stop_sample:
            problem = "overlaps" if segment.start_sample < previous.stop_sample else "leaves a gap after"
            raise SourceFormatError(
                segment.shard,
                f"the segment at sample_id {segment.start_sample} ({segment.split}) {problem} the one at "
                f"{previous.start_sample} ({previous.split}, {previous.num_samples} samples, ends at "
                f"{previous.stop_sample})",
                "contiguous segments: each sample_id = the previous one + its number of samples",
            )
