"""SPE-1 Arrow cell folders, damaged or contradicting themselves, and the SPE-1 Data Summary and Allen Dataset II
facts stated twice: one line each, nothing left behind.

A row copies a small sample release (five 10 ms segments, two rows per shard, written once per test session),
damages or contradicts one thing, and converts it. Rows cover shards that are truncated, empty, of another format or
type, of another channel count or with a list offset declaring 2^30 channels; ``.npz`` archives that are truncated,
empty, pickled, hold a member twice or declare 10^12 values; NaN in the template, the spike times and ``ctt``; and
every fact the folder states twice (``dataset_dict.json`` against the split folders, ``state.json`` against the
shards, ``dataset_info.json`` against each shard's schema, ``conversion_metadata.json`` against itself, the shards,
``templates.npz`` and ``dataset_stats.json``), a cell on two Data Summary rows and ``quiroga`` against ``quiroma``.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

from nwb_conversions.samples.spe1_arrow import SCHEMA, write_spe1_arrow_release

from ...spe1_arrow_helpers import batch_of, read_rows, write_rows
from ...spe1_helpers import repeat_summary_row
from ..failure_table import Case
from ..test_failures import allen_case, h5_edit, spe1_case

TRAIN_SHARD = "train/data-00000-of-00002.arrow"


def pristine(tmp: Path) -> Path:
    """The sample release, written once per test session beside the rows' own folders (renamed into place)."""
    cached = tmp.parent / "spe1_arrow_hostile_release"
    if not cached.exists():
        staging = tmp / "staging"
        write_spe1_arrow_release(staging, cell_ids=("c14",), num_segments=5, segment_duration_s=0.01,
                                 rows_per_shard=2)
        try:
            staging.rename(cached)
        except OSError:  # another worker put it there first
            shutil.rmtree(staging)
    return cached


def cell_case(tmp: Path, change: Callable[[Path], object], names: str, fragment: str) -> Case:
    """Copy the sample release, ``change(cell folder)``, and convert the cell; the line must name ``names``."""
    release = tmp / "release"
    shutil.copytree(pristine(tmp), release)
    cell = release / "c14"
    change(cell)
    output = tmp / "out" / "c14.nwb"
    return Case(["spe1-arrow", cell, output, "--metadata", release / "sample_metadata.yaml"], names, fragment,
                release, output)


