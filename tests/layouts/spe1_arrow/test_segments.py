"""The Arrow segment reader: DatasetDict layout, row index, ``sample_id`` order across splits, lazy slicing."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.layouts.spe1_arrow.recording import SegmentedRecording
from nwb_conversions.layouts.spe1_arrow.segments import check_contiguous, index_segments
from nwb_conversions.readers.dataset_dict import dataset_dict_splits
from nwb_conversions.samples.spe1_arrow import segment_batch, write_spe1_arrow_cell

from ...spe1_arrow_helpers import read_rows


@pytest.fixture(scope="module")
def cell(tmp_path_factory):
    """Seven 0.05 s segments, three rows per shard: train has two shards, test one; rows read back independently."""
    cell_dir = write_spe1_arrow_cell(tmp_path_factory.mktemp("arrow") / "c14", num_segments=7,
                                     segment_duration_s=0.05, rows_per_shard=3)
    shards = dataset_dict_splits(cell_dir)
    rows = sorted((row for split in shards.values() for shard in split for row in read_rows(shard)),
                  key=lambda row: row["sample_id"])
    return cell_dir, shards, rows


def test_the_layout_lists_each_split_s_shards_in_state_json_order(cell):
    cell_dir, shards, _ = cell
    assert list(shards) == ["train", "test"]
    assert [path.name for path in shards["train"]] == ["data-00000-of-00002.arrow", "data-00001-of-00002.arrow"]
    assert [path.name for path in shards["test"]] == ["data-00000-of-00001.arrow"]


def test_segments_are_ordered_by_sample_id_whatever_the_split_order(cell):
    _, shards, rows = cell
    segments = index_segments({"test": shards["test"], "train": shards["train"][::-1]}, num_channels=384)
    check_contiguous(segments)
    assert [segment.start_sample for segment in segments] == [300_000 + 1500 * index for index in range(7)]
    assert [segment.split for segment in segments] == ["train"] * 6 + ["test"]
    assert all(segment.num_samples == 1500 for segment in segments)
    for segment, row in zip(segments, rows):
        np.testing.assert_array_equal(segment.spike_times_ms, row["ctt"][161])
        assert set(segment.spike_channels.tolist()) <= {161}


def test_slices_across_segment_and_shard_boundaries_are_exact(cell):
    _, shards, rows = cell
    recording = SegmentedRecording(index_segments(shards, num_channels=384), num_channels=384)
    expected = np.concatenate([row["cp"].T for row in rows])
    assert recording.shape == expected.shape == (10_500, 384) and recording.dtype == np.float32
    for start, stop in [(0, 1500), (1400, 4600), (4499, 4501), (9000, 10_500), (10_400, 20_000)]:
        block = recording[start:stop]
        assert block.flags.c_contiguous
        np.testing.assert_array_equal(block, expected[start:stop])
    np.testing.assert_array_equal(recording[3000:3100, 5:9], expected[3000:3100, 5:9])
    np.testing.assert_array_equal(recording[-1], expected[-1])
    head = recording.head(2000)
    assert head.shape == (2000, 384)
    np.testing.assert_array_equal(np.asarray(head), expected[:2000])


def test_a_shard_with_other_column_types_is_refused(tmp_path):
    shard = tmp_path / "data-00000-of-00001.arrow"
    schema = pa.schema([("sample_id", pa.string()), ("cp", pa.list_(pa.list_(pa.float64()))),
                        ("cit", pa.list_(pa.list_(pa.int32()))), ("ctt", pa.list_(pa.list_(pa.float64())))])
    with pa.OSFile(str(shard), "wb") as sink, pa.ipc.new_stream(sink, schema):
        pass
    with pytest.raises(SourceFormatError, match="'cp' is list<item: list<item: double>>"):
        index_segments({"train": [shard]}, num_channels=384)


def test_a_file_that_is_not_an_arrow_stream_is_refused(tmp_path):
    shard = tmp_path / "data-00000-of-00001.arrow"
    shard.write_bytes(b"PAR1 not arrow at all")
    with pytest.raises(SourceFormatError, match="not a readable Arrow IPC stream"):
        index_segments({"train": [shard]}, num_channels=384)


def test_a_sample_id_that_is_not_a_number_is_refused(tmp_path):
    shard = tmp_path / "data-00000-of-00001.arrow"
    batch = segment_batch(0, np.zeros((384, 10), np.float32), 161, np.array([]))
    batch = batch.set_column(0, "sample_id", pa.array(["start"]))
    with pa.OSFile(str(shard), "wb") as sink, pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    with pytest.raises(SourceFormatError, match="sample_id is 'start'"):
        index_segments({"train": [shard]}, num_channels=384)


@pytest.mark.parametrize("splits, fragment", [("train", "'splits' is 'train'"), ([], "'splits' is \\[\\]")])
def test_a_malformed_dataset_dict_json_is_refused(tmp_path, splits, fragment):
    (tmp_path / "dataset_dict.json").write_text(json.dumps({"splits": splits}))
    with pytest.raises(SourceFormatError, match=fragment):
        dataset_dict_splits(tmp_path)


def test_a_dataset_dict_written_by_datasets_itself_passes_every_cross_check(tmp_path):
    """``datasets`` (its current ``List`` features, a ``_split`` of "train" in the test folder, stale
    ``dataset_info.json`` splits) writes what the checks accept: features equal to each shard's schema."""
    import datasets

    from nwb_conversions.readers.dataset_dict_features import read_split_features

    def rows(first):
        for index in range(2):
            cp = np.full((384, 10), first + index, dtype=np.float32)
            ctt = [[] for _ in range(384)]
            ctt[161] = [0.1]
            yield {"sample_id": f"{(first + index) * 10:09d}", "cp": cp.tolist(), "ctt": ctt,
                   "cit": [[0] * len(times) for times in ctt]}

    features = datasets.Features({
        "sample_id": datasets.Value("string"),
        **{name: datasets.Sequence(datasets.Sequence(datasets.Value(dtype)))
           for name, dtype in (("cp", "float32"), ("cit", "int32"), ("ctt", "float64"))},
    })
    splits = {split: datasets.Dataset.from_generator(rows, features=features, gen_kwargs={"first": first},
                                                     cache_dir=str(tmp_path / "cache" / split))
              for split, first in (("train", 0), ("test", 2))}
    datasets.DatasetDict(splits).save_to_disk(str(tmp_path / "c14"))
    shards = dataset_dict_splits(tmp_path / "c14")
    declared = {split: read_split_features(tmp_path / "c14" / split) for split in shards}
    assert declared["train"][0]["cp"]["_type"] in ("List", "Sequence")
    segments = index_segments(shards, num_channels=384, features_by_split=declared)
    assert [segment.start_sample for segment in segments] == [0, 10, 20, 30]
    assert [segment.split for segment in segments] == ["train", "train", "test", "test"]
    assert [segment.spike_times_ms.tolist() for segment in segments] == [[0.1]] * 4
