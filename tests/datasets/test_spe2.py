"""SPE-2 end to end: the three documented layouts, lossless round trip, scaling, geometry, detected ground truth,
the nwbinspector gate, the no-docx fallback and every bad input through the command line."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwb_conversions.conversion import convert_session
from nwb_conversions.datasets.spe2.dataset import DATASET
from nwb_conversions.publishing.gate import inspect_file
from nwb_conversions.resources import shipped_metadata_dir
from nwb_conversions.samples.spe2 import LAYOUTS, readme_values, write_readme_docx, write_spe2_pair

SUBJECT_YAML = "Subject:\n  subject_id: rat-spe2\n  sex: U\n  age: P60D\n"
RATE = 30_000


@pytest.fixture(scope="module")
def subject_yaml(tmp_path_factory):
    path = tmp_path_factory.mktemp("metadata") / "subject.yaml"
    path.write_text(SUBJECT_YAML)
    return path


@pytest.fixture(scope="module")
def converted(tmp_path_factory, subject_yaml):
    """Each layout written and converted once: ``{layout: (pair_dir, planted_spikes, nwb_path, result)}``."""
    root = tmp_path_factory.mktemp("spe2")
    out = {}
    for layout in LAYOUTS:
        suffix = "-002" if layout == "common128" else ""  # a Google-Drive copy's name
        pair_dir, spikes = write_spe2_pair(root / "sources", layout=layout, copy_suffix=suffix)
        nwb_path = root / f"{layout}.nwb"
        result = convert_session(DATASET, pair_dir, nwb_path, metadata_path=subject_yaml)
        out[layout] = (pair_dir, spikes, nwb_path, result)
    return out


def source_arrays(pair_dir, layout):
    spec = LAYOUTS[layout]
    (amplifier_path,) = pair_dir.glob("amplifier*.bin")
    (adc_path,) = pair_dir.glob("adc*.bin")
    amplifier = np.fromfile(amplifier_path, dtype=np.dtype(spec.amplifier_dtype).newbyteorder("<"))
    adc = np.fromfile(adc_path, dtype=np.dtype(spec.adc_dtype).newbyteorder("<")).reshape(-1, 8)
    return amplifier.reshape(-1, spec.amplifier_channels), adc[:, spec.juxta_channel]


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_both_binaries_round_trip_bit_exact_with_their_scaling(converted, layout):
    pair_dir, _, nwb_path, _ = converted[layout]
    amplifier, juxta = source_arrays(pair_dir, layout)
    with NWBHDF5IO(str(nwb_path), "r") as io:
        nwbfile = io.read()
        series = nwbfile.acquisition["ElectricalSeries"]
        trace = nwbfile.acquisition["JuxtacellularTrace"]
        stored, stored_juxta = series.data[:], trace.data[:]
        assert stored.dtype == amplifier.dtype and stored_juxta.dtype == juxta.dtype
        np.testing.assert_array_equal(stored, amplifier)
        np.testing.assert_array_equal(stored_juxta, juxta)
        volts = stored * series.conversion + series.offset
        if layout == "float32":
            assert (series.conversion, series.offset) == (1e-6, 0.0)
            np.testing.assert_allclose(volts, amplifier.astype(np.float64) * 1e-6, rtol=1e-12)
        else:
            np.testing.assert_allclose(volts * 1e6, (amplifier.astype(np.float64) - 32768) * 0.195, atol=1e-9)
        gain = 1000 if layout == "float32" else 100
        assert trace.conversion == pytest.approx(10 / (65536 * gain))
        assert trace.offset == pytest.approx(-32768 * trace.conversion)
        assert type(trace).__name__ == "CurrentClampSeries" and trace.rate == series.rate == RATE
        assert "ASSUMPTION: 0 V at mid-scale" in trace.description
        assert nwbfile.session_id == pair_dir.name


def shipped_positions(num_channels):
    """The shipped geometry table as ``(channels, 2)`` µm, NaN for a channel it leaves out (17 of the 128)."""
    table = np.loadtxt(shipped_metadata_dir() / f"spe2_probe_{num_channels}ch.csv", delimiter=",", ndmin=2)
    positions = np.full((num_channels, 2), np.nan)
    positions[table[:, 0].astype(int)] = table[:, 1:]
    return positions


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_spikeinterface_reads_the_geometry(converted, layout):
    from spikeinterface.extractors import read_nwb_recording

    _, _, nwb_path, _ = converted[layout]
    recording = read_nwb_recording(str(nwb_path), electrical_series_path="acquisition/ElectricalSeries")
    expected = shipped_positions(LAYOUTS[layout].amplifier_channels)
    locations = recording.get_channel_locations()
    np.testing.assert_array_equal(locations, expected)  # exact; NaN matches NaN (channel 17 of the 128)
    known = ~np.isnan(expected).any(axis=1)
    assert np.flatnonzero(~known).tolist() == ([17] if LAYOUTS[layout].amplifier_channels == 128 else [])
    with NWBHDF5IO(str(nwb_path), "r") as io:
        assert io.read().electrodes["has_known_position"][:].tolist() == known.tolist()
    # The file stores no probeinterface probe, so SpikeInterface builds one from the electrodes' positions (with a
    # warning saying so); channel 17's NaN position does not stop it, so both probes are checked.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="There is no Probe attached")
        probe = recording.get_probe()
    assert probe.get_contact_count() == len(expected)
    contact_positions = probe.contact_positions[np.argsort(probe.device_channel_indices)]
    np.testing.assert_array_equal(contact_positions[known], expected[known])
    if layout != "float32":
        np.testing.assert_allclose(recording.get_channel_gains(), 0.195)
        np.testing.assert_allclose(recording.get_channel_offsets(), -32768 * 0.195)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_detected_juxta_spikes_match_the_planted_ones(converted, layout):
    _, planted, nwb_path, _ = converted[layout]
    with NWBHDF5IO(str(nwb_path), "r") as io:
        units = io.read().units
        spike_times = units["spike_times"][0]
        assert len(units) == 1
        assert units["detected_by"][0].startswith("nwb_conversions")
        assert units["detection_sign"][0] == ("negative" if LAYOUTS[layout].juxta_sign < 0 else "positive")
        assert units["detection_threshold_k"][0] == 8.0 and units["detection_refractory_ms"][0] == 1.0
        assert "not provided by the dataset" in units.description
    assert len(spike_times) == len(planted)  # no extra, none missing
    assert np.max(np.abs(spike_times - planted / RATE)) <= 0.2e-3


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_gate_is_clean_with_subject_facts(converted, layout):
    _, _, nwb_path, result = converted[layout]
    report = inspect_file(nwb_path)
    assert report.by_importance("CRITICAL") == [] and report.by_importance("BEST_PRACTICE_VIOLATION") == []
    assert result.missing_subject_fields == []


def test_session_start_is_the_amplifier_clock_time_labelled_utc(converted):
    _, _, nwb_path, result = converted["common128"]
    statement = "the release does not document the time zone, so the clock time is stored as UTC [assumption]"
    with NWBHDF5IO(str(nwb_path), "r") as io:
        nwbfile = io.read()
        assert nwbfile.session_start_time.isoformat() == "2015-09-03T21:18:47+00:00"  # the file name's clock time
        assert "is the timestamp in amplifier2015-09-03T21_18_47-002.bin" in nwbfile.notes
        assert statement in nwbfile.notes
        assert nwbfile.subject.species == "Rattus norvegicus"
        assert nwbfile.devices["NeuroSeeker128Probe"].model.manufacturer == "imec"
    assert any(statement in note for note in result.notes)


def test_example_command_converts_the_sample(tmp_path, run_cli):
    code, out, err = run_cli("example", "spe2", "--output-dir", tmp_path)
    assert code == 0, err
    assert "0 CRITICAL, 0 BEST_PRACTICE_VIOLATION" in out
    assert (tmp_path / "spe2_2014_11_25_Pair_3_0.nwb").is_file()


@pytest.mark.parametrize("setting", ["threshold_k: -1", "sign: sideways", "refractory_ms: -3"])
def test_bad_detection_parameters_are_metadata_errors(tmp_path, run_cli, setting):
    pair_dir, _ = write_spe2_pair(tmp_path, layout="common32", duration_s=0.2)
    metadata = tmp_path / "detect.yaml"
    metadata.write_text(f"{SUBJECT_YAML}JuxtaSpikeDetection:\n  {setting}\n")
    name = setting.split(":")[0]
    expect_error(run_cli, pair_dir, tmp_path, f"metadata JuxtaSpikeDetection/{name}: ", "--metadata", metadata)


@pytest.mark.parametrize("layout, channels", [("common32", 32), ("common128", 128)])
def test_without_readme_the_common_format_is_inferred_and_noted(tmp_path, run_cli, subject_yaml, layout, channels):
    pair_dir, _ = write_spe2_pair(tmp_path, layout=layout, duration_s=0.5, with_readme=False)
    output = tmp_path / "out.nwb"
    code, _, err = run_cli("spe2", pair_dir, output, "--metadata", subject_yaml)
    assert code == 0, err
    assert f"no READ ME.docx, so the common SPE-2 format was assumed: amplifier uint16, {channels} channels" in err
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.acquisition["ElectricalSeries"].data.shape == (15_000, channels)
        assert "no READ ME.docx" in nwbfile.notes


def test_without_readme_the_float32_layout_is_refused(tmp_path, run_cli, subject_yaml):
    """Its sizes are those of uint16 × 32 channels at twice the samples; its values are not Intan counts."""
    pair_dir, _ = write_spe2_pair(tmp_path, layout="float32", duration_s=0.5, with_readme=False)
    expect_error(
        run_cli,
        pair_dir,
        tmp_path,
        "no READ ME.docx, and the values are not centred on 32768 as the common uint16 format is (only ",
        "--metadata",
        subject_yaml,
    )


def test_detection_parameters_come_from_the_metadata(tmp_path, run_cli):
    pair_dir, planted = write_spe2_pair(tmp_path, layout="common32", duration_s=0.5)
    metadata = tmp_path / "detect.yaml"
    metadata.write_text(SUBJECT_YAML + "JuxtaSpikeDetection:\n  sign: positive\n  threshold_volts: 0.0005\n")
    output = tmp_path / "out.nwb"
    assert run_cli("spe2", pair_dir, output, "--metadata", metadata)[0] == 0
    with NWBHDF5IO(str(output), "r") as io:
        units = io.read().units
        assert units["detection_threshold_volts"][0] == 0.0005 and np.isnan(units["detection_threshold_k"][0])
        assert len(units["spike_times"][0]) == len(planted)


def test_stub_writes_the_first_seconds(tmp_path, run_cli, subject_yaml):
    pair_dir, planted = write_spe2_pair(tmp_path, layout="common32", duration_s=3.0)
    output = tmp_path / "out.nwb"
    assert run_cli("spe2", pair_dir, output, "--metadata", subject_yaml, "--stub")[0] == 0
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.acquisition["ElectricalSeries"].data.shape[0] == 2 * RATE
        assert nwbfile.acquisition["JuxtacellularTrace"].data.shape[0] == 2 * RATE
        assert len(nwbfile.units["spike_times"][0]) == (planted < 2 * RATE).sum()


# ---- bad input: one `error:` line, exit 1, no output ----------------------------------------------------------------


def expect_error(run_cli, pair_dir, tmp_path, fragment, *options):
    output = tmp_path / "out.nwb"
    code, out, err = run_cli("spe2", pair_dir, output, *options)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0], lines[0]
    assert not output.exists() and not list(tmp_path.glob(".out.partial*"))


def test_no_amplifier_file(tmp_path, run_cli):
    pair_dir, _ = write_spe2_pair(tmp_path, duration_s=0.2)
    next(pair_dir.glob("amplifier*.bin")).unlink()
    expect_error(
        run_cli,
        pair_dir,
        tmp_path,
        "no file named like amplifierYYYY-MM-DDTHH_MM_SS.bin; expected a file amplifierYYYY-MM-DDTHH_MM_SS.bin in",
    )


def test_no_adc_file(tmp_path, run_cli):
    pair_dir, _ = write_spe2_pair(tmp_path, duration_s=0.2)
    next(pair_dir.glob("adc*.bin")).unlink()
    expect_error(run_cli, pair_dir, tmp_path, "no file named like adcYYYY-MM-DDTHH_MM_SS.bin;")


def test_amplifier_size_not_a_whole_number_of_samples(tmp_path, run_cli):
    pair_dir, _ = write_spe2_pair(tmp_path, duration_s=0.2)
    with open(next(pair_dir.glob("amplifier*.bin")), "ab") as stream:
        stream.write(b"\x00\x00\x00")
    expect_error(run_cli, pair_dir, tmp_path, "is not a whole number of samples")


def test_adc_sample_count_disagrees_with_the_amplifier(tmp_path, run_cli):
    pair_dir, _ = write_spe2_pair(tmp_path, duration_s=0.2)
    adc_path = next(pair_dir.glob("adc*.bin"))
    adc_path.write_bytes(adc_path.read_bytes()[: -16 * 100])  # 100 samples of 8 uint16 channels fewer
    expect_error(run_cli, pair_dir, tmp_path, "5900 samples of 8 uint16 channels; expected 6000 samples")


def test_readme_missing_keys(tmp_path, run_cli):
    pair_dir, _ = write_spe2_pair(tmp_path, duration_s=0.2)
    values = readme_values(LAYOUTS["common32"])
    del values["Juxta_dtype"]
    write_readme_docx(pair_dir / "READ ME.docx", values)
    expect_error(run_cli, pair_dir, tmp_path, "missing key(s) Juxta_dtype")


def write_readme_lines(path, lines):
    """A ``READ ME.docx`` of exactly these paragraphs (a key may repeat, as a hand-edited file can)."""
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(path))


def test_readme_stating_a_key_twice_with_two_values_is_refused(tmp_path, run_cli):
    pair_dir, _ = write_spe2_pair(tmp_path, duration_s=0.2)
    lines = [f"{key} = {value}" for key, value in readme_values(LAYOUTS["common32"]).items()]
    first = next(number for number, line in enumerate(lines, 1) if line.startswith("Sampling_frequency"))
    readme = pair_dir / "READ ME.docx"
    write_readme_lines(readme, lines + ["Sampling_frequency = 25 000"])
    sources = {path: path.read_bytes() for path in pair_dir.iterdir()}
    expect_error(
        run_cli, pair_dir, tmp_path,
        f"{readme}: Sampling_frequency is given twice with different values: '30 000' (line {first}) and '25 000' "
        f"(line {len(lines) + 1}); expected a READ ME.docx of 'key = value' lines, each key given once",
    )
    assert {path: path.read_bytes() for path in pair_dir.iterdir()} == sources


def test_readme_unparseable_value(tmp_path, run_cli):
    pair_dir, _ = write_spe2_pair(tmp_path, duration_s=0.2)
    write_readme_docx(pair_dir / "READ ME.docx", {**readme_values(LAYOUTS["common32"]), "Sampling_frequency": "30 kHz"})
    expect_error(run_cli, pair_dir, tmp_path, "Sampling_frequency = '30 kHz' is not a number")


def test_channel_count_without_probe_geometry(tmp_path, run_cli):
    pair_dir, _ = write_spe2_pair(tmp_path, duration_s=0.2)
    write_readme_docx(pair_dir / "READ ME.docx", {**readme_values(LAYOUTS["common32"]), "Probe_numChannels": "64"})
    expect_error(run_cli, pair_dir, tmp_path, "64 amplifier channels, for which no probe geometry is known")


def test_without_readme_a_size_matching_neither_probe(tmp_path, run_cli):
    pair_dir, _ = write_spe2_pair(tmp_path, duration_s=0.2, with_readme=False)
    amplifier_path = next(pair_dir.glob("amplifier*.bin"))
    amplifier_path.write_bytes(amplifier_path.read_bytes()[: -64 * 10])
    expect_error(run_cli, pair_dir, tmp_path, "no READ ME.docx, and the size")


def test_not_a_folder(tmp_path, run_cli):
    expect_error(run_cli, tmp_path / "missing", tmp_path, "not a folder")


# --- quiet traces: no spike above threshold is a valid recording, not an error -----------------------------------


def rewrite_juxta_channel(pair_dir, layout, make_counts):
    """Replace the pipette's ADC channel with ``make_counts(num_samples)`` (counts), keeping the other channels."""
    spec = LAYOUTS[layout]
    (adc_path,) = pair_dir.glob("adc*.bin")
    dtype = np.dtype(spec.adc_dtype).newbyteorder("<")
    adc = np.fromfile(adc_path, dtype=dtype).reshape(-1, 8)
    adc[:, spec.juxta_channel] = make_counts(adc.shape[0])
    adc.tofile(adc_path)


