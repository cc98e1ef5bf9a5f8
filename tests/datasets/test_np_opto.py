"""``convert-to-nwb np-opto``: round trip of units and pulses, both layouts, the response analysis, the gate and
every bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml
from pynwb import NWBHDF5IO

from nwb_conversions.publishing.gate import inspect_file
from nwb_conversions.samples.np_opto import (
    DEFAULT_SESSION_ID,
    update_session_record,
    write_np_opto_session,
    write_sample,
)
from nwb_conversions.samples.np_opto_spikes import (
    ACTIVATED,
    INACTIVATED,
    NO_PEAK_CLUSTER,
    SILENT_CLUSTER,
    SampleSize,
)

from ..pickle_payloads import payload_npy_bytes

SMALL = SampleSize(num_clusters=12, repeats=1)


def source_arrays(session):
    """Every .npy of a session as a plain loader reads it."""
    return {path.name[: -len(".npy")]: np.load(path) for path in session.glob("*.npy")}


def convert(run_cli, session, output, *extra):
    code, stdout, stderr = run_cli("np-opto", session, output, *extra)
    assert code == 0, stderr
    return stdout, stderr


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """``convert-to-nwb example np-opto``: the default sample (README layout) converted once, through the gate."""
    from nwb_conversions.cli.main import main

    folder = tmp_path_factory.mktemp("np_opto")
    assert main(["example", "np-opto", "--output-dir", str(folder)]) == 0
    session = folder / "sources" / "np-opto" / "data" / "sessions" / DEFAULT_SESSION_ID
    return session, folder / f"np-opto_{DEFAULT_SESSION_ID}.nwb"


def test_units_round_trip_exactly(converted):
    session, output = converted
    source = source_arrays(session)
    times, clusters = source["spikes.times"], source["spikes.clusters"]
    num_clusters = len(source["clusters.qcPass"])
    with NWBHDF5IO(str(output), "r") as io:
        units = io.read().units
        assert len(units) == num_clusters == 24
        np.testing.assert_array_equal(units.id[:], np.arange(num_clusters))
        np.testing.assert_array_equal(units["cluster_id"][:], np.arange(num_clusters))
        for cluster in range(num_clusters):
            np.testing.assert_array_equal(units["spike_times"][cluster], times[clusters == cluster])
        assert len(units["spike_times"][SILENT_CLUSTER]) == 0
        for column, name in [
            ("qc_pass", "clusters.qcPass"),
            ("presence_ratio", "clusters.presenceRatio"),
            ("isi_violations_ratio", "clusters.isiViolationsRatio"),
            ("amplitude_cutoff", "clusters.amplitudeCutoff"),
            ("trough_to_peak_ms", "clusters.troughToPeak"),
            ("peak_channel", "clusters.peakChannel"),
            ("template_depth_um", "clusters.templateDepths"),
            ("depth_from_surface_um", "clusters.depthsFromSurface"),
        ]:
            np.testing.assert_array_equal(units[column][:], source[name], err_msg=column)
        assert np.isnan(units["presence_ratio"][NO_PEAK_CLUSTER])
        np.testing.assert_array_equal(units["waveform_mean"][:], source["clusters.templates"])
        assert units.resolution == 1 / 30_000
        waveform_types = (session / "clusters.waveformType.txt").read_text().split()
        assert list(units["waveform_type"][:]) == waveform_types
        labels = [line.split(",")[1] for line in (session / "clusters.KSLabel.csv").read_text().split()[1:]]
        assert list(units["ks_label"][:]) == labels


def test_electrodes_hold_the_positions_and_each_unit_its_peak_channel(converted):
    session, output = converted
    source = source_arrays(session)
    positions, peaks = source["clusters.channelPositions"], source["clusters.peakChannel"]
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        electrodes = nwbfile.electrodes
        assert len(electrodes) == 384
        np.testing.assert_array_equal(electrodes["rel_x"][:], positions[:, 0])
        np.testing.assert_array_equal(electrodes["rel_y"][:], positions[:, 1])
        linked = nwbfile.units["electrodes"]
        for cluster, peak in enumerate(peaks):
            rows = list(linked.get(cluster, index=True))
            assert rows == ([] if peak < 0 else [peak]), cluster


def test_pulses_and_sites_round_trip_exactly(converted):
    session, output = converted
    source = source_arrays(session)
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        metadata = nwbfile.lab_meta_data["optogenetic_experiment_metadata"]
        sites = metadata.optogenetic_sites_table
        assert len(sites) == 14
        np.testing.assert_array_equal(sites["emission_site_id"][:], np.arange(1, 15))
        np.testing.assert_array_equal(sites["distance_from_tip_um"][:], 70.0 + 100.0 * np.arange(14))
        effector = metadata.optogenetic_effectors.effectors["ChrimsonR"]
        assert effector.label == "DLX2.0-ChrimsonR-tdTomato"
        assert sites["effector"][0] is effector
        pulses = nwbfile.intervals["optogenetic_pulses"]
        np.testing.assert_array_equal(pulses["start_time"][:], source["stim.times"])
        np.testing.assert_array_equal(pulses["stop_time"][:], source["stim.times"] + source["stim.durations"])
        np.testing.assert_array_equal(pulses["power_in_mW"][:], source["stim.powerMW"])
        np.testing.assert_array_equal(pulses["emission_site_id"][:], source["stim.emissionSites"])
        site_rows = np.array([rows[0] for rows in pulses["optogenetic_sites"].target.data[:].reshape(-1, 1)])
        np.testing.assert_array_equal(site_rows, source["stim.emissionSites"] - 1)
        assert np.isnan(pulses["wavelength_in_nm"][:]).all()
        assert "wavelength is not documented" in pulses.description
        assert "1-based" in nwbfile.notes


def test_session_json_and_calibration_files_are_kept(converted):
    session, output = converted
    release = session.parent.parent
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.session_id == DEFAULT_SESSION_ID
        assert nwbfile.subject.subject_id == "AL_0034"
        assert nwbfile.session_start_time.isoformat() == "2024-12-05T00:00:00+00:00"
        assert "time of day and the time zone are not recorded" in nwbfile.notes
        for name in ("laser_calibration.json", "calibration.json"):
            assert nwbfile.scratch[name].data == (release / name).read_text()
        assert json.loads(nwbfile.scratch["session.json"].data) == json.loads((session / "session.json").read_text())


def test_response_analysis_finds_exactly_the_planted_responses(converted):
    _, output = converted
    with NWBHDF5IO(str(output), "r") as io:
        module = io.read().processing["ogen"]
        table = module["optogenetic_responses"].to_dataframe(index=True)
        parameters = module["optogenetic_response_parameters"].to_dataframe().set_index("parameter")["value"]
    assert parameters.to_dict() == {
        "baseline_window_s": 0.5,
        "activated_min_percent_change": 200.0,
        "inactivated_max_percent_change": -50.0,
        "inactivated_min_baseline_rate_hz": 2.0,
        "significance_max_p_value": 0.005,
    }
    assert len(table) == 24 * 14 * 2
    found = {
        response: {
            (int(row.unit), int(row.emission_site_id), float(row.power_in_mW))
            for row in table[(table.response == response) & table.significant].itertuples()
        }
        for response in ("activated", "inactivated")
    }
    assert found == {"activated": ACTIVATED, "inactivated": INACTIVATED}
    silent = table[table.unit == SILENT_CLUSTER]
    assert (silent.response == "none").all() and silent.percent_change.isna().all()


def test_nwbinspector_gate_is_clean_with_a_cluster_without_spikes(converted):
    _, output = converted
    report = inspect_file(output)
    assert report.by_importance("CRITICAL") == []
    assert report.by_importance("BEST_PRACTICE_VIOLATION") == []
    assert report.by_importance("ERROR") == []
    assert {message.check_function_name for message in report.messages} <= {"check_col_not_nan"}  # wavelength NaN


def test_flat_layout_with_0_based_emitters_and_an_empty_first_cluster(tmp_path, run_cli):
    release = tmp_path / "release"
    from nwb_conversions.samples.np_opto import write_calibration_files

    write_calibration_files(release)
    session = write_np_opto_session(release / "AL0039_2025-07-23_en1_p0", size=SMALL, emission_site_base=0, seed=3)
    source = source_arrays(session)
    keep = source["spikes.clusters"] != 0
    np.save(session / "spikes.times.npy", source["spikes.times"][keep])
    np.save(session / "spikes.clusters.npy", source["spikes.clusters"][keep])
    update_session_record(session)
    metadata_path = tmp_path / "subject.yaml"
    metadata_path.write_text(yaml.safe_dump({"Subject": {"sex": "U", "age": "P90D"}}))
    output = tmp_path / "flat.nwb"
    stdout, stderr = convert(run_cli, session, output, "--metadata", metadata_path)
    assert "0 CRITICAL, 0 BEST_PRACTICE_VIOLATION" in stdout
    assert "emitter ids are read as 0-based (id 0 occurs" in stderr
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert len(nwbfile.units) == 12 and len(nwbfile.units["spike_times"][0]) == 0
        assert nwbfile.subject.subject_id == "AL_0039"
        sites = nwbfile.lab_meta_data["optogenetic_experiment_metadata"].optogenetic_sites_table
        np.testing.assert_array_equal(sites["emission_site_id"][:], np.arange(14))
        pulses = nwbfile.intervals["optogenetic_pulses"]
        site_rows = pulses["optogenetic_sites"].target.data[:]
        np.testing.assert_array_equal(site_rows, source["stim.emissionSites"])
        assert set(nwbfile.scratch) == {"laser_calibration.json", "calibration.json", "session.json"}


def test_metadata_gives_the_wavelength_and_no_calibration_is_noted(tmp_path, run_cli):
    session = write_np_opto_session(tmp_path / "AL0034_2024-12-06_en1_p1", size=SMALL)
    metadata_path = tmp_path / "mine.yaml"
    metadata_path.write_text(
        yaml.safe_dump(
            {
                "Subject": {"sex": "F", "age": "P100D"},
                "Optogenetics": {"wavelength_in_nm": 638.0, "stimulation_software": "MyRig 1.0"},
                "OptogeneticResponse": {"activated_min_percent_change": 100.0},
            }
        )
    )
    output = tmp_path / "out.nwb"
    _, stderr = convert(run_cli, session, output, "--metadata", metadata_path, "--no-inspect")
    assert "no laser_calibration.json or calibration.json beside the session" in stderr
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        pulses = nwbfile.intervals["optogenetic_pulses"]
        assert (pulses["wavelength_in_nm"][:] == 638.0).all()
        assert "not documented" not in pulses.description
        assert nwbfile.lab_meta_data["optogenetic_experiment_metadata"].stimulation_software == "MyRig 1.0"
        parameters = nwbfile.processing["ogen"]["optogenetic_response_parameters"].to_dataframe()
        assert parameters.set_index("parameter").loc["activated_min_percent_change", "value"] == 100.0
        assert set(nwbfile.scratch) == {"session.json"}


def test_stub_keeps_every_cluster_and_only_the_first_seconds(tmp_path, run_cli):
    session, metadata_path = write_sample(tmp_path / "source", size=SMALL)
    output = tmp_path / "stub.nwb"
    convert(run_cli, session, output, "--metadata", metadata_path, "--stub", "--no-inspect")
    times = np.load(session / "spikes.times.npy")
    with NWBHDF5IO(str(output), "r") as io:
        units = io.read().units
        assert len(units) == 12
        stored = units["spike_times"].target.data[:]
        assert stored.max() < 2.0 and len(stored) == int((times < 2.0).sum())


def test_facts_stated_twice_that_agree_are_accepted(tmp_path, run_cli):
    """session.json restating the arrays at its own precision (rounded ranges, the stimulation range to the last
    pulse's end, the subject without its underscore) and a Kilosort label stated twice alike: converted."""
    session = write_np_opto_session(tmp_path / DEFAULT_SESSION_ID, size=SMALL)
    path = session / "session.json"
    record = json.loads(path.read_text())
    times, stim_times = np.load(session / "spikes.times.npy"), np.load(session / "stim.times.npy")
    last_offset = float((stim_times + np.load(session / "stim.durations.npy")).max())
    record.update(
        subject="AL0034",
        spike_time_range_s=[round(float(times.min()), 2), round(float(times.max()), 1)],
        stim_time_range_s=[round(float(stim_times.min()), 3), last_offset],
    )
    path.write_text(json.dumps(record))
    labels = session / "clusters.KSLabel.csv"
    labels.write_text(labels.read_text() + labels.read_text().splitlines()[4] + "\n")
    output = tmp_path / "out.nwb"
    convert(run_cli, session, output, "--no-inspect")
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.subject.subject_id == "AL0034" and len(nwbfile.units) == 12
        assert json.loads(nwbfile.scratch["session.json"].data) == record


def _object_npy(session, marker):
    (session / "spikes.clusters.npy").write_bytes(payload_npy_bytes(marker, count=3))


def _edit_array(name, edit):
    def apply(session, marker):
        array = np.load(session / f"{name}.npy")
        np.save(session / f"{name}.npy", edit(array))

    return apply


def _set(index, value):
    def edit(array):
        array = array.copy()
        array[index] = value
        return array

    return edit


def _session_json(edit):
    def apply(session, marker):
        path = session / "session.json"
        path.write_text(edit(path.read_text()))

    return apply


BAD_INPUTS = {
    "missing spikes.times": (lambda s, m: (s / "spikes.times.npy").unlink(), "spikes.times.npy: no such file"),
    "spikes of different lengths": (
        _edit_array("spikes.times", lambda a: a[:-1]),
        "spikes.clusters.npy: has 4999 rows but spikes.times.npy has 4998",
    ),
    "cluster id beyond clusters": (
        _edit_array("spikes.clusters", _set(0, 12)),
        "spikes.clusters.npy: 1 spikes have cluster ids ≥ 12",
    ),
    "clusters arrays of different lengths": (
        _edit_array("clusters.qcPass", lambda a: a[:-1]),
        "clusters.qcPass.npy: has 11 rows but clusters.templateDepths.npy has 12",
    ),
    "no cluster at all": (
        lambda s, m: [
            np.save(p, np.load(p)[:0]) for p in s.glob("*.npy") if p.name.startswith(("clusters.", "spikes."))
            and p.name != "clusters.channelPositions.npy"
        ],
        "clusters.templateDepths.npy: has no rows",
    ),
    "stim arrays of different lengths": (
        _edit_array("stim.powerMW", lambda a: a[:-1]),
        "stim.powerMW.npy: has 27 rows but stim.times.npy has 28",
    ),
    "negative duration": (_edit_array("stim.durations", _set(3, -0.2)), "stim.durations.npy: row 3 is -0.2"),
    "negative power": (_edit_array("stim.powerMW", _set(2, -1.0)), "stim.powerMW.npy: row 2 is -1.0"),
    "NaN spike time": (
        _edit_array("spikes.times", _set(10, np.nan)),
        "spikes.times.npy: 1 spike times are NaN or infinite (first at row 10)",
    ),
    "pickled npy": (_object_npy, "spikes.clusters.npy: holds Python objects (a pickle, never unpickled)"),
    "session.json not JSON": (_session_json(lambda text: text[:-3]), "session.json: not valid JSON"),
    "session.json without session_id": (
        _session_json(lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "session_id"})),
        "session.json: has no 'session_id'",
    ),
    "emitter id 15": (
        _edit_array("stim.emissionSites", _set(0, 15)),
        "stim.emissionSites.npy: ids span 1–15 (e.g. 15); expected emitter ids 1–14 (README) or 0–13",
    ),
    "emitter ids 0 and 14": (
        _edit_array("stim.emissionSites", _set(0, 0)),
        "stim.emissionSites.npy: ids span 0–14 (e.g. 0)",
    ),
}


