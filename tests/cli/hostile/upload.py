"""``convert-to-nwb upload`` on folders it must refuse: one line each, and nothing sent.

Every row replaces ``dandi.upload.upload`` (the only call that would send a byte) by a double that fails the test
if it is called, and checks that no Dandiset folder is left beside OUTPUT_DIR. Rows cover the folder itself
(missing, a file, empty of NWB files), stray files and folders (anything convert-to-nwb does not write), NWB-Zarr
and other Zarr stores (refused: dandi 0.81 cannot organize or validate them as NWB), NWB files that do not open
(empty, text, truncated, pickled, a FIFO), a file that fails ``dandi validate``, two files stating the same
object id, a Dandiset folder that belongs to another Dandiset, and bad arguments or environment.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Callable

import pytest

from ...pickle_payloads import MarkerPayload
from ..failure_table import Case
from ..sample_outputs import sample_files, write_nwb, write_store

#: A fake key: rows that need one get it; no row may send anything with it.
FAKE_API_KEY = "test-key-0123456789abcdef"

SESSION = Path("sub-mouse-1") / "sub-mouse-1_ses-103991.nwb"


def refuse_upload(**arguments) -> None:
    """Stands in for ``dandi.upload.upload``: being called at all fails the test (``pytest.fail`` is not an
    ``Exception``, so no error handler can turn it into a one-line error)."""
    pytest.fail(f"dandi.upload.upload was called with {arguments}: the upload must stop before sending anything")


def upload_case(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, prepare: Callable[[Path], None], names: str, fragment: str,
    *extra, key: str | None = FAKE_API_KEY,
) -> Case:
    """A batch's output folder ``tmp/nwb`` holding one NWB file, changed by ``prepare(folder)``, uploaded."""
    monkeypatch.setattr("dandi.upload.upload", refuse_upload)
    if key is None:
        monkeypatch.delenv("DANDI_API_KEY", raising=False)
    else:
        monkeypatch.setenv("DANDI_API_KEY", key)
    folder = tmp / "nwb"
    write_nwb(folder / SESSION)
    prepare(folder)
    return Case(
        ["upload", folder, "--dandiset", "000123", *extra], names, fragment, tmp, absent=(tmp / "nwb-dandiset-000123",)
    )


def put(relative: str, content: bytes | str = b"x") -> Callable[[Path], None]:
    def prepare(folder: Path) -> None:
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return prepare


def only(prepare: Callable[[Path], None]) -> Callable[[Path], None]:
    """Remove the NWB file, then ``prepare``."""

    def prepare_alone(folder: Path) -> None:
        (folder / SESSION).unlink()
        prepare(folder)

    return prepare_alone


def replace_session(content: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / SESSION).write_bytes(content)


def truncated_nwb() -> bytes:
    return sample_files("hdf5")[0][1][:4096]


