"""What the command line shows of each dataset, without importing it.

A dataset's module imports NeuroConv, pynwb and its own format libraries (scipy, pyarrow, ndx-optogenetics, ...);
``convert-to-nwb --help`` and the start of a conversion should not pay for every dataset's. Each entry here is the
one place its key, summary, source help and extra options are written; the dataset's own ``DATASET`` takes them
from here (:meth:`DatasetEntry.description`), and :meth:`DatasetEntry.load` imports the module when it is used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset as the command line lists it.

    Attributes
    ----------
    key : str
        The subcommand, e.g. ``"spe1"``.
    module : str
        The module under :mod:`nwb_conversions.datasets` that defines ``DATASET``.
    summary : str
        One line for ``--help``.
    source_help : str
        What the SOURCE argument is.
    extra_arguments : tuple
        Dataset-specific options, each ``(flags, argparse keyword arguments)`` with a ``dest`` (see
        :class:`nwb_conversions.datasets.Dataset`).
    """

    key: str
    module: str
    summary: str
    source_help: str
    extra_arguments: tuple = ()

    def description(self) -> dict:
        """The ``Dataset`` fields this entry holds (``key``, ``summary``, ``source_help``, ``extra_arguments``)."""
        return dict(
            key=self.key, summary=self.summary, source_help=self.source_help, extra_arguments=self.extra_arguments
        )

    def load(self):
        """Import the dataset's module and return its :class:`~nwb_conversions.datasets.Dataset`."""
        return importlib.import_module(f"{__package__}.{self.module}").DATASET


#: The datasets, in the order they are offered.
ENTRIES = (
    DatasetEntry(
        "spe1",
        "spe1",
        "SPE-1 Neuropixels + patch-clamp cell (Marques-Smith et al. 2018)",
        "an SPE-1 cell folder (cNN/) holding cNN_npx_raw.bin and cNN_patch_ch1.bin",
    ),
    DatasetEntry(
        "spe1-arrow",
        "spe1_arrow",
        "SPE-1 Arrow re-packaging for the Zhao et al. 2026 spike-localization benchmark (one cell)",
        "an SPE-1 Arrow cell folder (cNN/, a DatasetDict with train/, test/, templates.npz, patch.npz)",
        extra_arguments=(
            (
                ("--raw",),
                dict(
                    type=Path,
                    metavar="CELL_DIR",
                    dest="raw_cell_dir",
                    help="also write the raw SPE-1 recording of the same cell (a spe1 cell folder cNN/)",
                ),
            ),
        ),
    ),
    DatasetEntry(
        "spe2",
        "spe2",
        "SPE-2 polytrode + juxtacellular pair (Neto et al. 2016)",
        "an SPE-2 pair folder (YYYY_MM_DD_Pair_N_M/) holding amplifier*.bin, adc*.bin and READ ME.docx",
    ),
    DatasetEntry(
        "ssc11",
        "ssc11",
        "SSC-11: 3-plane two-photon imaging, behaviour and ablation in MATLAB structs (Peron et al. 2020)",
        "one an<ID>/session_neuropilone_<condition>_merged/an*sess_struct.mat file (MATLAB v5 or v7.3)",
    ),
    DatasetEntry(
        "allen-oephys",
        "allen_oephys",
        "Allen Dataset II: GCaMP6 ΔF/F + cell-attached ephys of one neuron (Ledochowitsch et al. 2019)",
        "a Dataset II recording file <recording_id>.h5 (keys dff, dte, dto, ephys_raw, sptimes, ...)",
    ),
    DatasetEntry(
        "np-opto",
        "np_opto",
        "Neuropixels Opto (Steinmetz lab): ALF spike sorting + 14-emitter optogenetic stimulation",
        "a session folder <subject>_<date>_en<N>_p<P>/ (session.json, spikes.*.npy, clusters.*, stim.*.npy)",
    ),
)


def catalog() -> dict[str, DatasetEntry]:
    """The datasets by key, in the order they are offered; nothing is imported."""
    return {entry.key: entry for entry in ENTRIES}


def catalog_entry(key: str) -> DatasetEntry:
    """The entry of one dataset (for its module's ``DATASET``)."""
    return catalog()[key]
