"""Recycle the output file's page-cache pages while the writer streams gigabytes into it.

A fresh page costs the kernel a fault and a zero-fill, and on virtual machines whose host reclaims the guest's free
memory (free-page reporting, ballooning) a trip to the host as well: on the 2-core benchmark VM, writing 536 MB
into fresh page-cache pages took ~1.2-1.4 s of CPU, the same write into recycled pages ~0.6 s
(benchmarks/README.md). :class:`WrittenPageRecycler` drops the output's already-written pages from the page cache as
the file grows (``posix_fadvise(POSIX_FADV_DONTNEED)``, which starts their write-back first and never loses data), so
the kernel reuses them for the next chunks instead of taking fresh memory. Best-effort: where the platform lacks the
call, nothing changes.
"""

from __future__ import annotations

import os

#: Bytes of the output file recycled at a time; the last ``3 ×`` this stays in the page cache.
RECYCLE_WINDOW_BYTES = 32 << 20


class WrittenPageRecycler:
    """Drops the pages of a growing output file from the page cache a few windows behind its end.

    Call :meth:`file_grew` after writes. Once the file is two windows past a window, that window's pages get
    ``POSIX_FADV_DONTNEED``, which starts their write-back (dirty pages are written, never discarded); a window
    later the same call drops the pages, now clean, and the kernel reuses them for the next writes. Only whole
    windows behind the end are touched, and only the data's bytes change hands: HDF5's metadata, rewritten at
    close, is read back from disk if it was dropped.

    Parameters
    ----------
    file_descriptor : int or None
        The output file's descriptor (see :meth:`for_h5py_file`); None disables recycling.
    window_bytes : int
        Bytes recycled at a time.
    """

    def __init__(self, file_descriptor: int | None, window_bytes: int = RECYCLE_WINDOW_BYTES):
        supported = hasattr(os, "posix_fadvise") and file_descriptor is not None
        self.file_descriptor = file_descriptor if supported else None
        self.window_bytes = window_bytes
        self.write_back_started = 0  # bytes [0, this) have been advised once: their write-back has started
        self.dropped = 0  # bytes [0, this) have been advised twice: their clean pages were dropped

    @classmethod
    def for_h5py_file(cls, file) -> WrittenPageRecycler:
        """Return a recycler for an open ``h5py.File``; disabled unless HDF5 writes it through a POSIX descriptor.

        Only the ``sec2`` driver (h5py's default) has one; for others ``get_vfd_handle`` returns no descriptor.
        """
        handle = file.id.get_vfd_handle() if file.driver == "sec2" else None
        return cls(handle if isinstance(handle, int) and handle >= 0 else None)

    def file_grew(self) -> None:
        """Advise the windows that fell far enough behind the file's current end."""
        if self.file_descriptor is None:
            return
        try:
            size = os.fstat(self.file_descriptor).st_size
            while size - self.write_back_started >= 2 * self.window_bytes:
                self._advise(self.write_back_started)
                self.write_back_started += self.window_bytes
                if self.write_back_started - self.dropped >= 2 * self.window_bytes:
                    self._advise(self.dropped)
                    self.dropped += self.window_bytes
        except OSError:  # advice only: a file system that refuses it keeps its pages
            self.file_descriptor = None

    def _advise(self, offset: int) -> None:
        os.posix_fadvise(self.file_descriptor, offset, self.window_bytes, os.POSIX_FADV_DONTNEED)
