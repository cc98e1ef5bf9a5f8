"""The parallel direct-chunk writer: bit-exact for odd shapes and dtypes, readable without plugins, clean on failure."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from datetime import datetime, timezone

import h5py
import numpy as np
import pytest
from pynwb import NWBHDF5IO, NWBFile, TimeSeries

from nwb_conversions.errors import ConversionError, SourceFormatError
from nwb_conversions.readers.binary import open_interleaved_binary
from nwb_conversions.writing import encode as chunk_encoding
from nwb_conversions.writing import shuffle as byte_shuffling
from nwb_conversions.writing import write as chunk_writer
from nwb_conversions.writing.encode import ChunkEncoder, select_deflate_encoder
from nwb_conversions.writing.hdf5 import write_nwbfile
from nwb_conversions.writing.plan import StreamedArray, default_chunk_shape, h5py_filter_options
from nwb_conversions.writing.shuffle import byte_shuffle
from nwb_conversions.writing.in_flight import memory_budget_bytes, plan_in_flight
from nwb_conversions.writing.write import fill_dataset

DIRECT_MODES = ("gzip", "max", "none")


def recording_like(shape: tuple[int, ...], dtype: str, *, seed: int = 0) -> np.ndarray:
    """Return noisy data of ``shape`` and ``dtype`` that uses the high bytes too (negative values, slow drift)."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 40, size=shape) + np.linspace(-300, 300, shape[0]).reshape((-1,) + (1,) * (len(shape) - 1))
    if np.dtype(dtype).kind == "u":
        values += 1000
    return values.astype(dtype)


def write_with_h5py(path, source, *, compression="gzip", chunks=None, maxshape=None, workers=2):
    """Create a dataset with the filters of ``compression`` and fill it from ``source``; return the path."""
    chunks = chunks or default_chunk_shape(source.shape, rows_per_chunk=1000)
    with h5py.File(path, "w") as file:
        dataset = file.create_dataset(
            "data",
            shape=source.shape,
            dtype=source.dtype,
            chunks=chunks,
            maxshape=maxshape,
            **h5py_filter_options(compression),
        )
        fill_dataset(dataset, source, compression=compression, progress=False, workers=workers)
    return path


def read_back(path) -> np.ndarray:
    """Read the whole ``data`` dataset."""
    with h5py.File(path, "r") as file:
        return file["data"][...]


def make_nwbfile(data) -> NWBFile:
    """Return an NWB file holding ``data`` as a TimeSeries named ``trace``."""
    nwbfile = NWBFile(
        session_description="chunk writer test",
        identifier="chunk-writer",
        session_start_time=datetime(2020, 1, 1, tzinfo=timezone.utc),
    )
    nwbfile.add_acquisition(TimeSeries(name="trace", data=data, unit="V", rate=30_000.0, conversion=2.34375e-6))
    return nwbfile


@pytest.mark.parametrize("compression", DIRECT_MODES)
@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((2_345, 70), "int16"),  # last chunk partial in time and in channels
        ((2_000, 3), "uint16"),  # fewer channels than one chunk's 64
        ((17, 70), "float64"),  # a tiny recording
        ((100_003,), "float32"),  # 1-D
        ((1_500, 4, 3), "int32"),  # 3-D
    ],
)
def test_parallel_write_is_bit_exact(tmp_path, shape, dtype, compression):
    source = recording_like(shape, dtype)
    chunks = (1000, 64) if len(shape) == 2 else ((30_000,) if len(shape) == 1 else (400, 3, 2))
    chunks = tuple(min(size, length) for size, length in zip(chunks, shape))
    path = write_with_h5py(tmp_path / "data.h5", source, compression=compression, chunks=chunks)
    written = read_back(path)
    assert written.dtype == source.dtype
    assert np.array_equal(written, source)


def test_chunks_larger_than_the_recording_are_padded(tmp_path):
    """A resizable dataset keeps its full chunk shape even when the data are shorter than one chunk."""
    source = recording_like((17, 70), "int16")
    path = write_with_h5py(tmp_path / "data.h5", source, chunks=(1000, 64), maxshape=(None, 70))
    assert np.array_equal(read_back(path), source)


