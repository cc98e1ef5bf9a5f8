"""``convert-to-nwb quicklook`` on hostile inputs: every row is one ``error:`` line naming the file, exit 1, no PNG
or temporary file left, the input unchanged.

The inputs are the tiny ephys file of :mod:`tests.quicklook_files` (HDF5 or NWB-Zarr) with one thing broken: not
an NWB file at all, truncated, a required group gone, numbers stored as text or as a pickle, NaN or absurd times, a
fact stated twice with two values (an index and its values, a series' columns and its electrodes, timestamps and
samples), huge declared shapes (never read), a damaged or pickled Zarr store; then PNG targets that must not be
written, and a reader process that crashes. Problems that only cost one panel (NaN samples, an empty series) are
not failures: the PNG is drawn with a note (tests/quicklook/test_hostile_content.py).
"""

from __future__ import annotations

import atexit
import faulthandler
import os
import pickle
import shutil
import signal
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Callable

import h5py
import numpy as np
import pytest

from nwb_conversions.quicklook import figure, isolation
from nwb_conversions.quicklook.target import temporary_png_path

from ...pickle_payloads import MarkerPayload
from ...quicklook_files import (
    IMAGING_RATE,
    IMAGING_SECONDS,
    ROIS_PER_PLANE,
    TINY_SAMPLES,
    h5_delete,
    h5_replace,
    h5_set_attribute,
    write_imaging_file,
    write_tiny_ephys_file,
    write_tiny_ephys_zarr,
)
from ..failure_table import Case
from .zarr import edit_array, set_keys

RAW = "acquisition/ElectricalSeries"
PATCH = "acquisition/PatchClampSeries"
DFF = "processing/ophys/DfOverF/DfOverF0"
ROIS = "processing/ophys/ImageSegmentation/PlaneSegmentation0"
FRAMES = int(IMAGING_SECONDS * IMAGING_RATE)


def tiny(tmp: Path) -> Path:
    """The tiny ephys file in ``tmp/source/``."""
    (tmp / "source").mkdir()
    return write_tiny_ephys_file(tmp / "source" / "tiny.nwb")


def nwb_case(tmp: Path, change: Callable[[Path], None], fragment: str, names: str = "tiny.nwb") -> Case:
    """The tiny file changed by ``change``, drawn to its default PNG beside it."""
    source = tiny(tmp)
    change(source)
    return Case(["quicklook", source], names, fragment, source.parent, source.with_suffix(".png"))


def imaging_case(tmp: Path, change: Callable[[Path], None], fragment: str) -> Case:
    """The imaging file (three planes of ROIs, ΔF/F, trials) changed by ``change``."""
    (tmp / "source").mkdir()
    source = write_imaging_file(tmp / "source" / "imaging.nwb")
    change(source)
    return Case(["quicklook", source], "imaging.nwb", fragment, source.parent, source.with_suffix(".png"))


def file_case(tmp: Path, content: bytes, fragment: str) -> Case:
    """A file of ``content`` named like an NWB file."""
    (tmp / "source").mkdir()
    source = tmp / "source" / "tiny.nwb"
    source.write_bytes(content)
    return Case(["quicklook", source], "tiny.nwb", fragment, source.parent, source.with_suffix(".png"))


