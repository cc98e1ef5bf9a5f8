"""One module per dataset: session discovery, the NWBConverter, metadata assembly and the bundled sample.

Each module exposes a :class:`Dataset` named ``DATASET``; :func:`registered_datasets` lists them by their
command-line key. This is also the scripting API::

    from nwb_conversions.datasets import registered_datasets

    dataset = registered_datasets()["spe1"]
    for cell_dir in dataset.find_sessions(release_root):
        conversion = dataset.build(cell_dir, user_metadata={}, stub_test=False)
        conversion.converter.run_conversion(
            nwbfile_path=f"{cell_dir.name}.nwb",
            metadata=conversion.metadata,
            conversion_options=conversion.conversion_options,
        )

NeuroConv's ``run_conversion`` writes the same data as ``convert-to-nwb``; the command adds the parallel writer,
atomic output and the nwbinspector gate (:func:`nwb_conversions.conversion.convert_session`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # importing NeuroConv costs a second: the catalog and --help do without it
    from neuroconv import NWBConverter

from ..errors import SourceFormatError


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
    sources : list of Path
        Every file and folder the conversion reads: an output may never replace one, nor sit inside a source
        folder.
    """

    converter: "NWBConverter"
    metadata: dict
    conversion_options: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)


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
        ``build(source_path, user_metadata, stub_test) -> Conversion``: the converter, its merged metadata
        (JSON-schema ready: dates as ISO strings) and conversion options for one session.
    write_sample : callable
        ``write_sample(folder) -> (source_path, sample_metadata_path)``: a small session in the real format.
    find_sessions : callable
        ``find_sessions(release_root) -> list of Path``: every session (folder or file, what ``build`` takes) of a
        release in its real layout, sorted; nothing else in the release is listed.
    write_sample_release : callable
        ``write_sample_release(folder, num_sessions) -> (release_root, session_paths)``: a small release in the real
        layout, with the files a real release holds beside its sessions.
    extra_arguments : tuple, optional
        Dataset-specific command-line options, each ``(flags, argparse keyword arguments)`` with a ``dest``; the
        command passes the given ones to ``build`` as keyword arguments (e.g. ``spe1-arrow --raw CELL_DIR`` →
        ``build(..., raw_cell_dir=Path)``).
    """

    key: str
    summary: str
    source_help: str
    build: Callable[[Path, dict, bool], Conversion]
    write_sample: Callable[[Path], tuple[Path, Path]]
    find_sessions: Callable[[Path], list[Path]]
    write_sample_release: Callable[[Path, int], tuple[Path, list[Path]]]
    extra_arguments: tuple = ()


def registered_datasets() -> dict[str, Dataset]:
    """Return the datasets by key, in the order they are offered (this imports every dataset's module; the
    command line uses :func:`nwb_conversions.datasets.catalog.catalog` and imports only the one it runs)."""
    from .catalog import catalog

    return {key: entry.load() for key, entry in catalog().items()}


def release_root_folder(release_root: str | Path) -> Path:
    """Return ``release_root`` as a Path, or raise if it is not a folder (shared by every ``find_sessions``)."""
    release_root = Path(release_root)
    if not release_root.is_dir():
        raise SourceFormatError(release_root, "not a folder", "the folder of a dataset's release")
    return release_root


def natural_key(path: Path) -> list:
    """Sort key that orders ``c2`` before ``c10``."""
    import re

    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]
