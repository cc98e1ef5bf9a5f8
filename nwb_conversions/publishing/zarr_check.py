"""Check a Zarr (v2) store before anything reads it, reading only its metadata and the first bytes of each chunk.

What a damaged or hostile store could do to a reader, and what is refused instead, in one line naming the file:

* metadata files (``.zgroup``, ``.zarray``, ``.zattrs``, ``.zmetadata``) that are not small UTF-8 JSON objects of
  the right form (truncated, empty, binary, nested without end, larger than :data:`METADATA_LIMIT_BYTES`);
* an array asking for the ``pickle`` object codec (decoding it would run code), an unknown codec, an object dtype
  without a text codec, a shape or chunk shape that is not a list of whole numbers, chunks larger than
  :data:`MAX_CHUNK_BYTES`;
* a fact the store states twice that disagrees: the chunks an array's shape declares and the chunk files present
  (a truncated copy, or a huge declared shape), a Blosc chunk's header and its file's length or the chunk size
  (a truncated chunk), the consolidated metadata ``.zmetadata`` and the file it repeats;
* anything in the store that is not a plain file or folder (a symbolic link, a FIFO that would block a read).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import struct
from pathlib import Path

from ..errors import SourceFormatError

#: The largest metadata file read, by name: ``.zarray``/``.zgroup`` hold a few hundred bytes, ``.zattrs`` an
#: object's attributes, ``.zmetadata`` all of them for the whole store.
METADATA_LIMIT_BYTES = {".zgroup": 2**20, ".zarray": 2**20, ".zattrs": 16 * 2**20, ".zmetadata": 256 * 2**20}

#: The largest chunk (decoded) an array may declare: Blosc's own limit on one buffer.
MAX_CHUNK_BYTES = 2**31 - 1

#: Codecs that turn object arrays into bytes without running code; ``pickle`` is never accepted.
OBJECT_CODECS = ("json2", "vlen-utf8", "vlen-bytes", "vlen-array")

#: The codec whose decoding runs arbitrary code.
PICKLE_CODEC = "pickle"

#: What a store's files must be, for the one-line errors.
EXPECTED_STORE = "an NWB-Zarr store written completely, such as convert-to-nwb --backend zarr writes"

#: A Blosc chunk starts with 16 bytes: versions, flags, type size, then (little-endian) nbytes, blocksize, cbytes.
BLOSC_HEADER = struct.Struct("<BBBBIII")


def store_error(path: Path, problem: str, expected: str = EXPECTED_STORE) -> SourceFormatError:
    return SourceFormatError(path, problem, expected)


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


def whole_numbers(path: Path, metadata: dict, key: str, minimum: int) -> list[int]:
    """``metadata[key]`` as a list of whole numbers of at least ``minimum`` (not booleans, floats or NaN)."""
    value = metadata.get(key)
    if not isinstance(value, list) or not all(
        isinstance(number, int) and not isinstance(number, bool) and number >= minimum for number in value
    ):
        shown = json.dumps(value)[:80]
        raise store_error(path, f"{key} is {shown}", f"{key} as a list of whole numbers of at least {minimum}")
    return value


def codec_ids(path: Path, metadata: dict) -> list[str]:
    """The ids of the array's filters and compressor; the pickle codec and unknown codecs are refused."""
    from numcodecs.registry import codec_registry

    filters, compressor = metadata.get("filters"), metadata.get("compressor")
    if not (filters is None or isinstance(filters, list)) or not (compressor is None or isinstance(compressor, dict)):
        raise store_error(path, "filters or compressor of the wrong type", "filters a list or null, compressor an object")
    codecs = (filters or []) + ([compressor] if compressor is not None else [])
    ids = [codec.get("id") if isinstance(codec, dict) else None for codec in codecs]
    if PICKLE_CODEC in ids:
        raise store_error(
            path, "asks for the pickle object codec (decoding it runs code)",
            "object arrays stored with a JSON or text codec: a pickled store is never read",
        )
    unknown = [codec_id for codec_id in ids if not isinstance(codec_id, str) or codec_id not in codec_registry]
    if unknown:
        raise store_error(path, f"names an unknown codec {unknown[0]!r}", "codecs of numcodecs (blosc, zstd, json2, ...)")
    return ids


def array_dtype(path: Path, metadata: dict, ids: list[str]):
    """The array's NumPy dtype; an object dtype needs a text object codec."""
    import numpy as np

    description = metadata.get("dtype")
    try:
        if isinstance(description, list):
            description = [tuple(field) for field in description]
        elif not isinstance(description, str):
            raise TypeError(description)
        dtype = np.dtype(description)
    except (TypeError, ValueError, SyntaxError, RecursionError):
        raise store_error(path, f"dtype {json.dumps(metadata.get('dtype'))[:80]} is not a data type", "a NumPy dtype") from None
    if dtype.hasobject and not (dtype.kind == "O" and any(codec_id in OBJECT_CODECS for codec_id in ids)):
        raise store_error(path, "holds objects without a text object codec", f"one of {', '.join(OBJECT_CODECS)}")
    return dtype