def truncated(path: Path) -> None:
    with open(path, "r+b") as stream:
        stream.truncate(path.stat().st_size // 2)


def plain_hdf5(tmp: Path) -> Case:
    (tmp / "source").mkdir()
    source = tmp / "source" / "tiny.nwb"
    with h5py.File(source, "w") as file:
        file.create_dataset("traces", data=np.zeros((10, 4)))
    return Case(["quicklook", source], "tiny.nwb", "not a valid NWB file", source.parent,
                source.with_suffix(".png"))


def replaced(key: str, data=None, **declared) -> Callable[[Path], None]:
    return lambda path: h5_replace(path, key, data, **declared)


def timestamps_instead_of_rate(count: int) -> Callable[[Path], None]:
    """The raw series timed by ``count`` timestamps (declared, never written) instead of its rate."""

    def change(path: Path) -> None:
        h5_delete(path, f"{RAW}/starting_time")
        h5_replace(path, f"{RAW}/timestamps", shape=(count,), dtype="f8")

    return change


def pickled_spike_times(tmp: Path) -> Case:
    """Spike times stored as the opaque bytes of a pickle whose loading would create a marker file."""
    marker = tmp / "unpickled"
    payload = pickle.dumps(np.array([MarkerPayload(marker)], dtype=object), protocol=5)
    case = nwb_case(tmp, replaced("units/spike_times", np.void(payload)), "/units/spike_times cannot be read as NWB")
    case.absent = (marker,)
    return case


@lru_cache(maxsize=1)
def zarr_template() -> Path:
    """The tiny ephys file as an NWB-Zarr store, written once per test session (rows copy it)."""
    folder = Path(tempfile.mkdtemp(prefix="quicklook-zarr-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return write_tiny_ephys_zarr(folder / "tiny.nwb.zarr")


def zarr_case(tmp: Path, change: Callable[[Path], None], fragment: str, *options: str) -> Case:
    """A copy of the Zarr template changed by ``change``, drawn to ``tmp/out/tiny.png``."""
    (tmp / "source").mkdir()
    store = tmp / "source" / "tiny.nwb.zarr"
    shutil.copytree(zarr_template(), store)
    change(store)
    output = tmp / "out" / "tiny.png"
    output.parent.mkdir()
    return Case(["quicklook", store, "-o", output, *options], "tiny.nwb.zarr", fragment, store.parent, output)


def pickled_zarr(tmp: Path) -> Case:
    """``session_description`` stored with the pickle codec, its chunk a pickle that would create a marker file."""
    marker = tmp / "unpickled"

    def change(store: Path) -> None:
        edit_array("session_description", set_keys(filters=[{"id": "pickle", "protocol": 5}], compressor=None))(store)
        payload = np.array([MarkerPayload(marker)], dtype=object)
        (store / "session_description" / "0").write_bytes(pickle.dumps(payload, protocol=5))

    case = zarr_case(tmp, change, "session_description/.zarray: asks for the pickle object codec")
    case.absent = (marker,)
    return case


def raw_chunk(store: Path) -> Path:
    (chunk,) = [path for path in (store / RAW / "data").iterdir() if not path.name.startswith(".")]
    return chunk


def cut_chunk(store: Path) -> None:
    """The raw data's chunk cut short: its Blosc header no longer matches its length."""
    chunk = raw_chunk(store)
    chunk.write_bytes(chunk.read_bytes()[:66])


def scrambled_chunk(store: Path) -> None:
    """The raw data's chunk scrambled behind an intact Blosc header (the same length): only decoding finds it."""
    chunk = raw_chunk(store)
    content = chunk.read_bytes()
    chunk.write_bytes(content[:16] + bytes(np.random.default_rng(3).integers(0, 256, len(content) - 16, np.uint8)))


def target_case(tmp: Path, make_target: Callable[[Path], Path], names: str, fragment: str) -> Case:
    """The intact tiny file drawn to the target ``make_target`` prepares (in ``tmp/out/``)."""
    source = tiny(tmp)
    (tmp / "out").mkdir()
    target = make_target(tmp / "out")
    return Case(["quicklook", source, "-o", target], names, fragment, source.parent, target,
                more_sources=(tmp / "out",))


def existing_text(folder: Path) -> Path:
    (folder / "notes.png").write_text("my notes, not an image")
    return folder / "notes.png"


def link_to_source(folder: Path) -> Path:
    (folder / "look.png").symlink_to(folder.parent / "source" / "tiny.nwb")
    return folder / "look.png"


def fifo(folder: Path) -> Path:
    os.mkfifo(folder / "look.png")
    return folder / "look.png"


def crashing_reader(tmp: Path, monkeypatch: pytest.MonkeyPatch, signal_number: int) -> Case:
    """The reader process writes part of the PNG, then dies from ``signal_number`` (a C library's crash, the
    out-of-memory killer)."""

    def crash(nwbfile_path, png_path, **options):
        temporary_png_path(png_path).write_bytes(b"\x89PNG half")
        faulthandler.disable()  # pytest's fault handler would print the crash's traceback
        os.kill(os.getpid(), signal_number)

    monkeypatch.setattr(figure, "draw_into", crash)
    monkeypatch.setattr(isolation, "can_fork", lambda: True)
    return nwb_case(tmp, lambda path: None, f"crashed the reader process ({signal.Signals(signal_number).name}")


ROWS: dict[str, Callable[[Path, pytest.MonkeyPatch], Case]] = {
    # --- not an NWB file ---------------------------------------------------------------------------------------
    "input missing": lambda t, m: Case(["quicklook", t / "none.nwb"], "none.nwb", "no such file", t),
    "input is a text file": lambda t, m: file_case(t, b"session notes\n", "not an HDF5 file"),
    "input is empty": lambda t, m: file_case(t, b"", "not an HDF5 file"),
    "input truncated to half": lambda t, m: nwb_case(t, truncated, "cannot be read as NWB"),
    "HDF5 that is not NWB": lambda t, m: plain_hdf5(t),
    "required group missing (spike_times_index)": lambda t, m: nwb_case(
        t, lambda p: h5_delete(p, "units/spike_times_index"), "the group /units does not match the NWB schema"),
    "raw series without its data dataset": lambda t, m: nwb_case(
        t, lambda p: h5_delete(p, f"{RAW}/data"), f"/{RAW} has no data dataset"),
    "input is a plain folder": lambda t, m: Case(["quicklook", t], t.name, "is a folder without .zgroup", t,
                                                 t.with_suffix(".png")),
    # --- wrong types -------------------------------------------------------------------------------------------
    "raw data stored as text": lambda t, m: nwb_case(
        t, replaced(f"{RAW}/data", np.full((TINY_SAMPLES, 4), b"x")), f"/{RAW}/data holds text"),
    "patch data stored as text": lambda t, m: nwb_case(
        t, replaced(f"{PATCH}/data", np.full(TINY_SAMPLES, b"x")), f"/{PATCH}/data holds text"),
    "spike times stored as text": lambda t, m: nwb_case(
        t, replaced("units/spike_times", np.array([b"a", b"b", b"c"])), "/units/spike_times holds text"),
    "spike times stored as a pickle": lambda t, m: pickled_spike_times(t),
    "electrode positions stored as text": lambda t, m: nwb_case(
        t, replaced("general/extracellular_ephys/electrodes/rel_x", np.full(4, b"a")), "rel_x holds text"),
    # --- NaN, infinite and absurd values ---------------------------------------------------------------------
    "spike time NaN": lambda t, m: nwb_case(
        t, replaced("units/spike_times", np.array([np.nan, 0.05, 0.07])), "holds the time nan"),
    "spike time infinite": lambda t, m: nwb_case(
        t, replaced("units/spike_times", np.array([0.03, 0.05, np.inf])), "holds the time inf"),
    "spike times absurd (1e300 s)": lambda t, m: nwb_case(
        t, replaced("units/spike_times", np.array([1e300, 2e300, 3e300])), "beyond any recording"),
    "rate zero": lambda t, m: nwb_case(
        t, lambda p: h5_set_attribute(p, f"{RAW}/starting_time", "rate", 0.0), "has the rate 0.0"),
    "rate NaN": lambda t, m: nwb_case(
        t, lambda p: h5_set_attribute(p, f"{RAW}/starting_time", "rate", np.nan), "has the rate nan"),
    "conversion NaN": lambda t, m: nwb_case(
        t, lambda p: h5_set_attribute(p, f"{PATCH}/data", "conversion", np.nan), "has the conversion nan"),
    # --- a fact stated twice, two values (shapes declared huge are never read) --------------------------------
    "spike_times_index beyond its values": lambda t, m: nwb_case(
        t, replaced("units/spike_times_index", np.array([10], dtype=np.uint8)),
        "/units/spike_times_index ends at 10, but /units/spike_times holds 3 values"),
    "raw data with 10^9 declared channels, 4 electrodes": lambda t, m: nwb_case(
        t, replaced(f"{RAW}/data", shape=(TINY_SAMPLES, 10**9), dtype="i2"),
        "has 1000000000 channels (columns), but"),
    "electrodes region beyond the table": lambda t, m: nwb_case(
        t, replaced(f"{RAW}/electrodes", np.array([0, 1, 2, 99])), "names row 99, but"),
    "10^12 declared timestamps for 3000 samples": lambda t, m: nwb_case(
        t, timestamps_instead_of_rate(10**12), "holds 1000000000000 timestamps, but"),
    # --- imaging ----------------------------------------------------------------------------------------------
    "ΔF/F columns and rois region disagree": lambda t, m: imaging_case(
        t, replaced(f"{DFF}/data", np.zeros((FRAMES, ROIS_PER_PLANE + 1))),
        f"has {ROIS_PER_PLANE + 1} ROIs (columns), but /{DFF}/rois names {ROIS_PER_PLANE} ROIs"),
    "ΔF/F timestamps start at NaN": lambda t, m: imaging_case(
        t, replaced(f"{DFF}/timestamps", np.r_[np.nan, np.arange(1, FRAMES) / IMAGING_RATE]),
        f"/{DFF}/timestamps holds the time nan"),
    "pixel_mask_index goes back": lambda t, m: imaging_case(
        t, replaced(f"{ROIS}/pixel_mask_index", np.r_[np.arange(ROIS_PER_PLANE - 1) * 10 + 20, [5]]),
        f"/{ROIS}/pixel_mask_index goes back to 5 at row {ROIS_PER_PLANE - 1}"),
    "trial start times stored as text": lambda t, m: imaging_case(
        t, replaced("intervals/trials/start_time", np.full(6, b"soon")), "/intervals/trials/start_time holds text"),
    # --- NWB-Zarr stores ---------------------------------------------------------------------------------------
    "Zarr store with a garbled .zgroup": lambda t, m: zarr_case(
        t, lambda s: (s / ".zgroup").write_text("{garbage"), ".zgroup: is not JSON"),
    "Zarr array stored with the pickle codec": lambda t, m: pickled_zarr(t),
    "Zarr chunk cut short": lambda t, m: zarr_case(t, cut_chunk, "but the file holds 66"),
    "Zarr chunk scrambled behind its header": lambda t, m: zarr_case(t, scrambled_chunk, f"/{RAW}/data cannot be read"),
    "Zarr v3 store": lambda t, m: zarr_case(t, lambda s: (s / "zarr.json").write_text("{}"), "is Zarr v3 metadata"),
    # --- PNG targets -------------------------------------------------------------------------------------------
    "PNG in a missing folder": lambda t, m: target_case(t, lambda f: f / "missing" / "look.png", "look.png",
                                                        "does not exist"),
    "PNG path is a folder": lambda t, m: target_case(
        t, lambda f: (f / "look.png").mkdir() or f / "look.png", "look.png", "is a folder"),
    "PNG path is a link to the NWB file": lambda t, m: target_case(t, link_to_source, "look.png",
                                                                   "is the NWB file itself"),
    "PNG path exists and is not a PNG": lambda t, m: target_case(t, existing_text, "notes.png",
                                                                 "exists and is not a PNG image"),
    "PNG path is a FIFO": lambda t, m: target_case(t, fifo, "look.png", "is not a regular file"),
    "PNG path not .png": lambda t, m: target_case(t, lambda f: f / "look.jpg", "look.jpg", "not a .png file name"),
    "PNG inside the Zarr store": lambda t, m: zarr_case(
        t, lambda s: None, "lies inside the NWB-Zarr store", "-o", str(t / "source" / "tiny.nwb.zarr" / "l.png")),
    # --- the reader process dies -------------------------------------------------------------------------------
    "reader crashes (SIGSEGV in a C library)": lambda t, m: crashing_reader(t, m, signal.SIGSEGV),
    "reader killed (SIGKILL, out of memory)": lambda t, m: crashing_reader(t, m, signal.SIGKILL),
}
