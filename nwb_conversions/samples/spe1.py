"""A sample SPE-1 release: ``Data Summary.xlsx``, ``chanMap.mat`` and one cell folder, as the real release lays out.

Cell folder files: ``cNN_npx_raw.bin`` (int16, 384 channels sample-interleaved), ``cNN_npx_sync.bin`` (int16),
``cNN_patch_ch1.bin`` and ``cNN_patch_sync.bin`` (float64), ``cNN_wc_spike_samples.npy`` (int64, patch clock) and
``cNN_expt_meta.csv`` with Python-2 literals (``384L``). The patch trace is 50023.8987/30000 times longer than the
Neuropixels one, as in the real cells.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..resources import shipped_metadata_dir
from . import PLACEHOLDER_PDF, planted_spike_indices, spike_waveform, start_sample_release, write_sample_metadata

NUM_CHANNELS = 384
NPX_RATE = 30_000
#: The Data Summary's patch rate of c14; the sample's length ratio reproduces it.
PATCH_RATE = 50_023.8987

#: Subject facts for the sample only: synthetic values so that the example passes DANDI's checks.
SAMPLE_METADATA = {
    "Subject": {"subject_id": "sample-rat-01", "sex": "U", "age": "P60D"},
    "NWBFile": {"experimenter": ["Sample, Synthetic"]},
}


def write_spe1_cell(
    cell_dir: str | Path,
    *,
    cell_id: str = "c14",
    duration_s: float = 1.5,
    patch_type: str = "Juxta, VC",
    chan_predicted: int = 159,
    num_spikes: int | None = None,
    copy_suffix: str = "",
    with_sync: bool = True,
    with_expt_meta: bool = True,
    seed: int = 0,
) -> Path:
    """Write one SPE-1 cell folder and return it.

    Parameters
    ----------
    cell_dir : str or Path
        The folder to create (conventionally ``<release>/cNN``).
    cell_id : str
        Prefix of every file name.
    duration_s : float
        Length of the Neuropixels recording.
    patch_type : str
        ``"Juxta, VC"`` writes a current trace in pA (spikes are negative deflections); ``IC`` types write mV.
    chan_predicted : int
        The channel near which the cell's extracellular spikes are planted.
    num_spikes : int
        Ground-truth spikes planted in both streams; default 8 per second (at least 1).
    copy_suffix : str
        Appended to every file stem (e.g. ``"-001"``), as some downloaded copies are named.
    with_sync, with_expt_meta : bool
        Write the sync channels and ``cNN_expt_meta.csv``.
    seed : int
        Random seed; the same arguments give the same bytes.
    """
    rng = np.random.default_rng(seed)
    cell_dir = Path(cell_dir)
    cell_dir.mkdir(parents=True, exist_ok=True)
    npx_samples = int(duration_s * NPX_RATE)
    patch_samples = int(round(npx_samples * PATCH_RATE / NPX_RATE))
    ratio = patch_samples / npx_samples

    num_spikes = num_spikes or max(1, int(8 * duration_s))
    spike_samples = planted_spike_indices(rng, patch_samples, num_spikes, margin=200, gap=1_000).astype(np.int64)
    npx_spikes = (spike_samples / ratio).astype(np.int64)

    _write_npx_blocks(cell_dir / f"{cell_id}_npx_raw{copy_suffix}.bin", rng, npx_samples, npx_spikes, chan_predicted)

    voltage_clamp = patch_type.replace(" ", "").lower().endswith("vc")
    baseline, spike_size = (-50.0, -400.0) if voltage_clamp else (-65.0, 80.0)
    patch = baseline + rng.normal(0.0, 5.0, size=patch_samples)
    patch_shape = -spike_waveform(100, width=6.0)
    for start in spike_samples - 33:
        patch[start : start + 100] += spike_size * patch_shape
    patch.astype("<f8").tofile(cell_dir / f"{cell_id}_patch_ch1{copy_suffix}.bin")
    np.save(cell_dir / f"{cell_id}_wc_spike_samples{copy_suffix}.npy", spike_samples)

    if with_sync:
        period = NPX_RATE // 5
        npx_sync = ((np.arange(npx_samples) % period) < period // 2).astype("<i2")
        npx_sync.tofile(cell_dir / f"{cell_id}_npx_sync{copy_suffix}.bin")
        patch_sync = ((np.arange(patch_samples) / ratio % period) < period // 2).astype("<f8") * 5.0
        patch_sync.tofile(cell_dir / f"{cell_id}_patch_sync{copy_suffix}.bin")
    if with_expt_meta:
        (cell_dir / f"{cell_id}_expt_meta{copy_suffix}.csv").write_text(
            f"npx,patch\n\"[({NUM_CHANNELS}L, {npx_samples}L), 'int16']\",\"[{patch_samples}, 'float64']\"\n"
        )
    return cell_dir


def _write_npx_blocks(path: Path, rng, num_samples: int, spike_starts: np.ndarray, chan_predicted: int) -> None:
    """Write noise (17 counts std) plus the cell's spikes around ``chan_predicted``, one second at a time."""
    shape = spike_waveform(60, width=4.0)
    channels = [(min(max(chan_predicted + offset, 0), NUM_CHANNELS - 1), amplitude)
                for offset, amplitude in ((-2, 40.0), (0, 90.0), (2, 40.0))]
    with open(path, "wb") as stream:
        for block_start in range(0, num_samples, NPX_RATE):
            block_stop = min(block_start + NPX_RATE, num_samples)
            block = rng.normal(0.0, 17.0, size=(block_stop - block_start, NUM_CHANNELS)).astype(np.float32)
            for start in spike_starts - 20:
                lo, hi = max(start, block_start), min(start + 60, block_stop)
                for channel, amplitude in channels:
                    if lo < hi:
                        window = shape[lo - start : hi - start]
                        block[lo - block_start : hi - block_start, channel] += amplitude * window
            block.round().astype("<i2").tofile(stream)


