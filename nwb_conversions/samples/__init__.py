"""Deterministic writers of small sample sessions in each dataset's real on-disk format.

Tests and ``convert-to-nwb example`` use them. The signals are synthetic (noise plus planted spikes); the layout
(file names, dtypes, interleaving, headers, quirks) follows the research notes on each release.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

#: The header of every sample metadata file: the facts in it are synthetic.
SAMPLE_METADATA_HEADER = (
    "# Synthetic subject facts for the bundled sample only (the real release does not document them).\n"
)


def write_sample_metadata(folder: str | Path, metadata: dict) -> Path:
    """Write ``sample_metadata.yaml`` (synthetic subject facts, for ``--metadata``) into ``folder``; return it."""
    path = Path(folder) / "sample_metadata.yaml"
    path.write_text(SAMPLE_METADATA_HEADER + yaml.safe_dump(metadata, sort_keys=False), encoding="utf-8")
    return path


#: The content of a placeholder PDF that a sample release holds where the real one holds a document.
PLACEHOLDER_PDF = b"%PDF-1.4\n% sample placeholder\n"


def start_sample_release(
    folder: str | Path, metadata: dict, placeholders: dict[str, str | bytes] | None = None
) -> Path:
    """Create a sample release's root folder with its sample metadata; return the root.

    Parameters
    ----------
    folder : str or Path
        The release root (created if needed).
    metadata : dict
        Written as ``sample_metadata.yaml`` (:func:`write_sample_metadata`).
    placeholders : dict, optional
        File name → text or bytes: files a real release holds beside its sessions (a README, a PDF).
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    for name, content in (placeholders or {}).items():
        if isinstance(content, bytes):
            (root / name).write_bytes(content)
        else:
            (root / name).write_text(content, encoding="utf-8")
    write_sample_metadata(root, metadata)
    return root


def planted_spike_indices(
    rng: np.random.Generator, num_samples: int, count: int, *, margin: int, gap: int
) -> np.ndarray:
    """Return ``count`` sorted spike indices in ``[margin, num_samples - margin)`` at least ``gap`` samples apart."""
    largest_jitter = max(1, gap // 4)
    slots = np.arange(margin, num_samples - margin - largest_jitter, gap)  # jittered spikes stay inside the margins
    if len(slots) < count:
        raise ValueError("the sample is too short for that many spikes")
    chosen = np.sort(rng.choice(len(slots), size=count, replace=False))
    jitter = rng.integers(0, largest_jitter, size=count)
    return slots[chosen] + jitter


def spike_waveform(length: int, *, width: float) -> np.ndarray:
    """A biphasic spike shape of unit negative peak at index ``length // 3``."""
    t = np.arange(length) - length // 3
    return -np.exp(-0.5 * (t / width) ** 2) + 0.35 * np.exp(-0.5 * ((t - 3 * width) / (2 * width)) ** 2)
