"""NWB-Zarr stores, damaged or contradicting themselves, and Zarr outputs in the way: one line each, nothing left.

Store rows copy the sample store (:mod:`tests.cli.sample_outputs`), damage one thing and run ``convert-to-nwb
inspect`` on it: truncated, empty, wrongly typed and huge metadata files, a pickled object codec (with a payload
that would create a file if it ever ran), a huge declared shape, truncated, missing and blocking (FIFO) chunks,
and every fact a store states twice that disagrees (a chunk's Blosc header against its length and the chunk shape,
the shape against the chunk files, ``.zmetadata`` against the file it repeats). Output rows run a conversion with
``--backend zarr`` onto a path that must not be replaced.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Callable

import pytest
from nwb_conversions.samples.allen_oephys import write_allen_oephys_recording
from nwb_conversions.samples.spe1 import write_spe1_release

from ...pickle_payloads import MarkerPayload
from ..failure_table import Case
from ..sample_outputs import edit_json, write_store

STORE = "out.nwb.zarr"
DATA = "acquisition/CellAttachedVoltageRaw/data"  # 200 000 float64 in one Blosc chunk
TEXT = "general/session_id"  # one string, vlen-utf8 then Blosc


def store_case(tmp: Path, change: Callable[[Path], None], names: str, fragment: str) -> Case:
    """A copy of the sample store, changed by ``change(store)``, inspected."""
    store = write_store(tmp / "outputs" / STORE)
    change(store)
    return Case(["inspect", store], names, fragment, tmp / "outputs")


def write(relative: str, content: bytes | str) -> Callable[[Path], None]:
    def change(store: Path) -> None:
        path = store / relative
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return change


def edit_array(array: str, change: Callable[[dict], None], consolidated: bool = True) -> Callable[[Path], None]:
    """Edit an array's ``.zarray`` and (with ``consolidated``) its entry in ``.zmetadata`` alike."""

    def edit(store: Path) -> None:
        edit_json(store / array / ".zarray", change)
        if consolidated:
            edit_json(store / ".zmetadata", lambda value: change(value["metadata"][f"{array}/.zarray"]))

    return edit


def set_keys(**values) -> Callable[[dict], None]:
    return lambda metadata: metadata.update(values)


def truncate_chunk(store: Path) -> None:
    chunk = store / DATA / "0"
    chunk.write_bytes(chunk.read_bytes()[:1000])


def fifo_chunk(store: Path) -> None:
    (store / DATA / "0").unlink()
    os.mkfifo(store / DATA / "0")


