"""Everything written to disk goes through here: backend configuration, compression, streamed arrays, atomic output.

Interfaces never write bytes. They wrap each large source array in a :class:`StreamedArray`, a genuine hdmf
``GenericDataChunkIterator`` over the lazy source, so any writer streams it with bounded memory: NeuroConv's
``run_conversion`` / ``configure_and_write_nwbfile``, plain ``NWBHDF5IO.write``, or ours. Small arrays stay in
memory. :func:`write_nwbfile` is the fast path on top of that; it

1. finds every :class:`StreamedArray` in the file (``nwbfile.all_children()``) and stands in for it an empty,
   chunked dataset of the final shape and dtype with the filters chosen by the user,
2. writes the NWB structure with pynwb to a temporary file beside the target,
3. fills each of those datasets chunk by chunk from the iterator's source, compressing chunks in parallel
   (:mod:`nwb_conversions.writing.write`), never holding more than a few chunks in memory, and fails loudly if
   one was left unfilled,
4. runs an optional check on the finished temporary file (the nwbinspector gate), and
5. renames it to the target. Any failure on the way removes the temporary file, so no partial output is left.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from hdmf.backends.hdf5 import H5DataIO
from hdmf.data_utils import GenericDataChunkIterator
from pynwb import NWBHDF5IO, NWBFile

# COMPRESSION_CHOICES: ``gzip`` and ``max`` use only the standard HDF5 shuffle + gzip filters, so every HDF5 reader
# opens the file without plugins; ``zstd`` needs hdf5plugin to read; ``none`` stores raw chunks.
from .. import COMPRESSION_CHOICES
from ..errors import ConversionError, OutputExistsError

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
def _plugin_filter_warning_silenced() -> Iterator[None]:
    """Silence hdmf's multi-line "may not be available on all installations" warning for a plugin filter (zstd):
    the command line says it in one line (:data:`ZSTD_PORTABILITY_WARNING`)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\d+ compression may not be available", category=UserWarning)
        yield


def _configure_small_datasets(nwbfile: NWBFile, compression: str) -> None:
    """Chunk and compress the datasets that are not streamed with NeuroConv's defaults (gzip), or store them raw.

    NeuroConv's ``configure_backend`` derives the default configuration a second time, only to remap object ids
    of a configuration built for another file; this one was just built from this file, so that pass is skipped
    (it walks every element of ragged columns in Python: seconds on millions of spike times).
    """
    from neuroconv.tools.nwb_helpers import configure_backend, get_default_backend_configuration

    default_configuration = get_default_backend_configuration(nwbfile=nwbfile, backend="hdf5")
    backend_configuration = _configuration_of_this_file_class().model_construct(**dict(default_configuration))
    if compression == "none":
        for dataset_configuration in backend_configuration.dataset_configurations.values():
            dataset_configuration.compressors = None
    configure_backend(nwbfile=nwbfile, backend_configuration=backend_configuration)


@functools.lru_cache(maxsize=None)
def _configuration_of_this_file_class():
    """A NeuroConv HDF5 backend configuration that needs no object-id remapping (it was built from this file)."""
    from neuroconv.tools.nwb_helpers import HDF5BackendConfiguration

    class ConfigurationOfThisFile(HDF5BackendConfiguration):
        def find_locations_requiring_remapping(self, nwbfile: NWBFile) -> dict:
            return {}

    return ConfigurationOfThisFile


def refuse_source_target(output_path: Path, sources) -> None:
    """Raise if ``output_path``, as it resolves at this moment, is one of ``sources``.

    Checked again just before an output is replaced: a symlink swapped during the run must not make the conversion
    overwrite a file it reads.
    """
    resolved = output_path.resolve()
    if any(resolved == Path(source).resolve() for source in sources):
        raise ConversionError(
            f"{output_path}: now resolves to a source file of this conversion; expected an output path that "
            "is not read by the conversion"
        )


