"""The HDF5 backend: :func:`write_nwbfile`, the fast path for files whose large arrays are streamed.

Interfaces wrap each large source array in a :class:`~nwb_conversions.writing.plan.StreamedArray`
(:mod:`nwb_conversions.writing.plan`); small arrays stay in memory. :func:`write_nwbfile`

1. finds every :class:`~nwb_conversions.writing.plan.StreamedArray` in the file (``nwbfile.all_children()``) and
   stands in for it an empty, chunked dataset of the final shape and dtype with the filters chosen by the user,
2. writes the NWB structure with pynwb to a temporary file beside the target
   (:mod:`nwb_conversions.writing.output`),
3. fills each of those datasets chunk by chunk from the iterator's source, compressing chunks in parallel
   (:mod:`nwb_conversions.writing.write`), never holding more than a few chunks in memory, and fails loudly if
   one was left unfilled,
4. runs an optional check on the finished temporary file (the nwbinspector gate), and
5. renames it to the target. Any failure on the way removes the temporary file, so no partial output is left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from pynwb import NWBHDF5IO, NWBFile

from .output import atomic_output
from .plan import (
    configure_small_datasets,
    empty_datasets_in_place_of,
    h5py_filter_options,
    plugin_filter_warning_silenced,
    streamed_datasets,
)


def write_nwbfile(
    nwbfile: NWBFile,
    output_path: str | Path,
    *,
    overwrite: bool = False,
    compression: str = "gzip",
    check: Callable[[Path], None] | None = None,
    progress: bool | None = None,
    workers: int | None = None,
    memory_mb: float | None = None,
    sources: tuple[Path, ...] | list[Path] = (),
) -> Path:
    """Write an in-memory NWB file atomically, streaming its large arrays chunk by chunk in parallel.

    Parameters
    ----------
    nwbfile : NWBFile
        The file to write; its large arrays are :class:`~nwb_conversions.writing.plan.StreamedArray` objects.
    output_path : str or Path
        Where the finished file goes.
    overwrite : bool, default: False
        Replace an existing file.
    compression : {"gzip", "max", "zstd", "none"}, default: "gzip"
        Filters for every dataset (see :data:`nwb_conversions.COMPRESSION_CHOICES`).
    check : callable, optional
        Called with the path of the finished temporary file before it is renamed; raising aborts the write.
    progress : bool, optional
        Show a progress bar while streaming; default: when stderr is a terminal.
    workers : int, optional
        Compression threads; default: ``$NWB_CONVERSIONS_WORKERS``, else the usable CPU cores.
    memory_mb : float, optional
        The writer's budget for data in flight; default ``$NWB_CONVERSIONS_MEMORY_MB``, else 160 MB.
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
    with plugin_filter_warning_silenced(), empty_datasets_in_place_of(streamed, filter_options):
        configure_small_datasets(nwbfile, compression)
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
                        memory_mb=memory_mb,
                    )
            if check is not None:
                check(temporary_path)
    return Path(output_path)