def edit_json(relative: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    """Rewrite one JSON file of the cell through ``change(content)`` (in place)."""

    def edit(cell: Path) -> None:
        content = json.loads((cell / relative).read_text())
        change(content)
        (cell / relative).write_text(json.dumps(content, indent=2))

    return edit


def edit_npz(name: str, **members) -> Callable[[Path], None]:
    """Replace members of one ``.npz`` of the cell (``np.savez`` pickles an object array; nothing here loads one)."""

    def edit(cell: Path) -> None:
        content = dict(np.load(cell / name, allow_pickle=False))
        content.update({key: value(content) if callable(value) else value for key, value in members.items()})
        np.savez(cell / name, **content)

    return edit


def edit_rows(change: Callable[[list[dict]], list[dict]]) -> Callable[[Path], None]:
    """Rewrite the first train shard's rows through ``change(rows)``."""

    def edit(cell: Path) -> None:
        write_rows(cell / TRAIN_SHARD, [batch_of(row) for row in change(read_rows(cell / TRAIN_SHARD))])

    return edit


def with_spike(ms: float) -> Callable[[list[dict]], list[dict]]:
    """The first row lists one more spike of unit 0, at ``ms``, on the peak channel 161."""

    def change(rows: list[dict]) -> list[dict]:
        rows[0]["cit"][161] = rows[0]["cit"][161] + [0]
        rows[0]["ctt"][161] = rows[0]["ctt"][161] + [ms]
        return rows

    return change


def cut(relative: str, fraction: float) -> Callable[[Path], None]:
    def damage(cell: Path) -> None:
        path = cell / relative
        path.write_bytes(path.read_bytes()[: int(path.stat().st_size * fraction)])

    return damage


def as_ipc_file(cell: Path) -> None:
    """The shard's batches written in the Arrow IPC *file* format (``ARROW1`` magic), which is not a stream."""
    batches = shard_table(cell).to_batches()
    with pa.OSFile(str(cell / TRAIN_SHARD), "wb") as sink, pa.ipc.new_file(sink, SCHEMA) as writer:
        for batch in batches:
            writer.write_batch(batch)


def shard_table(cell: Path) -> pa.Table:
    """The first train shard, read into memory (not mapped: the file is rewritten next)."""
    return pa.ipc.open_stream(pa.py_buffer((cell / TRAIN_SHARD).read_bytes())).read_all()


def float64_cp(cell: Path) -> None:
    """The shard rewritten with ``cp`` as ``list<list<float64>>`` (the schema, not a row, is of another type)."""
    table = shard_table(cell)
    table = table.set_column(1, "cp", table.column("cp").cast(pa.list_(pa.list_(pa.float64()))))
    with pa.OSFile(str(cell / TRAIN_SHARD), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def cp_twice(cell: Path) -> None:
    """The shard rewritten with a second ``cp`` column (a table ``datasets`` cannot hold: its features are a
    mapping of column names)."""
    table = shard_table(cell)
    table = table.append_column("cp", table.column("cp"))
    with pa.OSFile(str(cell / TRAIN_SHARD), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def huge_list_length(cell: Path) -> None:
    """The record batch's declared length of ``cp``'s channel lists (384, stored after a zero) rewritten as 2^30 in
    the stream's bytes: a damaged header that declares far more values than the body holds."""
    path = cell / TRAIN_SHARD
    content = path.read_bytes()
    offsets = np.array([0, 384], dtype="<i4").tobytes()
    path.write_bytes(content.replace(offsets, np.array([0, 2**30], dtype="<i4").tobytes(), 1))


def npz_member(name: str, content: bytes) -> Callable[[Path], None]:
    """Add a member to an ``.npz`` archive of the cell (a second copy when ``name`` is already there)."""

    def damage(cell: Path) -> None:
        import warnings

        with warnings.catch_warnings(), zipfile.ZipFile(cell / "templates.npz" if "templates" in name
                                                        else cell / "patch.npz", "a") as archive:
            warnings.simplefilter("ignore")  # a duplicate name is the point
            archive.writestr(name.split(":")[-1], content)

    return damage


def npy_bytes(array: np.ndarray, shape: tuple | None = None) -> bytes:
    """A ``.npy`` member of ``array`` whose header may declare another ``shape``."""
    buffer = io.BytesIO()
    header = {"descr": array.dtype.str, "fortran_order": False, "shape": array.shape if shape is None else shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + array.tobytes()


def rewrite_patch(cell: Path, **members) -> None:
    """``patch.npz`` rewritten with ``members`` replaced by raw ``.npy`` bytes (kept uncompressed, as numpy does)."""
    original = zipfile.ZipFile(io.BytesIO((cell / "patch.npz").read_bytes()))
    with zipfile.ZipFile(cell / "patch.npz", "w") as archive:
        for info in original.infolist():
            key = info.filename[:-4]
            archive.writestr(info.filename, members.get(key, original.read(info.filename)))


def summary_twice(build: Callable[[Callable[[Path], None]], Case], changes: dict, fragment: str) -> Case:
    """A case from ``build(change)`` whose Data Summary lists c14 again with ``changes``; ``fragment`` is formatted
    with the two row numbers."""
    rows = []

    def change(cell: Path) -> None:
        rows.extend(repeat_summary_row(cell.parent / "Data Summary.xlsx", "c14", changes))

    case = build(change)
    case.fragment = fragment.format(first=rows[0], second=rows[1])
    return case


def features(change: Callable[[dict], object]) -> Callable[[Path], None]:
    return edit_json("train/dataset_info.json", lambda info: change(info["features"]))


def list_kind(feature: dict) -> None:
    """``Sequence`` → ``List`` at both levels: the same Arrow type, other features than the shards' metadata."""
    feature["_type"] = feature["feature"]["_type"] = "List"
    feature.pop("length"), feature["feature"].pop("length")


def metadata(change: Callable[[dict], object]) -> Callable[[Path], None]:
    return edit_json("conversion_metadata.json", change)


def set_in(path: str, value) -> Callable[[dict], None]:
    """Set ``a.b`` of a nested JSON object."""
    *parents, key = path.split(".")

    def change(content: dict) -> None:
        for parent in parents:
            content = content[parent]
        content[key] = value

    return change


def spikes_both(count: int) -> Callable[[dict], None]:
    return lambda content: (set_in("n_spikes_total", count)(content),
                            set_in("template_metadata.n_spikes_total", count)(content))


ROWS = {
    # --- damaged shards -----------------------------------------------------------------------------------------
    "shard truncated to half": lambda t, _: cell_case(t, cut(TRAIN_SHARD, 0.5), TRAIN_SHARD,
                                                      "not a readable Arrow IPC stream"),
    "shard empty": lambda t, _: cell_case(t, cut(TRAIN_SHARD, 0.0), TRAIN_SHARD, "not a readable Arrow IPC stream"),
    "shard is a Parquet-like file": lambda t, _: cell_case(
        t, lambda c: (c / TRAIN_SHARD).write_bytes(b"PAR1" + bytes(200)), TRAIN_SHARD, "not a readable Arrow IPC stream"
    ),
    "shard in the IPC file format": lambda t, _: cell_case(t, as_ipc_file, TRAIN_SHARD, "not a readable Arrow IPC"),
    "shard cp of float64": lambda t, _: cell_case(t, float64_cp, TRAIN_SHARD, "'cp' is list<item: list<item: double>>"),
    "shard holds the cp column twice": lambda t, _: cell_case(
        t, cp_twice, TRAIN_SHARD, "the column 'cp' appears twice; expected Arrow columns"
    ),
    "row of 383 channels": lambda t, _: cell_case(
        t, edit_rows(lambda rows: [dict(rows[0], cp=rows[0]["cp"][:383], cit=rows[0]["cit"][:383],
                                        ctt=rows[0]["ctt"][:383])] + rows[1:]),
        TRAIN_SHARD, "row 0: cp has 383 channels; expected 384 channels"),
    "a declared list length of 2^30": lambda t, _: cell_case(
        t, huge_list_length, TRAIN_SHARD, "not a readable Arrow IPC stream (In column 1: Invalid: List child array "
        "invalid: Invalid: Buffer #1 too small in array of type list<item: float> and length 1073741824"
    ),
    "ctt NaN": lambda t, _: cell_case(t, edit_rows(with_spike(float("nan"))), TRAIN_SHARD, "a spike at ctt = nan ms"),
    "ctt beyond its segment": lambda t, _: cell_case(
        t, edit_rows(with_spike(25.0)), TRAIN_SHARD, "a spike at ctt = 25.0 ms; expected spike times within"
    ),
    # --- the DatasetDict's own files against each other -----------------------------------------------------------
    "split folder not listed in dataset_dict.json": lambda t, _: cell_case(
        t, edit_json("dataset_dict.json", set_in("splits", ["train"])), "c14/test",
        "a split folder that dataset_dict.json does not list (it lists train)"
    ),
    "dataset_dict.json lists a split twice": lambda t, _: cell_case(
        t, edit_json("dataset_dict.json", set_in("splits", ["train", "test", "train"])), "dataset_dict.json",
        "'splits' lists train twice (entries 1 and 3)"
    ),
    "state.json lists a shard twice": lambda t, _: cell_case(
        t, edit_json("train/state.json", lambda s: s["_data_files"].append(dict(s["_data_files"][0]))),
        "train/state.json", "'_data_files' lists data-00000-of-00002.arrow twice (entries 1 and 3)"
    ),
    "a shard state.json does not list": lambda t, _: cell_case(
        t, lambda c: shutil.copy(c / TRAIN_SHARD, c / "train" / "data-00002-of-00002.arrow"),
        "train/data-00002-of-00002.arrow", "a shard that state.json does not list"
    ),
    "state.json lists fewer shards than their names count": lambda t, _: cell_case(
        t, lambda c: (edit_json("train/state.json", lambda s: s["_data_files"].pop())(c),
                      (c / "train" / "data-00001-of-00002.arrow").unlink()),
        "train/state.json", "'_data_files' lists 1 shard(s), but their names (data-00000-of-00002.arrow) count 2 (-of-00002)"
    ),
    "dataset_info.json types ctt as float32": lambda t, _: cell_case(
        t, features(set_in("ctt.feature.feature.dtype", "float32")), TRAIN_SHARD,
        "'ctt' is list<item: list<item: double>> but train/dataset_info.json declares list<item: list<item: float>>"
    ),
    "dataset_info.json declares an extra column": lambda t, _: cell_case(
        t, features(set_in("label", {"dtype": "int64", "_type": "Value"})), TRAIN_SHARD,
        "holds the columns sample_id, cp, cit, ctt but train/dataset_info.json declares sample_id, cp, cit, ctt, label"
    ),
    "dataset_info.json features differ from the shard's metadata": lambda t, _: cell_case(
        t, features(lambda f: list_kind(f["cp"])), TRAIN_SHARD,
        "its huggingface schema metadata declares other features than train/dataset_info.json (first difference: 'cp')"
    ),
    # --- conversion_metadata.json, templates.npz, dataset_stats.json against the shards and each other ----------------
    "n_spikes_total against the shards": lambda t, _: cell_case(
        t, metadata(spikes_both(7)), "conversion_metadata.json", "n_spikes_total is 7 but the shards' cit/ctt list"
    ),
    "n_spikes_total against template_metadata": lambda t, _: cell_case(
        t, metadata(set_in("template_metadata.n_spikes_total", 9)), "conversion_metadata.json",
        "n_spikes_total is 1 but template_metadata.n_spikes_total is 9"
    ),
    "nbefore against template_metadata": lambda t, _: cell_case(
        t, metadata(set_in("template_metadata.nbefore", 45)), "templates.npz",
        "nbefore is 30 but conversion_metadata.json template_metadata.nbefore is 45"
    ),
    "ms_after against nafter": lambda t, _: cell_case(
        t, metadata(set_in("template_metadata.ms_after", 3.0)), "templates.npz",
        "nafter is 60 but conversion_metadata.json template_metadata.ms_after × 30 samples/ms is 90.0"
    ),
    "unit location against the ground-truth electrode": lambda t, _: cell_case(
        t, metadata(set_in("unit_locations_um", {"0": [59.0, 1600.0, 0.0]})), "conversion_metadata.json",
        "unit_locations_um[0] is [59.0, 1600.0] µm but templates.npz probe_positions of gt_electrode_chan_idx 159"
    ),
    "duration_s shorter than the shards": lambda t, _: cell_case(
        t, metadata(set_in("source_metadata.duration_s", 0.03)), "test/data-00000-of-00001.arrow",
        "the segments hold 1500 samples (0.05 s); expected at most source_metadata.duration_s = 0.03 s"
    ),
    "skip_seconds against the first sample_id": lambda t, _: cell_case(
        t, metadata(set_in("source_metadata.skip_seconds", 5.0)), TRAIN_SHARD,
        "the first segment starts at sample_id 300000; expected 150000 (the raw recording's clock) or 0 (the "
        "window's clock): source_metadata.skip_seconds = 5.0 s"
    ),
    "dataset_stats.json of 383 channels": lambda t, _: cell_case(
        t, edit_json("dataset_stats.json", set_in("iqr", [13.5] * 383)), "dataset_stats.json",
        "'iqr' holds 383 values; expected one per channel: 384"
    ),
    "conversion_metadata.json a list": lambda t, _: cell_case(
        t, lambda c: (c / "conversion_metadata.json").write_text("[1, 2]"), "conversion_metadata.json",
        "holds a JSON list, not an object"
    ),
    # --- the .npz side files --------------------------------------------------------------------------------------
    "templates NaN": lambda t, _: cell_case(
        t, edit_npz("templates.npz", templates=lambda m: np.where(np.arange(384) == 5, np.nan, m["templates"])
                    .astype(np.float32)), "templates.npz", "templates holds nan at unit 0, sample 0, channel 5"
    ),
    "patch spike time NaN": lambda t, _: cell_case(
        t, edit_npz("patch.npz", spike_times_s=lambda m: np.append(m["spike_times_s"], np.nan)), "patch.npz",
        "spike_times_s[1] is nan"
    ),
    "templates.npz truncated": lambda t, _: cell_case(t, cut("templates.npz", 0.5), "templates.npz",
                                                      "not a readable .npz archive"),
    "patch.npz empty": lambda t, _: cell_case(t, cut("patch.npz", 0.0), "patch.npz", "not a readable .npz archive"),
    "templates.npz pickled object array": lambda t, _: cell_case(
        t, edit_npz("templates.npz", nbefore=np.array([{"n": 30}], dtype=object)), "templates.npz",
        "'nbefore' is an object array, which only pickle can load"
    ),
    "templates.npz holds nafter twice": lambda t, _: cell_case(
        t, npz_member("templates:nafter.npy", npy_bytes(np.array(61))), "templates.npz",
        "'nafter' is stored twice (zip entries 5 and 6) with different contents"
    ),
    "patch.npz declares 10^12 samples": lambda t, _: cell_case(
        t, lambda c: rewrite_patch(c, patch_v=npy_bytes(np.zeros(4, np.float32), (10**12,))), "patch.npz",
        "'patch_v' declares float32 [1000000000000] (4000000000000 bytes) but its member holds 16 bytes"
    ),
    # --- the SPE-1 Data Summary and Allen Dataset II -----------------------------------------------------------------
    "spe1-arrow: a cell on two Data Summary rows that disagree": lambda t, _: summary_twice(
        lambda change: cell_case(t, change, "Data Summary.xlsx", ""), {"Patch Type": "WC, IC"},
        "cell c14 is listed on rows {first} and {second} with different values (Patch Type: 'Juxta, VC' and 'WC, IC')"
    ),
    "spe1: a cell on two Data Summary rows that disagree": lambda t, _: summary_twice(
        lambda change: spe1_case(t, change, "Data Summary.xlsx", ""), {"chan_highest": 170},
        "cell c14 is listed on rows {first} and {second} with different values (chan_highest: 161 and 170)"
    ),
    "allen: quiroga and quiroma disagree": lambda t, _: allen_case(
        t, lambda p: (h5_edit("quiroga", 0.002)(p), h5_edit("quiroma", 0.003)(p)),
        "the spike threshold is stated twice with different values: 'quiroga' is 0.002 V and 'quiroma' is 0.003 V"
    ),
    "allen: quiroma NaN beside quiroga": lambda t, _: allen_case(
        t, h5_edit("quiroma", np.nan), "'quiroma' (spike threshold) is nan"
    ),
}

