"""Fuzzing Kilosort ``chanMap.mat`` (MAT v5 and v7.3): 10 000 damaged files and wrongly typed variables; only
one-line SourceFormatErrors escape, and what is accepted is a finite, plausible geometry. Plus the channel-map CSV."""

from __future__ import annotations

import io
import random

import numpy as np

from nwb_conversions.readers.channel_map import PLAUSIBLE_COORDINATE_UM, read_channel_map_csv, read_kilosort_channel_map

from ..readers.bad_sources import NUM_MAP_CHANNELS, channel_positions, mat_v5_bytes, write_mat_v73
from .harness import fuzz_bytes, fuzz_generated


def read(path):
    return read_kilosort_channel_map(path, num_channels=NUM_MAP_CHANNELS)


def accepted(positions):
    assert positions.shape == (NUM_MAP_CHANNELS, 2) and np.all(np.isfinite(positions))
    assert np.abs(positions).max() <= PLAUSIBLE_COORDINATE_UM


def test_byte_mutations_of_a_v5_channel_map(tmp_path):
    assert fuzz_bytes(tmp_path / "chanMap.mat", mat_v5_bytes(), read, 3500, accepted=accepted) >= 3500


def test_byte_mutations_of_a_compressed_v5_channel_map(tmp_path):
    from scipy.io import savemat

    buffer = io.BytesIO()
    positions = channel_positions()
    savemat(buffer, dict(xcoords=positions[:, :1], ycoords=positions[:, 1:]), do_compression=True)
    assert fuzz_bytes(tmp_path / "chanMap.mat", buffer.getvalue(), read, 1500, accepted=accepted) >= 1500


def test_byte_mutations_of_a_v73_channel_map(tmp_path):
    base = write_mat_v73(tmp_path / "base.mat").read_bytes()
    assert fuzz_bytes(tmp_path / "chanMap.mat", base, read, 2500, accepted=accepted) >= 2500


def variable(rng: random.Random):
    """A MATLAB variable of a random class and shape, or a plausible coordinate vector."""
    size = rng.choice((NUM_MAP_CHANNELS, NUM_MAP_CHANNELS, 0, 1, NUM_MAP_CHANNELS + 1))
    choices = (
        lambda: rng.choice((np.float64, np.float32, np.int16, np.uint8, np.int64))(
            np.arange(size).reshape(-1, 1) * rng.choice((1, 20, 1e9))),
        lambda: np.full((size, 1), rng.choice((np.nan, np.inf, -np.inf, 0.0, 1e300))),
        lambda: np.array(["abc"[: rng.randint(0, 3)] * size]),
        lambda: np.array([[1.0], "a"], dtype=object),
        lambda: {"x": np.arange(size)},
        lambda: np.arange(size).reshape(-1, 1) + 1j,
        lambda: np.ones((size, 1), dtype=bool),
        lambda: np.arange(size * 2, dtype=float).reshape(size, 2),
    )
    return rng.choice(choices)()


def generated_mat(rng: random.Random) -> bytes:
    from scipy.io import savemat

    content = {name: variable(rng) for name in ("xcoords", "ycoords") if rng.random() < 0.9}
    if rng.random() < 0.2:
        from scipy.sparse import csc_matrix

        content["xcoords"] = csc_matrix(np.eye(NUM_MAP_CHANNELS))
    buffer = io.BytesIO()
    try:
        savemat(buffer, content, do_compression=rng.random() < 0.5, format=rng.choice(("5", "5", "4")))
    except TypeError:  # MAT 4 cannot hold cells or structs
        buffer = io.BytesIO()
        savemat(buffer, content)
    return buffer.getvalue()


def test_wrongly_typed_variables(tmp_path):
    assert fuzz_generated(tmp_path / "chanMap.mat", generated_mat, read, 2500, accepted=accepted) >= 2500


def test_byte_mutations_of_a_channel_map_csv(tmp_path):
    text = "".join(f"{channel},{x:g},{y:g}\n" for channel, (x, y) in enumerate(channel_positions()))

    def read_csv(path):
        return read_channel_map_csv(path, num_channels=NUM_MAP_CHANNELS)

    assert fuzz_bytes(tmp_path / "map.csv", text.encode(), read_csv, 2000, accepted=accepted) >= 2000
