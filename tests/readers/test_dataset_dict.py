"""The DatasetDict layout reader and its features: split and shard listings checked against the folder, features
mapped onto Arrow types as ``datasets`` stores them."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers.dataset_dict import dataset_dict_splits
from nwb_conversions.readers.dataset_dict_features import feature_arrow_type, same_type

VALUE = {"_type": "Value", "dtype": "float32"}


@pytest.mark.parametrize(
    "feature, arrow_type",
    [
        ({"_type": "Value", "dtype": "string"}, pa.string()),
        ({"_type": "Value", "dtype": "float64"}, pa.float64()),
        ({"_type": "Sequence", "feature": VALUE, "length": -1}, pa.list_(pa.float32())),
        ({"_type": "Sequence", "feature": VALUE, "length": 3}, pa.list_(pa.float32(), 3)),
        ({"_type": "List", "feature": {"_type": "List", "feature": VALUE}}, pa.list_(pa.list_(pa.float32()))),
        ({"_type": "LargeList", "feature": VALUE}, pa.large_list(pa.float32())),
        ({"_type": "Sequence", "feature": VALUE, "length": 2**40}, None),  # not an Arrow length: not derived
        ({"_type": "ClassLabel", "names": ["a"]}, None),
        ({"_type": "Value", "dtype": "no such type"}, None),
        ({"_type": "Sequence", "feature": {"a": VALUE}}, None),  # a struct of lists: compared by name only
        ("float32", None),
    ],
)
def test_features_map_onto_the_arrow_types_datasets_stores(feature, arrow_type):
    derived = feature_arrow_type(feature)
    assert derived == arrow_type if arrow_type is None else same_type(derived, arrow_type)


def test_list_item_names_do_not_matter_but_types_and_sizes_do():
    element = pa.list_(pa.field("element", pa.float32()))
    assert same_type(pa.list_(pa.float32()), element)
    assert not same_type(pa.list_(pa.float32()), pa.large_list(pa.float32()))
    assert not same_type(pa.list_(pa.float32(), 3), pa.list_(pa.float32(), 4))
    assert not same_type(pa.list_(pa.float32()), pa.list_(pa.float64()))


def dataset_dict(folder, splits, shards=("data-00000-of-00001.arrow",)):
    (folder / "dataset_dict.json").write_text(json.dumps({"splits": splits}))
    for split in ("train", "test"):
        (folder / split).mkdir(exist_ok=True)
        (folder / split / "dataset_info.json").write_text("{}")
        (folder / split / "state.json").write_text(json.dumps({"_data_files": [{"filename": n} for n in shards]}))
        for name in shards:
            (folder / split / name).write_bytes(b"")
    return folder


@pytest.mark.parametrize(
    "splits, fragment",
    [
        (["../outside"], "'splits' is ['../outside']"),
        (["train", "."], "'splits' is ['train', '.']"),
        (["train", 3], "'splits' is ['train', 3]"),
        (["train"], "test: a split folder that dataset_dict.json does not list (it lists train)"),
    ],
)
def test_split_names_are_plain_folders_of_the_dataset_dict_and_all_listed(tmp_path, splits, fragment):
    with pytest.raises(SourceFormatError, match=fragment.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        dataset_dict_splits(dataset_dict(tmp_path, splits))


def test_a_well_formed_listing_gives_each_split_s_shards_in_order(tmp_path):
    shards = ("data-00000-of-00002.arrow", "data-00001-of-00002.arrow")
    assert {split: [path.name for path in paths] for split, paths in dataset_dict_splits(
        dataset_dict(tmp_path, ["train", "test"], shards)).items()} == {"train": list(shards), "test": list(shards)}


@pytest.mark.parametrize("entry", [["data-00000-of-00001.arrow"], [{"filename": "../test/data-00000-of-00001.arrow"}],
                                   [{"filename": "data.parquet"}], [None]])
def test_state_json_entries_must_be_shard_names_of_the_folder(tmp_path, entry):
    folder = dataset_dict(tmp_path, ["train", "test"])
    (folder / "train" / "state.json").write_text(json.dumps({"_data_files": entry}))
    with pytest.raises(SourceFormatError, match=r"train/state.json: '_data_files' is"):
        dataset_dict_splits(folder)
