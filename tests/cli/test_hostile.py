"""Hostile inputs, round two: every row of every module in :mod:`tests.cli.hostile` is one line, with the right exit
code, the right file, no output or temporary file left, and the sources byte-for-byte unchanged
(:func:`tests.cli.failure_table.check_case`)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from . import hostile
from .failure_table import check_case


def all_rows() -> dict:
    rows = {}
    for module_info in sorted(pkgutil.iter_modules(hostile.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{hostile.__name__}.{module_info.name}")
        for name, row in module.ROWS.items():
            key = f"{module_info.name}: {name}"
            assert key not in rows, key
            rows[key] = row
    return rows


ROWS = all_rows()


@pytest.mark.parametrize("name", list(ROWS))
def test_every_hostile_input_is_one_line_and_leaves_nothing_behind(name, tmp_path, run_cli, monkeypatch):
    check_case(ROWS[name](tmp_path, monkeypatch), run_cli, tmp_path)


def test_the_round_two_table_has_at_least_80_rows():
    assert len(ROWS) >= 80
