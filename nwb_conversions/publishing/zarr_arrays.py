"""The arrays of a Zarr (v2) store, checked from their ``.zarray`` and the first bytes of each chunk
(:func:`check_array`; :mod:`.zarr_check` walks the store and calls it): the form of the metadata, the codecs (never
``pickle``), and the facts stated twice: the chunks the shape declares against the chunk files present, and a Blosc
chunk's header against its file's length and the chunk shape.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from pathlib import Path

from ..errors import SourceFormatError

#: What a store's files must be, for the one-line errors.
EXPECTED_STORE = "an NWB-Zarr store written completely, such as convert-to-nwb --backend zarr writes"

#: The largest chunk (decoded) an array may declare: Blosc's own limit on one buffer.
MAX_CHUNK_BYTES = 2**31 - 1

#: Codecs that turn object arrays into bytes without running code; ``pickle`` is never accepted.
OBJECT_CODECS = ("json2", "vlen-utf8", "vlen-bytes", "vlen-array")

#: The codec whose decoding runs arbitrary code.
PICKLE_CODEC = "pickle"

#: A Blosc chunk starts with 16 bytes: versions, flags, type size, then (little-endian) nbytes, blocksize, cbytes.
BLOSC_HEADER = struct.Struct("<BBBBIII")


def store_error(path: Path, problem: str, expected: str = EXPECTED_STORE) -> SourceFormatError:
    return SourceFormatError(path, problem, expected)


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
    from numcodecs.registry import codec_registry, get_codec

    filters, compressor = metadata.get("filters"), metadata.get("compressor")
    if not (filters is None or isinstance(filters, list)) or not (compressor is None or isinstance(compressor, dict)):
        raise store_error(
            path, "filters or compressor of the wrong type", "filters a list or null, compressor an object"
        )
    codecs = (filters or []) + ([compressor] if compressor is not None else [])
    ids = [codec.get("id") if isinstance(codec, dict) else None for codec in codecs]
    if PICKLE_CODEC in ids:
        raise store_error(
            path, "asks for the pickle object codec (decoding it runs code)",
            "object arrays stored with a JSON or text codec: a pickled store is never read",
        )
    unknown = [codec_id for codec_id in ids if not isinstance(codec_id, str) or codec_id not in codec_registry]
    if unknown:
        expected = "codecs of numcodecs (blosc, zstd, json2, ...)"
        raise store_error(path, f"names an unknown codec {unknown[0]!r}", expected)
    for codec in codecs:  # built as the reader will build it: wrong settings are refused here, in one line
        try:
            get_codec(dict(codec))
        except Exception as error:
            raise store_error(
                path, f"codec {codec['id']} has wrong settings ({type(error).__name__}: {error})",
                "codec settings numcodecs accepts",
            ) from None
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
        shown = json.dumps(metadata.get("dtype"))[:80]
        raise store_error(path, f"dtype {shown} is not a data type", "a NumPy dtype") from None
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
    if metadata.get("order") not in ("C", "F"):
        raise store_error(path, f"order is {json.dumps(metadata.get('order'))[:40]}", 'order "C" or "F"')
    if metadata.get("dimension_separator") not in (None, ".", "/"):
        raise store_error(path, "has an unknown dimension_separator", '"." or "/"')
    try:
        Metadata2.decode_array_metadata(json.dumps(metadata).encode())  # zarr's own reading: order, fill value
    except Exception as error:
        problem = f"is not Zarr array metadata ({type(error).__name__}: {error})"
        raise store_error(path, problem, "Zarr v2 array metadata") from None
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
    per_dimension = [-(-length // chunk) for length, chunk in zip(shape, chunks)]  # whole numbers of any size
    declared = math.prod(per_dimension)
    present = {
        key: entry
        for key, entry in chunk_files(folder, len(shape), metadata.get("dimension_separator") or ".").items()
        if all(index < count for index, count in zip(key, per_dimension or [1]))
    }
    if len(present) != declared:
        raise store_error(
            path,
            f"its shape {shape} in chunks {chunks} makes {declared} chunk(s), but the folder holds {len(present)}",
            "every chunk of the array (a store copied or written completely)",
        )
    for entry in present.values():
        check_chunk(entry, chunk_bytes, ids, metadata)
