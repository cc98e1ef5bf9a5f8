"""The quicklook: a PNG for every bundled sample (size, panels, non-blank content), each panel drawing the file's
real values (probe geometry, ground-truth channel, spike times, pulses, waveforms, ROI masks, ΔF/F, trials), bounded
reads of the raw series, and the command line."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from matplotlib.collections import EventCollection, PathCollection
from PIL import Image
from pynwb import NWBHDF5IO

from nwb_conversions.conversion import convert_session
from nwb_conversions.datasets import registered_datasets
from nwb_conversions.quicklook import draw_quicklook, ephys, masks, patch_trace, write_quicklook
from nwb_conversions.quicklook.layout import GROUND_TRUTH_COLOR, Panel, arrange_rows, axes_with_data, lay_out
from nwb_conversions.quicklook.reading import busiest_window, display_unit, envelope, index_at
from nwb_conversions.quicklook.text import missing_for_dandi, summary_lines
from nwb_conversions.quicklook.units import RASTER_WINDOW_S, WAVEFORM_UNITS

from ..quicklook_files import (
    ABLATED,
    BAD_ELECTRODES,
    IMAGE_MASK_SHAPE,
    NUM_ELECTRODES,
    NUM_EMITTERS,
    PULSES_PER_EMITTER,
    counting_reads,
    dff_values,
    electrode_position,
    opto_spike_times,
    pulse_schedule,
    unit_waveforms,
    write_image_mask_file,
    write_imaging_file,
    write_opto_units_file,
)

#: Panels (and Axes holding data) of the datasets whose content is known here; other registered datasets get the
#: generic checks.
EXPECTED_PANELS = {
    "spe1": {"Summary": 1, "Probe map": 2, "Raw traces": 1, "Patch trace": 1},
    "spe2": {"Summary": 1, "Probe map": 2, "Raw traces": 1, "Patch trace": 1},
    "allen-oephys": {"Summary": 1, "Patch trace": 1, "ΔF/F RoiResponseSeries": 2},
}
#: The channel where each sample plants its cell's extracellular spikes (samples/spe1.py, samples/spe2.py).
PLANTED_PEAK_CHANNEL = {"spe1": 159, "spe2": 1}
WIDTH_PX = 1600


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """Every registered dataset's bundled sample, converted: ``{key: (nwb_path, ConversionResult)}``."""
    root = tmp_path_factory.mktemp("quicklook_samples")
    converted = {}
    for key, dataset in registered_datasets().items():
        source, metadata = dataset.write_sample(root / "sources" / key)
        nwb_path = root / f"{key}.nwb"
        converted[key] = (nwb_path, convert_session(dataset, source, nwb_path, metadata_path=metadata))
    return converted


@pytest.fixture(scope="module")
def drawn(samples):
    """Each converted sample opened (lazily) and drawn once: ``{key: (nwbfile, LaidOutFigure)}``."""
    opened, figures = [], {}
    for key, (nwb_path, _) in samples.items():
        io = NWBHDF5IO(str(nwb_path), "r")
        opened.append(io)
        nwbfile = io.read()
        figures[key] = (nwbfile, draw_quicklook(nwbfile))
    yield figures
    for io in opened:
        io.close()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("quicklook_synthetic")
    return {
        "opto": write_opto_units_file(root / "opto.nwb"),
        "imaging": write_imaging_file(root / "imaging.nwb"),
        "image_mask": write_image_mask_file(root / "image_mask.nwb"),
    }


def drawn_fraction(pixels: np.ndarray) -> float:
    """Fraction of pixels that differ clearly from the box's most common colour (its background)."""
    colours = pixels[..., :3].reshape(-1, 3).astype(int)
    values, counts = np.unique(colours, axis=0, return_counts=True)
    background = values[np.argmax(counts)]
    return float((np.abs(colours - background).max(axis=1) > 40).mean())


def check_png(result, expected: dict | None = None) -> None:
    """The PNG's size, its panels and their Axes with data, and content in every panel's box."""
    image = np.asarray(Image.open(result.png_path))
    assert image.shape[1] == WIDTH_PX and 500 <= image.shape[0] <= 4000
    assert result.failures == {}
    counts = {title: len(boxes) for title, boxes in result.boxes.items()}
    if expected is not None:
        assert counts == expected
    assert counts["Summary"] == 1 and sum(counts.values()) >= 2
    assert image.std() > 10
    for title, boxes in result.boxes.items():
        for left, top, right, bottom in boxes:
            box = image[max(top, 0) : bottom, max(left, 0) : right]
            assert box.size and drawn_fraction(box) > 0.005, title


