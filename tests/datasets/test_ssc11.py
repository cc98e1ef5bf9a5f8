"""``convert-to-nwb ssc11``: v5 = v7.3, ROIs, traces, events, behaviour, trials, ablation, the gate, bad input."""

from __future__ import annotations

import gc

import h5py
import numpy as np
import pytest
from pynwb import NWBHDF5IO
from scipy.io import loadmat

from nwb_conversions.datasets import registered_datasets
from nwb_conversions.publishing.gate import inspect_file
from nwb_conversions.samples.matlab_files import write_mat_v5
from nwb_conversions.samples.ssc11 import (
    write_class_object_v5,
    write_class_object_v73,
    write_sample,
    write_session_file,
)
from nwb_conversions.samples.ssc11_struct import build_session_struct


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The same sample written as v5 and as v7.3, each converted through the command line (the gate: below)."""
    from nwb_conversions.cli.main import main

    results = {}
    for version in ("5", "7.3"):
        folder = tmp_path_factory.mktemp(f"v{version}")
        source, metadata_path = write_sample(folder / "source", version=version)
        output = folder / "out.nwb"
        assert main(["ssc11", str(source), str(output), "--metadata", str(metadata_path), "--no-inspect"]) == 0
        results[version] = (source, output)
    return results


def file_contents(path) -> dict:
    """Every dataset and attribute of an NWB file but its creation date and identifier, references as paths."""
    found = {}

    def value(item):
        if isinstance(item, h5py.Reference):
            return h5.get(item).name if item else None
        if isinstance(item, np.ndarray) and h5py.check_dtype(ref=item.dtype):
            return [h5[ref].name for ref in item.ravel()]
        if isinstance(item, np.ndarray) and item.dtype.names and "table" in item.dtype.names:
            return [(row["idx_start"], row["count"], h5[row["table"]].name) for row in item]
        return item

    def visit(name, item):
        for key, attribute in item.attrs.items():
            if key != "object_id":  # a fresh UUID per write
                found[f"{name}@{key}"] = value(attribute)
        if isinstance(item, h5py.Dataset) and not name.endswith(("file_create_date", "identifier")):
            found[name] = value(item[()])

    with h5py.File(path, "r") as h5:
        h5.visititems(visit)
    return found


def test_v5_and_v73_samples_convert_to_identical_files(converted):
    first, second = (file_contents(converted[version][1]) for version in ("5", "7.3"))
    assert sorted(first) == sorted(second)
    for name in first:
        if isinstance(first[name], np.ndarray) and first[name].dtype.kind == "O":
            assert first[name].tolist() == second[name].tolist(), name
        elif isinstance(first[name], (np.ndarray, np.generic)):
            assert first[name].dtype == second[name].dtype, name
            np.testing.assert_array_equal(first[name], second[name], err_msg=name)  # NaN equals NaN here
        else:
            assert first[name] == second[name], name


def source_struct(path):
    """The v5 sample as scipy's own simplified loader reads it (independent of the project's reader)."""
    return loadmat(str(path), simplify_cells=True)["sess"]


def test_rois_traces_events_and_ablation_equal_the_source(converted):
    source, output = converted["5"]
    sess = source_struct(source)
    ca = sess["caTSA"]
    ids = ca["ids"].astype(int)
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.subject.subject_id == "an274424" and nwbfile.session_id == "an274424_postablate_vol01"
        assert "subvolume 1, after ablation" in nwbfile.session_description
        ophys = nwbfile.processing["ophys"]
        timestamps = ophys["DfOverF"]["DfOverFPlane1"].timestamps[:]
        np.testing.assert_array_equal(timestamps, ca["time"] / 1000)
        for plane_number, plane in enumerate(ca["roiArray"], start=1):
            table = ophys["ImageSegmentation"][f"PlaneSegmentation{plane_number}"]
            plane_ids = plane["roiIds"].astype(int)
            assert list(table.id[:]) == plane_ids.tolist()
            for row, roi in enumerate(plane["rois"]):
                indices = np.atleast_1d(roi["indices"]).astype(int)
                expected = sorted(zip((indices - 1) // 512, (indices - 1) % 512))
                assert sorted((int(x), int(y)) for x, y, _ in table["pixel_mask"][row]) == expected
            rows = [int(np.flatnonzero(ids == roi_id)[0]) for roi_id in plane_ids]
            dff = ophys["DfOverF"][f"DfOverFPlane{plane_number}"]
            raw = ophys["Fluorescence"][f"FluorescencePlane{plane_number}"]
            assert dff.data.shape == (ca["time"].size, plane_ids.size)
            np.testing.assert_array_equal(dff.data[:], ca["dffTimeSeriesArray"]["valueMatrix"][rows].T)
            np.testing.assert_array_equal(raw.data[:], ca["valueMatrix"][rows].T)
            assert raw.timestamps[:].tolist() == timestamps.tolist()
            assert list(dff.rois.data[:]) == list(range(plane_ids.size))
            features = dict(zip(ca["cellFeatures"]["keys"], ca["cellFeatures"]["values"]))
            np.testing.assert_array_equal(table["eventRateHz"][:], features["eventRateHz"][rows])
            assert "dffBased_HitLTrialAvg" not in table.colnames  # 70 x ROI, not one number per ROI
            ablated = {1020001, 1020002, 1020003, 1020004}
            assert table["is_ablated"][:].tolist() == [roi_id in ablated for roi_id in plane_ids]
            events = ophys[f"CalciumEventsPlane{plane_number}"]
            expected_events = sorted(
                (float(t) / 1000, int(roi_id))
                for roi_id, series in zip(ids, ca["caPeakEventSeriesArray"]["esa"]) if roi_id in plane_ids
                for t in np.atleast_1d(series["eventTimes"])
            )
            assert sorted(zip(events["timestamp"][:].tolist(), events["roi_id"][:].tolist())) == expected_events
        top_left = ophys["ImageSegmentation"]["PlaneSegmentation1"]["pixel_mask"][0]
        assert (0, 0) in {(int(x), int(y)) for x, y, _ in top_left}
        last = ophys["ImageSegmentation"]["PlaneSegmentation3"]["pixel_mask"][-1]
        assert (511, 511) in {(int(x), int(y)) for x, y, _ in last}
        plane = nwbfile.imaging_planes["ImagingPlane2"]
        assert plane.imaging_rate == 7.0 and plane.location == "SSp-bfd"
        np.testing.assert_allclose(plane.grid_spacing[:], [600 / 512 * 1e-6] * 2)
        np.testing.assert_allclose(plane.origin_coords[:], [0, 0, 15e-6])


def test_behaviour_and_trials_equal_the_source(converted):
    source, output = converted["5"]
    sess = source_struct(source)
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        trials = nwbfile.trials.to_dataframe()
        np.testing.assert_array_equal(trials["start_time"], sess["trialStartTimes"] / 1000)
        np.testing.assert_array_equal(trials["stop_time"], [trial["endTime"] / 1000 for trial in sess["trial"]])
        assert trials["trial_id"].tolist() == sess["trialIds"].astype(int).tolist()
        names = sess["trialTypeStr"]
        assert trials["trial_type"].tolist() == [names[np.flatnonzero(column)[0]] for column in sess["trialTypeMat"].T]
        assert trials["correct"].tolist() == [name.startswith("Hit") for name in trials["trial_type"]]
        assert trials["lick_side"].tolist() == ["left", "right", "right", "left", "none", "none"]
        assert trials["pole_position_ap"].tolist() == [trial["behavParams"]["values"][0] for trial in sess["trial"]]
        angle = nwbfile.processing["behavior"]["BehavioralTimeSeries"]["WhiskerAngle"]
        np.testing.assert_array_equal(angle.data[:, 0], sess["whiskerAngleTSA"]["valueMatrix"])
        np.testing.assert_array_equal(angle.timestamps[:], sess["whiskerAngleTSA"]["time"] / 1000)
        licks = nwbfile.get_events_table("LickLeft")
        left = sess["behavESA"]["esa"][0]
        np.testing.assert_array_equal(licks["timestamp"][:], left["eventTimes"] / 1000)
        assert licks["trial_id"][:].tolist() == left["eventTrials"].astype(int).tolist()
        protraction = nwbfile.get_events_table("TouchProtraction")
        touches = sess["whiskerBarContactClassifiedESA"]["esa"][0]["eventTimes"]
        np.testing.assert_array_equal(protraction["timestamp"][:], touches / 1000)
        assert {"TouchRetraction", "PoleInReach", "LickRight", "PoleMovement"} <= set(nwbfile.events)


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_samples_pass_the_gate(converted, version):
    report = inspect_file(converted[version][1])
    for level in ("CRITICAL", "BEST_PRACTICE_VIOLATION", "ERROR", "PYNWB_VALIDATION"):
        assert report.by_importance(level) == [], level


def test_absent_fields_are_skipped_and_named(tmp_path, run_cli):
    sess = build_session_struct(num_frames=42, rois_per_plane=(2, 3, 2), num_trials=3)
    for name in ("whiskerAngleTSA", "behavESA", "trialTypeMat"):
        del sess[name]
    del sess["caTSA"]["caPeakEventSeriesArray"]
    source = write_session_file(tmp_path / "an274424" / "session_neuropilone_preablate_merged" /
                                "an274424_vol_02_sess_struct.mat", sess, version="5")
    output = tmp_path / "out.nwb"
    code, stdout, stderr = run_cli("ssc11", source, output, "--stub", "--no-inspect")
    assert code == 0, stderr
    for fragment in ("no sess.whiskerAngleTSA", "no sess.behavESA", "no sess.trialTypeMat",
                     "no sess.caTSA.caPeakEventSeriesArray", "no ablation files"):
        assert fragment in stderr
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert "WhiskerAngle" not in nwbfile.processing["behavior"]["BehavioralTimeSeries"].time_series
        assert "CalciumEventsPlane1" not in nwbfile.processing["ophys"].data_interfaces
        assert "is_ablated" not in nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation1"].colnames
        assert set(nwbfile.trials.colnames) == {"start_time", "stop_time", "trial_id", "trial_type", "pole_position_ap"}
        dff = nwbfile.processing["ophys"]["DfOverF"]["DfOverFPlane1"]
        frame_times = dff.get_timestamps()
        assert frame_times[-1] - frame_times[0] <= 2.0 and dff.data.shape[0] == frame_times.shape[0] < 42
        assert nwbfile.session_id == "an274424_preablate_vol02"


# ---- bad input: one `error:` line, exit 1, no output ----------------------------------------------------------------


def small_struct():
    return build_session_struct(num_frames=42, rois_per_plane=(2, 3, 2), num_trials=3)


def with_struct(change):
    def write(path):
        sess = small_struct()
        change(sess)
        write_session_file(path, sess, version="7.3")

    return write


def set_in(path, value):
    def change(sess):
        *parents, last = path.split(".")
        target = sess
        for name in parents:
            target = target[name] if not name.isdigit() else target[int(name)]
        target[last] = value

    return change


BAD_INPUTS = {
    "not-a-mat-file": (lambda path: path.write_text("roi,time\n" * 40), "not a MATLAB file"),
    "truncated-v73": (
        lambda path: (write_session_file(path, small_struct(), version="7.3"),
                      path.write_bytes(path.read_bytes()[:30_000])),
        "unreadable MAT 7.3 file",
    ),
    "truncated-v5": (
        lambda path: (write_session_file(path, small_struct(), version="5"), path.write_bytes(path.read_bytes()[:9_000])),
        "damaged MATLAB 5 file",
    ),
    "class-object-v5": (write_class_object_v5, "MATLAB class object"),
    "class-object-v73": (write_class_object_v73, "MATLAB class object"),
    "no-sess": (lambda path: write_mat_v5(path, {"session": small_struct()}), "no 'sess' variable (variables: session)"),
    "ids-vs-dff-rows": (
        with_struct(lambda sess: sess["caTSA"]["dffTimeSeriesArray"].update(
            valueMatrix=sess["caTSA"]["dffTimeSeriesArray"]["valueMatrix"][:-1])),
        "sess.caTSA.dffTimeSeriesArray.valueMatrix has 6 rows but sess.caTSA.ids lists 7 ROI ids",
    ),
    "dff-ids-differ": (
        with_struct(lambda sess: sess["caTSA"]["dffTimeSeriesArray"].update(
            ids=sess["caTSA"]["dffTimeSeriesArray"]["ids"][:, ::-1])),
        "sess.caTSA.dffTimeSeriesArray.ids(1) is 1030002 but sess.caTSA.ids(1) is 1010001",
    ),
    "plane-roi-not-in-matrix": (
        with_struct(lambda sess: sess["caTSA"]["roiArray"][1].update(roiIds=np.array([[1.0, 2.0, 3.0]]))),
        "sess.caTSA.roiArray{2}.roiIds has ROI id 1 that sess.caTSA.ids lacks",
    ),
    "roi-in-two-planes": (
        with_struct(lambda sess: (sess["caTSA"]["roiArray"][1]["roiIds"].__setitem__((0, 0), 1010001.0),
                                  sess["caTSA"]["roiArray"][1]["rois"][0].update(id=1010001.0))),
        "sess.caTSA.roiArray{2}.roiIds lists ROI id 1010001, which sess.caTSA.roiArray{1}.roiIds lists too",
    ),
    "fractional-roi-id": (
        with_struct(lambda sess: sess["caTSA"]["ids"].__setitem__((0, 0), 1010001.5)),
        "sess.caTSA.ids holds non-integer values",
    ),
    "time-length": (
        with_struct(set_in("caTSA.time", np.arange(41.0).reshape(1, -1))),
        "sess.caTSA.time has 41 entries but sess.caTSA.valueMatrix has 42 time points",
    ),
    "pixel-outside": (
        with_struct(lambda sess: sess["caTSA"]["roiArray"][0]["rois"][1].update(
            indices=np.array([[5.0], [512.0 * 512 + 1]]))),
        "sess.caTSA.roiArray{1}.rois{2}.indices holds pixel index 262145, outside 1..262144",
    ),
    "pixel-zero": (
        with_struct(lambda sess: sess["caTSA"]["roiArray"][2]["rois"][0].update(indices=np.array([[0.0]]))),
        "holds pixel index 0, outside 1..262144",
    ),
    "trial-lengths": (
        with_struct(set_in("trialIds", np.array([[101.0, 102.0]]))),
        "the trial fields have mismatched lengths (sess.trialStartTimes 3, sess.trialIds 2, "
        "sess.trialTypeMat columns 3, sess.trial 3)",
    ),
    "whisker-time-length": (
        with_struct(lambda sess: sess["whiskerAngleTSA"].update(time=sess["whiskerAngleTSA"]["time"][:, 1:])),
        "sess.whiskerAngleTSA.time has",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_error_line_and_no_output(tmp_path, run_cli, case):
    corrupt, problem = BAD_INPUTS[case]
    source = tmp_path / "an274424" / "session_neuropilone_preablate_merged" / "an274424_vol_01_sess_struct.mat"
    source.parent.mkdir(parents=True)
    corrupt(source)
    output = tmp_path / "out" / "session.nwb"
    code, stdout, stderr = run_cli("ssc11", source, output)
    assert code == 1, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {source}: "), stderr
    assert problem in lines[0]
    assert not output.exists() and not (output.parent.exists() and list(output.parent.iterdir()))


@pytest.mark.parametrize("version", ["7.3", "5", "6"])
def test_large_matrices_streamed_from_disk_equal_the_source(converted, tmp_path, run_cli, monkeypatch, version):
    """With every matrix on disk (as a real file's are), blocks of time read lazily give the loaded conversion's
    values: v7.3 from the HDF5 datasets, v5 from the file itself (uncompressed) or from the spill of the inflated
    variable (compressed)."""
    from nwb_conversions.readers import mat_v5_file, mat_v5_values, matlab_hdf5
    from nwb_conversions.readers.mat_v5_disk import DiskArray

    monkeypatch.setattr(matlab_hdf5, "LAZY_MIN_BYTES", 1024)
    monkeypatch.setattr(mat_v5_values, "LAZY_MIN_BYTES", 1024)
    monkeypatch.setattr(mat_v5_file, "IN_MEMORY_BYTES", 1024)  # the compressed variable is spilled
    monkeypatch.setattr("nwb_conversions.interfaces.peron_session_ophys.ELEMENTS_PER_BLOCK", 500)  # many blocks
    source, loaded_output = converted["7.3" if version == "7.3" else "5"]
    if version == "6":  # the same sample, uncompressed
        source = write_sample(tmp_path / "source", version="6")[0]
    gc.collect()  # no earlier load of the file may be shared (loads are cached while referenced)
    conversion = registered_datasets()["ssc11"].build(source, {}, False)
    raw_f = conversion.converter.data_interface_objects["Ophys"].imaging.raw_f
    assert isinstance(raw_f, matlab_hdf5.CheckedDataset if version == "7.3" else DiskArray)
    del conversion, raw_f
    output = tmp_path / "streamed.nwb"
    code, stdout, stderr = run_cli("ssc11", source, output, "--no-inspect")
    assert code == 0, stderr
    with NWBHDF5IO(str(output), "r") as streamed_io, NWBHDF5IO(str(loaded_output), "r") as loaded_io:
        streamed, loaded = streamed_io.read().processing["ophys"], loaded_io.read().processing["ophys"]
        for container, prefix in (("DfOverF", "DfOverFPlane"), ("Fluorescence", "FluorescencePlane")):
            for plane in (1, 2, 3):
                data = streamed[container][f"{prefix}{plane}"].data
                assert data.chunks[0] < data.shape[0]
                np.testing.assert_array_equal(data[:], loaded[container][f"{prefix}{plane}"].data[:])