def test_a_quiet_pair_converts_with_no_unit_and_a_note(tmp_path, run_cli, subject_yaml):
    pair_dir, _ = write_spe2_pair(tmp_path / "src", layout="common32", duration_s=1.0)
    rng = np.random.default_rng(5)
    rewrite_juxta_channel(pair_dir, "common32", lambda n: np.round(32768 + rng.normal(0, 13.0, n)))
    output = tmp_path / "quiet.nwb"
    code, out, err = run_cli("spe2", pair_dir, output, "--metadata", subject_yaml)
    assert code == 0, err
    assert "0 CRITICAL, 0 BEST_PRACTICE_VIOLATION" in out
    assert "no spike of the juxtacellular trace crossed the detection threshold" in err
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.units is None
        assert "no ground-truth unit was written" in nwbfile.notes


def test_a_stub_of_a_pair_quiet_in_its_first_seconds_converts_too(tmp_path, run_cli, subject_yaml):
    pair_dir, _ = write_spe2_pair(tmp_path / "src", layout="common32", duration_s=3.0)
    rng = np.random.default_rng(6)
    late_spikes = np.array([2.4, 2.6, 2.8]) * RATE

    def counts(n):
        trace = np.round(32768 + rng.normal(0, 13.0, n))
        for peak in late_spikes.astype(int):
            trace[peak : peak + 20] += 1000
        return trace

    rewrite_juxta_channel(pair_dir, "common32", counts)
    stub, full = tmp_path / "stub.nwb", tmp_path / "full.nwb"
    code, _, err = run_cli("spe2", pair_dir, stub, "--stub", "--metadata", subject_yaml)
    assert code == 0, err
    assert "no ground-truth unit was written" in err
    assert run_cli("spe2", pair_dir, full, "--metadata", subject_yaml)[0] == 0
    with NWBHDF5IO(str(stub), "r") as io:
        assert io.read().units is None
    with NWBHDF5IO(str(full), "r") as io:
        assert len(io.read().units["spike_times"][0]) == 3


def test_spikes_on_a_flat_quantized_trace_are_found(tmp_path, run_cli, subject_yaml):
    """Half or more of the samples on the median made the MAD, hence the threshold, 0: every spike was missed."""
    pair_dir, _ = write_spe2_pair(tmp_path / "src", layout="common32", duration_s=2.0)
    volts_per_count = 10.0 / (65536 * 100)
    planted = np.arange(16) * 3000 + 1500
    spike = np.round(1.5e-3 / volts_per_count * np.exp(-0.5 * ((np.arange(30) - 10) / 3.0) ** 2))

    def counts(n):
        trace = np.full(n, 32768.0)
        for peak in planted:
            trace[peak - 10 : peak + 20] += spike
        return trace

    rewrite_juxta_channel(pair_dir, "common32", counts)
    output = tmp_path / "flat.nwb"
    code, _, err = run_cli("spe2", pair_dir, output, "--metadata", subject_yaml)
    assert code == 0, err
    with NWBHDF5IO(str(output), "r") as io:
        spike_times = io.read().units["spike_times"][0]
    np.testing.assert_array_equal(np.round(spike_times * RATE).astype(int), planted)