def test_a_quicklook_for_every_bundled_sample(samples):
    for key, (nwb_path, conversion) in samples.items():
        result = write_quicklook(nwb_path, report=conversion.report)
        assert result.png_path == nwb_path.with_suffix(".png")
        check_png(result, EXPECTED_PANELS.get(key))


@pytest.mark.parametrize("key", sorted(PLANTED_PEAK_CHANNEL))
def test_probe_map_marks_the_ground_truth_and_the_largest_spike(drawn, key):
    nwbfile, figure = drawn[key]
    view = ephys.view_raw_series(nwbfile)
    assert view.electrode_rows[view.peak_column] == PLANTED_PEAK_CHANNEL[key]
    whole, zoom = figure.axes["Probe map"]
    markers = {c.get_label(): c.get_offsets().data for c in zoom.collections if isinstance(c, PathCollection)}
    electrodes = nwbfile.electrodes.to_dataframe()
    peak = PLANTED_PEAK_CHANNEL[key]
    position = electrodes.loc[peak, ["rel_x", "rel_y"]].to_numpy(float)
    np.testing.assert_array_equal(markers[f"largest spike (from the data): ch {peak}"], [position])
    if key == "spe1":
        units = nwbfile.units.to_dataframe()
        for label, column in (("chan_predicted (ground truth)", "chan_predicted"),
                              ("chan_highest (table)", "chan_highest")):
            channel = int(units[column].iloc[0])
            expected = electrodes.loc[channel, ["rel_x", "rel_y"]].to_numpy(float)
            np.testing.assert_array_equal(markers[f"{label}: ch {channel}"], [expected])
        reference = electrodes[electrodes["is_reference_site"]][["rel_x", "rel_y"]].to_numpy(float)
        drawn_reference = markers["reference site (10)"]
        assert sorted(map(tuple, drawn_reference)) == sorted(map(tuple, reference))


def test_raw_traces_are_the_stored_samples_around_the_spikes(drawn):
    nwbfile, figure = drawn["spe1"]
    series = nwbfile.acquisition["ElectricalSeries"]
    spikes = nwbfile.units["spike_times"][0]
    axes = figure.axes["Raw traces"][0]
    red = [line for line in axes.lines if line.get_label() == "ch 159"]
    assert all(line.get_color() == GROUND_TRUTH_COLOR for line in red)
    assert len(red) == ephys.SPIKES_SHOWN
    shown = ephys.middle_spikes(spikes, ephys.SPIKES_SHOWN)
    ticks = [label.get_text() for label in axes.get_yticklabels()]
    rank = ticks.index("ch 159")
    spacing = np.diff(axes.get_yticks())[0]
    half = int(round(ephys.TRACE_WINDOW_S / 2 * series.rate))
    for line, spike in zip(red, shown):
        centre = int(np.ceil(spike * series.rate - 1e-9))
        stored = series.data[centre - half : centre + half, 159].astype(float) * series.conversion
        expected = (stored - np.median(stored)) * 1e6 + rank * spacing
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("key", ["spe1", "spe2", "allen-oephys"])
def test_patch_trace_ticks_are_the_unit_spike_times(drawn, key):
    nwbfile, figure = drawn[key]
    spikes = nwbfile.units["spike_times"][0]
    axes = figure.axes["Patch trace"][0]
    start, stop = axes.get_xlim()
    ticks = [line for line in axes.lines if line.get_label().endswith("spikes (units)")]
    assert len(ticks) == 1
    inside = spikes[(spikes >= start) & (spikes < stop)]
    assert len(inside) >= 1
    np.testing.assert_array_equal(ticks[0].get_xdata(), inside)
    trace = axes.lines[0].get_ydata()
    series = patch_trace.patch_series(nwbfile)
    factor, _ = display_unit(series)
    stored = (series.data[index_at(series, start) : index_at(series, stop)] * series.conversion + series.offset) \
        * factor
    assert len(trace) <= 4000 and trace.max() == pytest.approx(stored.max()) and trace.min() == pytest.approx(
        stored.min())


