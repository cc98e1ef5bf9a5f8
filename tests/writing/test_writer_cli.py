"""The writer as the command line drives it: the one-line warning for the non-portable zstd mode."""

from __future__ import annotations

import pytest

from ..spe1_helpers import sample_release


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_zstd_prints_one_portability_warning(tmp_path, run_cli, compression):
    if compression == "zstd":
        pytest.importorskip("hdf5plugin")
    cell_dir, metadata = sample_release(tmp_path, duration_s=0.2)
    output = tmp_path / "out.nwb"
    code, _, err = run_cli(
        "spe1", cell_dir, output, "--metadata", metadata, "--no-inspect", "--compression", compression
    )
    assert code == 0 and output.is_file()
    warnings = [line for line in err.splitlines() if "--compression zstd" in line]
    if compression == "zstd":
        assert len(warnings) == 1
        assert warnings[0].startswith("warning: --compression zstd")
        assert "h5wasm" in warnings[0] and "hdf5plugin" in warnings[0]
    else:
        assert warnings == []