def test_memmap_source_and_strided_view(tmp_path):
    interleaved = recording_like((3_100, 10), "int16")
    raw_path = tmp_path / "raw.bin"
    interleaved.tofile(raw_path)
    mapped = np.memmap(raw_path, dtype="int16", mode="r", shape=interleaved.shape)
    path = write_with_h5py(tmp_path / "all.h5", mapped, chunks=(1000, 4))
    assert np.array_equal(read_back(path), interleaved)
    column = mapped[:, 7]  # a strided 1-D view, like one channel of an interleaved binary file
    path = write_with_h5py(tmp_path / "column.h5", column, chunks=(1000,))
    assert np.array_equal(read_back(path), interleaved[:, 7])


@pytest.mark.parametrize("workers", [1, 3])
def test_worker_count_does_not_change_the_file_contents(tmp_path, workers):
    source = recording_like((5_500, 130), "int16")
    path = write_with_h5py(tmp_path / "data.h5", source, workers=workers)
    assert np.array_equal(read_back(path), source)


def test_zstd_goes_through_h5py_with_hdf5plugin(tmp_path):
    pytest.importorskip("hdf5plugin")
    source = recording_like((2_345, 70), "int16")
    path = write_with_h5py(tmp_path / "data.h5", source, compression="zstd")
    assert np.array_equal(read_back(path), source)


@pytest.mark.parametrize("compression", ["gzip", "max"])
def test_every_chunk_is_a_plain_zlib_stream(tmp_path, compression):
    """What HDF5's gzip filter decodes: a zlib stream (header + adler32) of the shuffled chunk bytes."""
    source = recording_like((2_345, 70), "int16")
    path = write_with_h5py(tmp_path / "data.h5", source, compression=compression, chunks=(1000, 64))
    with h5py.File(path, "r") as file:
        dataset = file["data"]
        filter_mask, stored = dataset.id.read_direct_chunk((1000, 64))
    assert filter_mask == 0
    padded = np.zeros((1000, 64), dtype="int16")
    padded[:, :6] = source[1000:2000, 64:]
    assert zlib.decompress(stored) == byte_shuffle(padded).tobytes()


def test_split_plane_stream_matches_zlib_for_every_item_size():
    encoder = select_deflate_encoder("gzip")
    for dtype in ("int8", "<i2", ">i2", "<f4", "<f8"):
        block = recording_like((999, 5), dtype)
        planes = byte_shuffle(block)
        stream = encoder.compress_planes(planes, low_order_first=byte_shuffling.is_little_endian(block.dtype))
        assert zlib.decompress(stream) == planes.tobytes()


@pytest.mark.parametrize("gather_elements", [7, 64, byte_shuffling.GATHER_ELEMENTS])
def test_byte_shuffle_matches_hdf5_layout(monkeypatch, gather_elements):
    """Contiguous and strided blocks (gathered in parts of ``gather_elements``: one row, several, a partial last
    part) give the planes HDF5's shuffle filter makes."""
    monkeypatch.setattr(byte_shuffling, "GATHER_ELEMENTS", gather_elements)
    for dtype in ("<i2", ">i2", "<u2", "<f8", ">f4", "u1"):
        block = recording_like((50, 9), dtype)
        cube = recording_like((20, 6, 4), dtype)
        for view in (block, block[:, 2:7], block[::3], block[:, 4], cube[:, 1:5, ::2], cube[::2]):
            expected = np.ascontiguousarray(view).reshape(-1).view(np.uint8).reshape(-1, block.dtype.itemsize).T
            assert np.array_equal(byte_shuffle(view), expected)
            planes = np.full((block.dtype.itemsize, view.size), 0xAA, dtype=np.uint8)
            assert byte_shuffle(view, out=planes) is planes
            assert np.array_equal(planes, expected)


READ_WITHOUT_PLUGINS = """
import hashlib, json, sys
import h5py
with h5py.File(sys.argv[1], "r") as file:
    dataset = file["acquisition/trace/data"]
    data = dataset[...]
    print(json.dumps(dict(
        sha256=hashlib.sha256(data.tobytes()).hexdigest(),
        compression=dataset.compression,
        shuffle=bool(dataset.shuffle),
        plugins_loaded="hdf5plugin" in sys.modules,
    )))
"""