def test_allen_dff_beside_the_cell_attached_trace(drawn):
    nwbfile, figure = drawn["allen-oephys"]
    dff_axes, trace_axes = figure.axes["ΔF/F RoiResponseSeries"]
    series = nwbfile.processing["ophys"]["DfOverF"]["RoiResponseSeries"]
    start, stop = dff_axes.get_xlim()
    assert trace_axes.get_xlim() == (start, stop)
    first, last = index_at(series, start), index_at(series, stop)
    np.testing.assert_allclose(dff_axes.lines[0].get_ydata(), series.data[first:last, 0])
    spikes = nwbfile.units["spike_times"][0]
    ticks = [line for line in trace_axes.lines if line.get_label().endswith("spikes (units)")][0]
    np.testing.assert_array_equal(ticks.get_xdata(), spikes[(spikes >= start) & (spikes < stop)])


def test_units_raster_pulses_by_emitter_and_waveforms(synthetic):
    result = write_quicklook(synthetic["opto"], inspect=False)
    check_png(result, {"Summary": 1, "Probe map": 2, "Raster": 1, "Waveforms": 1})
    with NWBHDF5IO(str(synthetic["opto"]), "r") as io:
        drawn = draw_quicklook(io.read())
        raster = drawn.axes["Raster"][0]
        start, stop = raster.get_xlim()
        assert stop - start == pytest.approx(RASTER_WINDOW_S)
        trains = opto_spike_times()
        events = [c for c in raster.collections if isinstance(c, EventCollection)]
        # depth falls with the unit number, so the raster (by depth) lists the units last to first
        for row, collection in enumerate(events):
            unit = len(trains) - 1 - row
            expected = trains[unit][(trains[unit] >= start) & (trains[unit] < stop)]
            np.testing.assert_array_equal(np.sort(collection.get_positions()), expected)
        bars = [c for c in raster.collections if c.get_label().startswith("pulses of site")]
        assert len(bars) == NUM_EMITTERS
        schedule = pulse_schedule()
        for emitter, collection in enumerate(bars):
            assert collection.get_label() == f"pulses of site {emitter}"
            starts = sorted(path.vertices[:, 0].min() for path in collection.get_paths())
            expected = [s for s, _, _, e in schedule if e == emitter and start <= s < stop]
            assert len(expected) == PULSES_PER_EMITTER
            np.testing.assert_allclose(starts, expected)
        zoom = drawn.axes["Probe map"][1]
        markers = {c.get_label(): c.get_offsets().data for c in zoom.collections if isinstance(c, PathCollection)}
        assert len(markers["site"]) == NUM_ELECTRODES
        np.testing.assert_array_equal(markers[f"bad channel ({len(BAD_ELECTRODES)})"],
                                      [electrode_position(row) for row in BAD_ELECTRODES])
        waveforms = drawn.axes["Waveforms"][0]
        counts = np.array([len(train) for train in trains])
        chosen = np.sort(np.argsort(-counts, kind="stable")[:WAVEFORM_UNITS])
        assert len(waveforms.lines) == WAVEFORM_UNITS
        for line, unit in zip(waveforms.lines, chosen):
            np.testing.assert_allclose(line.get_ydata(), unit_waveforms()[unit][:, unit % 4])


