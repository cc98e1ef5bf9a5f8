"""Shared fixtures: caches in a temporary folder, and a helper to run the command line in-process."""

from __future__ import annotations

import pytest

from nwb_conversions.cli.main import main


@pytest.fixture(autouse=True, scope="session")
def _isolated_caches(tmp_path_factory):
    """Point dandi's and pynwb's caches (XDG folders) at a temporary folder for the whole run."""
    patcher = pytest.MonkeyPatch()
    for name in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        patcher.setenv(name, str(tmp_path_factory.mktemp(name.lower())))
    yield
    patcher.undo()


@pytest.fixture
def run_cli(capsys):
    """Run ``convert-to-nwb`` in-process; return ``(exit_code, stdout, stderr)``."""

    def run(*args):
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
