"""Opening the NWB file a quicklook draws (HDF5, or an NWB-Zarr folder), and saying in one line what is wrong when
it cannot be read.

An HDF5 file that cannot be read is described by the gate's own check
(:func:`nwb_conversions.publishing.gate.check_readable_nwb`: missing, a folder, empty, text, truncated, not NWB). A
folder is checked as a Zarr store before anything opens it (:func:`nwb_conversions.publishing.zarr_check.
check_zarr_store`: its metadata, codecs, chunk files), and is then read with the ``pickle`` codec refused as well: a
store whose arrays are pickled (hdmf-zarr's default object codec) would run code when read. Content that breaks the NWB
schema or contradicts itself (:class:`~.checks.MalformedContent`) and reads that fail are reported against the file.
"""

from __future__ import annotations

import json
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

from ..errors import ConversionError, SourceFormatError
from .checks import MalformedContent, PickledArray

#: What a readable input is, in the one-line errors.
EXPECTED_NWB = "an NWB file (HDF5) or NWB-Zarr store written completely, such as one convert-to-nwb wrote"
#: The numcodecs id of the codec that unpickles.
PICKLE_CODEC = "pickle"


def one_line(error: BaseException) -> str:
    """An exception as one short line: its type and its message with whitespace folded."""
    from ..publishing.gate import one_line as fold

    return f"{type(error).__name__}: {fold(error)}" if str(error) else type(error).__name__


class RefusedPickle:
    """Stands in for numcodecs' ``Pickle`` once a store has been read: while any quicklook reads a store (in any
    thread), building it raises :class:`PickledArray`; otherwise it builds numcodecs' own ``Pickle``."""

    codec_id = PICKLE_CODEC

    @classmethod
    def from_config(cls, config):
        if _readers_refusing_pickle:
            raise PickledArray(PICKLE_CODEC)
        from numcodecs.pickles import Pickle

        return Pickle.from_config(config)


#: How many reads refuse the pickle codec now (Dask runs several sessions' quicklooks as threads of one process).
_readers_refusing_pickle = 0
_refusal_lock = threading.Lock()


@contextmanager
def pickle_codec_refused():
    """Within the block, any Zarr array stored with the pickle codec raises :class:`PickledArray` when opened.

    Blocks may overlap and end in any order (threads): the registry keeps :class:`RefusedPickle`, which refuses
    while any block is open and otherwise defers to numcodecs' ``Pickle``.
    """
    global _readers_refusing_pickle
    from numcodecs import registry

    with _refusal_lock:
        registry.codec_registry[PICKLE_CODEC] = RefusedPickle
        _readers_refusing_pickle += 1
    try:
        yield
    finally:
        with _refusal_lock:
            _readers_refusing_pickle -= 1


def pickled_array_of(store: Path) -> str:
    """The first array of a store (by path) stored with the pickle codec, or ``an array`` if none is found."""
    for folder, _, files in sorted(os.walk(store)):
        if ".zarray" in files:
            try:
                metadata = json.loads((Path(folder) / ".zarray").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            codecs = [metadata.get("compressor")] + list(metadata.get("filters") or [])
            if any(isinstance(codec, dict) and codec.get("id") == PICKLE_CODEC for codec in codecs):
                return "/" + Path(folder).relative_to(store).as_posix()
    return "an array"


def schema_problem(nwbfile_path: Path, error: Exception) -> None:
    """Raise the one-line error for a group or dataset pynwb could not build (hdmf's ``ConstructError``: a
    required part missing, columns of different lengths), naming it; return for any other error."""
    from hdmf.build.errors import ConstructError

    if isinstance(error, ConstructError) and len(error.args) == 2:
        builder, reason = error.args
        where = "/" + str(getattr(builder, "path", "?")).removeprefix("root").lstrip("/")
        reason = " ".join(str(reason).split())
        reason = re.sub(r"^Could not construct (\w+) object due to: ", r"\1: ", reason)
        raise SourceFormatError(nwbfile_path, f"the group {where} does not match the NWB schema ({reason[:300]})",
                                EXPECTED_NWB) from error


def caused_by_pickle(error: BaseException) -> bool:
    """Whether :class:`PickledArray` is ``error`` or in its chain (zarr wraps it in a ``MetadataError``)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, PickledArray):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


#: Names under which hdmf's readers hold the HDF5 or Zarr object they are reading.
READER_LOCALS = ("h5obj", "zarr_obj", "sub_h5obj", "sub_array")


def failing_object(error: BaseException) -> str | None:
    """The path of the stored object hdmf was reading when ``error`` was raised (from the innermost frame that
    holds one), or None."""
    frames = []
    trace = error.__traceback__
    while trace is not None:
        frames.append(trace.tb_frame)
        trace = trace.tb_next
    for frame in reversed(frames):
        for name in READER_LOCALS:
            path = getattr(frame.f_locals.get(name), "name", None)
            if isinstance(path, str) and path.startswith("/") and len(path) > 1:
                return path
    return None


def refuse_unreadable(nwbfile_path: Path, error: Exception) -> None:
    """Raise the one-line error for an input that could not be opened as NWB (``error`` is why)."""
    from ..publishing.gate import check_readable_nwb, is_zarr_folder

    if caused_by_pickle(error):
        raise SourceFormatError(nwbfile_path, f"{pickled_array_of(nwbfile_path)} is stored with the pickle codec "
                                "(refused: unpickling runs code)", "an NWB-Zarr store without pickled arrays")
    if isinstance(error, MalformedContent):
        raise SourceFormatError(nwbfile_path, f"{error.where} {error.problem}", error.expected) from error
    if is_zarr_folder(nwbfile_path):
        raise SourceFormatError(nwbfile_path, f"cannot be read as NWB-Zarr ({one_line(error)})", EXPECTED_NWB)
    schema_problem(nwbfile_path, error)
    where = failing_object(error)
    if where is not None:
        raise SourceFormatError(nwbfile_path, f"{where} cannot be read as NWB ({one_line(error)})", EXPECTED_NWB)
    check_readable_nwb(nwbfile_path)  # says in one line what is wrong with the file
    raise SourceFormatError(nwbfile_path, f"cannot be read as NWB ({one_line(error)})", EXPECTED_NWB)


@contextmanager
def open_nwbfile(nwbfile_path: Path):
    """Open an NWB file (HDF5, or a Zarr folder) for lazy reading; anything that goes wrong while the file is open
    and read (a malformed or damaged file, a pickled Zarr array) becomes one :class:`SourceFormatError`."""
    if nwbfile_path.is_dir():
        from hdmf_zarr.nwb import NWBZarrIO as reader

        from ..publishing.zarr_check import check_zarr_store

        check_zarr_store(nwbfile_path)
    else:
        from pynwb import NWBHDF5IO as reader
    with pickle_codec_refused():
        try:
            io = reader(str(nwbfile_path), "r")
            nwbfile = io.read()
        except ConversionError:
            raise
        except Exception as error:
            refuse_unreadable(nwbfile_path, error)
            raise
        with io:
            try:
                yield nwbfile
            except (MalformedContent, PickledArray) as error:
                refuse_unreadable(nwbfile_path, error)
            except Exception as error:
                if not caused_by_pickle(error):
                    raise
                refuse_unreadable(nwbfile_path, error)
