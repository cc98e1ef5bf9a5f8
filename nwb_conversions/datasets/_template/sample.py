"""A small TemplateDataset session and release, written in the real format (tests and ``example`` use them).

Replace with a writer of your format that follows the release exactly (file names, dtypes, interleaving, quirks),
deterministic (seeded) and small; the facts in the sample metadata are synthetic and say so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ...samples import write_sample_metadata

#: The synthetic subject facts of the sample (the real release documents none of them).
SAMPLE_METADATA = {
    "Subject": {"subject_id": "sample-subject-01", "species": "Mus musculus", "sex": "U", "age": "P60D"},
}


def write_session(
    folder: str | Path,
    session_id: str = "session01",
    *,
    duration_s: float = 3.0,
    num_channels: int = 4,
    sampling_rate_hz: float = 20_000.0,
    seed: int = 0,
) -> Path:
    """Write one session folder ``folder/<session_id>/`` (``session.json`` + ``recording.bin``); return it."""
    session_dir = Path(folder) / session_id
    session_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    num_samples = int(duration_s * sampling_rate_hz)
    counts = np.clip(rng.normal(0.0, 300.0, size=(num_samples, num_channels)), -32768, 32767).astype("<i2")
    counts.tofile(session_dir / "recording.bin")
    facts = dict(
        session_id=session_id,
        start_time="2024-05-01T10:30:00+00:00",
        sampling_rate_hz=sampling_rate_hz,
        num_channels=num_channels,
        volts_per_count=0.195e-6,
    )
    (session_dir / "session.json").write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    return session_dir


def write_sample(folder: str | Path) -> tuple[Path, Path]:
    """Write a sample session and its sample metadata; return ``(session folder, metadata path)``."""
    folder = Path(folder)
    return write_session(folder), write_sample_metadata(folder, SAMPLE_METADATA)


def write_sample_release(folder: str | Path, num_sessions: int = 3) -> tuple[Path, list[Path]]:
    """Write a release of ``num_sessions`` short sessions (and a README beside them); return its root and sessions."""
    root = Path(folder)
    sessions = [
        write_session(root, f"session{index:02d}", duration_s=0.5, seed=index) for index in range(1, num_sessions + 1)
    ]
    (root / "README.md").write_text("# TemplateDataset release (sample)\n", encoding="utf-8")
    return root, sessions
