"""The Zarr store check accepts what convert-to-nwb and zarr itself write (nested chunk keys, other compressors,
NaN attributes stated alike twice, no consolidated metadata), and still finds the damage in each of those forms."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.publishing.zarr_check import check_zarr_store
from tests.cli.sample_outputs import edit_json, write_store

DATA = "acquisition/CellAttachedVoltageRaw/data"


def zarr_written(path, **options):
    """A store written by zarr itself: one int16 array of 100 × 7 in 40 × 4 chunks (3 × 2 = 6 chunk files)."""
    array = zarr.open_group(str(path), mode="w").create_dataset(
        "a", shape=(100, 7), chunks=(40, 4), dtype="<i2", **options
    )
    array[...] = np.arange(700, dtype="<i2").reshape(100, 7)
    return path


def test_a_store_convert_to_nwb_wrote_passes_and_inspect_reads_it(tmp_path, run_cli):
    store = write_store(tmp_path / "out.nwb.zarr")
    check_zarr_store(store)
    code, out, err = run_cli("inspect", store)
    assert code == 0, err
    assert out.startswith(f"{store}: 0 CRITICAL, 0 BEST_PRACTICE_VIOLATION")


def test_nan_attributes_stated_alike_twice_are_accepted_and_differing_ones_refused(tmp_path):
    store = write_store(tmp_path / "out.nwb.zarr")
    edit_json(store / DATA / ".zattrs", lambda value: value.update(note=float("nan")))
    edit_json(store / ".zmetadata", lambda value: value["metadata"][f"{DATA}/.zattrs"].update(note=float("nan")))
    assert "NaN" in (store / DATA / ".zattrs").read_text()
    check_zarr_store(store)
    edit_json(store / ".zmetadata", lambda value: value["metadata"][f"{DATA}/.zattrs"].update(note=1.0))
    with pytest.raises(SourceFormatError, match=f"its entry {DATA}/.zattrs disagrees with .*{DATA}/.zattrs"):
        check_zarr_store(store)


def test_without_consolidated_metadata_every_file_is_still_checked(tmp_path):
    store = write_store(tmp_path / "out.nwb.zarr")
    (store / ".zmetadata").unlink()
    check_zarr_store(store)
    (store / DATA / "0").write_bytes(b"short")
    with pytest.raises(SourceFormatError, match="less than a Blosc header"):
        check_zarr_store(store)


def test_nested_chunk_keys_are_counted(tmp_path):
    store = zarr_written(tmp_path / "nested.zarr", dimension_separator="/")
    assert json.loads((store / "a" / ".zarray").read_text())["dimension_separator"] == "/"
    assert (store / "a" / "2" / "1").is_file()
    check_zarr_store(store, nwb=False)
    (store / "a" / "2" / "1").unlink()
    with pytest.raises(SourceFormatError, match=r"makes 6 chunk\(s\), but the folder holds 5"):
        check_zarr_store(store, nwb=False)


def test_uncompressed_chunks_must_have_the_chunk_size(tmp_path):
    store = zarr_written(tmp_path / "raw.zarr", compressor=None)
    check_zarr_store(store, nwb=False)
    (store / "a" / "1.0").write_bytes(bytes(100))
    with pytest.raises(SourceFormatError, match=r"a/1\.0: holds 100 bytes but .zarray's chunks make 320"):
        check_zarr_store(store, nwb=False)


def test_other_compressors_need_non_empty_chunks(tmp_path):
    from numcodecs import Zlib

    store = zarr_written(tmp_path / "zlib.zarr", compressor=Zlib(level=1))
    check_zarr_store(store, nwb=False)
    (store / "a" / "0.1").write_bytes(b"")
    with pytest.raises(SourceFormatError, match=r"a/0\.1: is empty"):
        check_zarr_store(store, nwb=False)


def test_a_zarr_store_that_is_not_nwb_is_refused_as_nwb(tmp_path):
    store = zarr_written(tmp_path / "plain.zarr")
    with pytest.raises(SourceFormatError, match="does not say neurodata_type NWBFile"):
        check_zarr_store(store)


def test_inspect_never_opens_a_store_the_check_refuses(tmp_path, run_cli, monkeypatch):
    """The check runs before NWBZarrIO: a store it refuses is never handed to hdmf-zarr."""
    import hdmf_zarr

    store = write_store(tmp_path / "out.nwb.zarr")
    (store / DATA / "0").unlink()
    monkeypatch.setattr(hdmf_zarr, "NWBZarrIO", lambda *args, **kwargs: pytest.fail("the store was opened"))
    code, _, err = run_cli("inspect", store)
    assert code == 1 and f"{DATA}/.zarray: its shape [200000] in chunks [200000] makes 1 chunk(s)" in err
