"""Not a benchmark: the check that a refactoring left the converted data unchanged.

Compares two folders of NWB files of the same names: every dataset's dtype, shape, chunks, compression and values,
and every attribute, leaving out what differs by design between two runs (object ids, identifiers, creation
dates). Produce both folders in the same way (NeuroConv's provenance record says how the command was started; the
notes name source paths) with the same ``PYTHONHASHSEED``; exit 0 when all are the same::

    PYTHONHASHSEED=0 convert-to-nwb example --output-dir out/ && mv out/ before/   # on the old commit
    PYTHONHASHSEED=0 convert-to-nwb example --output-dir out/                       # on the new one
    python benchmarks/compare_outputs.py before/ out/
"""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np

VARIABLE_ATTRIBUTES = {"object_id"}
VARIABLE_DATASETS = {"file_create_date", "identifier"}


def _plain(h5: h5py.File, value):
    """A value with object references replaced by the paths they point to."""
    if isinstance(value, h5py.Reference):
        return h5[value].name if value else None
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":
        return [_plain(h5, item) for item in value.ravel()]
    return value


def contents(path: Path) -> dict:
    """Every attribute set and dataset of an HDF5 file by its path (the ones that differ by design left out)."""
    found = {}
    with h5py.File(path, "r") as h5:

        def visit(name, item):
            attributes = {key: _plain(h5, v) for key, v in item.attrs.items() if key not in VARIABLE_ATTRIBUTES}
            found[f"{name}@attrs"] = repr(sorted((key, repr(value)) for key, value in attributes.items()))
            if isinstance(item, h5py.Dataset) and name.rsplit("/", 1)[-1] not in VARIABLE_DATASETS:
                layout = (item.dtype.str, item.shape, item.chunks, item.compression, item.compression_opts)
                found[name] = (layout, _plain(h5, item[()]))

        h5.visititems(visit)
    return found


def same(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return a[0] == b[0] and same(a[1], b[1])
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (np.ndarray, np.generic, float)) or isinstance(b, (np.ndarray, np.generic, float)):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc")
    return a == b


def main(before: str, after: str) -> int:
    names = sorted(path.name for path in Path(before).glob("*.nwb"))
    differing = 0
    for name in names:
        old, new = contents(Path(before) / name), contents(Path(after) / name)
        keys = [key for key in sorted(set(old) | set(new)) if not (key in old and key in new)]
        keys += [key for key in sorted(set(old) & set(new)) if not same(old[key], new[key])]
        print(f"{name}: {len(old)} entries, {len(keys)} differ" + "".join(f"\n    {key}" for key in keys[:10]))
        differing += bool(keys)
    print(f"{len(names)} files, {differing} with differences")
    return 1 if differing or not names else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
