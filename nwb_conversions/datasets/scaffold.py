"""``convert-to-nwb new-dataset NAME``: a new dataset made from the template in ``datasets/_template/``.

The template is a complete, working toy dataset (a session folder of int16 samples and a ``session.json``): its
catalog entry, layout reader, NeuroConv interface, sample writer, converter, dataset YAML and tests. The scaffold
copies it into a checkout under the new names; the catalog finds the new package by itself, so no existing file is
edited. README, "Adding a dataset", says what to replace in each file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConversionError

TEMPLATE_FOLDER = Path(__file__).parent / "_template"

#: Each template file and where its copy goes in the checkout (``{module}``: the new dataset's module name).
TEMPLATE_FILES = {
    "__init__.py": "nwb_conversions/datasets/{module}/__init__.py",
    "layout.py": "nwb_conversions/datasets/{module}/layout.py",
    "interface.py": "nwb_conversions/datasets/{module}/interface.py",
    "sample.py": "nwb_conversions/datasets/{module}/sample.py",
    "dataset.py": "nwb_conversions/datasets/{module}/dataset.py",
    "metadata.yaml": "metadata/{module}.yaml",
    "test_dataset.py": "tests/datasets/test_{module}.py",
}

#: The template's names, replaced in every file by the new dataset's.
TEMPLATE_KEY, TEMPLATE_MODULE, TEMPLATE_CLASS = "template-dataset", "template_dataset", "TemplateDataset"

KEY_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
EXPECTED_KEY = "a dataset key of lower-case letters, digits and single dashes, starting with a letter (e.g. lab-2025)"


@dataclass(frozen=True)
class DatasetNames:
    """The names of one dataset: ``key`` (``lab-2025``), ``module`` (``lab_2025``), ``class_prefix`` (``Lab2025``)."""

    key: str
    module: str
    class_prefix: str

    @classmethod
    def from_key(cls, key: str) -> "DatasetNames":
        """The names derived from a dataset key; raise ``ConversionError`` for a key that cannot be one."""
        if not KEY_PATTERN.fullmatch(key) or len(key) > 40:
            raise ConversionError(f"{key!r}: not a dataset key; expected {EXPECTED_KEY}")
        return cls(key, key.replace("-", "_"), "".join(part.capitalize() for part in key.split("-")))

    def render(self, text: str) -> str:
        """The template's text with its names replaced by these."""
        for old, new in ((TEMPLATE_KEY, self.key), (TEMPLATE_MODULE, self.module), (TEMPLATE_CLASS, self.class_prefix)):
            text = text.replace(old, new)
        return text


def check_checkout(root: Path) -> None:
    """Refuse a folder that is not a source checkout of this project (the scaffold writes source files)."""
    if not ((root / "pyproject.toml").is_file() and (root / "nwb_conversions" / "datasets" / "catalog.py").is_file()):
        raise ConversionError(
            f"{root}: not a checkout of nwb_conversions; "
            "expected the folder holding pyproject.toml and nwb_conversions/"
        )


def new_dataset(key: str, root: str | Path = ".") -> list[Path]:
    """Write a new dataset ``key`` from the template into the checkout at ``root``; return the files written.

    Raises
    ------
    ConversionError
        If ``key`` is not a valid key or is taken, ``root`` is not a checkout, or a file to write exists already.
        Nothing is written then.
    """
    names, root = DatasetNames.from_key(key), Path(root)
    check_checkout(root)
    if (root / "nwb_conversions" / "datasets" / names.module).exists():  # the checkout's, not the running install's
        raise ConversionError(f"{key}: a dataset of that name exists already; expected a new dataset key")
    targets = {name: root / target.format(module=names.module) for name, target in TEMPLATE_FILES.items()}
    for target in targets.values():
        if target.exists():
            raise ConversionError(f"{target}: exists already; expected a new dataset's files to be new")
    package = targets["__init__.py"].parent
    written = []
    try:
        for name, target in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(names.render((TEMPLATE_FOLDER / name).read_text(encoding="utf-8")), encoding="utf-8")
            written.append(target)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        if package.is_dir() and not any(package.iterdir()):
            package.rmdir()
        raise ConversionError(f"{exc.filename or root}: cannot write the new dataset ({exc.strerror})") from None
    return written
