"""The bytes HDF5 stores for one chunk: byte shuffle (:mod:`nwb_conversions.writing.shuffle`) and zlib streams.

HDF5's shuffle filter groups the bytes of a chunk's elements by significance; its gzip filter decodes one zlib stream
(header, deflate blocks, adler32). :class:`ChunkEncoder` reproduces a dataset's filter pipeline (shuffle + gzip, gzip
alone, or none) outside HDF5, so that :mod:`nwb_conversions.writing.write` can compress chunks in parallel threads
and write them directly, and any HDF5 reader still opens the file with no plugin. The deflate encoders (ISA-L,
libdeflate, zlib as the fallback) release the GIL.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, replace
from typing import Callable

import h5py
import numpy as np

from .shuffle import byte_shuffle, is_little_endian, thread_buffer

#: Deflate recipes to try for each ``--compression`` choice, best first; the first whose libraries import is used.
#: ``"isal-1+libdeflate-N"`` deflates the low-order byte plane of a shuffled chunk (noise: little for LZ77 to find,
#: so ISA-L's fast coder loses ~1 %) with ISA-L level 1 and the high-order plane (slow structure, where matches pay)
#: with libdeflate level N, joined into one zlib stream. Per byte plane, on 1 s × 64-channel int16 chunks of the
#: benchmark's two data models (sizes relative to NeuroConv's gzip-4 file; benchmarks/README.md):
#: ``gzip`` (N = 1) is 0.90× (slow-drift model) and 1.02× (NP1-calibrated model) at ~300-420 MB/s per core, the
#: fallback when :data:`FAST_RECIPES` does not suit the data; ISA-L 1 alone is 0.92× and 1.04×. ``max`` (N = 4) is
#: 0.87× and 0.99× at ~130-190 MB/s per core; libdeflate-6 on the whole chunk is 0.85× and 0.98× but at ~65 MB/s per
#: core, under 2× NeuroConv's speed on 2 cores.
ENCODER_PREFERENCES = {
    "gzip": ("isal-1+libdeflate-1", "libdeflate-1", "isal-2", "zlib-1"),
    "max": ("isal-1+libdeflate-4", "libdeflate-6", "zlib-9"),
}

#: A faster recipe per ``--compression`` choice, used instead of the preferred one when, on the first chunks of a
#: dataset, its output is at most :data:`FAST_RECIPE_SIZE_TOLERANCE` larger than the preferred recipe's.
#: ``isal-1-hist1`` is ISA-L level 1 on the whole shuffled chunk with a 2-byte match window (``hist_bits=1``): on
#: noisy byte planes, long-distance matches cost more bits than the literals they replace, so the short window is
#: both faster and smaller. On 1 s × 64-channel chunks it gives 0.90× (slow-drift model) and 0.98× (NP1-calibrated
#: model) NeuroConv's size at ~470-490 MB/s per core, against 0.90× and 1.02× at ~300-415 MB/s for the split recipe
#: and 0.92× and 1.04× for ISA-L 1 with its default 32 KiB window. Data with long-range structure (a repeated
#: pattern, a periodic signal) compress better with the full window and keep the preferred recipe.
FAST_RECIPES = {"gzip": "isal-1-hist1"}

#: How much larger than the preferred recipe's the fast recipe's probed chunks may come out for it to be chosen.
FAST_RECIPE_SIZE_TOLERANCE = 0.01

#: A zlib stream header: deflate with a 32 KiB window, no preset dictionary (0x7801 is a multiple of 31).
_ZLIB_HEADER = b"\x78\x01"

_SUPPORTED_DTYPE_KINDS = "biuf"

#: ``write_direct_chunk`` filter mask of a chunk stored without the pipeline's first filter (shuffle): bit ``i`` set
#: means filter ``i`` was not applied, and the HDF5 library skips it when reading that chunk.
SKIP_SHUFFLE_FILTER_MASK = 0b1


@dataclass(frozen=True)
class ZlibEncoder:
    """Deflates a chunk's bytes into one zlib stream (header + deflate + adler32), what HDF5's gzip filter decodes.

    Attributes
    ----------
    name : str
        The recipe, e.g. ``"libdeflate-2"`` or ``"isal-1+libdeflate-2"``.
    level : int
        The gzip level to declare on the dataset (informational: decoders ignore it).
    compress : callable
        Maps a buffer to a complete zlib stream.
    noise_prefix : callable, optional
        Maps the low-order byte planes to raw deflate blocks that are not final and end byte-aligned (a sync
        flush). None: ``compress`` deflates every plane.
    structured_suffix : callable, optional
        Maps the high-order byte planes to raw deflate blocks ending with the final block; used with
        ``noise_prefix``. The two parts, a zlib header and the adler32 of all planes make one valid zlib stream.
    adler32 : callable
        ``adler32(buffer, running_value)``, for the split stream's trailer (ISA-L's is ~5× faster than zlib's).
    """

    name: str
    level: int
    compress: Callable[[object], bytes]
    noise_prefix: Callable[[object], bytes] | None = None
    structured_suffix: Callable[[object], bytes] | None = None
    adler32: Callable[[object, int], int] = zlib.adler32

    def compress_planes(self, planes: np.ndarray, *, low_order_first: bool) -> bytes:
        """Deflate byte-shuffled ``planes`` (item size × elements, C-contiguous) into one zlib stream."""
        noise_plane_count = planes.shape[0] // 2
        if self.noise_prefix is None or noise_plane_count == 0 or not low_order_first:
            return self.compress(planes)
        noise, structured = planes[:noise_plane_count], planes[noise_plane_count:]
        checksum = self.adler32(structured, self.adler32(noise, 1))
        return b"".join(
            (_ZLIB_HEADER, self.noise_prefix(noise), self.structured_suffix(structured), struct.pack(">I", checksum))
        )


def _zlib_compressor(library: str, level: int, history_bits: int | None = None) -> Callable[[object], bytes] | None:
    """Return a function making a zlib stream with ``library`` at ``level``, or None if the library is missing.

    ``history_bits`` (ISA-L only) limits match distances to ``2 ** history_bits`` bytes; None: the full 32 KiB.
    """
    if library == "libdeflate":
        try:
            import deflate
        except ImportError:
            return None
        return lambda buffer: deflate.zlib_compress(buffer, level)
    if library == "isal":
        try:
            from isal import igzip_lib, isal_zlib
        except ImportError:
            return None
        if history_bits is None:
            return lambda buffer: isal_zlib.compress(buffer, level)
        return lambda buffer: igzip_lib.compress(
            buffer, level, igzip_lib.COMP_ZLIB, igzip_lib.MEM_LEVEL_DEFAULT, history_bits
        )
    if library == "zlib":
        return lambda buffer: zlib.compress(buffer, level)
    raise ValueError(f"unknown deflate library {library!r}")


def _isal_open_deflate_blocks(level: int) -> Callable[[object], bytes] | None:
    """Return a function making raw, non-final, byte-aligned deflate blocks with ISA-L, or None without ISA-L."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None

    def open_blocks(buffer) -> bytes:
        compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)
        return compressor.compress(buffer) + compressor.flush(isal_zlib.Z_SYNC_FLUSH)

    return open_blocks