def test_write_nwbfile_output_opens_in_plain_h5py_and_pynwb(tmp_path):
    import hashlib

    source = recording_like((70_123, 70), "int16")
    raw_path = tmp_path / "raw.bin"
    source.tofile(raw_path)
    mapped = np.memmap(raw_path, dtype="int16", mode="r", shape=source.shape)
    output = write_nwbfile(make_nwbfile(StreamedArray(mapped)), tmp_path / "out.nwb", progress=False)

    completed = subprocess.run(
        [sys.executable, "-c", READ_WITHOUT_PLUGINS, str(output)], capture_output=True, text=True, check=True
    )
    report = json.loads(completed.stdout)
    assert report == dict(
        sha256=hashlib.sha256(source.tobytes()).hexdigest(), compression="gzip", shuffle=True, plugins_loaded=False
    )
    with NWBHDF5IO(str(output), mode="r") as io:
        series = io.read().acquisition["trace"]
        assert series.data.chunks == (30_000, 64)
        assert series.conversion == 2.34375e-6
        assert np.array_equal(series.data[:], source)


@pytest.mark.parametrize("compression", DIRECT_MODES)
def test_write_nwbfile_each_mode_round_trips_through_pynwb(tmp_path, compression):
    source = recording_like((31_000, 3), "float64")
    output = write_nwbfile(
        make_nwbfile(StreamedArray(source)), tmp_path / "out.nwb", compression=compression, progress=False
    )
    with NWBHDF5IO(str(output), mode="r") as io:
        data = io.read().acquisition["trace"].data
        assert data.compression == (None if compression == "none" else "gzip")
        assert np.array_equal(data[:], source)


class FailingSource:
    """A source whose third chunk row cannot be read."""

    def __init__(self, array: np.ndarray, rows_per_chunk: int):
        self.array, self.rows_per_chunk = array, rows_per_chunk
        self.shape, self.dtype = array.shape, array.dtype

    def __getitem__(self, selection):
        if selection.start >= 2 * self.rows_per_chunk:
            raise OSError("the disk went away")
        return self.array[selection]


def assert_no_output(directory):
    """Nothing, not even a temporary ``.partial`` file, is left in ``directory`` but the inputs."""
    leftovers = [path.name for path in directory.iterdir() if path.suffix == ".nwb" or ".partial" in path.name]
    assert leftovers == []


def test_failing_source_read_aborts_cleanly(tmp_path):
    source = FailingSource(recording_like((10_000, 70), "int16"), rows_per_chunk=1000)
    nwbfile = make_nwbfile(StreamedArray(source, rows_per_chunk=1000))
    with pytest.raises(ConversionError, match=r"out.nwb: could not be written: the disk went away"):
        write_nwbfile(nwbfile, tmp_path / "out.nwb", progress=False)
    assert_no_output(tmp_path)


def test_failing_worker_aborts_cleanly(tmp_path, monkeypatch):
    calls = []

    def failing_compress(buffer):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("encoder crashed")
        return zlib.compress(buffer, 1)

    broken = chunk_encoding.ZlibEncoder(name="broken", level=1, compress=failing_compress)
    monkeypatch.setattr(chunk_encoding, "select_deflate_encoder", lambda compression: broken)
    monkeypatch.setattr(chunk_encoding, "FAST_RECIPES", {})  # the broken encoder stays in use after the first row
    nwbfile = make_nwbfile(StreamedArray(recording_like((20_000, 70), "int16"), rows_per_chunk=1000))
    with pytest.raises(RuntimeError, match="encoder crashed"):
        write_nwbfile(nwbfile, tmp_path / "out.nwb", progress=False)
    assert_no_output(tmp_path)
    assert len(calls) < 40  # the rest was cancelled, not compressed


def test_chunks_in_flight_stay_bounded(tmp_path, monkeypatch):
    """The reader never runs ahead of the writer by more than the window: memory is flat in the length."""
    rows_read, chunks_written, lead = [0], [0], []
    original_write_oldest = chunk_writer._write_oldest

    class CountingSource:
        shape, dtype = (200_000, 70), np.dtype("int16")

        def __getitem__(self, selection):
            rows_read[0] += 1
            return np.zeros((selection.stop - selection.start, 70), dtype="int16")

    def counting_write_oldest(*args):
        lead.append(rows_read[0] * 2 - chunks_written[0])  # two chunks per row
        chunks_written[0] += 1
        original_write_oldest(*args)

    monkeypatch.setattr(chunk_writer, "_write_oldest", counting_write_oldest)
    write_with_h5py(tmp_path / "data.h5", CountingSource(), chunks=(1000, 64), workers=2)
    assert chunks_written[0] == 400
    plan = plan_in_flight(memory_budget_bytes(), 1000 * 70 * 2, 1000 * 64 * 2, chunks_per_row=2, threads=2)
    assert max(lead) <= 2 * plan.row_buffers == 8  # every read row holds a buffer


