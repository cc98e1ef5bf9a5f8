"""Facts a Neuropixels Opto session states twice: each is refused when the two places disagree (naming both) and
accepted when they agree, at the precision the file writes them."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.layouts.np_opto.consistency import agrees, check_sorting_agrees, check_stimulation_agrees
from nwb_conversions.layouts.np_opto.session import read_session_json
from nwb_conversions.layouts.np_opto.sorting import read_clusters, read_spikes
from nwb_conversions.layouts.np_opto.stimulation import read_stimulation
from nwb_conversions.samples.np_opto import DEFAULT_SESSION_ID, write_np_opto_session
from nwb_conversions.samples.np_opto_spikes import NO_PEAK_CLUSTER, SampleSize


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """What a small sample session's readers return: session.json, spike times, clusters, pulses."""
    folder = write_np_opto_session(tmp_path_factory.mktemp("consistency") / DEFAULT_SESSION_ID,
                                   size=SampleSize(num_clusters=12, repeats=1))
    info = read_session_json(folder / "session.json")
    return info, read_spikes(folder)[0], read_clusters(folder), read_stimulation(folder)


def stating(info, **changes):
    """``info`` with ``session.json`` keys changed (None removes a key)."""
    content = {**info.content, **changes}
    content = {key: value for key, value in content.items() if value is not None}
    qc_thresholds = content.get("qc_thresholds", {})
    return dataclasses.replace(info, content=content, qc_thresholds=qc_thresholds)


def check_all(info, times, clusters, stimulation):
    check_sorting_agrees(info, times, clusters)
    check_stimulation_agrees(info, stimulation)


COUNTS = {
    "n_spikes": "spikes.times.npy has {} rows",
    "n_clusters": "the clusters.* files have {} rows",
    "n_channels": "clusters.channelPositions.npy has {} rows",
    "n_qc_pass": "clusters.qcPass.npy passes {} clusters",
    "n_qc_fail": "clusters.qcPass.npy fails {} clusters",
    "n_trials": "stim.times.npy has {} rows",
}


@pytest.mark.parametrize("key", list(COUNTS))
def test_a_count_must_agree_with_the_arrays(session, key):
    info, times, clusters, stimulation = session
    actual = info.content[key]
    assert actual > 0
    check_all(info, times, clusters, stimulation)  # the sample states every count, and each agrees
    check_all(stating(info, **{key: None}), times, clusters, stimulation)  # an absent key states nothing
    with pytest.raises(SourceFormatError) as error:
        check_all(stating(info, **{key: actual + 1}), times, clusters, stimulation)
    assert str(error.value) == (
        f"{info.path}: '{key}' is {actual + 1} but {COUNTS[key].format(actual)}; "
        "expected the same count in session.json and the session's files"
    )


@pytest.mark.parametrize("value", ["12", 1.5, True, -1, [1]])
def test_a_count_of_another_type_is_refused(session, value):
    info, times, clusters, stimulation = session
    with pytest.raises(SourceFormatError, match=re.escape(f"'n_clusters' is {value!r}; expected an integer ≥ 0")):
        check_all(stating(info, n_clusters=value), times, clusters, stimulation)


def test_a_time_range_agrees_at_the_precision_it_is_written(session):
    info, times, clusters, stimulation = session
    first, last = float(times.min()), float(times.max())
    for written in ([first, last], [round(first, 3), round(last, 3)], [round(first, 1), round(last, 1)],
                    [int(first), int(round(last))]):
        check_sorting_agrees(stating(info, spike_time_range_s=written), times, clusters)
    for written in ([round(first, 1), round(last, 1) + 0.1], [first + 0.001, last], [first, last + 1e-4]):
        with pytest.raises(SourceFormatError, match=re.escape(f"but spikes.times.npy spans [{first!r}, {last!r}]")):
            check_sorting_agrees(stating(info, spike_time_range_s=written), times, clusters)


def test_a_time_range_is_never_judged_finer_than_one_sample():
    assert agrees(35.02596666666667 + 0.9 / 30_000, 35.02596666666667, 1 / 30_000)
    assert not agrees(35.02596666666667 + 1.1 / 30_000, 35.02596666666667, 1 / 30_000)
    assert agrees(3600, 3600.4, 0.0) and not agrees(3600, 3600.6, 0.0)
    assert agrees(3600.0, 3600.04, 0.0) and not agrees(3600.0, 3600.06, 0.0)


def test_the_stimulation_range_may_end_at_the_last_onset_or_the_last_offset(session):
    info, _, _, stimulation = session
    first, onset = float(stimulation.times.min()), float(stimulation.times.max())
    offset = float((stimulation.times + stimulation.durations).max())
    assert offset - onset > 0.1
    for end in (onset, offset):
        check_stimulation_agrees(stating(info, stim_time_range_s=[first, end]), stimulation)
    with pytest.raises(SourceFormatError, match=re.escape(f"stim.times.npy spans [{first!r}, {onset!r}] or")):
        check_stimulation_agrees(stating(info, stim_time_range_s=[first, (onset + offset) / 2]), stimulation)


@pytest.mark.parametrize("value", [35.0, [1.0], [0, "35"], [0, float("inf")], [True, 35.0], "0-35"])
def test_a_range_of_another_form_is_refused(session, value):
    info, times, clusters, _ = session
    with pytest.raises(SourceFormatError, match="expected \\[first, last\\] in seconds"):
        check_sorting_agrees(stating(info, spike_time_range_s=value), times, clusters)