def channel_map_positions() -> np.ndarray:
    """The SPE-1 channel map the project ships, ``(384, 2)`` µm."""
    return np.loadtxt(shipped_metadata_dir() / "spe1_channel_map.csv", delimiter=",")[:, 1:]


def write_channel_map_mat(file_path: str | Path) -> Path:
    """Write a Kilosort-style ``chanMap.mat`` (MAT v5) holding the SPE-1 geometry the project ships."""
    from scipy.io import savemat

    positions = channel_map_positions()
    connected = np.ones((NUM_CHANNELS, 1), dtype=bool)
    savemat(
        str(file_path),
        dict(
            chanMap=np.arange(1, NUM_CHANNELS + 1, dtype=float).reshape(-1, 1),
            chanMap0ind=np.arange(NUM_CHANNELS, dtype=float).reshape(-1, 1),
            connected=connected,
            xcoords=positions[:, :1],
            ycoords=positions[:, 1:],
            kcoords=np.ones((NUM_CHANNELS, 1)),
            fs=float(NPX_RATE),
            name="neuropixPhase3A_kilosortChanMap",
        ),
    )
    return Path(file_path)


def write_data_summary_xlsx(file_path: str | Path) -> Path:
    """Write ``Data Summary.xlsx`` (sheet ``Sheet1``) from the project's copy of the real table."""
    import csv
    from datetime import datetime

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    with open(shipped_metadata_dir() / "spe1_data_summary.csv", newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    sheet.append(rows[0])
    text_columns = {"Cell", "Patch Type", "Cell Type", "Spike T"}
    for row in rows[1:]:
        values = []
        for name, value in zip(rows[0], row):
            if value == "":
                values.append(None)
            elif name == "Date":
                values.append(datetime.fromisoformat(value))
            elif name in text_columns:
                values.append(value)
            else:
                values.append(float(value) if "." in value else int(value))
        sheet.append(values)
    workbook.save(file_path)
    return Path(file_path)


def write_release_tables(folder: str | Path) -> Path:
    """Create a release root holding the tables a real SPE-1 root holds (``Data Summary.xlsx``, ``chanMap.mat``);
    return the root."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    write_data_summary_xlsx(root / "Data Summary.xlsx")
    write_channel_map_mat(root / "chanMap.mat")
    return root


def write_spe1_release(folder: str | Path, *, cell_id: str = "c14", **cell_options) -> tuple[Path, Path]:
    """Write a sample release (root tables, one cell) and its sample metadata YAML.

    Returns
    -------
    tuple of Path
        The cell folder, and ``sample_metadata.yaml`` (synthetic subject facts) to pass with ``--metadata``.
    """
    root = write_release_tables(folder)
    cell_dir = write_spe1_cell(root / cell_id, cell_id=cell_id, **cell_options)
    return cell_dir, write_sample_metadata(root, SAMPLE_METADATA)


def data_summary_rows() -> list[dict]:
    """The rows of the project's copy of the real Data Summary (text values)."""
    import csv

    with open(shipped_metadata_dir() / "spe1_data_summary.csv", newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def write_spe1_sample_release(
    folder: str | Path, num_sessions: int = 3, *, duration_s: float = 0.3
) -> tuple[Path, list[Path]]:
    """Write a release with the first ``num_sessions`` cells of the Data Summary, as the real release lays it out.

    Each cell gets its row's patch type and ground-truth channel. The root also holds what the real root holds
    beside the cells (``Data Summary.xlsx``, ``chanMap.mat``, ``Recording Catalogue.pdf``) and the sample
    metadata.

    Returns
    -------
    tuple
        The release root, and the cell folders in cell order.
    """
    root = write_release_tables(folder)
    start_sample_release(root, SAMPLE_METADATA, {"Recording Catalogue.pdf": PLACEHOLDER_PDF})
    cells = []
    for index, row in enumerate(data_summary_rows()[:num_sessions]):
        cells.append(
            write_spe1_cell(
                root / row["Cell"],
                cell_id=row["Cell"],
                duration_s=duration_s,
                patch_type=row["Patch Type"],
                chan_predicted=int(row["chan_predicted"]),
                seed=index,
            )
        )
    return root, cells
