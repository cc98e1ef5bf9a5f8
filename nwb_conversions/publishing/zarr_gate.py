"""The nwbinspector gate on NWB-Zarr stores.

The store is checked first (:func:`nwb_conversions.publishing.zarr_check.check_zarr_store`: metadata, codecs,
chunks, consolidated metadata), so nothing is opened that could unpickle, block or read a truncated chunk; then it is
opened with ``NWBZarrIO``. Two differences from the HDF5 gate, both due to version incompatibilities: the NWB schema
validation runs through the open ``NWBZarrIO`` (pynwb 4.2's validation by path hands h5py-only arguments to
hdmf-zarr 0.13 and fails), and nwbinspector's ``check_units_table_duration`` is skipped (with zarr 2.18 its unsigned
coordinate selection raises an IndexError on every Zarr units table); it is a best-practice check that spike times
span less than a year.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from ..errors import ConversionError
from .zarr_check import EXPECTED_STORE, check_zarr_store

#: nwbinspector checks that crash on Zarr-backed files (see the module docstring).
ZARR_SKIPPED_CHECKS = ("check_units_table_duration",)


@contextlib.contextmanager
def opened_store(store_path: str | Path) -> Iterator[tuple]:
    """Check the store, open it with ``NWBZarrIO`` and yield ``(io, nwbfile)``; a store that cannot be read as NWB
    is one line.

    Raises
    ------
    ConversionError
    """
    from hdmf_zarr import NWBZarrIO

    check_zarr_store(store_path)
    try:
        io = NWBZarrIO(str(store_path), mode="r")
        nwbfile = io.read()
    except Exception as error:
        from .gate import one_line

        raise ConversionError(
            f"{store_path}: cannot be read as NWB-Zarr ({type(error).__name__}: {one_line(error)}); "
            f"expected {EXPECTED_STORE}"
        ) from None
    with io:
        yield io, nwbfile


def check_readable_store(store_path: str | Path) -> None:
    """Refuse, in one line, a store that is damaged or cannot be read as NWB.

    Raises
    ------
    ConversionError
    """
    with opened_store(store_path):
        pass


def inspect_zarr_store(store_path: str | Path, *, missing_subject_fields=()):
    """Run nwbinspector (DANDI configuration) and the NWB schema validation on an NWB-Zarr store.

    The parameters are those of :func:`nwb_conversions.publishing.gate.inspect_file`, for the store at
    ``store_path``; the module docstring says how the inspection of a store differs.

    Raises
    ------
    ConversionError
        If the store is damaged or cannot be read, or nwbinspector fails on it.
    """
    import pynwb

    from .fresh_inspection import inspector_messages
    from .gate import InspectionReport, one_line, tolerated_checks

    with opened_store(store_path) as (io, nwbfile):
        try:
            messages = inspector_messages(pynwb.validate(io=io), nwbfile, store_path, ignore=ZARR_SKIPPED_CHECKS)
        except Exception as error:
            raise ConversionError(
                f"{store_path}: nwbinspector could not inspect it ({type(error).__name__}: {one_line(error)}); "
                f"expected {EXPECTED_STORE}"
            ) from None
    tolerated = tolerated_checks(missing_subject_fields)
    return InspectionReport(path=Path(store_path), messages=messages, tolerated_checks=tolerated)
