"""Publish converted files on DANDI: ``dandi organize``, ``dandi validate`` and ``dandi upload``, through the dandi
library (no subprocess).

1. The NWB files under OUTPUT_DIR (dot files and dot folders left out) are organized into a local Dandiset folder
   (default ``<OUTPUT_DIR>-dandiset-<ID>`` beside OUTPUT_DIR) as symlinks, so nothing is copied and a re-run finds
   the same links. Its ``dandiset.yaml`` holds only the identifier: the Dandiset's own metadata stays on the
   archive (``dandi upload`` does not send it).
2. Every organized file is validated (DANDI layout and metadata, nwbinspector with the DANDI configuration). Any
   ERROR stops here, before anything is uploaded, with one line naming the file and the reason.
3. Unless ``dry_run``, the organized files are uploaded. The API key is read from ``DANDI_API_KEY`` only, handed
   to the dandi client through the environment variable it reads for the chosen instance (e.g.
   ``DANDI_SANDBOX_API_KEY``) for the duration of the upload, and never printed.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import ConversionError
from .gate import one_line
from .organize import organized_and_validated
from .upload_scan import check_readable, nwb_files_under, refuse_running_batch

#: The only place the API key is read from.
API_KEY_VARIABLE = "DANDI_API_KEY"

#: DANDI instances by name (``--instance``); a URL is also accepted.
KNOWN_INSTANCES = ("dandi", "dandi-sandbox")

@dataclass
class UploadOutcome:
    """What an upload did.

    Attributes
    ----------
    dandiset_id : str
    instance : str
    dandiset_path : Path
        The organized local Dandiset.
    organized : list of Path
        The organized NWB files (symlinks to the outputs).
    warnings : list of str
        Validation warnings (not blocking).
    uploaded : bool
        False for a dry run.
    """

    dandiset_id: str
    instance: str
    dandiset_path: Path
    organized: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    uploaded: bool = False

    def summary(self) -> str:
        """One line for the terminal."""
        done = (
            f"uploaded to Dandiset {self.dandiset_id} on {self.instance}"
            if self.uploaded
            else "dry run: nothing uploaded"
        )
        return (
            f"organized {len(self.organized)} NWB file(s) into {self.dandiset_path}; dandi validate: no errors"
            f"{f' ({len(self.warnings)} warning(s))' if self.warnings else ''}; {done}"
        )


def check_dandiset_id(dandiset_id: str) -> str:
    """Accept ``000123`` (or ``DANDI:000123``)."""
    identifier = str(dandiset_id).removeprefix("DANDI:")
    if not re.fullmatch(r"\d{6}", identifier):
        raise ConversionError(
            f"--dandiset {dandiset_id}: not a Dandiset identifier; expected six digits such as 000123"
        )
    return identifier


def check_instance(instance: str) -> str:
    """Accept a known instance name or an https URL."""
    if instance in KNOWN_INSTANCES or re.match(r"https?://", instance):
        return instance
    raise ConversionError(
        f"--instance {instance}: not a DANDI instance; expected {', '.join(KNOWN_INSTANCES)} or the archive's URL"
    )


def client_key_variable(instance: str) -> str:
    """The environment variable the dandi client reads the key from for ``instance`` (e.g. DANDI_SANDBOX_API_KEY)."""
    from dandi.utils import get_instance

    name = instance if instance in KNOWN_INSTANCES else get_instance(instance).name
    return f"{name.upper().replace('-', '_')}_API_KEY"


@contextlib.contextmanager
def key_for_client(variable: str, api_key: str) -> Iterator[None]:
    """Set ``variable`` to the key inside the block, and put back what was there."""
    previous = os.environ.get(variable)
    os.environ[variable] = api_key
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = previous


def upload(dandiset_path: Path, instance: str, api_key: str) -> None:
    """``dandi upload`` the organized Dandiset (already validated, so not validated again).

    Raises
    ------
    ConversionError
        If the upload fails; the message never holds the key.
    """
    from dandi.upload import UploadExisting, UploadValidation
    from dandi.upload import upload as dandi_upload

    try:
        with key_for_client(client_key_variable(instance), api_key):
            dandi_upload(
                paths=[str(dandiset_path)],
                existing=UploadExisting.REFRESH,
                validation=UploadValidation.SKIP,
                dandi_instance=instance,
                upload_dandiset_metadata=False,
            )
    except Exception as error:  # network, authentication, archive refusals: one line, the key scrubbed
        problem = one_line(f"{type(error).__name__}: {error}", 300).replace(api_key, "***")
        raise ConversionError(
            f"{dandiset_path}: the upload to {instance} failed ({problem}); expected a reachable archive, a valid "
            f"{API_KEY_VARIABLE} and write access to the Dandiset"
        ) from None


def upload_to_dandi(
    output_dir: str | Path,
    dandiset_id: str,
    *,
    instance: str = "dandi",
    dry_run: bool = False,
    dandiset_dir: str | Path | None = None,
) -> UploadOutcome:
    """Organize, validate and (unless ``dry_run``) upload the NWB files under ``output_dir``.

    Parameters
    ----------
    output_dir : str or Path
        A folder of NWB files, e.g. a batch's output.
    dandiset_id : str
        Six digits.
    instance : str, default: "dandi"
        ``dandi``, ``dandi-sandbox`` or the archive's URL.
    dry_run : bool, default: False
        Organize and validate only; nothing goes over the network.
    dandiset_dir : str or Path, optional
        The local Dandiset folder; default ``<OUTPUT_DIR>-dandiset-<ID>`` beside ``output_dir``.

    Raises
    ------
    ConversionError
        On a bad identifier or instance, no NWB file, no ``DANDI_API_KEY`` (unless ``dry_run``), a failed organize
        or validation (nothing is uploaded), or a failed upload.
    """
    dandiset_id, instance = check_dandiset_id(dandiset_id), check_instance(instance)
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        raise ConversionError(f"{output_dir}: not a folder; expected the folder of NWB files to upload")
    api_key = os.environ.get(API_KEY_VARIABLE, "")
    if not dry_run and not api_key:
        raise ConversionError(
            f"{API_KEY_VARIABLE}: not set; expected your DANDI API key in the environment variable {API_KEY_VARIABLE} "
            "(or --dry-run to organize and validate only)"
        )
    resolved = output_dir.resolve()
    dandiset_path = Path(dandiset_dir) if dandiset_dir else resolved.parent / f"{resolved.name}-dandiset-{dandiset_id}"
    refuse_running_batch(output_dir)
    files = nwb_files_under(output_dir)
    if not files:
        raise ConversionError(f"{output_dir}: holds no .nwb file; expected NWB files, e.g. a batch's output")
    check_readable(files)
    organized, warnings = organized_and_validated(files, dandiset_path, dandiset_id)
    outcome = UploadOutcome(dandiset_id, instance, dandiset_path, organized, warnings)
    if not dry_run:
        upload(dandiset_path, instance, api_key)
        outcome.uploaded = True
    return outcome
