"""Helpers for the SPE-1 Arrow tests: a sample release, the rows as ``datasets`` reads them, and shard surgery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from nwb_conversions.samples.spe1_arrow import SCHEMA, segment_batch, write_spe1_arrow_release


def arrow_release(tmp_path: Path, cell_id: str = "c14", **options) -> tuple[Path, Path]:
    """Write a sample release under ``tmp_path/release``; return the cell folder and the sample metadata YAML."""
    _, cells, metadata_path = write_spe1_arrow_release(tmp_path / "release", cell_ids=(cell_id,), **options)
    return cells[0], metadata_path


def rows_in_order(cell_dir: Path) -> list[dict]:
    """Every row of both splits, read independently with ``datasets.load_from_disk`` (``cp`` as numpy,
    channels × T float32; ``ctt`` as Python floats: the numpy format would cast it to float32), in ``sample_id`` order."""
    import datasets

    dataset_dict = datasets.load_from_disk(str(cell_dir)).with_format("numpy", columns=["cp"], output_all_columns=True)
    rows = [dict(row, split=split) for split in dataset_dict for row in dataset_dict[split]]
    return sorted(rows, key=lambda row: int(row["sample_id"]))


def read_rows(shard: Path) -> list[dict]:
    """The rows of one shard as numpy: sample_id, cp (channels × T), spike channel lists."""
    with pa.memory_map(str(shard)) as source:
        table = pa.ipc.open_stream(source).read_all()
    rows = []
    for row in table.to_pylist():
        rows.append(dict(sample_id=int(row["sample_id"]), cp=np.array(row["cp"], dtype=np.float32),
                         cit=row["cit"], ctt=row["ctt"]))
    return rows


def write_rows(shard: Path, batches: list[pa.RecordBatch]) -> None:
    """Replace a shard with these record batches (one Arrow IPC stream)."""
    with pa.OSFile(str(shard), "wb") as sink, pa.ipc.new_stream(sink, SCHEMA) as writer:
        for batch in batches:
            writer.write_batch(batch)


def batch_of(row: dict) -> pa.RecordBatch:
    """A row (as :func:`read_rows` gives it) back as a record batch, keeping its spike lists as they are."""
    batch = segment_batch(row["sample_id"], row["cp"], 0, np.array([]))
    return batch.set_column(2, "cit", pa.array([row["cit"]], SCHEMA.field("cit").type)).set_column(
        3, "ctt", pa.array([row["ctt"]], SCHEMA.field("ctt").type)
    )
