"""``--backend zarr``: NWB-Zarr stores that read back with NWBZarrIO (no pickle) and hold the HDF5 file's data."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import zarr
from hdmf_zarr import NWBZarrIO
from pynwb import NWBHDF5IO

from nwb_conversions.cli.main import main
from nwb_conversions.conversion import convert_session
from nwb_conversions.datasets import registered_datasets
from tests.datasets.test_dataset_contract import data_arrays


def zarr_arrays(store_path) -> dict[str, np.ndarray]:
    """Every numeric array of the store but creation dates, by path (the same paths as in the HDF5 file)."""
    found = {}

    def visit(name, item):
        if isinstance(item, zarr.Array) and item.dtype.kind in "iufb" and not name.endswith("file_create_date"):
            found[name] = item[...]

    zarr.open_group(str(store_path), mode="r").visititems(visit)
    return found


@pytest.fixture(scope="module", params=["spe1", "allen-oephys"])
def converted(request, tmp_path_factory):
    """The dataset's sample converted by the command to NWB-Zarr (the gate on) and, for reference, to HDF5."""
    dataset = registered_datasets()[request.param]
    tmp_path = tmp_path_factory.mktemp(request.param)
    source, metadata_path = dataset.write_sample(tmp_path / "source")
    store = tmp_path / "session.nwb.zarr"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main([dataset.key, str(source), str(store), "--metadata", str(metadata_path), "--backend", "zarr"])
    assert code == 0
    out = stdout.getvalue()
    hdf5 = tmp_path / "session.nwb"
    convert_session(dataset, source, hdf5, metadata_path=metadata_path, inspect=False, progress=False)
    return request.param, source, store, hdf5, out


def test_zarr_holds_the_same_data_as_hdf5_bit_for_bit(converted):
    key, source, store, hdf5, out = converted
    assert f"nwbinspector (dandi): {store}: 0 CRITICAL, 0 BEST_PRACTICE_VIOLATION" in out  # the gate ran on Zarr
    theirs, ours = data_arrays(hdf5), zarr_arrays(store)
    assert sorted(ours) == sorted(theirs)
    for name, values in ours.items():
        assert values.dtype == theirs[name].dtype, name
        np.testing.assert_array_equal(values, theirs[name], err_msg=name)
    with NWBZarrIO(str(store), "r") as zarr_io, NWBHDF5IO(str(hdf5), "r") as hdf5_io:
        from_zarr, from_hdf5 = zarr_io.read(), hdf5_io.read()
        for name, series in from_hdf5.acquisition.items():
            twin = from_zarr.acquisition[name]
            assert (twin.unit, twin.conversion, twin.offset, twin.rate) == (
                series.unit, series.conversion, series.offset, series.rate
            )
        assert from_zarr.subject.subject_id == from_hdf5.subject.subject_id
        if from_hdf5.units is not None:
            np.testing.assert_array_equal(from_zarr.units["spike_times"][0], from_hdf5.units["spike_times"][0])


@pytest.mark.parametrize("converted", ["spe1"], indirect=True)
def test_zarr_spe1_keeps_raw_counts_geometry_and_the_fast_writer_chunks(converted):
    _, source, store, hdf5, _ = converted
    raw = np.fromfile(next(source.glob("*_npx_raw.bin")), dtype="<i2").reshape(-1, 384)
    with NWBZarrIO(str(store), "r") as zarr_io:
        nwbfile = zarr_io.read()
        series = nwbfile.acquisition["ElectricalSeries"]
        np.testing.assert_array_equal(series.data[:], raw)
        assert series.data.chunks == (30_000, 64)
        compressor = series.data.compressor  # the Zarr default: Blosc-zstd with byte shuffle
        assert (compressor.codec_id, compressor.cname, compressor.shuffle) == ("blosc", "zstd", 1)
        assert series.conversion == 2.34375e-6 and series.unit == "volts"
        electrodes = nwbfile.electrodes.to_dataframe()
    with NWBHDF5IO(str(hdf5), "r") as hdf5_io:
        reference = hdf5_io.read().electrodes.to_dataframe()
    assert len(electrodes) == 384
    np.testing.assert_array_equal(electrodes["rel_x"], reference["rel_x"])
    np.testing.assert_array_equal(electrodes["rel_y"], reference["rel_y"])
    assert electrodes["is_reference_site"].sum() == 10


def test_zarr_stores_no_pickled_object(converted):
    _, _, store, _, _ = converted
    codecs = set()
    for metadata_file in store.rglob(".zarray"):
        metadata = json.loads(metadata_file.read_text())
        for codec in (metadata.get("filters") or []) + [metadata.get("compressor") or {}]:
            codecs.add(codec.get("id"))
    assert "pickle" not in codecs
    assert "json2" in codecs  # text is stored as JSON


def test_zarr_output_is_never_replaced_without_overwrite_and_only_a_zarr_store_is_replaced(tmp_path, run_cli):
    dataset = registered_datasets()["allen-oephys"]
    source, metadata_path = dataset.write_sample(tmp_path / "source")
    store = tmp_path / "out.nwb.zarr"
    arguments = (dataset.key, source, store, "--metadata", metadata_path, "--backend", "zarr", "--no-inspect")
    assert run_cli(*arguments)[0] == 0
    code, _, err = run_cli(*arguments)
    assert code == 1 and "already exists" in err
    first_store_id = (store / ".zattrs").stat().st_ino
    assert run_cli(*arguments, "--overwrite")[0] == 0
    assert (store / ".zattrs").stat().st_ino != first_store_id
    assert not [path for path in tmp_path.iterdir() if "partial" in path.name or "previous" in path.name]

    folder = tmp_path / "not_a_store"
    (folder / "keep.txt").parent.mkdir()
    (folder / "keep.txt").write_text("mine")
    code, _, err = run_cli(dataset.key, source, folder, "--backend", "zarr", "--overwrite", "--no-inspect")
    assert code == 1 and "is a folder" in err
    assert (folder / "keep.txt").read_text() == "mine"


def test_a_zarr_batch_is_resumable_through_the_zarr_gate(tmp_path):
    from nwb_conversions.batch import ConversionOptions, run_batch

    dataset = registered_datasets()["allen-oephys"]
    root, _ = dataset.write_sample_release(tmp_path / "release", 1)
    table = tmp_path / "sessions.yaml"
    table.write_text("'103991': {subject_id: m1, species: Mus musculus, sex: F, age: P90D}\n", encoding="utf-8")
    options = ConversionOptions(backend="zarr")
    first = run_batch(dataset, root, tmp_path / "nwb", sessions_table=table, options=options, cores=1, progress=False)
    second = run_batch(dataset, root, tmp_path / "nwb", sessions_table=table, options=options, cores=1, progress=False)
    store = tmp_path / "nwb" / "sub-m1" / "sub-m1_ses-103991.nwb.zarr"
    assert [(result.status, result.output) for result in first.results] == [("OK", str(store))]
    assert second.results[0].status == "SKIPPED" and "passes the gate" in second.results[0].reason
    assert (store / ".zgroup").is_file()
