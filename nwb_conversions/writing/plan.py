"""What the HDF5 writer writes, and how: streamed arrays, their chunk shapes and filters, small-dataset settings.

Interfaces never write bytes. They wrap each large source array in a :class:`StreamedArray`, a genuine hdmf
``GenericDataChunkIterator`` over the lazy source, so any writer streams it with bounded memory: NeuroConv's
``run_conversion`` / ``configure_and_write_nwbfile``, plain ``NWBHDF5IO.write``, or ours
(:func:`nwb_conversions.writing.hdf5.write_nwbfile`), which finds them (:func:`streamed_datasets`), stands in for
each an empty chunked dataset with the chosen filters (:func:`empty_datasets_in_place_of`,
:func:`h5py_filter_options`) and configures the small, in-memory datasets with NeuroConv's defaults
(:func:`configure_small_datasets`).
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from hdmf.backends.hdf5 import H5DataIO
from hdmf.data_utils import GenericDataChunkIterator
from pynwb import NWBFile

# COMPRESSION_CHOICES: ``gzip`` and ``max`` use only the standard HDF5 shuffle + gzip filters, so every HDF5 reader
# opens the file without plugins; ``zstd`` needs hdf5plugin to read; ``none`` stores raw chunks.
from .. import COMPRESSION_CHOICES

#: Printed once when ``--compression zstd`` is chosen: such files are not portable.
ZSTD_PORTABILITY_WARNING = (
    "warning: --compression zstd stores Blosc-zstd chunks, an HDF5 plugin filter: h5py reads them only with "
    "hdf5plugin, MATLAB and h5dump only with the plugin installed, and h5wasm 0.10 (Neurosift's reader) returns wrong "
    "numbers without an error; use the default gzip for files you share"
)

#: Chunk length (samples) for 1-D streamed arrays: 256 k samples, 2 MiB of float64.
DEFAULT_VECTOR_CHUNK_LENGTH = 262_144

#: Channels per chunk for 2-D (time × channels) streamed arrays.
DEFAULT_CHANNELS_PER_CHUNK = 64


class StreamedArray(GenericDataChunkIterator):
    """A large source array, streamed chunk by chunk by whichever writer writes the file.

    An hdmf ``GenericDataChunkIterator`` whose buffer is one chunk row (e.g. 1 s × all channels), so NeuroConv's
    writer and plain pynwb stream it with bounded memory; :func:`write_nwbfile` recognizes it and fills the dataset
    from :attr:`source` with its parallel direct-chunk writer instead.

    Parameters
    ----------
    source : array-like
        Anything with ``shape``, ``dtype`` and slicing along the first axis that reads lazily (returning a numpy
        array), e.g. a :class:`~nwb_conversions.readers.binary.InterleavedBinary`, one of its channels, or an
        ``h5py.Dataset``. Read one chunk row at a time.
    chunk_shape : tuple of int, optional
        The HDF5 chunk shape. Default: ``rows_per_chunk`` rows × up to 64 channels for 2-D arrays
        (about 1 s × 64 channels for ephys), 256 k samples for 1-D arrays.
    rows_per_chunk : int, optional
        Rows of a 2-D chunk when ``chunk_shape`` is not given; use the sampling rate for one second per chunk.
    """

    def __init__(self, source, *, chunk_shape: tuple[int, ...] | None = None, rows_per_chunk: int = 30_000):
        self.source = source
        shape = tuple(int(n) for n in source.shape)
        if not shape or min(shape) < 1:
            raise ValueError(f"a streamed array needs at least one element along every axis, not shape {shape}")
        chunk_shape = tuple(chunk_shape or default_chunk_shape(shape, rows_per_chunk=rows_per_chunk))
        buffer_shape = (chunk_shape[0],) + shape[1:]
        super().__init__(chunk_shape=chunk_shape, buffer_shape=buffer_shape, display_progress=False)

    def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
        rows = np.asarray(self.source[selection[0]], dtype=self._get_dtype())
        return rows[(slice(None),) + tuple(selection[1:])] if len(selection) > 1 else rows

    def _get_dtype(self) -> np.dtype:
        return np.dtype(self.source.dtype)

    def _get_maxshape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.source.shape)


def default_chunk_shape(shape: tuple[int, ...], *, rows_per_chunk: int = 30_000) -> tuple[int, ...]:
    """Return the chunk shape for a streamed array: ~1 s × 64 channels (2-D) or 256 k samples (1-D)."""
    if len(shape) == 1:
        return (max(1, min(shape[0], DEFAULT_VECTOR_CHUNK_LENGTH)),)
    rows = max(1, min(shape[0], rows_per_chunk))
    return (rows, max(1, min(shape[1], DEFAULT_CHANNELS_PER_CHUNK))) + tuple(shape[2:])


def h5py_filter_options(compression: str, *, for_h5dataio: bool = False) -> dict:
    """Return the h5py dataset options (filters) for a ``--compression`` choice.

    ``gzip`` and ``max`` declare the standard shuffle + gzip filters; the chunks are then compressed by
    :mod:`nwb_conversions.writing.write` with a faster deflate encoder, and the declared level is that encoder's
    (capped at 9, gzip's highest; decoders ignore it). ``zstd`` declares hdf5plugin's Blosc filter; with
    ``for_h5dataio`` the options also carry what hdmf's ``H5DataIO`` needs to accept a plugin filter.
    """
    if compression in ("gzip", "max"):
        from .encode import select_deflate_encoder

        declared_level = select_deflate_encoder(compression).level
        return dict(compression="gzip", compression_opts=declared_level, shuffle=True)
    if compression == "zstd":
        try:
            import hdf5plugin
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            from ..errors import ConversionError

            raise ConversionError(
                "--compression zstd needs hdf5plugin; install it with: pip install 'nwb_conversions[zstd]'"
            ) from exc
        options = dict(**hdf5plugin.Blosc(cname="zstd", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE), shuffle=False)
        return dict(options, allow_plugin_filters=True) if for_h5dataio else options
    if compression == "none":
        return dict(compression=None, compression_opts=None, shuffle=False)
    raise ValueError(f"unknown compression {compression!r}; expected one of {COMPRESSION_CHOICES}")


@dataclass
class StreamedDataset:
    """One :class:`StreamedArray` found in a file: the object and field holding it, and its stand-in while writing.

    Attributes
    ----------
    owner : hdmf Container
        The object whose field holds the array (e.g. an ``ElectricalSeries``).
    field_name : str
        ``"data"``, ``"timestamps"``, ...
    array : StreamedArray
    placeholder : H5DataIO or None
        The empty chunked dataset written in its place by :func:`write_nwbfile`.
    """

    owner: object
    field_name: str
    array: StreamedArray
    placeholder: H5DataIO | None = None

    @property
    def location(self) -> str:
        """``ElectricalSeries/data``-style name for messages."""
        return f"{getattr(self.owner, 'name', type(self.owner).__name__)}/{self.field_name}"


def streamed_datasets(nwbfile: NWBFile) -> list[StreamedDataset]:
    """Find every :class:`StreamedArray` in the file's objects' fields (data, timestamps, ...).

    Walks ``nwbfile.all_children()``: the cached ``nwbfile.objects`` misses objects added after it was first read.
    """
    found = []
    for neurodata_object in nwbfile.all_children():
        for field_name, field_value in list(getattr(neurodata_object, "fields", {}).items()):
            if isinstance(field_value, StreamedArray):
                found.append(StreamedDataset(neurodata_object, field_name, field_value))
    return found


def streamed_arrays(nwbfile: NWBFile) -> list[StreamedArray]:
    """Every :class:`StreamedArray` in the file (see :func:`streamed_datasets`)."""
    return [found.array for found in streamed_datasets(nwbfile)]


@contextlib.contextmanager
def empty_datasets_in_place_of(streamed: list[StreamedDataset], filter_options: dict) -> Iterator[None]:
    """Stand in for each streamed array an empty chunked dataset of its shape and dtype while the file is written.

    The iterators are put back afterwards, so the in-memory file is left as it was.
    """
    for found in streamed:
        found.placeholder = H5DataIO(
            shape=found.array.maxshape,
            dtype=found.array.dtype,
            chunks=tuple(found.array.chunk_shape),
            **filter_options,
        )
        found.owner.fields[found.field_name] = found.placeholder
    try:
        yield
    finally:
        for found in streamed:
            found.owner.fields[found.field_name] = found.array


@contextlib.contextmanager
def plugin_filter_warning_silenced() -> Iterator[None]:
    """Silence hdmf's multi-line "may not be available on all installations" warning for a plugin filter (zstd).

    The command line says it in one line (:data:`ZSTD_PORTABILITY_WARNING`).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\d+ compression may not be available", category=UserWarning)
        yield


def configure_small_datasets(nwbfile: NWBFile, compression: str) -> None:
    """Chunk and compress the datasets that are not streamed with NeuroConv's defaults (gzip), or store them raw.

    NeuroConv's ``configure_backend`` derives the default configuration a second time, only to remap object ids
    of a configuration built for another file; this one was just built from this file, so that pass is skipped
    (it walks every element of ragged columns in Python: seconds on millions of spike times).
    """
    from neuroconv.tools.nwb_helpers import configure_backend, get_default_backend_configuration

    default_configuration = get_default_backend_configuration(nwbfile=nwbfile, backend="hdf5")
    backend_configuration = configuration_of_this_file_class().model_construct(**dict(default_configuration))
    if compression == "none":
        for dataset_configuration in backend_configuration.dataset_configurations.values():
            dataset_configuration.compressors = None
    configure_backend(nwbfile=nwbfile, backend_configuration=backend_configuration)


@functools.lru_cache(maxsize=None)
def configuration_of_this_file_class():
    """A NeuroConv HDF5 backend configuration that needs no object-id remapping (it was built from this file)."""
    from neuroconv.tools.nwb_helpers import HDF5BackendConfiguration

    class ConfigurationOfThisFile(HDF5BackendConfiguration):
        def find_locations_requiring_remapping(self, nwbfile: NWBFile) -> dict:
            return {}

    return ConfigurationOfThisFile