def test_imaging_rois_per_plane_and_dff_with_trials(synthetic):
    result = write_quicklook(synthetic["imaging"], inspect=False)
    check_png(result, {"Summary": 1, **{f"ROIs PlaneSegmentation{p}": 1 for p in range(3)},
                       **{f"ΔF/F DfOverF{p}": 1 for p in range(3)}})
    with NWBHDF5IO(str(synthetic["imaging"]), "r") as io:
        nwbfile = io.read()
        drawn = draw_quicklook(nwbfile)
        for plane in range(3):
            segmentation = nwbfile.processing["ophys"]["ImageSegmentation"][f"PlaneSegmentation{plane}"]
            rois = masks.mask_pixels(segmentation)
            assert masks.field_of_view(nwbfile, segmentation, rois) == ((512, 512), True)
            overlay = drawn.axes[f"ROIs PlaneSegmentation{plane}"][0].images[1].get_array()
            for number, (rows, columns) in enumerate(rois):
                colour = masks.ABLATED_COLOR if number in ABLATED[plane] else masks.ROI_COLOR
                np.testing.assert_allclose(overlay[rows, columns, :3], np.tile(colour, (len(rows), 1)))
            assert (overlay[..., 3] > 0).sum() == sum(len(rows) for rows, _ in rois)
            dff = drawn.axes[f"ΔF/F DfOverF{plane}"][0]
            labels = [line.get_label() for line in dff.lines if line.get_label().startswith("ROI")]
            ablated_ids = [f"ROI {100 * plane + roi} (ablated)" for roi in ABLATED[plane]]
            assert set(ablated_ids) <= set(labels) and len(labels) == 5
            series = nwbfile.processing["ophys"]["DfOverF"][f"DfOverF{plane}"]
            values = dff_values(plane, series.data.shape[0])
            start, stop = dff.get_xlim()
            first, last = index_at(series, start), index_at(series, stop)
            roi_lines = [line for line in dff.lines if line.get_label().startswith("ROI")]
            for rank, line in enumerate(roi_lines):
                column = int(line.get_label().split()[1]) - 100 * plane
                offset = line.get_ydata()[0] - values[first, column]
                np.testing.assert_allclose(line.get_ydata(), values[first:last, column] + offset)
            trial_starts = nwbfile.trials["start_time"][:]
            dashed = [line.get_xdata()[0] for line in dff.lines if line.get_linestyle() == "--"]
            np.testing.assert_allclose(dashed, trial_starts[(trial_starts >= start) & (trial_starts < stop)])


def test_image_masks_on_a_non_square_field(synthetic):
    result = write_quicklook(synthetic["image_mask"], inspect=False)
    check_png(result, {"Summary": 1, "ROIs PlaneSegmentation": 1})
    with NWBHDF5IO(str(synthetic["image_mask"]), "r") as io:
        nwbfile = io.read()
        overlay = draw_quicklook(nwbfile).axes["ROIs PlaneSegmentation"][0].images[1].get_array()
        assert overlay.shape[:2] == IMAGE_MASK_SHAPE
        expected = np.zeros(IMAGE_MASK_SHAPE, dtype=bool)
        expected[10:20, 50:60] = expected[40:50, 5:15] = True
        np.testing.assert_array_equal(overlay[..., 3] > 0, expected)
        np.testing.assert_allclose(overlay[45, 10, :3], masks.ABLATED_COLOR)
        np.testing.assert_allclose(overlay[15, 55, :3], masks.ROI_COLOR)
        assert missing_for_dandi(nwbfile) == ["subject", "subject_id", "species", "sex", "age"]


def test_text_panel_says_what_dandi_needs_and_the_gate_counts(samples, drawn):
    nwb_path, conversion = samples["spe1"]
    lines = summary_lines(drawn["spe1"][0], nwbfile_path=nwb_path, report=conversion.report)
    counts = conversion.report.counts()
    assert lines[0].startswith("Session c14")
    assert "DANDI still needs: session_start_time (a placeholder now) (supply with --metadata)" in lines
    assert (f"Gate (nwbinspector, dandi config): {counts.get('CRITICAL', 0)} CRITICAL · "
            f"{counts.get('BEST_PRACTICE_VIOLATION', 0)} BEST_PRACTICE_VIOLATION · "
            f"{counts.get('BEST_PRACTICE_SUGGESTION', 0)} BEST_PRACTICE_SUGGESTION; 0 blocking") in lines
    assert f"File: spe1.nwb, {nwb_path.stat().st_size / 1e6:.1f} MB" in lines


def test_only_slices_of_the_raw_series_are_read(samples, monkeypatch):
    """The raw series is read in short windows: spike snippets and 20 ms windows, never whole."""
    nwb_path, _ = samples["spe1"]
    read = counting_reads(monkeypatch)
    write_quicklook(nwb_path, nwb_path.with_name("bounded.png"), inspect=False, isolated=False)  # counted here
    with h5py.File(nwb_path, "r") as file:
        raw = file["acquisition/ElectricalSeries/data"]
        patch = file["acquisition/PatchClampSeries/data"]
        rate = 30_000
        snippets = ephys.SPIKES_AVERAGED * 2 * ephys.SNIPPET_HALF_WIDTH_S * rate
        windows = ephys.SPIKES_SHOWN * ephys.TRACE_WINDOW_S * rate
        assert read["/acquisition/ElectricalSeries/data"] <= (snippets + windows + 16) * raw.shape[1]
        assert read["/acquisition/ElectricalSeries/data"] < raw.size / 10
        patch_rate = file["acquisition/PatchClampSeries/starting_time"].attrs["rate"]
        assert read["/acquisition/PatchClampSeries/data"] <= patch_trace.PATCH_WINDOW_S * patch_rate + 1 < patch.size


