"""The output's written pages are recycled a few windows behind its end, never touching what is still being written."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from nwb_conversions.writing import recycle as memory_recycling
from nwb_conversions.writing.recycle import WrittenPageRecycler

pytestmark = pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise on this platform")


def record_advice(monkeypatch) -> list[tuple[int, int]]:
    """Record ``(offset, length)`` of every ``posix_fadvise`` call, still making it."""
    calls = []
    original = os.posix_fadvise

    def recording(descriptor, offset, length, advice):
        assert advice == os.POSIX_FADV_DONTNEED
        calls.append((offset, length))
        return original(descriptor, offset, length, advice)

    monkeypatch.setattr(memory_recycling.os, "posix_fadvise", recording)
    return calls


def test_windows_are_advised_twice_in_order_behind_the_end(tmp_path, monkeypatch):
    calls = record_advice(monkeypatch)
    window = 4096
    with open(tmp_path / "out.bin", "wb", buffering=0) as stream:
        recycler = WrittenPageRecycler(stream.fileno(), window_bytes=window)
        for size in (window, 2 * window, 3 * window, 3 * window + 100, 6 * window):
            stream.truncate(size)
            recycler.file_grew()
    # write-back starts on window k once the file reaches (k + 2) windows; the pages are dropped a window later
    assert calls == [
        (0, window),  # at 2 windows: start window 0
        (window, window),  # at 3 windows: start window 1 ...
        (0, window),  # ... and drop window 0
        (2 * window, window),  # at 6 windows: start windows 2, 3, 4 and drop windows 1, 2, 3
        (window, window),
        (3 * window, window),
        (2 * window, window),
        (4 * window, window),
        (3 * window, window),
    ]
    assert (recycler.write_back_started, recycler.dropped) == (5 * window, 4 * window)


def test_advice_never_changes_the_file(tmp_path):
    payload = np.random.default_rng(0).integers(0, 256, size=1 << 20, dtype=np.uint8).tobytes()
    with open(tmp_path / "out.bin", "wb", buffering=0) as stream:
        recycler = WrittenPageRecycler(stream.fileno(), window_bytes=64 * 1024)
        for start in range(0, len(payload), 50_000):
            stream.write(payload[start : start + 50_000])
            recycler.file_grew()
    assert recycler.dropped > 0
    assert (tmp_path / "out.bin").read_bytes() == payload


def test_only_files_with_a_posix_descriptor_are_recycled(tmp_path, monkeypatch):
    calls = record_advice(monkeypatch)
    with h5py.File(tmp_path / "plain.h5", "w") as plain:
        assert WrittenPageRecycler.for_h5py_file(plain).file_descriptor == plain.id.get_vfd_handle()
    with h5py.File(tmp_path / "memory.h5", "w", driver="core", backing_store=False) as in_memory:
        recycler = WrittenPageRecycler.for_h5py_file(in_memory)
        assert recycler.file_descriptor is None
        recycler.file_grew()
    assert calls == []


def test_a_refused_advice_disables_recycling(tmp_path, monkeypatch):
    def refusing(*args):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(memory_recycling.os, "posix_fadvise", refusing)
    with open(tmp_path / "out.bin", "wb", buffering=0) as stream:
        recycler = WrittenPageRecycler(stream.fileno(), window_bytes=4096)
        stream.truncate(10 * 4096)
        recycler.file_grew()
        assert recycler.file_descriptor is None