def test_shape_mismatch_is_refused(tmp_path):
    with h5py.File(tmp_path / "data.h5", "w") as file:
        dataset = file.create_dataset("data", shape=(10, 3), dtype="int16", chunks=(5, 3))
        with pytest.raises(ValueError, match="differs"):
            fill_dataset(dataset, np.zeros((11, 3), dtype="int16"))


def test_declared_gzip_level_is_the_encoders():
    assert h5py_filter_options("gzip")["compression_opts"] == select_deflate_encoder("gzip").level
    assert h5py_filter_options("max")["compression_opts"] == select_deflate_encoder("max").level
    assert h5py_filter_options("gzip")["shuffle"] is True


def test_progress_bar_does_not_disturb_the_write(tmp_path, capsys):
    source = recording_like((2_345, 70), "int16")
    with h5py.File(tmp_path / "data.h5", "w") as file:
        dataset = file.create_dataset("data", shape=source.shape, dtype=source.dtype, chunks=(1000, 64))
        fill_dataset(dataset, source, progress=True)
    assert np.array_equal(read_back(tmp_path / "data.h5"), source)


def chunk_filter_masks(path) -> set[int]:
    """The filter mask of every stored chunk of ``data``."""
    with h5py.File(path, "r") as file:
        dataset = file["data"]
        return {dataset.id.get_chunk_info(index).filter_mask for index in range(dataset.id.get_num_chunks())}


def test_unshuffled_chunks_when_they_deflate_smaller(tmp_path):
    """A pattern that repeats every 97 samples deflates far better unshuffled: those chunks skip the shuffle filter
    through their filter mask, and plain h5py (the HDF5 library) reads them back bit-exact."""
    rng = np.random.default_rng(1)
    pattern = rng.integers(-30_000, 30_000, size=(97, 70)).astype("int16")
    source = np.tile(pattern, (40, 1))[:3_500]
    path = write_with_h5py(tmp_path / "data.h5", source, chunks=(1000, 64))
    assert chunk_filter_masks(path) == {chunk_encoding.SKIP_SHUFFLE_FILTER_MASK}
    with h5py.File(path, "r") as file:
        dataset = file["data"]
        assert (dataset.compression, dataset.shuffle) == ("gzip", True)
        _, stored = dataset.id.read_direct_chunk((1000, 0))
    assert zlib.decompress(stored) == source[1000:2000, :64].tobytes()
    assert np.array_equal(read_back(path), source)
    shuffled = ChunkEncoder(shuffle=True, deflate=select_deflate_encoder("gzip"))
    shuffled_bytes = sum(len(shuffled.encode(source[start : start + 1000, :64], (1000, 64))) for start in (0, 1000))
    with h5py.File(path, "r") as file:
        stored_bytes = sum(len(file["data"].id.read_direct_chunk((start, 0))[1]) for start in (0, 1000))
    assert stored_bytes < 0.5 * shuffled_bytes


def test_noise_keeps_the_shuffle(tmp_path):
    path = write_with_h5py(tmp_path / "data.h5", recording_like((5_500, 130), "int16"))
    assert chunk_filter_masks(path) == {0}


class ReadIntoOnly:
    """A source read only through ``read_into``: slicing it fails the test."""

    def __init__(self, binary):
        self.binary, self.shape, self.dtype, self.calls = binary, binary.shape, binary.dtype, 0

    def read_into(self, start, stop, out):
        self.calls += 1
        return self.binary.read_into(start, stop, out)

    def __getitem__(self, selection):
        raise AssertionError("the writer sliced a source that offers read_into")


def test_read_into_sources_fill_preallocated_buffers(tmp_path):
    source = recording_like((4_321, 70), "int16")
    source.tofile(tmp_path / "raw.bin")
    reader = ReadIntoOnly(open_interleaved_binary(tmp_path / "raw.bin", num_channels=70, dtype="int16"))
    path = write_with_h5py(tmp_path / "data.h5", reader, chunks=(1000, 64))
    assert reader.calls == 5
    assert np.array_equal(read_back(path), source)