def publish(temporary_path: Path, output_path: Path, *, overwrite: bool, sources: tuple[Path, ...] = ()) -> None:
    """Move the finished temporary file to ``output_path``, checking the target again at the last moment.

    Without ``overwrite`` the move is exclusive: a hard link that fails if anything (a file another run wrote
    meanwhile, a dangling symlink) has appeared at the path; on a file system without hard links, an exclusive
    create reserves the name first. With ``overwrite`` only a regular file or a symlink is replaced, never a
    folder, FIFO or device, and never one of ``sources``.

    Raises
    ------
    OutputExistsError
        If the target appeared during the run and ``overwrite`` is false.
    ConversionError
        If the target is not a regular file, or is a source.
    """
    if overwrite:
        try:
            mode = os.lstat(output_path).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise ConversionError(
                f"{output_path}: is not a regular file (a folder, FIFO, socket or device); expected a path to a "
                "new or an existing .nwb file"
            )
        refuse_source_target(output_path, sources)
        os.replace(temporary_path, output_path)
        return
    try:
        os.link(temporary_path, output_path)
    except FileExistsError:
        raise OutputExistsError(output_path) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        try:  # no hard links here: reserve the name exclusively, then move the file onto the reservation
            os.close(os.open(output_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            raise OutputExistsError(output_path) from None
        os.replace(temporary_path, output_path)
        return
    os.unlink(temporary_path)


#: The temporary file's name: ``.<stem>.partial-<pid><suffix>`` beside the target, the stem cut so that the name
#: stays within file systems' 255-byte limit whenever the target's own name does.
PARTIAL_STEM_CHARACTERS = 200


def partial_path(output_path: Path, pid: int) -> Path:
    """The temporary file of the run with process id ``pid`` writing ``output_path``."""
    stem = output_path.stem[:PARTIAL_STEM_CHARACTERS]
    return output_path.with_name(f".{stem}.partial-{pid}{output_path.suffix[:16]}")


def _process_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_partials(output_path: str | Path) -> list[Path]:
    """Remove the temporary files that killed runs (e.g. SIGKILL, a power cut) left beside ``output_path``.

    Only files named as :func:`partial_path` names them, whose process is no longer running, are removed.

    Returns
    -------
    list of Path
        The files removed, for a note.
    """
    output_path = Path(output_path)
    removed = []
    prefix, suffix = f".{output_path.stem[:PARTIAL_STEM_CHARACTERS]}.partial-", output_path.suffix[:16]
    try:
        candidates = list(output_path.parent.iterdir())
    except OSError:
        return removed
    for candidate in candidates:
        name = candidate.name
        pid = name[len(prefix) : len(name) - len(suffix) if suffix else None]
        if not (name.startswith(prefix) and name.endswith(suffix) and pid.isdigit()):
            continue
        if int(pid) != os.getpid() and not _process_is_running(int(pid)):
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def hdf5_io_failure(error: Exception) -> OSError | None:
    """The ``OSError`` inside an HDF5 error message (``errno = 28, error message = '...'``), or None."""
    import re

    match = re.search(r"errno = (\d+), error message = '([^']*)'", str(error))
    return OSError(int(match.group(1)), match.group(2)) if match else None


def os_error_of_output(error: OSError, output_path: Path, temporary_path: Path) -> ConversionError:
    """Name the right file for an ``OSError`` raised while writing: a source that could not be read, or the
    output that could not be written."""
    from ..errors import SourceFormatError, describe_os_error

    filename = error.filename
    if filename is not None and Path(filename) not in (output_path, temporary_path, output_path.parent):
        reason = error.strerror or " ".join(str(error).split())
        return SourceFormatError(filename, f"cannot be read ({reason})", "a readable source file")
    described = describe_os_error(error)
    return ConversionError(f"{output_path}: could not be written: {described.split(': ', 1)[-1]}")


@contextlib.contextmanager
def atomic_output(
    output_path: str | Path, *, overwrite: bool = False, sources: tuple[Path, ...] | list[Path] = ()
) -> Iterator[Path]:
    """Yield a temporary path beside ``output_path``; move it to ``output_path`` only if the block succeeds.

    The existence of ``output_path`` is checked before any work and again at the end (:func:`publish`), so two
    runs onto one new path cannot both succeed. Folders created for the output are removed again if the block
    fails.

    Raises
    ------
    OutputExistsError
        If ``output_path`` exists (before or after the work) and ``overwrite`` is false.
    ConversionError
        If the file cannot be written (an ``OSError`` from the file system).
    """
    output_path = Path(output_path)
    if (output_path.exists() or output_path.is_symlink()) and not overwrite:
        raise OutputExistsError(output_path)
    new_folders = [folder for folder in (output_path.parent, *output_path.parent.parents) if not folder.exists()]
    temporary_path = partial_path(output_path, os.getpid())
    succeeded = False
    try:
        output_path.parent.mkdir(parents=True, exist_ok=True)
        yield temporary_path
        publish(temporary_path, output_path, overwrite=overwrite, sources=tuple(sources))
        succeeded = True
    except OSError as error:
        raise os_error_of_output(error, output_path, temporary_path) from error
    except RuntimeError as error:  # HDF5 reports a failed write (disk full, size limit) as a RuntimeError
        failure = hdf5_io_failure(error)
        if failure is None:
            raise
        raise os_error_of_output(failure, output_path, temporary_path) from error
    finally:
        with contextlib.suppress(OSError):
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
    workers: int | None = None,
    sources: tuple[Path, ...] | list[Path] = (),
) -> Path:
    """Write an in-memory NWB file atomically, streaming its large arrays chunk by chunk in parallel.

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
    workers : int, optional
        Compression threads; default: ``$NWB_CONVERSIONS_WORKERS``, else the usable CPU cores.
    sources : sequence of Path
        Files the conversion read: never replaced, even with ``overwrite``.

    Returns
    -------
    Path
        ``output_path``.

    Raises
    ------
    RuntimeError
        If a streamed dataset was not written (a bug: the file would hold fill values).
    """
    from .write import fill_dataset

    filter_options = h5py_filter_options(compression, for_h5dataio=True)
    streamed = streamed_datasets(nwbfile)
    with _plugin_filter_warning_silenced(), empty_datasets_in_place_of(streamed, filter_options):
        _configure_small_datasets(nwbfile, compression)
        with atomic_output(output_path, overwrite=overwrite, sources=sources) as temporary_path:
            with NWBHDF5IO(str(temporary_path), mode="w") as io:
                io.write(nwbfile)
                for found in streamed:
                    if found.placeholder.dataset is None:
                        raise RuntimeError(f"{found.location}: the streamed dataset was not laid out in the file")
                    fill_dataset(
                        found.placeholder.dataset,
                        found.array.source,
                        compression=compression,
                        progress=progress,
                        workers=workers,
                    )
            if check is not None:
                check(temporary_path)
    return Path(output_path)
