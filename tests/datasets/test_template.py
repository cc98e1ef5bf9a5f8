"""A seventh dataset from the template: ``new_dataset`` writes it into a copy of the checkout, and the copy's own
suite (the new dataset's tests and the dataset contract, which the catalog extends by itself) passes there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nwb_conversions.datasets.scaffold import TEMPLATE_FILES, new_dataset
from nwb_conversions.errors import ConversionError

CHECKOUT = Path(__file__).resolve().parents[2]


def files_of(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture
def checkout_copy(tmp_path) -> Path:
    """The package, its metadata, tests and pyproject.toml, copied (a checkout as a developer has it)."""
    copy = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("nwb_conversions", "metadata", "tests"):
        shutil.copytree(CHECKOUT / name, copy / name, ignore=ignore)
    shutil.copy2(CHECKOUT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_a_dataset_from_the_template_passes_the_dataset_contract(checkout_copy):
    before = files_of(checkout_copy)
    written = new_dataset("toy-ephys", checkout_copy)

    expected = {target.format(module="toy_ephys") for target in TEMPLATE_FILES.values()}
    assert {str(path.relative_to(checkout_copy)) for path in written} == expected
    after = files_of(checkout_copy)
    assert {name: after[name] for name in before} == before, "the scaffold edited an existing file"
    assert "template" not in after["nwb_conversions/datasets/toy_ephys/dataset.py"].decode().replace("templates", "")

    environment = dict(os.environ, PYTHONPATH=str(checkout_copy), PYTHONDONTWRITEBYTECODE="1")
    tests = ["tests/datasets/test_toy_ephys.py", "tests/datasets/test_dataset_contract.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests, "-k", "toy"],
        cwd=checkout_copy, env=environment, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    # 3 dataset-contract cases of toy-ephys, the 2 new tests, and NeuroConv's interface mixin on the new interface
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 3 + 2 + 5, result.stdout[-2000:]
    assert re.fullmatch(r"\d+ passed, \d+ deselected(, \d+ warnings?)? in .*", summary), result.stdout[-2000:]


@pytest.mark.parametrize(
    "key, message",
    [
        ("spe1", "spe1: a dataset of that name exists already"),
        ("Toy_Ephys", "'Toy_Ephys': not a dataset key"),
        ("toy--ephys", "'toy--ephys': not a dataset key"),
    ],
)
def test_a_taken_or_malformed_key_is_refused_and_nothing_is_written(checkout_copy, key, message):
    before = files_of(checkout_copy)
    with pytest.raises(ConversionError, match=re.escape(message)):
        new_dataset(key, checkout_copy)
    assert files_of(checkout_copy) == before


def test_a_folder_that_is_not_a_checkout_is_refused_in_one_line(tmp_path, run_cli):
    code, stdout, stderr = run_cli("new-dataset", "toy-ephys", "--root", tmp_path)
    assert code == 1 and stdout == ""
    expected = "expected the folder holding pyproject.toml and nwb_conversions/"
    assert stderr == f"error: {tmp_path}: not a checkout of nwb_conversions; {expected}\n"
    assert list(tmp_path.iterdir()) == []
