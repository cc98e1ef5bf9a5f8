"""What the command line shows of each dataset, without importing its conversion.

Every dataset is a package of :mod:`nwb_conversions.datasets`: its ``__init__`` holds its :class:`DatasetEntry`
``ENTRY`` and imports nothing heavy; its ``dataset`` module holds the conversion (``DATASET``, which imports
NeuroConv, pynwb and the format's libraries). ``convert-to-nwb --help`` and the start of a conversion read the
entries (:func:`catalog`) and import only the conversion they run (:meth:`DatasetEntry.load`). A new package is
found by itself: adding a dataset edits no list (README, "Adding a dataset"). Packages whose name starts with
``_`` (the template) are not datasets.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
from dataclasses import dataclass

#: The order ``--help`` and ``example`` offer the first datasets in; any other dataset follows, by key.
OFFERED_FIRST = ("spe1", "spe1-arrow", "spe2", "ssc11", "allen-oephys", "np-opto")


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset as the command line lists it.

    Attributes
    ----------
    key : str
        The subcommand, e.g. ``"spe1"``.
    summary : str
        One line for ``--help``.
    source_help : str
        What the SOURCE argument is.
    extra_arguments : tuple
        Dataset-specific options, each ``(flags, argparse keyword arguments)`` with a ``dest``; the command passes
        the given ones to the dataset's ``build`` as keyword arguments.
    package : str
        The dataset's package under :mod:`nwb_conversions.datasets` (set by :func:`catalog`).
    """

    key: str
    summary: str
    source_help: str
    extra_arguments: tuple = ()
    package: str = ""

    def load(self):
        """Import the dataset's conversion module and return its :class:`~nwb_conversions.datasets.Dataset`."""
        return importlib.import_module(f"{__package__}.{self.package}.dataset").DATASET


def _offered_order(entry: DatasetEntry) -> tuple:
    known = entry.key in OFFERED_FIRST
    return (not known, OFFERED_FIRST.index(entry.key) if known else 0, entry.key)


@functools.cache
def catalog() -> dict[str, DatasetEntry]:
    """The datasets by key, in the order they are offered; only their entries are imported.

    Raises
    ------
    ValueError
        If two dataset packages claim one key (a programming error, not a user's).
    """
    package = importlib.import_module(__package__)
    entries: dict[str, DatasetEntry] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        entry = dataclasses.replace(importlib.import_module(f"{__package__}.{info.name}").ENTRY, package=info.name)
        if entry.key in entries:
            raise ValueError(f"datasets {entries[entry.key].package} and {info.name} both use the key {entry.key!r}")
        entries[entry.key] = entry
    return {entry.key: entry for entry in sorted(entries.values(), key=_offered_order)}