def check_array_metadata(path: Path, metadata: dict) -> tuple[list[int], list[int], int | None, list[str]]:
    """Check a ``.zarray``; return its shape, chunk shape, decoded chunk size (None for objects) and codec ids."""
    from zarr.meta import Metadata2

    if metadata.get("zarr_format") != 2:
        raise store_error(path, f"says zarr_format {metadata.get('zarr_format')!r}", "Zarr v2 array metadata")
    shape, chunks = whole_numbers(path, metadata, "shape", 0), whole_numbers(path, metadata, "chunks", 1)
    if len(chunks) != len(shape):
        raise store_error(path, f"has a {len(shape)}-D shape but {len(chunks)}-D chunks", "chunks of the shape's rank")
    ids = codec_ids(path, metadata)
    dtype = array_dtype(path, metadata, ids)
    if metadata.get("dimension_separator", ".") not in (".", "/"):
        raise store_error(path, "has an unknown dimension_separator", '"." or "/"')
    try:
        Metadata2.decode_array_metadata(json.dumps(metadata).encode())  # zarr's own reading: order, fill value
    except Exception as error:
        raise store_error(path, f"is not Zarr array metadata ({type(error).__name__}: {error})", "Zarr v2 array metadata") from None
    chunk_bytes = None if dtype.hasobject else math.prod(chunks) * dtype.itemsize
    if chunk_bytes is not None and chunk_bytes > MAX_CHUNK_BYTES:
        raise store_error(path, f"declares chunks of {chunk_bytes} bytes", f"chunks of at most {MAX_CHUNK_BYTES} bytes")
    return shape, chunks, chunk_bytes, ids


def chunk_files(folder: Path, rank: int, separator: str) -> dict[tuple[int, ...], os.DirEntry]:
    """The chunk files of an array folder by chunk index (``0.1`` or ``0/1``); links, FIFOs and devices refused."""
    pattern = re.compile(r"\d+(\.\d+)*" if separator == "." else r"\d+")
    found = {}
    pending = [(folder, ())]
    while pending:
        current, prefix = pending.pop()
        for entry in os.scandir(current):
            if not pattern.fullmatch(entry.name):
                continue
            if entry.is_symlink() or not (entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False)):
                raise store_error(Path(entry.path), "is not a regular file (a link, FIFO or device)", "chunk files")
            key = prefix + tuple(int(part) for part in entry.name.split("."))
            if entry.is_dir(follow_symlinks=False):
                if separator == "/" and len(key) < rank:
                    pending.append((Path(entry.path), key))
                continue
            if len(key) == max(rank, 1):
                found[key] = entry
    return found


def check_chunk(entry: os.DirEntry, chunk_bytes: int | None, ids: list[str], metadata: dict) -> None:
    """A chunk's length agrees with what it states (Blosc header) or with the chunk size (no compression)."""
    path, size = Path(entry.path), entry.stat(follow_symlinks=False).st_size
    compressor = metadata.get("compressor")
    if compressor is not None and compressor.get("id") == "blosc":
        with open(path, "rb") as stream:
            header = stream.read(BLOSC_HEADER.size)
        if len(header) < BLOSC_HEADER.size:
            raise store_error(path, f"holds {size} bytes, less than a Blosc header", "a whole Blosc chunk")
        _, _, _, _, nbytes, _, cbytes = BLOSC_HEADER.unpack(header)
        if cbytes != size:
            raise store_error(path, f"its Blosc header says {cbytes} bytes but the file holds {size}", "a whole chunk")
        if chunk_bytes is not None and not metadata.get("filters") and nbytes != chunk_bytes:
            raise store_error(
                path, f"its Blosc header says {nbytes} bytes decoded but .zarray's chunks make {chunk_bytes}",
                "a chunk of the size .zarray declares",
            )
    elif compressor is None and chunk_bytes is not None and not metadata.get("filters") and size != chunk_bytes:
        raise store_error(path, f"holds {size} bytes but .zarray's chunks make {chunk_bytes}", "a whole chunk")
    elif size == 0:
        raise store_error(path, "is empty", "a whole chunk")


def check_array(folder: Path, metadata: dict) -> None:
    """Check an array folder's metadata and that every chunk its shape declares is there, whole."""
    path = folder / ".zarray"
    shape, chunks, chunk_bytes, ids = check_array_metadata(path, metadata)
    per_dimension = [math.ceil(length / chunk) for length, chunk in zip(shape, chunks)]
    declared = math.prod(per_dimension)
    present = {
        key: entry
        for key, entry in chunk_files(folder, len(shape), metadata.get("dimension_separator", ".")).items()
        if all(index < count for index, count in zip(key, per_dimension or [1]))
    }
    if len(present) != declared:
        raise store_error(
            path, f"its shape {shape} in chunks {chunks} makes {declared} chunk(s), but the folder holds {len(present)}",
            "every chunk of the array (a store copied or written completely)",
        )
    for entry in present.values():
        check_chunk(entry, chunk_bytes, ids, metadata)


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
                raise store_error(Path(entry.path), "is a symbolic link", "a self-contained store: plain files and folders")
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
