"""SSC-11 readers: the struct accessors, pixel index decoding, the session's place in the release, ablation files."""

from __future__ import annotations

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.layouts.ssc11.release import locate_session, read_ablation_file
from nwb_conversions.layouts.ssc11.rois import decode_pixel_indices
from nwb_conversions.layouts.ssc11.struct import time_unit_of
from nwb_conversions.layouts.ssc11.traces import PlaneTraces
from nwb_conversions.samples.ssc11 import write_jrc_ablation, write_nyu_ablation, write_ssc11_session


def test_pixel_indices_are_one_based_and_column_major(tmp_path):
    indices = np.array([[1], [2], [512], [513], [1024], [512 * 512]], dtype=float)
    mask = decode_pixel_indices(indices, tmp_path, "rois{1}.indices")
    # (x = column, y = row), 0-based: MATLAB's x = ceil(i/512), y = mod(i-1, 512)+1 less one
    assert mask[:, :2].astype(int).tolist() == [[0, 0], [0, 1], [0, 511], [1, 0], [1, 511], [511, 511]]
    assert np.all(mask[:, 2] == 1.0)
    image = np.zeros((512, 512), dtype=bool)
    image[mask[:, 1].astype(int), mask[:, 0].astype(int)] = True
    assert np.array_equal(np.flatnonzero(image.ravel(order="F")) + 1, indices.ravel().astype(int))


@pytest.mark.parametrize("bad", [0, 512 * 512 + 1, 3.5, -7])
def test_pixel_indices_outside_the_image_are_refused(tmp_path, bad):
    with pytest.raises(SourceFormatError, match=r"outside 1\.\.262144"):
        decode_pixel_indices(np.array([[5.0], [bad]]), tmp_path, "rois{1}.indices")


def test_time_units(tmp_path):
    milliseconds = np.array([1234.0, 2000.5])
    assert time_unit_of(None, tmp_path, "timeUnit").to_seconds(milliseconds).tolist() == (milliseconds / 1000).tolist()
    assert time_unit_of("ms", tmp_path, "timeUnit") == time_unit_of(np.array([[1.0]]), tmp_path, "timeUnit")
    assert time_unit_of(np.array([[2.0]]), tmp_path, "timeUnit").to_seconds(milliseconds).tolist() == [1234.0, 2000.5]
    assert time_unit_of(np.array([[3.0]]), tmp_path, "timeUnit").to_seconds([2.0]).tolist() == [120.0]
    with pytest.raises(SourceFormatError, match="timeUnit is 'fortnights'"):
        time_unit_of("fortnights", tmp_path, "timeUnit")


def test_plane_traces_read_blocks_of_a_plane(tmp_path):
    matrix = np.arange(50.0).reshape(10, 5)  # (time, ROI)
    contiguous, scattered = PlaneTraces(matrix, [1, 2, 3]), PlaneTraces(matrix, [4, 0], num_frames=6)
    np.testing.assert_array_equal(contiguous[2:5], matrix[2:5, 1:4])
    assert scattered.shape == (6, 2)
    np.testing.assert_array_equal(scattered[4:10], matrix[4:6][:, [4, 0]])


def test_session_place_and_nyu_ablation(tmp_path):
    path = write_ssc11_session(tmp_path, condition_folder="session_neuropilone_postablate_whisking_merged", subvolume=3,
                               num_frames=30, rois_per_plane=(2, 2, 2), num_trials=2, version="5")
    place = locate_session(path)
    assert (place.subject_id, place.condition, place.ablation_type, place.subvolume) == (
        "an274424", "postablate", "whisking", 3)
    assert place.session_id == "an274424_postablate_whisking_vol03"
    [record] = place.ablations
    assert record.date == "2019-04-07"
    assert record.roi_ids.tolist() == [1020001, 1020002]  # the failed target is left out, the repeat counted once


def test_jrc_ablation_files_and_unknown_places(tmp_path):
    animal = tmp_path / "an257220"
    write_jrc_ablation(animal, "an257220", [5, 3, 5], date="2014_09_17")
    record = read_ablation_file(animal / "an257220_2014_09_17.mat")
    assert record.date == "2014-09-17" and record.roi_ids.tolist() == [3, 5]
    loose = write_ssc11_session(tmp_path / "elsewhere", condition_folder="misc", num_frames=30,
                                rois_per_plane=(2, 2, 2), num_trials=2, with_ablation=False)
    place = locate_session(loose.rename(loose.with_name("session.mat")))
    assert place.subject_id is None and place.condition is None and place.subvolume is None
    assert place.session_id == "unknown-animal"
    assert len(place.notes) == 3


def test_a_curation_file_without_its_ids_is_refused(tmp_path):
    path = write_nyu_ablation(tmp_path / "an1", [1, 2])
    from nwb_conversions.samples.matlab_files import write_mat_v5

    write_mat_v5(path, {"ablationTargetIds": np.array([[1.0, 2.0]])})
    with pytest.raises(SourceFormatError, match="no ablationTargetIds / ablationSuccessful"):
        read_ablation_file(path)
