"""The on-disk layout of one TemplateDataset session, read strictly: ``<session_id>/session.json`` + ``recording.bin``.

``session.json`` holds ``session_id``, ``start_time`` (ISO 8601 with a time zone), ``sampling_rate_hz``,
``num_channels`` and ``volts_per_count``; ``recording.bin`` holds int16 samples, all channels of sample 0, then of
sample 1, ... (little-endian). Replace this with your release's layout: read its files through the generic readers of
:mod:`nwb_conversions.readers` (never a whole recording into memory), check every number against a plausible range,
and refuse a fact the source states twice in two ways (here: the folder's name and ``session_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ...errors import SourceFormatError
from ...readers.binary import InterleavedBinary, open_interleaved_binary
from ...readers.json_object import read_json_object
from ...readers.source_access import check_plausible

SESSION_FILE = "session.json"
RECORDING_FILE = "recording.bin"
EXPECTED_FOLDER = "a TemplateDataset session folder <session_id>/ holding session.json and recording.bin"
EXPECTED_SESSION = (
    "a JSON object with session_id, start_time (ISO 8601 with a time zone), sampling_rate_hz, num_channels and "
    "volts_per_count"
)


@dataclass(frozen=True)
class Session:
    """One session as its files state it.

    Attributes
    ----------
    folder : Path
    session_id : str
    start_time : datetime
        Time-zone aware.
    sampling_rate_hz : float
    volts_per_count : float
        NWB's ``conversion`` of the stored counts.
    recording : InterleavedBinary
        ``(samples, channels)`` int16 counts, read on demand.
    """

    folder: Path
    session_id: str
    start_time: datetime
    sampling_rate_hz: float
    volts_per_count: float
    recording: InterleavedBinary


def _field(facts: dict, key: str, kind: type, file_path: Path):
    value = facts.get(key)
    if isinstance(value, bool) or not isinstance(value, kind):
        shown = "missing" if value is None else f"a {type(value).__name__}"
        raise SourceFormatError(file_path, f"{key} is {shown}", EXPECTED_SESSION)
    return value


def _start_time(text: str, file_path: Path) -> datetime:
    try:
        start_time = datetime.fromisoformat(text)
    except ValueError:
        problem = f"start_time {text!r} is not an ISO 8601 date-time"
        raise SourceFormatError(file_path, problem, EXPECTED_SESSION) from None
    if start_time.tzinfo is None:
        raise SourceFormatError(file_path, f"start_time {text!r} has no time zone", EXPECTED_SESSION)
    return start_time


def read_session(folder: str | Path) -> Session:
    """Read a session folder's ``session.json`` and open its recording (nothing of it is read yet).

    Raises
    ------
    SourceFormatError
        If the folder or a file is missing, a field is missing, of the wrong type or implausible, the session id
        differs from the folder's name, or the recording is not a whole number of samples.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceFormatError(folder, "not a folder", EXPECTED_FOLDER)
    session_path = folder / SESSION_FILE
    facts = read_json_object(session_path, EXPECTED_SESSION)
    session_id = _field(facts, "session_id", str, session_path)
    if session_id != folder.name:
        raise SourceFormatError(
            session_path,
            f"session_id {session_id!r} differs from the folder's name {folder.name!r}",
            "the session folder to be named after its session_id",
        )
    rate = float(_field(facts, "sampling_rate_hz", (int, float), session_path))
    check_plausible(session_path, "sampling_rate_hz", rate, 1.0, 1e6, "from 1 Hz to 1 MHz")
    num_channels = _field(facts, "num_channels", int, session_path)
    check_plausible(session_path, "num_channels", num_channels, 1, 4096, "from 1 to 4096")
    volts_per_count = float(_field(facts, "volts_per_count", (int, float), session_path))
    check_plausible(session_path, "volts_per_count", volts_per_count, 1e-12, 1.0, "from 1e-12 to 1 V per count")
    return Session(
        folder=folder,
        session_id=session_id,
        start_time=_start_time(_field(facts, "start_time", str, session_path), session_path),
        sampling_rate_hz=rate,
        volts_per_count=volts_per_count,
        recording=open_interleaved_binary(folder / RECORDING_FILE, num_channels=num_channels, dtype="<i2"),
    )