def test_h5py_dataset_source(tmp_path):
    source = recording_like((2_345, 70), "float32")
    with h5py.File(tmp_path / "source.h5", "w") as file:
        file["source"] = source
    with h5py.File(tmp_path / "source.h5", "r") as file:
        path = write_with_h5py(tmp_path / "data.h5", file["source"], chunks=(1000, 64))
    assert np.array_equal(read_back(path), source)


def test_a_failing_read_into_stops_the_writer(tmp_path):
    source = recording_like((5_000, 70), "int16")
    source.tofile(tmp_path / "raw.bin")
    binary = open_interleaved_binary(tmp_path / "raw.bin", num_channels=70, dtype="int16")
    with open(tmp_path / "raw.bin", "r+b") as stream:
        stream.truncate(2_500 * 70 * 2)  # shorter than when it was opened
    with h5py.File(tmp_path / "data.h5", "w") as file:
        dataset = file.create_dataset("data", shape=binary.shape, dtype="int16", chunks=(1000, 64))
        with pytest.raises(SourceFormatError, match="ended after 2500 samples"):
            fill_dataset(dataset, binary, progress=False, workers=2)


@pytest.mark.parametrize(
    ("noise_std", "rows_per_chunk", "outcome"),
    [(3.0, 3_000, "unshuffled"), (5.5, 6_000, "fast"), (40.0, 3_000, "preferred")],
)
def test_the_first_chunks_pick_the_encoder(tmp_path, monkeypatch, noise_std, rows_per_chunk, outcome):
    """Unshuffled if clearly smaller, else the fast recipe when its chunks are at most 1 % larger than the split
    recipe's, else the split recipe: band-limited AP-like noise at three levels and chunk lengths, one per outcome
    (the fast recipe's single Huffman table per block needs chunks long enough to hold each byte plane's blocks)."""
    from scipy import signal

    rng = np.random.default_rng(2)
    band = signal.butter(1, (300, 10_000), btype="bandpass", fs=30_000, output="sos")
    noise = signal.sosfilt(band, rng.normal(size=(2 * rows_per_chunk, 128)), axis=0)
    source = (noise / noise.std() * noise_std).astype("int16")
    chosen = []
    original_choose = chunk_writer._choose_encoder

    def recording_choose(*args):
        chosen.append(original_choose(*args))
        return chosen[-1]

    monkeypatch.setattr(chunk_writer, "_choose_encoder", recording_choose)
    chunk_shape = (rows_per_chunk, 64)
    path = write_with_h5py(tmp_path / "data.h5", source, chunks=chunk_shape)
    assert np.array_equal(read_back(path), source)

    preferred = ChunkEncoder(shuffle=True, deflate=select_deflate_encoder("gzip"))
    encoders = {
        "preferred": preferred,
        "fast": chunk_encoding.fast_alternative(preferred, "gzip"),
        "unshuffled": preferred.without_shuffle(),
    }
    probed = [source[:rows_per_chunk, :64], source[:rows_per_chunk, 64:]]  # the first row's two chunks
    sizes = {
        name: sum(len(encoder.encode(block, chunk_shape)) for block in probed) for name, encoder in encoders.items()
    }
    if outcome == "unshuffled":
        assert sizes["unshuffled"] < 0.99 * sizes["preferred"]
    else:
        assert sizes["unshuffled"] >= 0.99 * sizes["preferred"]
        fast_within_tolerance = sizes["fast"] <= (1 + chunk_encoding.FAST_RECIPE_SIZE_TOLERANCE) * sizes["preferred"]
        assert fast_within_tolerance == (outcome == "fast")
    expected = encoders[outcome]
    assert [(encoder.name, encoder.filter_mask) for encoder in chosen] == [(expected.name, expected.filter_mask)]
    assert chunk_filter_masks(path) == {expected.filter_mask}
    with h5py.File(path, "r") as file:  # every recipe stores a plain zlib stream of the (un)shuffled chunk
        _, stored = file["data"].id.read_direct_chunk((rows_per_chunk, 64))
    last_chunk = source[rows_per_chunk:, 64:]
    plain = byte_shuffle(last_chunk) if expected.shuffles else np.ascontiguousarray(last_chunk)
    assert zlib.decompress(stored) == plain.tobytes()
