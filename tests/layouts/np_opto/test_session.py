"""Neuropixels Opto session files: emitter id base, Kilosort labels, waveform types, session.json."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.layouts.np_opto.session import find_calibration_files, read_session_json
from nwb_conversions.layouts.np_opto.sorting import read_ks_labels, read_waveform_types
from nwb_conversions.layouts.np_opto.stimulation import emission_site_base


@pytest.mark.parametrize(
    "ids, base, reason",
    [
        ([0, 5, 13], 0, "id 0 occurs"),
        ([1, 14], 1, "id 14 occurs"),
        ([3, 7, 13], 1, "ids 1–13 fit both readings"),
        ([], 1, "no pulse"),
    ],
)
def test_emitter_id_base_is_decided_from_the_ids(tmp_path, ids, base, reason):
    found, note = emission_site_base(np.array(ids, dtype=np.int32), tmp_path / "stim.emissionSites.npy")
    assert found == base and reason in note


@pytest.mark.parametrize(
    "ids, shown", [([0, 14], "0–14 (e.g. 0)"), ([2, 15], "2–15 (e.g. 15)"),
                   ([-1, 3], "-1–3 (e.g. -1)")])
def test_emitter_ids_outside_both_readings_are_refused(tmp_path, ids, shown):
    with pytest.raises(SourceFormatError, match=re.escape(f"ids span {shown}")):
        emission_site_base(np.array(ids), tmp_path / "stim.emissionSites.npy")


def test_ks_labels_by_cluster_id_comma_or_tab(tmp_path):
    path = tmp_path / "clusters.KSLabel.csv"
    path.write_text("cluster_id,KSLabel\n2,good\n0,mua\n")
    assert read_ks_labels(path, 4) == ["mua", "", "good", ""]
    path.write_text("cluster_id\tKSLabel\n1\tgood\n")
    assert read_ks_labels(path, 2) == ["", "good"]
    assert read_ks_labels(tmp_path / "absent.csv", 2) is None
    path.write_text("cluster_id,KSLabel\n5,good\n")
    with pytest.raises(SourceFormatError, match="line 2 names cluster 5, but there are 2"):
        read_ks_labels(path, 2)
    path.write_text("id,label\n0,good\n")
    with pytest.raises(SourceFormatError, match="starts with 'id,label'"):
        read_ks_labels(path, 2)


def test_a_cluster_labelled_twice_must_have_one_label(tmp_path):
    path = tmp_path / "clusters.KSLabel.csv"
    path.write_text("cluster_id,KSLabel\n0,good\n1,mua\n0,good\n")
    assert read_ks_labels(path, 2) == ["good", "mua"]
    path.write_text("cluster_id,KSLabel\n0,good\n1,mua\n\n0,mua\n")
    with pytest.raises(SourceFormatError) as error:
        read_ks_labels(path, 2)
    assert str(error.value) == (
        f"{path}: cluster 0 is labelled 'good' on line 2 and 'mua' on line 5; expected one label per cluster id (a "
        "cluster listed twice with the same label)"
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (b"cluster_id,KSLabel\n" + b"7" * 200_000 + b"\n", "not readable CSV (line 2: field larger than field limit"),
        (b"cluster_id,KSLabel\n\x000,good\n", "holds a NUL character"),
        (b"cluster_id,KSLabel\n" + b"9" * 5000 + b",good\n", "line 2 is '99999"),
        (b"cluster_id,KSLabel\n-1,good\n", "line 2 names cluster -1, but there are 2"),
    ],
)
def test_damaged_labels_are_one_error(tmp_path, content, message):
    path = tmp_path / "clusters.KSLabel.csv"
    path.write_bytes(content)
    with pytest.raises(SourceFormatError, match=re.escape(message)):
        read_ks_labels(path, 2)


def test_waveform_types_need_one_line_per_cluster(tmp_path):
    path = tmp_path / "clusters.waveformType.txt"
    path.write_text("RS\nFS\n")
    assert read_waveform_types(path, 2) == ["RS", "FS"]
    with pytest.raises(SourceFormatError, match="has 2 lines but there are 3 clusters"):
        read_waveform_types(path, 3)


def test_session_json_keys_are_checked(tmp_path):
    path = tmp_path / "session.json"
    path.write_text(json.dumps({"session_id": "AL0034_2024-12-05_en1_p0", "subject": "AL_0034", "date": "2024-12-05",
                                "probe_index": 0, "sampling_rate": 30000,
                                "qc_thresholds": {"presence_ratio_min": 0.8}}))
    info = read_session_json(path)
    assert (info.subject, info.date.isoformat(), info.probe_index, info.sampling_rate) == (
        "AL_0034", "2024-12-05", 0, 30000.0
    )
    for content, message in [
        ({"session_id": ""}, "has no 'session_id'"),
        ({"session_id": "x", "date": "05/12/2024"}, "'date' is '05/12/2024'"),
        ({"session_id": "x", "sampling_rate": -1}, "'sampling_rate' = -1 is outside the plausible range"),
        ({"session_id": "x", "probe_index": "0"}, "'probe_index' is '0'"),
    ]:
        path.write_text(json.dumps(content))
        with pytest.raises(SourceFormatError, match=message):
            read_session_json(path)


def test_calibration_files_are_found_in_both_layouts(tmp_path):
    for name in ("laser_calibration.json", "calibration.json", "laser_calibration.mat"):
        (tmp_path / name).write_text("{}")
    nested = tmp_path / "sessions" / "s1"
    flat = tmp_path / "s2"
    nested.mkdir(parents=True)
    flat.mkdir()
    for session in (nested, flat):
        json_files, mat_files = find_calibration_files(session)
        assert [path.name for path in json_files] == ["laser_calibration.json", "calibration.json"]
        assert [path.name for path in mat_files] == ["laser_calibration.mat"]
    other = tmp_path / "elsewhere" / "s3"
    other.mkdir(parents=True)
    assert find_calibration_files(other) == ([], [])
