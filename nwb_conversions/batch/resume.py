"""Resumability: the sidecar beside each finished output, and the verdict on an output that already exists.

A finished output gets a small sidecar beside it, ``.<output name>.batch.json``, recording what produced it (the
dataset, the source, the options, a digest of the session's metadata, the DANDI subject fields that were missing, so
the gate can be re-run tolerating exactly those) and which file it describes: the output's size, its modification
time in nanoseconds and a fingerprint of its content (:mod:`.identity`). A re-run keeps an output (SKIPPED) only when
the sidecar is the batch's own regular file holding a valid record, the record matches the task, the output is still
exactly the file it describes, and (unless ``--no-inspect``) the output still opens and passes the gate. Anything
else is FAILED with a one-line reason, and only ``--overwrite`` converts the session again. Dot files are ignored by
``dandi organize`` and ``dandi upload``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..errors import ConversionError
from .identity import describe_difference, output_identity
from .tasks import SessionTask

#: A sidecar is a few hundred bytes; anything larger was not written by a batch.
MAX_SIDECAR_BYTES = 1 << 20

#: The end of every refusal of an existing output.
CONVERT_AGAIN = "--overwrite to convert the session again"


def metadata_digest(task: SessionTask) -> str:
    """SHA-256 of the session's user metadata (the release file's bytes and the table row)."""
    digest = hashlib.sha256()
    if task.metadata_path is not None:
        digest.update(Path(task.metadata_path).read_bytes())
    digest.update(json.dumps(task.user_metadata, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def provenance(task: SessionTask) -> dict:
    """What produces the task's output; the sidecar holds this plus what the conversion found."""
    return {
        "producer": f"nwb_conversions {__version__} batch",
        "dataset": task.dataset_key,
        "source": str(Path(task.source).resolve()),
        "options": task.options.fingerprint(),
        "metadata_sha256": metadata_digest(task),
    }


def sidecar_path(output_path: Path) -> Path:
    """``.<output name>.batch.json`` beside the output."""
    return output_path.with_name(f".{output_path.name}.batch.json")


def sidecar_temporary_path(output_path: Path, pid: int) -> Path:
    """Where the process ``pid`` writes the sidecar before renaming it into place."""
    path = sidecar_path(output_path)
    return path.with_name(f"{path.name}.partial-{pid}")


def write_sidecar(task: SessionTask, missing_subject_fields: list[str]) -> None:
    """Record what produced the output and which file it is (written to a temporary name, synced, then renamed)."""
    record = dict(
        provenance(task),
        missing_subject_fields=list(missing_subject_fields),
        output=output_identity(task.output),
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    temporary = sidecar_temporary_path(task.output, os.getpid())
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(record, indent=1))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, sidecar_path(task.output))
    finally:
        temporary.unlink(missing_ok=True)


