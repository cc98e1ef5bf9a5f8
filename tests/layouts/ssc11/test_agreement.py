"""Every fact the SSC-11 ``sess`` struct states twice: refused with one line naming both places when the two
disagree, accepted when they agree (the sample states each of them twice, and agrees)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.layouts.ssc11.behavior import read_behavior
from nwb_conversions.layouts.ssc11.imaging import read_calcium_imaging
from nwb_conversions.layouts.ssc11.release import locate_session
from nwb_conversions.layouts.ssc11.struct import LoadedSession, check_mouse_id
from nwb_conversions.samples.ssc11_struct import build_session_struct

SOURCE = Path("an274424") / "session_neuropilone_preablate_merged" / "an274424_vol_01_sess_struct.mat"


def small_struct() -> dict:
    """42 frames, 2 + 3 + 2 ROIs (ids 1010001, 1010002, 1020001, ...), 3 trials (ids 101-103)."""
    return build_session_struct(num_frames=42, rois_per_plane=(2, 3, 2), num_trials=3)


def read_all(sess: dict, file_path: Path = SOURCE):
    """What a conversion reads of the struct: the path's animal, the imaging, the behaviour and the trials."""
    check_mouse_id(file_path, sess)
    loaded = LoadedSession(file_path, sess)
    return read_calcium_imaging(loaded), read_behavior(loaded)


def ca(sess: dict) -> dict:
    return sess["caTSA"]


def lick(sess: dict) -> dict:
    return sess["behavESA"]["esa"][0]


def shifted(values: np.ndarray, index: int, by: float) -> np.ndarray:
    values = values.copy()
    values.flat[index] += by
    return values


def twice(hash_struct: dict, key: str, value) -> None:
    """List ``key`` a second time in a flattened hash, with ``value``."""
    hash_struct["keys"] = [*hash_struct["keys"], key]
    hash_struct["values"] = [*hash_struct["values"], value]


