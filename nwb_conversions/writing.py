"""Everything written to disk goes through here: backend configuration, compression, streamed arrays, atomic output.

Interfaces never write bytes. They wrap each large source array in a :class:`StreamedArray` (an empty, chunked HDF5
dataset of the final shape and dtype) and small arrays stay in memory. :func:`write_nwbfile` then

1. sets the compression chosen by the user on every dataset,
2. writes the NWB structure with pynwb to a temporary file beside the target,
3. fills each streamed dataset chunk by chunk from its source (:mod:`nwb_conversions.chunk_writer`), never holding
   more than a few chunks in memory,
4. runs an optional check on the finished temporary file (the nwbinspector gate), and
5. renames it to the target. Any failure on the way removes the temporary file, so no partial output is left.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from hdmf.backends.hdf5 import H5DataIO
from pynwb import NWBHDF5IO, NWBFile

from .errors import ConversionError, OutputExistsError

#: The ``--compression`` choices. ``gzip`` and ``max`` use only the standard HDF5 shuffle + gzip filters, so every
#: HDF5 reader opens the file without plugins; ``zstd`` needs hdf5plugin to read; ``none`` stores raw chunks.
COMPRESSION_CHOICES = ("gzip", "max", "zstd", "none")

#: Chunk length (samples) for 1-D streamed arrays: 256 k samples, 2 MiB of float64.
DEFAULT_VECTOR_CHUNK_LENGTH = 262_144

#: Channels per chunk for 2-D (time × channels) streamed arrays.
DEFAULT_CHANNELS_PER_CHUNK = 64


class StreamedArray(H5DataIO):
    """A large source array written chunk by chunk after pynwb has laid out the file.

    To pynwb it is an empty chunked dataset of the final shape and dtype; :func:`write_nwbfile` fills it from
    ``source`` afterwards, so the array is never loaded whole.

    Parameters
    ----------
    source : array-like
        Anything with ``shape``, ``dtype`` and slicing along the first axis that reads lazily, e.g. a
        :class:`~nwb_conversions.readers.binary.InterleavedBinary` or one of its channels. Read one chunk row at a
        time.
    chunk_shape : tuple of int, optional
        The HDF5 chunk shape. Default: ``rows_per_chunk`` rows × up to 64 channels for 2-D arrays
        (about 1 s × 64 channels for ephys), 256 k samples for 1-D arrays.
    rows_per_chunk : int, optional
        Rows of a 2-D chunk when ``chunk_shape`` is not given; use the sampling rate for one second per chunk.
    """

    def __init__(self, source, *, chunk_shape: tuple[int, ...] | None = None, rows_per_chunk: int = 30_000):
        shape = tuple(int(n) for n in source.shape)
        if chunk_shape is None:
            chunk_shape = default_chunk_shape(shape, rows_per_chunk=rows_per_chunk)
        super().__init__(shape=shape, dtype=np.dtype(source.dtype), chunks=tuple(chunk_shape))
        self.source = source


def default_chunk_shape(shape: tuple[int, ...], *, rows_per_chunk: int = 30_000) -> tuple[int, ...]:
    """Return the chunk shape for a streamed array: ~1 s × 64 channels (2-D) or 256 k samples (1-D)."""
    if len(shape) == 1:
        return (max(1, min(shape[0], DEFAULT_VECTOR_CHUNK_LENGTH)),)
    rows = max(1, min(shape[0], rows_per_chunk))
    return (rows, max(1, min(shape[1], DEFAULT_CHANNELS_PER_CHUNK))) + tuple(shape[2:])


def h5py_filter_options(compression: str) -> dict:
    """Return the h5py dataset options (filters) for a ``--compression`` choice.

    ``gzip`` and ``max`` declare the standard shuffle + gzip filters; the chunks are then compressed by
    :mod:`nwb_conversions.chunk_writer` with a faster deflate encoder, and the declared level is that encoder's
    (capped at 9, gzip's highest; decoders ignore it).
    """
    if compression in ("gzip", "max"):
        from .chunk_encoding import select_deflate_encoder

        declared_level = select_deflate_encoder(compression).level
        return dict(compression="gzip", compression_opts=declared_level, shuffle=True)
    if compression == "zstd":
        try:
            import hdf5plugin
        except ImportError as exc:  # pragma: no cover - depends on the optional extra
            from .errors import ConversionError

            raise ConversionError(
                "--compression zstd needs hdf5plugin; install it with: pip install 'nwb_conversions[zstd]'"
            ) from exc
        return dict(**hdf5plugin.Blosc(cname="zstd", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE), shuffle=False)
    if compression == "none":
        return dict(compression=None, compression_opts=None, shuffle=False)
    raise ValueError(f"unknown compression {compression!r}; expected one of {COMPRESSION_CHOICES}")


def streamed_arrays(nwbfile: NWBFile) -> list[StreamedArray]:
    """Find every :class:`StreamedArray` among the file's datasets (data, timestamps and table columns)."""
    found = []
    for neurodata_object in nwbfile.objects.values():
        for field_value in getattr(neurodata_object, "fields", {}).values():
            if isinstance(field_value, StreamedArray):
                found.append(field_value)
    return found


def _configure_small_datasets(nwbfile: NWBFile, compression: str) -> None:
    """Chunk and compress the datasets that are not streamed with NeuroConv's defaults (gzip), or store them raw."""
    from neuroconv.tools.nwb_helpers import configure_backend, get_default_backend_configuration

    backend_configuration = get_default_backend_configuration(nwbfile=nwbfile, backend="hdf5")
    if compression == "none":
        for dataset_configuration in backend_configuration.dataset_configurations.values():
            dataset_configuration.compressors = None
    configure_backend(nwbfile=nwbfile, backend_configuration=backend_configuration)


@contextlib.contextmanager
def atomic_output(output_path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``output_path``; rename it to ``output_path`` only if the block succeeds.

    Folders created for the output are removed again if the block fails.

    Raises
    ------
    OutputExistsError
        If ``output_path`` exists and ``overwrite`` is false (checked before any work is done).
    ConversionError
        If the file cannot be written (an ``OSError`` from the file system).
    """
    output_path = Path(output_path)
    if output_path.exists() and not overwrite:
        raise OutputExistsError(output_path)
    new_folders = [folder for folder in (output_path.parent, *output_path.parent.parents) if not folder.exists()]
    temporary_path = output_path.with_name(f".{output_path.stem}.partial-{os.getpid()}{output_path.suffix}")
    succeeded = False
    try:
        output_path.parent.mkdir(parents=True, exist_ok=True)
        yield temporary_path
        os.replace(temporary_path, output_path)
        succeeded = True
    except OSError as error:
        raise ConversionError(
            f"{output_path}: could not be written ({error.strerror or error}); expected a writable location "
            "with free space, and readable source files"
        ) from error
    finally:
        temporary_path.unlink(missing_ok=True)
        if not succeeded:
            for folder in new_folders:  # deepest first: remove only the folders this call made, if left empty
                with contextlib.suppress(OSError):
                    folder.rmdir()


def write_nwbfile(
    nwbfile: NWBFile,
    output_path: str | Path,
    *,
    overwrite: bool = False,
    compression: str = "gzip",
    check: Callable[[Path], None] | None = None,
    progress: bool | None = None,
) -> Path:
    """Write an in-memory NWB file atomically, streaming its large arrays chunk by chunk.

    Parameters
    ----------
    nwbfile : NWBFile
        The file to write; its large arrays are :class:`StreamedArray` objects.
    output_path : str or Path
        Where the finished file goes.
    overwrite : bool, default: False
        Replace an existing file.
    compression : {"gzip", "max", "zstd", "none"}, default: "gzip"
        Filters for every dataset (see :data:`COMPRESSION_CHOICES`).
    check : callable, optional
        Called with the path of the finished temporary file before it is renamed; raising aborts the write.
    progress : bool, optional
        Show a progress bar while streaming; default: when stderr is a terminal.

    Returns
    -------
    Path
        ``output_path``.
    """
    from .chunk_writer import fill_dataset

    filter_options = h5py_filter_options(compression)
    arrays = streamed_arrays(nwbfile)
    for array in arrays:
        array.io_settings.update(filter_options)
    _configure_small_datasets(nwbfile, compression)

    with atomic_output(output_path, overwrite=overwrite) as temporary_path:
        with NWBHDF5IO(str(temporary_path), mode="w") as io:
            io.write(nwbfile)
            for array in arrays:
                fill_dataset(array.dataset, array.source, compression=compression, progress=progress)
        if check is not None:
            check(temporary_path)
    return Path(output_path)