def pickled_nwb(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    marker = tmp / "unpickled"
    payload = replace_session(pickle.dumps(MarkerPayload(marker)))
    case = upload_case(tmp, monkeypatch, payload, SESSION.name, "not an HDF5")
    case.absent += (marker,)
    return case


def failing_file(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    return upload_case(
        tmp, monkeypatch, lambda folder: write_nwb(folder / SESSION, complete=False), SESSION.name,
        "dandi validate: NWBI.check_subject_",
    )


def dandiset_folder_case(tmp: Path, monkeypatch: pytest.MonkeyPatch, yaml_text: str, fragment: str) -> Case:
    dandiset = tmp / "dandisets" / "000123"
    dandiset.mkdir(parents=True)
    (dandiset / "dandiset.yaml").write_text(yaml_text)
    return upload_case(tmp, monkeypatch, lambda folder: None, "dandiset.yaml", fragment, "--dandiset-dir", dandiset)


def arguments_case(tmp: Path, monkeypatch: pytest.MonkeyPatch, names: str, fragment: str, *extra, **keys) -> Case:
    """Bad arguments after OUTPUT_DIR: ``--dandiset 000123`` is replaced by ``extra`` when given."""
    case = upload_case(tmp, monkeypatch, lambda folder: None, names, fragment, **keys)
    if extra:
        case.args = ["upload", tmp / "nwb", *extra]
    return case


def folder_is_a_file(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    case = upload_case(tmp, monkeypatch, lambda folder: None, SESSION.name, "not a folder")
    case.args = ["upload", tmp / "nwb" / SESSION, "--dandiset", "000123"]
    return case


ROWS: dict[str, Callable[[Path, pytest.MonkeyPatch], Case]] = {
    # --- the folder ----------------------------------------------------------------------------------------------
    "folder missing": lambda t, m: Case(["upload", t / "none", "--dandiset", "000123", "--dry-run"], "none",
                                        "not a folder", t),
    "folder is a file": folder_is_a_file,
    "folder empty": lambda t, m: upload_case(t, m, only(lambda f: None), "nwb", "holds no .nwb file"),
    "only the batch's own files": lambda t, m: upload_case(
        t, m, only(lambda f: [put(name, "{}")(f) for name in ("batch_report.json", "report.html", ".a.batch.json")]),
        "nwb", "holds no .nwb file",
    ),
    # --- stray files and folders -----------------------------------------------------------------------------------
    "stray text file": lambda t, m: upload_case(t, m, put("notes.txt"), "notes.txt", "is not an NWB file"),
    "stray file in a session folder": lambda t, m: upload_case(
        t, m, put("sub-mouse-1/raw.bin"), "sub-mouse-1/raw.bin", "is not an NWB file"
    ),
    "several strays": lambda t, m: upload_case(
        t, m, lambda f: (put("a.txt")(f), put("b.txt")(f)), "a.txt", "(and 1 more)"
    ),
    "quicklook PNG of no NWB file": lambda t, m: upload_case(
        t, m, put("sub-mouse-1/other.png"), "other.png", "is not an NWB file"
    ),
    "batch report below the top": lambda t, m: upload_case(
        t, m, put("sub-mouse-1/batch_report.json", "{}"), "sub-mouse-1/batch_report.json", "is not an NWB file"
    ),
    "NWB-Zarr store": lambda t, m: upload_case(
        t, m, lambda f: write_store(f / "sub-mouse-1" / "sub-mouse-1_ses-2.nwb.zarr"), "ses-2.nwb.zarr",
        "is a Zarr store",
    ),
    "other Zarr folder": lambda t, m: upload_case(
        t, m, lambda f: (f / "image.zarr").mkdir(), "image.zarr", "is a Zarr store"
    ),
    "link to a folder": lambda t, m: upload_case(
        t, m, lambda f: (f / "more").symlink_to(t), "nwb/more", "is a link to a folder"
    ),
    "FIFO named .nwb": lambda t, m: upload_case(t, m, lambda f: os.mkfifo(f / "a.nwb"), "a.nwb", "not a regular file"),
    "dangling link named .nwb": lambda t, m: upload_case(
        t, m, lambda f: (f / "a.nwb").symlink_to(t / "gone.nwb"), "a.nwb", "not a regular file"
    ),
    # --- NWB files that do not open, or fail validation --------------------------------------------------------------
    "empty NWB file": lambda t, m: upload_case(t, m, replace_session(b""), SESSION.name, "not an HDF5 file"),
    "text NWB file": lambda t, m: upload_case(t, m, replace_session(b"hello\n" * 9), SESSION.name, "not an HDF5"),
    "truncated NWB file": lambda t, m: upload_case(
        t, m, replace_session(truncated_nwb()), SESSION.name, "cannot be read as NWB"
    ),
    "HDF5 signature then garbage": lambda t, m: upload_case(
        t, m, replace_session(b"\x89HDF\r\n\x1a\n" + b"\xff" * 4096), SESSION.name, "nothing was uploaded"
    ),
    "pickled NWB file": pickled_nwb,
    "file failing dandi validate": failing_file,
    "two files with the same object id": lambda t, m: upload_case(
        t, m, lambda f: write_nwb(f / "copy" / SESSION.name), "same object_id", "nothing was uploaded", "--dry-run"
    ),
    # --- the Dandiset folder, arguments, environment ----------------------------------------------------------------
    "Dandiset folder of another Dandiset": lambda t, m: dandiset_folder_case(
        t, m, "identifier: '000999'\n", "belongs to Dandiset 000999"
    ),
    "dandiset.yaml not YAML": lambda t, m: dandiset_folder_case(t, m, "identifier: [\n", "is not a dandiset.yaml"),
    "no DANDI_API_KEY": lambda t, m: arguments_case(t, m, "DANDI_API_KEY", "not set", key=None),
    "empty DANDI_API_KEY": lambda t, m: arguments_case(t, m, "DANDI_API_KEY", "not set", key=""),
    "Dandiset id of five digits": lambda t, m: arguments_case(
        t, m, "--dandiset 12345", "not a Dandiset identifier", "--dandiset", "12345"
    ),
    "Dandiset id with a letter": lambda t, m: arguments_case(
        t, m, "DANDI:00012a", "six digits", "--dandiset", "DANDI:00012a"
    ),
    "unknown instance": lambda t, m: arguments_case(
        t, m, "--instance dandy", "not a DANDI instance", "--dandiset", "000123", "--instance", "dandy"
    ),
    "instance not http": lambda t, m: arguments_case(
        t, m, "ftp://archive", "not a DANDI instance", "--dandiset", "000123", "--instance", "ftp://archive"
    ),
}
