"""The dataset contract every dataset keeps: NeuroConv's writer gives the command's data, releases are discovered.

``registered_datasets()[KEY].build(SOURCE, user_metadata, stub_test)`` is the scripting API: NeuroConv's own
``run_conversion`` on what it returns must write the same data, bit for bit, as ``convert-to-nwb``.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from nwb_conversions.conversion import convert_session
from nwb_conversions.datasets import registered_datasets
from nwb_conversions.metadata.assembly import load_yaml_mapping

DATASET_KEYS = sorted(registered_datasets())


def data_arrays(path) -> dict[str, np.ndarray]:
    """Every numeric dataset of the file but creation dates (they differ between any two writes)."""
    found = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset) and item.dtype.kind in "iufb" and not name.endswith("file_create_date"):
            found[name] = item[()]

    with h5py.File(path, "r") as h5:
        h5.visititems(visit)
    return found


@pytest.mark.parametrize("key", DATASET_KEYS)
def test_neuroconv_run_conversion_writes_the_same_data_as_the_command(key, tmp_path):
    dataset = registered_datasets()[key]
    source, metadata_path = dataset.write_sample(tmp_path / "source")
    user_metadata = load_yaml_mapping(metadata_path)

    conversion = dataset.build(source, user_metadata, False)
    neuroconv_path = tmp_path / "neuroconv.nwb"
    conversion.converter.run_conversion(
        nwbfile_path=str(neuroconv_path),
        metadata=conversion.metadata,
        conversion_options=conversion.conversion_options,
    )
    command_path = tmp_path / "command.nwb"
    convert_session(dataset, source, command_path, metadata_path=metadata_path, inspect=False, progress=False)

    theirs, ours = data_arrays(neuroconv_path), data_arrays(command_path)
    assert sorted(theirs) == sorted(ours)
    for name, values in ours.items():
        assert values.dtype == theirs[name].dtype, name
        np.testing.assert_array_equal(values, theirs[name], err_msg=name)
    # The large data: recorded series (acquisition/), processed traces for a dataset released as processed data
    # (ssc11), or the units table of a sorting-only release (np-opto).
    large = ("acquisition/", "processing/", "units/")
    streamed = [name for name in ours if name.startswith(large) and ours[name].size >= 10_000]
    assert streamed and all(np.any(ours[name]) for name in streamed)


@pytest.mark.parametrize("key", DATASET_KEYS)
def test_find_sessions_lists_exactly_the_sessions_of_a_sample_release(key, tmp_path):
    dataset = registered_datasets()[key]
    release_root, sessions = dataset.write_sample_release(tmp_path / "release", 3)
    assert len(sessions) == 3
    assert dataset.find_sessions(release_root) == sessions
    assert dataset.find_sessions(tmp_path / "release") == sessions


@pytest.mark.parametrize("key", DATASET_KEYS)
def test_find_sessions_on_a_missing_folder_is_a_clear_error(key, tmp_path):
    from nwb_conversions.errors import SourceFormatError

    with pytest.raises(SourceFormatError, match="not a folder"):
        registered_datasets()[key].find_sessions(tmp_path / "missing")