def test_top_chan_must_be_a_channel_of_the_probe(session):
    info, times, clusters, _ = session
    for top_chan in (0, 212, 383, 384):
        check_sorting_agrees(stating(info, top_chan=top_chan), times, clusters)
    with pytest.raises(SourceFormatError, match="'top_chan' is 385 but clusters.channelPositions.npy has 384 channels"):
        check_sorting_agrees(stating(info, top_chan=385), times, clusters)


def test_qc_pass_must_follow_the_metrics_and_the_thresholds(session):
    info, times, clusters, _ = session
    passed = int(np.argmax(clusters.qc_pass))
    assert clusters.qc_pass[passed] and np.isnan(clusters.presence_ratio[NO_PEAK_CLUSTER])
    flipped = clusters.qc_pass.copy()
    flipped[passed] = False
    counts = dict(n_qc_pass=None, n_qc_fail=None)
    with pytest.raises(SourceFormatError) as error:
        check_sorting_agrees(stating(info, **counts), times, dataclasses.replace(clusters, qc_pass=flipped))
    assert str(error.value).startswith(f"{info.path.parent / 'clusters.qcPass.npy'}: cluster {passed} fails QC, but ")
    assert "session.json's qc_thresholds" in str(error.value)
    nan_flipped = clusters.qc_pass.copy()
    nan_flipped[NO_PEAK_CLUSTER] = True  # NaN metrics ("no QC file"): nothing to compare
    check_sorting_agrees(stating(info, **counts), times, dataclasses.replace(clusters, qc_pass=nan_flipped))
    check_sorting_agrees(stating(info, qc_thresholds={"presence_ratio_min": 0.8}, **counts), times,
                         dataclasses.replace(clusters, qc_pass=flipped))  # thresholds not all stated


def test_a_metric_on_its_threshold_may_pass_or_fail(session):
    info, times, clusters, _ = session
    passed = int(np.argmax(clusters.qc_pass))
    on_threshold = {"presence_ratio_min": float(clusters.presence_ratio[passed]),
                    "isi_violations_ratio_max": 0.5, "amplitude_cutoff_max": 0.1}
    for verdict in (True, False):
        qc_pass = clusters.qc_pass.copy()
        qc_pass[passed] = verdict
        check_sorting_agrees(stating(info, qc_thresholds=on_threshold, n_qc_pass=None, n_qc_fail=None), times,
                             dataclasses.replace(clusters, qc_pass=qc_pass))


def write_session_json(folder, **changes):
    content = {"session_id": DEFAULT_SESSION_ID, "subject": "AL_0034", "date": "2024-12-05", "en": 1,
               "probe_index": 0, **changes}
    path = folder / "session.json"
    path.write_text(json.dumps({key: value for key, value in content.items() if value is not None}))
    return path


@pytest.mark.parametrize(
    "key, value, says",
    [("subject", "AL_0035", "AL0034"), ("subject", "al0034", "AL0034"), ("date", "2024-12-06", "2024-12-05"),
     ("en", 3, "1"), ("probe_index", 1, "0")],
)
def test_the_session_id_must_agree_with_the_keys(tmp_path, key, value, says):
    folder = tmp_path / DEFAULT_SESSION_ID
    folder.mkdir()
    read_session_json(write_session_json(folder))
    with pytest.raises(SourceFormatError) as error:
        read_session_json(write_session_json(folder, **{key: value}))
    assert f"'{key}' is {value!r} but 'session_id' '{DEFAULT_SESSION_ID}' says {says}; expected the same" in str(
        error.value
    )


def test_the_subject_is_compared_without_underscores_and_absent_keys_state_nothing(tmp_path):
    folder = tmp_path / DEFAULT_SESSION_ID
    folder.mkdir()
    for changes in ({"subject": "AL0034"}, {"subject": None, "date": None, "en": None, "probe_index": None}):
        assert read_session_json(write_session_json(folder, **changes)).session_id == DEFAULT_SESSION_ID


def test_the_folder_name_must_be_the_session_id_when_it_is_one(tmp_path):
    other = tmp_path / "AL0034_2024-12-05_en2_p0"
    other.mkdir()
    with pytest.raises(SourceFormatError, match=re.escape(
        f"'session_id' is '{DEFAULT_SESSION_ID}' but its folder is named 'AL0034_2024-12-05_en2_p0'"
    )):
        read_session_json(write_session_json(other))
    renamed = tmp_path / "my copy of session 1"
    renamed.mkdir()
    assert read_session_json(write_session_json(renamed)).session_id == DEFAULT_SESSION_ID
    free_form = tmp_path / "free"
    free_form.mkdir()  # a session id of another form: nothing in it to compare
    assert read_session_json(write_session_json(free_form, session_id="pilot-3", probe_index=7)).probe_index == 7


def test_the_folder_name_is_compared_when_the_session_is_the_working_folder(tmp_path, monkeypatch):
    other = tmp_path / "AL0034_2024-12-05_en1_p1"
    other.mkdir()
    write_session_json(other)
    monkeypatch.chdir(other)
    with pytest.raises(SourceFormatError, match="but its folder is named 'AL0034_2024-12-05_en1_p1'"):
        read_session_json(Path("session.json"))