REFUSED = {
    "dff time": (lambda s: ca(s)["dffTimeSeriesArray"].update(time=shifted(ca(s)["time"], 5, 1.0)),
                 "sess.caTSA.dffTimeSeriesArray.time(6) is 2.765285714 s but sess.caTSA.time(6) is 2.764285714 s"),
    "dff ids": (lambda s: ca(s)["dffTimeSeriesArray"].update(ids=shifted(ca(s)["ids"], 1, 5.0)),
                "sess.caTSA.dffTimeSeriesArray.ids(2) is 1010007 but sess.caTSA.ids(2) is 1010002"),
    "trialIndices": (lambda s: ca(s).update(trialIndices=ca(s)["trialIndices"][:, 1:]),
                     "sess.caTSA.trialIndices has 41 entries but sess.caTSA.time has 42 frames"),
    "numFOVs": (lambda s: ca(s).update(numFOVs=np.array([[4.0]])),
                "sess.caTSA.numFOVs is 4 but sess.caTSA.roiArray holds 3 planes"),
    "roiFOVidx value": (lambda s: ca(s).update(roiFOVidx=shifted(ca(s)["roiFOVidx"], 2, 1.0)),
                        "sess.caTSA.roiFOVidx(3) is 3 but ROI 1020001 (sess.caTSA.ids(3)) is in sess.caTSA.roiArray{2}"),
    "roiFOVidx length": (lambda s: ca(s).update(roiFOVidx=ca(s)["roiFOVidx"][:, :-1]),
                         "sess.caTSA.roiFOVidx has 6 entries but sess.caTSA.ids has 7 ROI ids"),
    "rois id": (lambda s: ca(s)["roiArray"][1]["rois"][2].update(id=1020002.0),
                "sess.caTSA.roiArray{2}.rois{3}.id is 1020002 but sess.caTSA.roiArray{2}.roiIds(3) is 1020003"),
    "imageBounds": (lambda s: ca(s)["roiArray"][0].update(imageBounds=np.array([[512.0, 256.0]])),
                    "sess.caTSA.roiArray{1}.imageBounds(2) is 256 but the 512 x 512 image"),
    "ids repeated": (lambda s: ca(s)["ids"].__setitem__((0, 4), 1020001.0),
                     "sess.caTSA.ids(3) and sess.caTSA.ids(5) are both 1020001"),
    "event series id": (lambda s: ca(s)["caPeakEventSeriesArray"]["esa"][3].update(id=5.0),
                        "sess.caTSA.caPeakEventSeriesArray.esa{4}.id is 5 but sess.caTSA.caPeakEventSeriesArray.ids(4) "
                        "is 1020002"),
    "calcium eventTrials": (
        lambda s: ca(s)["caPeakEventSeriesArray"]["esa"][0].update(eventTrials=np.array([[101.0] * 9])),
        "sess.caTSA.caPeakEventSeriesArray.esa{1}.eventTrials has 9 entries but "
        "sess.caTSA.caPeakEventSeriesArray.esa{1}.eventTimes has"),
    "lick eventTrials": (lambda s: lick(s).update(eventTrials=lick(s)["eventTrials"][:, :-1]),
                         "sess.behavESA.esa{1}.eventTrials has 5 entries but sess.behavESA.esa{1}.eventTimes has 6"),
    "whisker idStrs": (lambda s: s["whiskerAngleTSA"].update(idStrs=["c1", "c2"]),
                       "sess.whiskerAngleTSA.idStrs has 2 names but sess.whiskerAngleTSA.valueMatrix has 1 rows"),
    "whisker ids": (lambda s: s["whiskerCurvatureTSA"].update(ids=np.array([[1.0, 2.0]])),
                    "sess.whiskerCurvatureTSA.ids has 2 ids but sess.whiskerCurvatureTSA.valueMatrix has 1 rows"),
    "trial id": (lambda s: s["trial"][1].update(id=999.0), "sess.trial{2}.id is 999 but sess.trialIds(2) is 102"),
    "trial startTime": (lambda s: s["trial"][2].update(startTime=s["trial"][2]["startTime"] + 250.0),
                        "sess.trial{3}.startTime is "),
    "trial typeIds": (lambda s: s["trial"][0].update(typeIds=2.0),
                      "sess.trial{1}.typeIds is [2] but sess.trialTypeMat(:, 1) sets rows [1]"),
    "trialIds repeated": (lambda s: s["trialIds"].__setitem__((0, 2), 101.0),
                          "sess.trialIds(1) and sess.trialIds(3) are both 101"),
    "cellFeatures key": (lambda s: twice(ca(s)["cellFeatures"], "eventRateHz", np.zeros((1, 7))),
                         "sess.caTSA.cellFeatures.keys{1} and sess.caTSA.cellFeatures.keys{5} are both 'eventRateHz'"),
    "behavParams key": (lambda s: twice(s["trial"][0]["behavParams"], "polePositionAP", 1.0),
                        "sess.trial{t}.behavParams.keys{1} and sess.trial{t}.behavParams.keys{3} are both"),
    "mouseId": (lambda s: s.update(mouseId=np.array([[274425.0]])), "sess.mouseId is 274425 but the path says an274424"),
    "mouseId text": (lambda s: s.update(mouseId="an27442"), "sess.mouseId is 'an27442' but the path says an274424"),
    "NaN frame time": (lambda s: ca(s)["time"].__setitem__((0, 7), np.nan), "sess.caTSA.time(8) is nan"),
    "NaN event time": (lambda s: lick(s)["eventTimes"].__setitem__((0, 0), np.nan),
                       "sess.behavESA.esa{1}.eventTimes(1) is nan"),
    "NaN trial start": (lambda s: s["trialStartTimes"].__setitem__((0, 1), np.inf), "sess.trialStartTimes(2) is inf"),
    "NaN whisker time": (lambda s: s["whiskerAngleTSA"]["time"].__setitem__((0, 3), np.nan),
                         "sess.whiskerAngleTSA.time(4) is nan"),
    "NaN trial end": (lambda s: s["trial"][1].update(endTime=np.nan), "the trials' endTime(2) is nan"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_fact_stated_twice_that_disagrees_is_refused(case):
    change, phrase = REFUSED[case]
    sess = small_struct()
    change(sess)
    with pytest.raises(SourceFormatError) as raised:
        read_all(sess)
    message = str(raised.value)
    assert message.startswith(f"{SOURCE}: ") and "\n" not in message
    assert phrase in message, message


def test_the_sample_states_each_fact_twice_and_is_accepted():
    sess = small_struct()
    calcium, trial = ca(sess), sess["trial"][0]
    stated_twice = [calcium["dffTimeSeriesArray"].get(key) for key in ("ids", "time")] + [
        calcium.get("trialIndices"), calcium.get("numFOVs"), calcium.get("roiFOVidx"),
        calcium["roiArray"][0]["rois"][0].get("id"), calcium["roiArray"][0].get("imageBounds"),
        calcium["caPeakEventSeriesArray"]["esa"][0].get("id"), lick(sess).get("eventTrials"),
        sess["whiskerAngleTSA"].get("ids"), sess["whiskerAngleTSA"].get("idStrs"),
        trial.get("id"), trial.get("startTime"), trial.get("typeIds"),
    ]
    assert all(value is not None for value in stated_twice)  # so that accepting it is not vacuous
    imaging, behavior = read_all(sess)
    assert imaging.roi_ids.size == 7 and [plane.roi_ids.size for plane in imaging.planes] == [2, 3, 2]
    assert imaging.event_trials is not None and behavior.trials.trial_ids.tolist() == [101, 102, 103]


@pytest.mark.parametrize(
    "change",
    [
        lambda s: ca(s)["dffTimeSeriesArray"].update(time=ca(s)["time"] / 1000, timeUnit=2.0),  # the same, in s
        lambda s: s["trial"][1].update(startTime=s["trial"][1]["startTime"] / 1000, timeUnit=2.0),
        lambda s: twice(ca(s)["cellFeatures"], "eventRateHz", ca(s)["cellFeatures"]["values"][0].copy()),
        lambda s: twice(s["trial"][0]["behavParams"], "polePositionML", 0.0),
        lambda s: s.update(mouseId=np.array([[274424.0]])),
        lambda s: s.update(mouseId="an274424"),
        lambda s: ca(s)["roiArray"][2].update(imageBounds=np.array([[512.0], [512.0]])),
    ],
    ids=["dff time in seconds", "trial start in seconds", "feature key twice, same value", "param key twice, same",
         "mouseId number", "mouseId text", "imageBounds as a column"],
)
def test_a_fact_stated_twice_that_agrees_is_accepted(change):
    sess = small_struct()
    change(sess)
    imaging, behavior = read_all(sess)
    assert imaging.cell_features["eventRateHz"].size == 7
    assert behavior.trials.pole_position_ap.size == 3


def test_the_file_name_and_the_animal_folder_must_name_one_animal(tmp_path):
    agreeing = tmp_path / "an274424" / "session_neuropilone_preablate_merged" / "an274424_vol_02_sess_struct.mat"
    agreeing.parent.mkdir(parents=True)
    assert locate_session(agreeing).subject_id == "an274424"
    other = tmp_path / "an274425" / "session_neuropilone_preablate_merged" / "an274424_vol_02_sess_struct.mat"
    other.parent.mkdir(parents=True)
    with pytest.raises(SourceFormatError, match="the file name says an274424 but its animal folder an274425/ says "
                                                "an274425"):
        locate_session(other)