def pickled_text(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    """The text array asks for the pickle codec, and its chunk holds a payload that creates a file when unpickled:
    refused even where numcodecs itself would allow unpickling."""
    import numcodecs.pickles

    monkeypatch.setattr(numcodecs.pickles, "ALLOW_UNSAFE_PICKLE_DECODE", True)
    marker = tmp / "unpickled"

    def change(store: Path) -> None:
        edit_array(TEXT, set_keys(filters=[{"id": "pickle", "protocol": 5}], compressor=None))(store)
        (store / TEXT / "0").write_bytes(pickle.dumps(MarkerPayload(marker)))

    case = store_case(tmp, change, f"{TEXT}/.zarray", "pickle object codec")
    case.absent = (marker,)
    return case


def consolidated_entry(key: str, value) -> Callable[[Path], None]:
    def change(metadata: dict) -> None:
        metadata["metadata"][key] = value

    return lambda store: edit_json(store / ".zmetadata", change)


def zarr_output_case(tmp: Path, make_target: Callable[[Path], Path], names: str, fragment: str, *extra) -> Case:
    """Convert the Allen sample with ``--backend zarr`` onto the target ``make_target(folder)`` made."""
    source = write_allen_oephys_recording(tmp / "release", duration_s=5.0, num_spikes=10)
    target = make_target(tmp / "outputs")
    arguments = ["allen-oephys", source, target, "--backend", "zarr", "--no-inspect", *extra]
    return Case(arguments, names, fragment, tmp / "release", target, more_sources=(tmp / "outputs",))


def made(kind: str) -> Callable[[Path], Path]:
    """Make something at ``outputs/out.nwb.zarr`` that no conversion may replace."""

    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / STORE
        if kind == "file":
            target.write_text("my notes")
        elif kind == "folder":
            target.mkdir()
            (target / "keep.txt").write_text("mine")
        elif kind == "zarr group":
            target.mkdir()
            (target / ".zgroup").write_text('{"zarr_format": 2}')
        elif kind == "fifo":
            os.mkfifo(target)
        elif kind == "link to a store":
            target.symlink_to(write_store(folder / "real.nwb.zarr"))
        elif kind == "store":
            write_store(target)
        return target

    return make


def output_inside_the_cell(tmp: Path, _monkeypatch) -> Case:
    cell, _ = write_spe1_release(tmp / "release", duration_s=0.2)
    output = cell / STORE
    return Case(["spe1", cell, output, "--backend", "zarr", "--overwrite"], "c14/out.nwb.zarr",
                "inside the source folder", tmp / "release", output)


ROWS: dict[str, Callable[[Path, pytest.MonkeyPatch], Case]] = {
    # --- metadata files: truncated, empty, wrongly typed, huge, undecodable --------------------------------------
    "zgroup truncated": lambda t, m: store_case(t, write(".zgroup", '{"zarr_for'), ".zgroup", "is not JSON"),
    "zgroup empty": lambda t, m: store_case(t, write(".zgroup", ""), ".zgroup", "is not JSON"),
    "zgroup a JSON list": lambda t, m: store_case(t, write(".zgroup", "[2]"), ".zgroup", "holds a JSON list"),
    "zgroup says Zarr 3": lambda t, m: store_case(
        t, write(".zgroup", '{"zarr_format": 3}'), ".zgroup", "zarr_format 3"
    ),
    "zarray not UTF-8": lambda t, m: store_case(t, write(f"{DATA}/.zarray", b"\xff\xfe{}"), "data/.zarray", "not JSON"),
    "zarray huge header": lambda t, m: store_case(
        t, write(f"{DATA}/.zarray", "{" + " " * 2**21 + "}"), "data/.zarray", "more than the 1048576"
    ),
    "zattrs nested without end": lambda t, m: store_case(
        t, write(f"{DATA}/.zattrs", "[" * 100_000 + "]" * 100_000), "data/.zattrs", "nests too deeply"
    ),
    "zattrs a JSON string": lambda t, m: store_case(t, write(f"{DATA}/.zattrs", '"x"'), "data/.zattrs", "JSON str"),
    "zmetadata truncated": lambda t, m: store_case(t, write(".zmetadata", '{"metadata": {'), ".zmetadata", "not JSON"),
    "zarr.json of Zarr 3": lambda t, m: store_case(t, write("zarr.json", "{}"), "zarr.json", "Zarr v3"),
    # --- array metadata: wrong types and shapes, codecs --------------------------------------------------------------
    "shape NaN": lambda t, m: store_case(
        t, write(f"{DATA}/.zarray", '{"zarr_format": 2, "shape": [NaN], "chunks": [1]}'), "data/.zarray",
        "shape is [NaN]",
    ),
    "shape a string": lambda t, m: store_case(
        t, edit_array(DATA, set_keys(shape="200000")), "data/.zarray", 'shape is "200000"'
    ),
    "chunks zero": lambda t, m: store_case(t, edit_array(DATA, set_keys(chunks=[0])), "data/.zarray", "chunks is [0]"),
    "chunks of another rank": lambda t, m: store_case(
        t, edit_array(DATA, set_keys(chunks=[200_000, 1])), "data/.zarray", "1-D shape but 2-D chunks"
    ),
    "dtype not a type": lambda t, m: store_case(
        t, edit_array(DATA, set_keys(dtype="<q17")), "data/.zarray", "not a data type"
    ),
    "objects without a text codec": lambda t, m: store_case(
        t, edit_array(DATA, set_keys(dtype="|O")), "data/.zarray", "without a text object codec"
    ),
    "unknown codec": lambda t, m: store_case(
        t, edit_array(DATA, set_keys(compressor={"id": "evil"})), "data/.zarray", "unknown codec 'evil'"
    ),
    "pickled object codec": pickled_text,
    "chunks larger than Blosc's limit": lambda t, m: store_case(
        t, edit_array(DATA, set_keys(chunks=[2**40])), "data/.zarray", "declares chunks of"
    ),
    # --- facts stated twice that disagree ----------------------------------------------------------------------------
    "huge declared shape": lambda t, m: store_case(
        t, edit_array(DATA, set_keys(shape=[10**15])), "data/.zarray",
        "makes 5000000000 chunk(s), but the folder holds 1",
    ),
    "chunk missing": lambda t, m: store_case(
        t, lambda s: (s / DATA / "0").unlink(), "data/.zarray", "makes 1 chunk(s), but the folder holds 0"
    ),
    "chunk truncated": lambda t, m: store_case(t, truncate_chunk, f"{DATA}/0", "but the file holds 1000"),
    "chunk empty": lambda t, m: store_case(t, write(f"{DATA}/0", b""), f"{DATA}/0", "less than a Blosc header"),
    "chunk shape against the Blosc header": lambda t, m: store_case(
        t, edit_array(DATA, set_keys(chunks=[400_000])), f"{DATA}/0", "but .zarray's chunks make 3200000"
    ),
    "zmetadata disagrees with a zarray": lambda t, m: store_case(
        t, edit_array(DATA, set_keys(fill_value=7.0), consolidated=False), ".zmetadata",
        f"entry {DATA}/.zarray disagrees",
    ),
    "zmetadata lists a missing array": lambda t, m: store_case(
        t, consolidated_entry("ghost/.zarray", {"zarr_format": 2}), ".zmetadata", "lists ghost/.zarray"
    ),
    "root not an NWB file": lambda t, m: store_case(
        t,
        lambda s: (write(".zattrs", "{}")(s), consolidated_entry(".zattrs", {})(s)),
        ".zattrs",
        "does not say neurodata_type NWBFile",
    ),
    # --- what a store may not hold ----------------------------------------------------------------------------------
    "chunk is a FIFO": lambda t, m: store_case(t, fifo_chunk, f"{DATA}/0", "not a regular file"),
    "symbolic link in the store": lambda t, m: store_case(
        t, lambda s: (s / "acquisition" / "elsewhere").symlink_to(t), "acquisition/elsewhere", "symbolic link"
    ),
    "folder neither group nor array": lambda t, m: store_case(
        t, lambda s: (s / "acquisition" / "empty").mkdir(), "acquisition/empty", "neither .zgroup nor .zarray"
    ),
    "store that is a file": lambda t, m: (
        (t / "outputs").mkdir(),
        (t / "outputs" / STORE).write_text("not a store"),
        Case(["inspect", t / "outputs" / STORE], STORE, "not an HDF5 file", t / "outputs"),
    )[-1],
    # --- outputs in the way of --backend zarr ------------------------------------------------------------------------
    "overwrite onto a file": lambda t, m: zarr_output_case(
        t, made("file"), STORE, "not an NWB-Zarr store", "--overwrite"
    ),
    "overwrite onto a plain folder": lambda t, m: zarr_output_case(
        t, made("folder"), STORE, "not an NWB-Zarr store", "--overwrite"
    ),
    "overwrite onto a Zarr group that is not NWB": lambda t, m: zarr_output_case(
        t, made("zarr group"), STORE, "not an NWB-Zarr store", "--overwrite"
    ),
    "overwrite onto a FIFO": lambda t, m: zarr_output_case(
        t, made("fifo"), STORE, "not an NWB-Zarr store", "--overwrite"
    ),
    "overwrite onto a link to a store": lambda t, m: zarr_output_case(
        t, made("link to a store"), STORE, "not an NWB-Zarr store", "--overwrite"
    ),
    "store exists without overwrite": lambda t, m: zarr_output_case(t, made("store"), STORE, "already exists"),
    "output inside the source folder": output_inside_the_cell,
}
