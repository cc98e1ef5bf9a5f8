"""Check a Zarr (v2) store before anything reads it, reading only its metadata and the first bytes of each chunk.

What a damaged or hostile store could do to a reader, and what is refused instead, in one line naming the file:

* metadata files (``.zgroup``, ``.zarray``, ``.zattrs``, ``.zmetadata``) that are not small UTF-8 JSON objects of
  the right form (truncated, empty, binary, nested without end, larger than :data:`METADATA_LIMIT_BYTES`);
* an array asking for the ``pickle`` object codec (decoding it would run code), an unknown codec, an object dtype
  without a text codec, a shape or chunk shape that is not a list of whole numbers, chunks larger than
  :data:`.zarr_arrays.MAX_CHUNK_BYTES`;
* a fact the store states twice that disagrees: the chunks an array's shape declares and the chunk files present
  (a truncated copy, or a huge declared shape), a Blosc chunk's header and its file's length or the chunk size
  (a truncated chunk), the consolidated metadata ``.zmetadata`` and the file it repeats;
* anything in the store that is not a plain file or folder (a symbolic link, a FIFO that would block a read).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from .zarr_arrays import EXPECTED_STORE, check_array, store_error

#: The largest metadata file read, by name: ``.zarray``/``.zgroup`` hold a few hundred bytes, ``.zattrs`` an
#: object's attributes, ``.zmetadata`` all of them for the whole store.
METADATA_LIMIT_BYTES = {".zgroup": 2**20, ".zarray": 2**20, ".zattrs": 16 * 2**20, ".zmetadata": 256 * 2**20}


def read_json_object(path: Path) -> dict:
    """The JSON object in the metadata file ``path``, read only if it is a regular file of a sane size."""
    limit = METADATA_LIMIT_BYTES[path.name]
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        raise store_error(path, "is missing") from None
    except OSError as error:
        raise store_error(path, f"cannot be read ({error.strerror or error})") from None
    if not stat.S_ISREG(status.st_mode):
        raise store_error(path, "is not a regular file (a folder, link, FIFO or device)")
    if status.st_size > limit:
        raise store_error(path, f"holds {status.st_size} bytes, more than the {limit} a Zarr metadata file may hold")
    try:
        with open(path, "rb") as stream:
            text = stream.read(limit + 1).decode("utf-8")
        value = json.loads(text)
    except OSError as error:
        raise store_error(path, f"cannot be read ({error.strerror or error})") from None
    except (ValueError, RecursionError) as error:  # not UTF-8, not JSON (truncated, empty), nested without end
        reason = "nests too deeply" if isinstance(error, RecursionError) else f"is not JSON ({error})"
        raise store_error(path, reason, "Zarr metadata: a JSON object") from None
    if not isinstance(value, dict):
        raise store_error(path, f"holds a JSON {type(value).__name__}, not an object", "Zarr metadata: a JSON object")
    return value


def check_group_metadata(path: Path, metadata: dict) -> None:
    if metadata.get("zarr_format") != 2:
        raise store_error(path, f"says zarr_format {metadata.get('zarr_format')!r}", '{"zarr_format": 2}')


def store_metadata(root: Path) -> dict[str, dict]:
    """Walk the store from ``root``: check every group and array; return each metadata file's object by its key
    (``a/b/.zarray``), as ``.zmetadata`` names them."""
    found = {}
    pending = [root]
    while pending:
        folder = pending.pop()
        key_prefix = "" if folder == root else folder.relative_to(root).as_posix() + "/"
        kinds = [name for name in (".zgroup", ".zarray") if os.path.lexists(folder / name)]
        if len(kinds) != 1:
            problem = "holds both .zgroup and .zarray" if kinds else "holds neither .zgroup nor .zarray"
            raise store_error(folder, problem, "every folder of the store a Zarr group or array")
        for name in (kinds[0], ".zattrs"):
            if name == kinds[0] or os.path.lexists(folder / name):
                found[key_prefix + name] = read_json_object(folder / name)
        if kinds[0] == ".zarray":
            check_array(folder, found[key_prefix + ".zarray"])
            continue
        check_group_metadata(folder / ".zgroup", found[key_prefix + ".zgroup"])
        for entry in sorted(os.scandir(folder), key=lambda item: item.name):
            if entry.is_symlink():
                expected = "a self-contained store: plain files and folders"
                raise store_error(Path(entry.path), "is a symbolic link", expected)
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
    return found


def canonical(value) -> str:
    """One text per JSON value (NaN equal to NaN), to compare two statements of the same metadata."""
    return json.dumps(value, sort_keys=True)


def check_consolidated(root: Path, found: dict[str, dict]) -> None:
    """``.zmetadata`` (what readers open instead of the files) repeats every metadata file: each must agree."""
    path = root / ".zmetadata"
    if not os.path.lexists(path):
        return
    consolidated = read_json_object(path)
    metadata = consolidated.get("metadata")
    if consolidated.get("zarr_consolidated_format") != 1 or not isinstance(metadata, dict):
        raise store_error(path, "is not consolidated metadata", '{"zarr_consolidated_format": 1, "metadata": {...}}')
    for key in sorted(set(metadata) | set(found)):
        if key not in found:
            raise store_error(path, f"lists {key}, which the store does not hold", f"{key} in the store, or not listed")
        if key not in metadata:
            raise store_error(path, f"does not list {root / key}", "every metadata file of the store listed")
        if canonical(metadata[key]) != canonical(found[key]):
            raise store_error(
                path, f"its entry {key} disagrees with {root / key}",
                "the consolidated metadata equal to the file it repeats",
            )


def check_zarr_store(store_path: str | Path, *, nwb: bool = True) -> None:
    """Check a Zarr v2 store (see the module docstring) before it is opened; with ``nwb``, its root must be an
    NWB file's.

    Raises
    ------
    SourceFormatError
        Naming the file at fault, for the first problem found.
    """
    root = Path(store_path)
    if os.path.lexists(root / "zarr.json"):
        raise store_error(root / "zarr.json", "is Zarr v3 metadata", "a Zarr v2 store (what hdmf-zarr writes)")
    if not os.path.lexists(root / ".zgroup"):
        raise store_error(root, "is a folder without .zgroup, not a Zarr store", EXPECTED_STORE)
    try:
        found = store_metadata(root)
        check_consolidated(root, found)
    except OSError as error:  # a folder that cannot be listed
        where = error.filename or root
        raise store_error(Path(where), f"cannot be read ({error.strerror or error})") from None
    attributes = found.get(".zattrs", {})
    if nwb and attributes.get("neurodata_type") != "NWBFile":
        raise store_error(root / ".zattrs", "does not say neurodata_type NWBFile", "the root of an NWB-Zarr store")