@pytest.fixture(scope="module")
def pristine_session(tmp_path_factory):
    """A small session written once; each bad-input case damages its own copy."""
    return write_np_opto_session(tmp_path_factory.mktemp("pristine") / DEFAULT_SESSION_ID, size=SMALL)


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_error_line_and_no_output(case, tmp_path, run_cli, pristine_session):
    session = shutil.copytree(pristine_session, tmp_path / DEFAULT_SESSION_ID)
    spikes = len(np.load(session / "spikes.times.npy"))
    damage, message = BAD_INPUTS[case]
    marker = tmp_path / "unpickled"
    damage(session, marker)
    output = tmp_path / "out.nwb"
    code, stdout, stderr = run_cli("np-opto", session, output)
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert message.replace("4999", str(spikes)).replace("4998", str(spikes - 1)) in lines[0]
    assert "; expected " in lines[0]
    assert not output.exists() and not marker.exists()
    assert [path.name for path in tmp_path.iterdir() if path.suffix == ".nwb"] == []


def test_sessions_layout_and_flat_layout_are_found(tmp_path):
    from nwb_conversions.datasets import registered_datasets
    from nwb_conversions.samples.np_opto import write_np_opto_release

    dataset = registered_datasets()["np-opto"]
    flat_root, flat = write_np_opto_release(tmp_path / "flat", ["AL0033_2025-07-22_en1_p0"], layout="flat", size=SMALL)
    assert dataset.find_sessions(flat_root) == flat
    readme_root, nested = write_np_opto_release(tmp_path / "readme", ["AL0033_2025-07-22_en1_p0"], size=SMALL)
    assert dataset.find_sessions(readme_root) == nested
    assert nested[0].parent.name == "sessions"
    shutil.rmtree(nested[0])
    assert dataset.find_sessions(readme_root) == []


