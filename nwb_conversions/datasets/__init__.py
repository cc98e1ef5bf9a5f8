"""One module per dataset: session discovery, the NWBConverter, metadata assembly and the bundled sample.

Each module exposes a :class:`Dataset` named ``DATASET``; :data:`DATASETS` lists them by their command-line key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from neuroconv import NWBConverter


@dataclass
class Conversion:
    """Everything needed to write one session: the converter, its final metadata and conversion options.

    Attributes
    ----------
    converter : NWBConverter
    metadata : dict
        The merged metadata (source → dataset YAML → session tables → user file).
    conversion_options : dict
        Per-interface options (``stub_test`` and the like).
    notes : list of str
        Things the user should know (assumptions made, facts missing), printed after the conversion.
    """

    converter: NWBConverter
    metadata: dict
    conversion_options: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Dataset:
    """A dataset the command line can convert.

    Attributes
    ----------
    key : str
        The subcommand, e.g. ``"spe1"``.
    summary : str
        One line for ``--help``.
    source_help : str
        What the SOURCE argument is.
    build : callable
        ``build(source_path, user_metadata, stub_test) -> Conversion``.
    write_sample : callable
        ``write_sample(folder) -> (source_path, sample_metadata_path)``: a small session in the real format.
    """

    key: str
    summary: str
    source_help: str
    build: Callable[[Path, dict, bool], Conversion]
    write_sample: Callable[[Path], tuple[Path, Path]]


def registered_datasets() -> dict[str, Dataset]:
    """Return the datasets by key, in the order they are offered."""
    from . import allen_oephys, spe1, spe2

    return {dataset.key: dataset for dataset in (spe1.DATASET, spe2.DATASET, allen_oephys.DATASET)}