def test_a_panel_that_fails_is_named_and_the_rest_is_drawn():
    def broken(figure, cell):
        figure.add_subplot(cell).plot([0, 1], [1, 0])
        raise KeyError("no such column")

    def fine(figure, cell):
        axes = figure.add_subplot(cell)
        axes.plot([0, 1], [0, 1])
        return [axes]

    drawn = lay_out([Panel("Fine", fine), Panel("Broken", broken)])
    assert drawn.failures == {"Broken": "KeyError: 'no such column'"}
    assert axes_with_data(drawn.axes["Fine"][0])
    assert "could not draw: KeyError" in drawn.axes["Broken"][0].texts[0].get_text()
    assert drawn.figure.axes == [drawn.axes["Fine"][0], drawn.axes["Broken"][0]]  # the half-drawn Axes removed


def test_rows_pair_narrow_panels_and_keep_wide_ones_alone():
    panels = [Panel(name, None, wide=name.startswith("w")) for name in ("w1", "a", "b", "c", "w2", "d")]
    rows = [[panel.title for panel in row] for row in arrange_rows(panels)]
    assert rows == [["w1"], ["a", "b"], ["c", "d"], ["w2"]]


def test_envelope_keeps_every_extreme_and_busiest_window():
    times = np.arange(100_000) / 30_000
    values = np.zeros(100_000)
    values[12_345], values[67_890] = 5.0, -7.0
    reduced_times, reduced = envelope(times, values, bins=1000)
    assert len(reduced) == 2000 and reduced.max() == 5.0 and reduced.min() == -7.0
    assert reduced_times[np.argmax(reduced)] == times[12_345]
    events = np.array([0.5, 3.0, 3.2, 3.4, 9.0])
    assert busiest_window(events, 1.0, 0.0, 10.0) == pytest.approx((2.9, 3.9))
    assert busiest_window(events, 20.0, 0.0, 10.0) == (0.0, 10.0)


def test_cli_quicklook(samples, run_cli, tmp_path):
    nwb_path, _ = samples["spe2"]
    target = tmp_path / "look.png"
    code, out, err = run_cli("quicklook", nwb_path, "-o", target)
    assert code == 0 and err == ""
    assert out.startswith(f"quicklook {target} (4 panels)")
    assert Image.open(target).size[0] == WIDTH_PX
    not_nwb = tmp_path / "notes.nwb"
    not_nwb.write_text("not an NWB file")
    code, out, err = run_cli("quicklook", not_nwb)
    assert code == 1 and err.startswith(f"error: {not_nwb}: not an HDF5 file") and err.count("\n") == 1
    assert not not_nwb.with_suffix(".png").exists()
    code, _, err = run_cli("quicklook", nwb_path, "-o", tmp_path / "look.jpg")
    assert code == 1 and "not a .png file name" in err and not (tmp_path / "look.jpg").exists()
    code, _, err = run_cli("quicklook", nwb_path, "-o", tmp_path / "missing" / "look.png")
    assert code == 1 and "does not exist" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["look.png", "notes.nwb"]


def test_cli_quicklook_flag_after_a_conversion(run_cli, tmp_path):
    dataset = registered_datasets()["spe2"]
    source, metadata = dataset.write_sample(tmp_path / "source")
    output = tmp_path / "out" / "pair.nwb"
    output.parent.mkdir()
    code, out, err = run_cli("spe2", source, output, "--metadata", metadata, "--quicklook")
    assert code == 0, err
    assert f"quicklook {output.with_suffix('.png')} (4 panels)" in out
    assert Image.open(output.with_suffix(".png")).size[0] == WIDTH_PX
    failed = tmp_path / "out" / "failed.nwb"
    code, _, err = run_cli("spe2", tmp_path / "nowhere", failed, "--quicklook")
    assert code == 1 and err.startswith("error:")
    assert sorted(p.name for p in output.parent.iterdir()) == ["pair.nwb", "pair.png"]
