"""The optogenetic stimulation of a Neuropixels Opto session folder: the ALF ``stim.*`` object and its emitter ids.

``stim.times``, ``stim.emissionSites``, ``stim.powerMW`` and ``stim.durations`` (M,) describe one light pulse per row;
:func:`emission_site_base` decides whether the session's emitter ids count from 0 or 1. The session folder's layout
is described in :mod:`nwb_conversions.layouts.np_opto.session`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.alf import read_alf_object

#: Number of emitters on a Neuropixels Opto shank (per colour), and their distance from the tip: 70 + 100·i µm.
NUM_EMITTERS = 14
FIRST_EMITTER_FROM_TIP_UM = 70.0
EMITTER_PITCH_UM = 100.0


@dataclass
class Stimulation:
    """The ``stim.*`` object: one row per light pulse."""

    times: np.ndarray
    emission_sites: np.ndarray
    power_mw: np.ndarray
    durations: np.ndarray


def read_stimulation(folder: Path) -> Stimulation:
    """Read the ``stim.*`` object: finite onset times, positive durations, powers ≥ 0, integer emitter ids."""
    arrays, _ = read_alf_object(
        folder,
        "stim",
        {
            "times": dict(kinds="f", what="pulse onset times in seconds"),
            "emissionSites": dict(kinds="iu", what="emitter id per pulse"),
            "powerMW": dict(kinds="fiu", what="power at the probe tip in mW"),
            "durations": dict(kinds="fiu", what="pulse durations in seconds"),
        },
    )
    times = arrays["times"].astype(np.float64, copy=False)
    power = arrays["powerMW"].astype(np.float64, copy=False)
    durations = arrays["durations"].astype(np.float64, copy=False)
    for name, values, valid, expected in (
        ("times", times, np.isfinite(times), "finite onset times in seconds"),
        ("durations", durations, np.isfinite(durations) & (durations > 0), "positive durations in seconds"),
        ("powerMW", power, np.isfinite(power) & (power >= 0), "powers ≥ 0 mW"),
    ):
        if not valid.all():
            row = int(np.argmin(valid))
            raise SourceFormatError(folder / f"stim.{name}.npy", f"row {row} is {values[row]}", expected)
    return Stimulation(times=times, emission_sites=arrays["emissionSites"].astype(np.int64), power_mw=power,
                       durations=durations)


def emission_site_base(emission_sites: np.ndarray, file_path: Path) -> tuple[int, str]:
    """Decide whether the emitter ids count from 0 or 1, from the ids the session uses.

    The README documents ids 1–14, but the lab's analysis notebook indexes ``EMISSION_SITE_DEPTHS[emission_site]``
    (0-based) and drops ids ≥ 15. An id 0 means 0-based (0–13), an id 14 means 1-based (1–14); with ids only in
    1–13 both readings fit and the README's 1-based reading is taken. Both 0 and 14, or any id outside 0–14, fit
    neither.

    Returns
    -------
    base : int
        0 or 1.
    note : str
        Which reading was taken and why.

    Raises
    ------
    SourceFormatError
        If the ids fit neither reading.
    """
    expected = f"emitter ids 1–{NUM_EMITTERS} (README) or 0–{NUM_EMITTERS - 1} (0-based), one reading per session"
    if len(emission_sites) == 0:
        return 1, f"{file_path}: no pulse, so the README's 1-based emitter ids are assumed"
    low, high = int(emission_sites.min()), int(emission_sites.max())
    if low < 0 or high > NUM_EMITTERS or (low == 0 and high == NUM_EMITTERS):
        outside = low if (low < 0 or (low == 0 and high == NUM_EMITTERS)) else high
        raise SourceFormatError(file_path, f"ids span {low}–{high} (e.g. {outside})", expected)
    if low == 0:
        return 0, (
            f"{file_path}: emitter ids are read as 0-based (id 0 occurs; ids {low}–{high}): emitter id i is "
            f"{FIRST_EMITTER_FROM_TIP_UM:g} + {EMITTER_PITCH_UM:g}·i µm from the tip"
        )
    reason = "id 14 occurs" if high == NUM_EMITTERS else "ids 1–13 fit both readings; the README says 1–14"
    return 1, (
        f"{file_path}: emitter ids are read as 1-based ({reason}; ids {low}–{high}): emitter id i is "
        f"{FIRST_EMITTER_FROM_TIP_UM:g} + {EMITTER_PITCH_UM:g}·(i − 1) µm from the tip"
    )