def test_metadata_can_force_the_emitter_id_base(tmp_path, run_cli):
    session = write_np_opto_session(tmp_path / DEFAULT_SESSION_ID, size=SMALL)
    sites = np.load(session / "stim.emissionSites.npy")
    np.save(session / "stim.emissionSites.npy", np.where(sites == 14, 13, sites).astype(np.int32))  # ids 1–13
    metadata_path = tmp_path / "base.yaml"
    metadata_path.write_text(yaml.safe_dump({"Optogenetics": {"emission_site_id_base": 0}}))
    output = tmp_path / "out.nwb"
    convert(run_cli, session, output, "--metadata", metadata_path, "--no-inspect")
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        sites_table = nwbfile.lab_meta_data["optogenetic_experiment_metadata"].optogenetic_sites_table
        np.testing.assert_array_equal(sites_table["emission_site_id"][:], np.arange(14))
        rows = nwbfile.intervals["optogenetic_pulses"]["optogenetic_sites"].target.data[:]
        np.testing.assert_array_equal(rows, np.load(session / "stim.emissionSites.npy"))
    np.save(session / "stim.emissionSites.npy", sites)  # id 14 does not fit a forced 0-based reading
    code, _, stderr = run_cli("np-opto", session, tmp_path / "bad.nwb", "--metadata", metadata_path)
    assert code == 1 and "outside the 0-based reading set in the metadata" in stderr
    assert not (tmp_path / "bad.nwb").exists()