def _libdeflate_final_blocks(level: int) -> Callable[[object], bytes] | None:
    """Return a function making raw deflate blocks, the last one final, with libdeflate, or None without it."""
    try:
        import deflate
    except ImportError:
        return None
    return lambda buffer: deflate.deflate_compress(buffer, level)


def _encoder_from_recipe(recipe: str) -> ZlibEncoder | None:
    """Build the encoder a recipe names; None if its libraries are unavailable.

    Recipes: ``"library-level"`` (e.g. ``"libdeflate-1"``), ``"isal-level-histN"`` (ISA-L with a ``2 ** N``-byte
    match window) or ``"isal-N+libdeflate-M"`` (the byte-plane split).
    """
    if "+" in recipe:
        noise_recipe, structured_recipe = recipe.split("+")
        noise_level = int(noise_recipe.rsplit("-", 1)[1])
        structured_level = int(structured_recipe.rsplit("-", 1)[1])
        parts = (
            _isal_open_deflate_blocks(noise_level),
            _libdeflate_final_blocks(structured_level),
            _zlib_compressor("libdeflate", structured_level),
        )
        if None in parts:
            return None
        noise_prefix, structured_suffix, whole = parts
        from isal import isal_zlib

        return ZlibEncoder(recipe, structured_level, whole, noise_prefix, structured_suffix, isal_zlib.adler32)
    library, level, *history = recipe.split("-")
    history_bits = int(history[0].removeprefix("hist")) if history else None
    compress = _zlib_compressor(library, int(level), history_bits)
    return None if compress is None else ZlibEncoder(recipe, min(int(level), 9), compress)


def select_deflate_encoder(compression: str) -> ZlibEncoder:
    """Return the first available encoder preferred for a ``--compression`` choice.

    Parameters
    ----------
    compression : str
        ``"gzip"`` (fast) or ``"max"`` (smallest file); any other choice gets the ``"gzip"`` encoders.
    """
    for recipe in ENCODER_PREFERENCES.get(compression, ENCODER_PREFERENCES["gzip"]):
        encoder = _encoder_from_recipe(recipe)
        if encoder is not None:
            return encoder
    raise RuntimeError("no deflate encoder available")  # pragma: no cover - zlib is always there


