"""Valid but awkward content draws a PNG with a note where a panel cannot show anything (NaN traces, series without
samples, windows too large to read, a field of view too large to draw), reads only bounded slices of huge
declared shapes, and counts what it leaves out; an NWB-Zarr store is drawn like an HDF5 file. The failures (a file
that is malformed or contradicts itself) are rows of tests/cli/hostile/quicklook.py."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from pynwb import NWBHDF5IO

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.quicklook import draw_quicklook, ephys, write_quicklook
from nwb_conversions.quicklook.checks import MAX_VALUES_READ, PickledArray
from nwb_conversions.quicklook.masks import MAX_FIELD_PIXELS
from nwb_conversions.quicklook.opening import pickle_codec_refused, refuse_unreadable
from nwb_conversions.quicklook.reading import index_at
from nwb_conversions.quicklook.text import summary_lines

from ..quicklook_files import (
    IMAGING_RATE,
    IMAGING_SECONDS,
    ROIS_PER_PLANE,
    TINY_CHANNELS,
    TINY_PEAK_CHANNEL,
    TINY_RATE,
    TINY_SAMPLES,
    counting_reads,
    h5_replace,
    h5_set_attribute,
    new_nwbfile,
    write,
    write_image_mask_file,
    write_imaging_file,
    write_tiny_ephys_file,
    write_tiny_ephys_zarr,
)

RAW = "acquisition/ElectricalSeries"
PATCH = "acquisition/PatchClampSeries"
ALL_PANELS = ["Summary", "Probe map", "Raw traces", "Patch trace"]


@pytest.fixture
def tiny(tmp_path):
    return write_tiny_ephys_file(tmp_path / "tiny.nwb")


@pytest.fixture(scope="module")
def imaging_template(tmp_path_factory):
    return write_imaging_file(tmp_path_factory.mktemp("imaging") / "imaging.nwb")


@pytest.fixture
def imaging(imaging_template, tmp_path):
    return shutil.copy(imaging_template, tmp_path / "imaging.nwb")


def patch_axes(nwb_path):
    with NWBHDF5IO(str(nwb_path), "r") as io:
        nwbfile = io.read()
        drawn = draw_quicklook(nwbfile)
        axes = drawn.axes["Patch trace"][0]
        series = nwbfile.acquisition["PatchClampSeries"]
        start, stop = axes.get_xlim()
        stored = series.data[index_at(series, start) : index_at(series, stop)]
        return axes, stored


def test_the_intact_tiny_file_draws_every_panel(tiny):
    result = write_quicklook(tiny, inspect=False)
    assert result.panels == ALL_PANELS and result.failures == {}
    with NWBHDF5IO(str(tiny), "r") as io:
        assert ephys.view_raw_series(io.read()).peak_column == TINY_PEAK_CHANNEL


def test_non_finite_samples_are_gaps_counted_in_the_legend(tiny):
    values = np.random.default_rng(1).normal(size=TINY_SAMPLES)
    values[::7], values[3::11] = np.nan, np.inf
    h5_replace(tiny, f"{PATCH}/data", values)
    assert write_quicklook(tiny, inspect=False).failures == {}
    axes, stored = patch_axes(tiny)
    gaps = int((~np.isfinite(stored)).sum())
    assert gaps > 400
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert f"PatchClampSeries; {gaps} of {len(stored)} samples NaN or infinite (gaps)" in labels
    drawn = axes.lines[0].get_ydata()
    assert np.isnan(drawn).sum() == gaps and not np.isinf(drawn).any()


def test_a_trace_of_nan_only_is_a_note_and_the_command_warns(tiny, run_cli):
    h5_replace(tiny, f"{PATCH}/data", np.full(TINY_SAMPLES, np.nan))
    code, out, err = run_cli("quicklook", tiny)
    assert code == 0 and out.startswith(f"quicklook {tiny.with_suffix('.png')} (4 panels)")
    last = (TINY_SAMPLES - 1) / TINY_RATE
    assert err == (f"warning: {tiny.with_suffix('.png')}: panel 'Patch trace' could not be drawn (all "
                   f"{TINY_SAMPLES - 1} samples of PatchClampSeries from 0 s to {last:g} s are NaN or infinite)\n")


def test_a_series_without_samples_is_a_note(tiny):
    h5_replace(tiny, f"{PATCH}/data", np.zeros(0))
    result = write_quicklook(tiny, inspect=False)
    assert result.failures == {"Patch trace": "PatchClampSeries has no samples"}
    assert result.boxes["Raw traces"] and result.boxes["Probe map"]


def test_raw_data_of_nan_marks_no_largest_spike(tiny):
    h5_replace(tiny, f"{RAW}/data", np.full((TINY_SAMPLES, TINY_CHANNELS), np.nan))
    with NWBHDF5IO(str(tiny), "r") as io:
        nwbfile = io.read()
        assert ephys.view_raw_series(nwbfile).peak_column is None
        drawn = draw_quicklook(nwbfile)
        labels = [c.get_label() for axes in drawn.axes["Probe map"] for c in axes.collections
                  if isinstance(c, PathCollection)]
        assert labels == ["site", "site"]
        assert drawn.failures == {"Raw traces": "no ground-truth electrode, and no finite sample around the spikes "
                                                "to find the cell's channel"}


def test_a_huge_declared_raw_series_is_read_in_bounded_slices(tiny, monkeypatch):
    h5_replace(tiny, f"{RAW}/data", shape=(10**12, TINY_CHANNELS), dtype="i2")
    read = counting_reads(monkeypatch)
    result = write_quicklook(tiny, inspect=False, isolated=False)
    assert result.panels == ALL_PANELS and result.failures == {}
    windows = (ephys.SPIKES_AVERAGED * 2 * ephys.SNIPPET_HALF_WIDTH_S + ephys.SPIKES_SHOWN * ephys.TRACE_WINDOW_S)
    assert 0 < read[f"/{RAW}/data"] <= (windows * TINY_RATE + 16) * TINY_CHANNELS


def test_a_window_too_large_to_read_is_a_note(tiny, monkeypatch):
    h5_replace(tiny, f"{PATCH}/data", shape=(10**12,), dtype="f8")
    h5_set_attribute(tiny, f"{PATCH}/starting_time", "rate", 1e12)
    read = counting_reads(monkeypatch)
    result = write_quicklook(tiny, inspect=False, isolated=False)
    assert result.failures == {"Patch trace": f"/{PATCH}/data would read 999,999,999,999 values, more than the "
                                              f"{MAX_VALUES_READ:,} read at once"}
    assert f"/{PATCH}/data" not in read


def test_a_field_of_view_too_large_is_a_note_and_no_mask_is_read(tmp_path, monkeypatch):
    path = write_image_mask_file(tmp_path / "masks.nwb")
    key = "processing/ophys/ImageSegmentation/PlaneSegmentation/image_mask"
    h5_replace(path, key, shape=(2, 100_000, 100_000), dtype="f4")
    read = counting_reads(monkeypatch)
    result = write_quicklook(path, inspect=False, isolated=False)
    assert result.failures == {"ROIs PlaneSegmentation": "the field of view of PlaneSegmentation (100000 × 100000 px) "
                                                         f"is not between 1 and {MAX_FIELD_PIXELS:,} pixels"}
    assert f"/{key}" not in read


def test_dff_notes_and_gaps(imaging):
    frames = int(IMAGING_SECONDS * IMAGING_RATE)
    dff = "processing/ophys/DfOverF/DfOverF{}"
    h5_replace(imaging, f"{dff.format(0)}/data", np.full((frames, ROIS_PER_PLANE), np.nan))
    gappy = np.random.default_rng(2).normal(size=(frames, ROIS_PER_PLANE))
    gappy[::5, 3] = np.nan
    h5_replace(imaging, f"{dff.format(1)}/data", gappy)
    h5_replace(imaging, f"{dff.format(2)}/data", np.zeros((0, ROIS_PER_PLANE)))
    h5_replace(imaging, f"{dff.format(2)}/timestamps", np.zeros(0))
    result = write_quicklook(imaging, inspect=False)
    # the window starts at the first trial (3 s): frames from 2 s at 7 Hz, so the first 7 frames are left out
    first = int((3.0 - 2.0) * IMAGING_RATE)
    assert result.failures == {
        "ΔF/F DfOverF0": f"all {(frames - first) * ROIS_PER_PLANE} values of DfOverF0 from 3 s to 63 s are NaN or "
                         "infinite",
        "ΔF/F DfOverF2": "DfOverF2 has no samples",
    }
    with NWBHDF5IO(str(imaging), "r") as io:
        title = draw_quicklook(io.read()).axes["ΔF/F DfOverF1"][0].get_title(loc="left")
    assert title.endswith(f"; {len(range(10, frames, 5))} values NaN or infinite (gaps)")


def test_an_nwb_zarr_store_is_drawn_like_an_hdf5_file(tmp_path):
    store = write_tiny_ephys_zarr(tmp_path / "tiny.nwb.zarr")
    result = write_quicklook(store, tmp_path / "tiny.png")
    assert result.panels == ALL_PANELS and result.failures == {}
    assert (tmp_path / "tiny.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["tiny.nwb.zarr", "tiny.png"]


def test_an_earlier_png_is_replaced(tiny):
    target = tiny.with_name("look.png")
    target.write_bytes(b"\x89PNG\r\n\x1a\n an earlier quicklook")
    write_quicklook(tiny, target, inspect=False)
    assert target.stat().st_size > 10_000
    assert sorted(path.name for path in tiny.parent.iterdir()) == ["look.png", "tiny.nwb"]


def test_the_pickle_codec_is_refused_while_a_store_is_read():
    from numcodecs import get_codec

    with pickle_codec_refused():
        with pytest.raises(PickledArray):
            get_codec({"id": "pickle", "protocol": 5})
    assert type(get_codec({"id": "pickle", "protocol": 5})).__name__ == "Pickle"


def test_reads_that_overlap_and_end_out_of_order_leave_the_codec_as_it_was():
    """Two quicklooks in threads of one process (a Dask worker): the one that started first ends first."""
    from numcodecs import get_codec

    first, second = pickle_codec_refused(), pickle_codec_refused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    with pytest.raises(PickledArray):
        get_codec({"id": "pickle", "protocol": 5})
    second.__exit__(None, None, None)
    assert type(get_codec({"id": "pickle", "protocol": 5})).__name__ == "Pickle"


def test_a_pickled_array_found_while_reading_is_named(tmp_path):
    store = tmp_path / "s.nwb.zarr"
    (store / "units" / "spike_times").mkdir(parents=True)
    (store / ".zgroup").write_text('{"zarr_format": 2}')
    (store / "units" / "spike_times" / ".zarray").write_text(json.dumps({"filters": [{"id": "pickle"}]}))
    wrapped = RuntimeError("error decoding metadata")
    wrapped.__context__ = PickledArray("pickle")
    with pytest.raises(SourceFormatError) as refused:
        refuse_unreadable(store, wrapped)
    assert str(refused.value) == (f"{store}: /units/spike_times is stored with the pickle codec (refused: unpickling "
                                  "runs code); expected an NWB-Zarr store without pickled arrays")


def test_a_file_with_nothing_to_draw_gets_the_summary_alone(tmp_path):
    path = write(new_nwbfile("empty-session"), tmp_path / "empty.nwb")
    result = write_quicklook(path, inspect=False)
    assert result.panels == ["Summary"] and result.failures == {}
    with NWBHDF5IO(str(path), "r") as io:
        lines = summary_lines(io.read())
    assert "Holds: no series" in lines and "Tables: none" in lines
