"""What a session's dead worker leaves beside its target: temporary files, and the folder made for the output.

A conversion removes its own temporary files when it fails or is interrupted; a worker process that is killed
(SIGKILL, the out-of-memory killer) or crashes in a C library cannot. The batch then removes, beside the session's
target, every temporary name the session's writers use, whatever process id it carries: the HDF5 file or NWB-Zarr
folder (``.<stem>.partial-<pid>.nwb``, ``.<stem>.partial-<pid>.zarr``), the sidecar
(``.<name>.batch.json.partial-<pid>``) and the quicklook (``.<stem>.partial-<pid>.png``). This is safe because a batch
holds its output folder's lock (:mod:`.lock`) and converts each target in exactly one task, and it runs only once that
task has ended.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
from pathlib import Path

from ..writing.output import partial_path
from .resume import sidecar_temporary_path
from .tasks import quicklook_path

#: A stand-in process id, replaced by a pattern matching any.
_PID = 987654321


def leftover_pattern(output: Path) -> re.Pattern:
    """The names of the temporary files and folders of ``output``'s writers, for any process id."""
    examples = (
        partial_path(output, _PID).name,  # the HDF5 file or the NWB-Zarr folder
        sidecar_temporary_path(output, _PID).name,
        partial_path(quicklook_path(output), _PID).name,
    )
    alternatives = {re.escape(name).replace(str(_PID), r"\d+") for name in examples}
    return re.compile("|".join(sorted(alternatives)))


def remove_leftovers(output: Path, *, keep_folder: bool = False) -> list[Path]:
    """Remove the temporary files and folders of ``output``'s writers; then the output's own folder if it is left
    empty, unless ``keep_folder`` (another session of the batch may still write into it).

    Returns
    -------
    list of Path
        What was removed.
    """
    output = Path(output)
    pattern = leftover_pattern(output)
    removed = []
    try:
        entries = list(os.scandir(output.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISDIR(os.lstat(entry.path).st_mode):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    if not keep_folder:
        with contextlib.suppress(OSError):
            output.parent.rmdir()
    return removed