@dataclass(frozen=True)
class ChunkEncoder:
    """Turns one chunk into the bytes HDF5 stores for it, reproducing the dataset's filter pipeline.

    Attributes
    ----------
    shuffle : bool
        The dataset's pipeline starts with HDF5's shuffle filter.
    deflate : ZlibEncoder or None
        Deflate it (HDF5's gzip filter); None stores the bytes as they are.
    skip_shuffle : bool
        Store chunks without the shuffle (their :attr:`filter_mask` tells HDF5 to skip it when reading); chosen by
        :mod:`nwb_conversions.writing.write` when unshuffled chunks of the data deflate smaller.
    """

    shuffle: bool
    deflate: ZlibEncoder | None
    skip_shuffle: bool = False

    @property
    def name(self) -> str:
        """The filters and encoder, e.g. ``"shuffle+isal-1+libdeflate-1"``."""
        return ("shuffle+" if self.shuffles else "") + (self.deflate.name if self.deflate else "raw")

    @property
    def shuffles(self) -> bool:
        """Whether the chunks this encoder makes are byte-shuffled."""
        return self.shuffle and not self.skip_shuffle

    @property
    def filter_mask(self) -> int:
        """The ``write_direct_chunk`` filter mask of the chunks this encoder makes."""
        return SKIP_SHUFFLE_FILTER_MASK if self.shuffle and self.skip_shuffle else 0

    def without_shuffle(self) -> ChunkEncoder:
        """The same encoder storing chunks unshuffled (a shuffled pipeline only; else this encoder)."""
        return replace(self, skip_shuffle=True) if self.shuffle and self.deflate is not None else self

    def encode(self, block: np.ndarray, chunk_shape: tuple[int, ...]):
        """Return the stored form of ``block`` (a chunk, or the part of an edge chunk inside the dataset).

        Deflated chunks are made in this thread's reusable work buffer; raw chunks are returned as new arrays.
        """
        block = pad_to_chunk_shape(block, chunk_shape)
        if self.deflate is None:
            return byte_shuffle(block) if self.shuffles else np.ascontiguousarray(block)
        work = thread_buffer("work", block.nbytes)
        if self.shuffles:
            planes = byte_shuffle(block, out=work.reshape(block.dtype.itemsize, -1))
            return self.deflate.compress_planes(planes, low_order_first=is_little_endian(block.dtype))
        contiguous = work.view(block.dtype).reshape(block.shape)
        np.copyto(contiguous, block)
        return self.deflate.compress(contiguous)


def filter_pipeline(dataset: h5py.Dataset) -> tuple[int, ...]:
    """Return the HDF5 filter ids of ``dataset`` in the order they are applied when writing."""
    creation_properties = dataset.id.get_create_plist()
    return tuple(creation_properties.get_filter(index)[0] for index in range(creation_properties.get_nfilters()))


def direct_chunk_encoder(dataset: h5py.Dataset, compression: str) -> ChunkEncoder | None:
    """Return the encoder reproducing ``dataset``'s filters, or None when they need h5py's normal write path.

    Direct chunk writing is possible for chunked datasets of plain numbers whose filters are shuffle + gzip,
    gzip alone, or none.
    """
    if dataset.chunks is None or dataset.dtype.kind not in _SUPPORTED_DTYPE_KINDS:
        return None
    filters = filter_pipeline(dataset)
    shuffle = filters[:1] == (h5py.h5z.FILTER_SHUFFLE,)
    remaining_filters = filters[1:] if shuffle else filters
    if remaining_filters == ():
        return ChunkEncoder(shuffle=shuffle, deflate=None)
    if remaining_filters == (h5py.h5z.FILTER_DEFLATE,):
        return ChunkEncoder(shuffle=shuffle, deflate=select_deflate_encoder(compression))
    return None


def fast_alternative(encoder: ChunkEncoder, compression: str) -> ChunkEncoder | None:
    """Return ``encoder`` with the :data:`FAST_RECIPES` deflate of ``compression``, or None if there is none."""
    recipe = FAST_RECIPES.get(compression)
    if recipe is None or encoder.deflate is None or encoder.deflate.name == recipe:
        return None
    deflate = _encoder_from_recipe(recipe)
    return None if deflate is None else replace(encoder, deflate=deflate)


def pad_to_chunk_shape(block: np.ndarray, chunk_shape: tuple[int, ...]) -> np.ndarray:
    """Return ``block`` zero-padded at the end of each axis to ``chunk_shape`` (HDF5 stores edge chunks whole).

    A block that already has the chunk's shape is returned as it is (possibly a strided view).
    """
    if block.shape == chunk_shape:
        return block
    full_chunk = np.zeros(chunk_shape, dtype=block.dtype)
    full_chunk[tuple(slice(0, length) for length in block.shape)] = block
    return full_chunk
