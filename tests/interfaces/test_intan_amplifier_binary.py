"""SPE-2 Intan amplifier interface: probe geometry per channel count, channel 17, unknown counts."""

from __future__ import annotations

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.interfaces.intan_amplifier_binary import IntanAmplifierBinaryInterface
from nwb_conversions.samples.spe2 import write_spe2_pair


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("spe2_pairs")
    return {layout: write_spe2_pair(root, layout=layout, duration_s=0.2)[0] for layout in ("common32", "common128")}


def amplifier(pair_dir, num_channels):
    (path,) = pair_dir.glob("amplifier*.bin")
    return IntanAmplifierBinaryInterface(path, num_channels=num_channels)


def test_poly32nn_geometry_matches_the_documented_sites(pairs):
    interface = amplifier(pairs["common32"], 32)
    positions = interface.electrode_positions_um()
    # pairs quoted in the format notes (kampff_32.prb)
    for channel, xy in {0: (0, 0), 31: (0, -25), 1: (0, -50), 30: (0, -75), 15: (0, -100), 24: (-18, -37.5)}.items():
        np.testing.assert_array_equal(positions[channel], xy)
    assert sorted(np.unique(positions[:, 0])) == [-18, 0, 18]
    assert (positions[:, 0] == 0).sum() == 12 and (positions[:, 0] == 18).sum() == 10
    # sorted by depth (ties left to right), the sites give A. Barnett's order from Map_32electrodes.pdf
    barnett = [0, 31, 24, 7, 1, 21, 10, 30, 25, 6, 15, 20, 11, 16, 26, 5, 14, 19, 12, 17, 27, 4, 8, 18, 13, 23, 28, 3,
               9, 29, 2, 22]
    assert sorted(range(32), key=lambda c: (-positions[c, 1], positions[c, 0])) == barnett
    assert interface.electrode_columns()["has_known_position"][1].all()
    assert interface.get_metadata()["Extracellular"]["Device"]["name"] == "Poly32nnProbe"


def test_128_channel_geometry_keeps_channel_17_without_position(pairs):
    interface = amplifier(pairs["common128"], 128)
    positions = interface.electrode_positions_um()
    known = interface.electrode_columns()["has_known_position"][1]
    assert not known[17] and known.sum() == 127 and np.isnan(positions[17]).all()
    assert set(np.unique(positions[known, 0])) == {0.0, 22.5, 45.0, 67.5}
    np.testing.assert_allclose(positions[known, 1] % 22.5, 0)
    assert len({tuple(p) for p in positions[known]}) == 127
    np.testing.assert_array_equal(positions[[20, 16, 109]], [[0, 0], [22.5, 0], [67.5, 697.5]])  # kampff_128.prb


def test_a_channel_count_without_geometry_is_refused(pairs):
    with pytest.raises(SourceFormatError, match="64 amplifier channels, for which no probe geometry is known"):
        amplifier(pairs["common32"], 64)