def check_sidecar_slot(output_path: Path) -> str:
    """Before converting: raise if the sidecar's name is taken by a folder (it could not be replaced afterwards,
    leaving an output with no record). A file or a symbolic link there is replaced by the new record; when the
    output itself is missing, return a note saying so ("" otherwise).

    Raises
    ------
    ConversionError
    """
    path = sidecar_path(output_path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return ""
    if stat.S_ISDIR(mode):
        raise ConversionError(
            f"{path}: is a folder where the batch keeps the record of {output_path.name}; expected a file or nothing "
            "there: move the folder away"
        )
    if output_path.exists() or output_path.is_symlink():
        return ""
    return f"{path.name} was left without its output by an earlier run: converted again"


def _sidecar_refusal(path: Path, problem: str) -> ConversionError:
    return ConversionError(
        f"{path}: {problem}; expected the record a batch writes beside its output, or {CONVERT_AGAIN}"
    )


def read_sidecar_bytes(output_path: Path) -> bytes:
    """The sidecar's bytes, read only from a regular file (never through a symbolic link) of bounded size.

    Raises
    ------
    ConversionError
        If there is no sidecar, or it is a folder, a symbolic link, a device or pipe, too large or unreadable.
    """
    path = sidecar_path(output_path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConversionError(
            f"{output_path}: exists but has no {path.name} saying a batch wrote it; expected {CONVERT_AGAIN}"
        ) from None
    except OSError as error:
        problem = "is a symbolic link" if error.errno == errno.ELOOP else f"cannot be read ({error.strerror})"
        raise _sidecar_refusal(path, problem) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            kind = "a folder" if stat.S_ISDIR(status.st_mode) else "a device, pipe or socket"
            raise _sidecar_refusal(path, f"is {kind}, not a file")
        if status.st_size > MAX_SIDECAR_BYTES:
            raise _sidecar_refusal(path, f"is {status.st_size} bytes, far larger than a sidecar")
        return os.read(descriptor, MAX_SIDECAR_BYTES + 1)
    except OSError as error:
        raise _sidecar_refusal(path, f"cannot be read ({error.strerror})") from None
    finally:
        os.close(descriptor)


def read_sidecar(output_path: Path) -> dict:
    """The sidecar's record: a JSON object with the fields :func:`write_sidecar` writes.

    Raises
    ------
    ConversionError
        If the sidecar is missing, not a regular file, not UTF-8 JSON (truncated or altered), or lacks a field.
    """
    path = sidecar_path(output_path)
    content = read_sidecar_bytes(output_path)
    try:
        record = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise _sidecar_refusal(path, f"is not UTF-8 text (byte {error.start})") from None
    except ValueError as error:
        problem = "is empty" if not content.strip() else f"is not valid JSON, truncated or altered ({error})"
        raise _sidecar_refusal(path, problem) from None
    if not isinstance(record, dict):
        raise _sidecar_refusal(path, f"holds a JSON {type(record).__name__}, not an object")
    missing = [key for key in ("dataset", "source", "options", "metadata_sha256", "output") if key not in record]
    fields = record.get("missing_subject_fields", [])
    if not isinstance(fields, list) or not all(isinstance(name, str) for name in fields):
        missing.append("missing_subject_fields")
    if missing or not isinstance(record["output"], dict):
        raise _sidecar_refusal(path, f"lacks {', '.join(missing) or 'output'} (an older or altered record)")
    return record


def inspect_output(output_path: Path, missing_subject_fields: list[str]):
    """The gate's inspection of an existing output, HDF5 or Zarr."""
    from ..publishing.gate import inspect_file, inspect_zarr_store
    from ..writing.zarr_store import is_zarr_store

    inspect = inspect_zarr_store if is_zarr_store(output_path) else inspect_file
    return inspect(output_path, missing_subject_fields=missing_subject_fields)


def existing_output_verdict(task: SessionTask) -> str:
    """Why an existing output may be kept (a SKIPPED reason), or raise why not.

    Raises
    ------
    ConversionError
        If the output has no usable sidecar, was written from another source or with other options or metadata,
        is no longer the file its sidecar describes (truncated, altered, replaced), or no longer passes the gate.
    """
    from ..publishing.gate import describe

    output = task.output
    record = read_sidecar(output)
    expected = provenance(task)
    changed = [key for key in ("dataset", "source", "options", "metadata_sha256") if record.get(key) != expected[key]]
    if changed:
        raise ConversionError(
            f"{output}: exists but was written with another {', '.join(changed)}; expected --overwrite to convert "
            "the session again with the current ones"
        )
    difference = describe_difference(record["output"], output)
    if difference:
        raise ConversionError(
            f"{output}: is not the output its sidecar describes: {difference}; expected {CONVERT_AGAIN}"
        )
    if not task.options.inspect:
        return f"output exists (written {record.get('finished', '?')}); not inspected (--no-inspect)"
    report = inspect_output(output, list(record["missing_subject_fields"]))
    if report.blocking:
        raise ConversionError(
            f"{output}: exists but fails the gate: {describe(report.blocking[0])}; expected {CONVERT_AGAIN}"
        )
    return f"output exists and passes the gate (written {record.get('finished', '?')})"
