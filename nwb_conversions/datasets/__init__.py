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

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # importing NeuroConv costs a second: the catalog and --help do without it
    from neuroconv import NWBConverter

    from .catalog import DatasetEntry

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
    """A dataset the command line can convert: its catalog entry and the functions that convert it.

    Attributes
    ----------
    entry : DatasetEntry
        The dataset's key, ``--help`` texts and extra options (:mod:`nwb_conversions.datasets.catalog`).
    build : callable
        ``build(source_path, user_metadata, stub_test) -> Conversion``: the converter, its merged metadata
        (JSON-schema ready: dates as ISO strings) and conversion options for one session. Dataset-specific options
        (``entry.extra_arguments``) come as keyword arguments (e.g. ``spe1-arrow --raw CELL_DIR`` →
        ``build(..., raw_cell_dir=Path)``).
    find_sessions : callable
        ``find_sessions(release_root) -> list of Path``: every session (folder or file, what ``build`` takes) of a
        release in its real layout, sorted; nothing else in the release is listed.
    write_sample : callable
        ``write_sample(folder) -> (source_path, sample_metadata_path)``: a small session in the real format.
    write_sample_release : callable
        ``write_sample_release(folder, num_sessions) -> (release_root, session_paths)``: a small release in the real
        layout, with the files a real release holds beside its sessions.
    """

    entry: "DatasetEntry"
    build: Callable[[Path, dict, bool], Conversion]
    find_sessions: Callable[[Path], list[Path]]
    write_sample: Callable[[Path], tuple[Path, Path]]
    write_sample_release: Callable[[Path, int], tuple[Path, list[Path]]]

    @property
    def key(self) -> str:
        """The subcommand, e.g. ``"spe1"``."""
        return self.entry.key

    @property
    def source_help(self) -> str:
        """What the SOURCE argument is."""
        return self.entry.source_help


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
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def find_cell_folders(release_root: str | Path, holds: Callable[[Path], bool]) -> list[Path]:
    """The cell folders ``cNN/`` directly under a release root for which ``holds(folder)`` is true, in cell order.

    Raises
    ------
    SourceFormatError
        If ``release_root`` is not a folder.
    """
    release_root = release_root_folder(release_root)
    cells = [
        folder
        for folder in release_root.iterdir()
        if folder.is_dir() and re.fullmatch(r"c\d+", folder.name) and holds(folder)
    ]
    return sorted(cells, key=natural_key)


def stub_conversion(
    converter: "NWBConverter", metadata: dict, *, notes: list, sources: list, stub_test: bool
) -> Conversion:
    """The :class:`Conversion` of ``converter`` with options that pass ``stub_test`` to every interface."""
    options = {name: {"stub_test": stub_test} for name in converter.data_interface_objects}
    return Conversion(converter=converter, metadata=metadata, conversion_options=options, notes=notes, sources=sources)


@dataclass(frozen=True)
class SampleWriter:
    """A writer of :mod:`nwb_conversions.samples`, imported on its first call (a conversion never loads it).

    ``SampleWriter("ssc11", "write_sample")(folder)`` calls ``nwb_conversions.samples.ssc11.write_sample(folder)``.
    """

    module: str
    function: str

    def __call__(self, *args, **kwargs):
        module = importlib.import_module(f"{__package__.rsplit('.', 1)[0]}.samples.{self.module}")
        return getattr(module, self.function)(*args, **kwargs)


def sample_writers(module: str, sample: str = "write_sample", release: str = "write_sample_release") -> dict:
    """``write_sample`` and ``write_sample_release`` of a :class:`Dataset`: the functions ``sample`` and ``release``
    of ``nwb_conversions.samples.<module>``, imported on first use."""
    return dict(write_sample=SampleWriter(module, sample), write_sample_release=SampleWriter(module, release))
