"""Light responses of sorted units, as the Neuropixels Opto dataset defines them, and their NWB analysis table.

For every unit and every stimulation condition (emitter × power), over the condition's pulses:

- stimulus rate = spikes in [onset, onset + duration) / duration; baseline rate = spikes in [onset − 0.5 s, onset)
  / 0.5 s, per pulse; the condition's rates are the means over its pulses;
- percent change = 100 × (stimulus rate − baseline rate) / baseline rate (+inf when only the baseline is 0, NaN
  when both are);
- paired t-test of the per-pulse stimulus vs baseline rates (two-sided; NaN with fewer than 2 pulses or when every
  pulse has the same difference of 0);
- class: ``activated`` when percent change > 200 %, ``inactivated`` when < −50 % with a baseline > 2 Hz, else
  ``none``; ``significant`` when p < 0.005 (the dataset applies the p-value as a post-filter, not in the class).

Source: the dataset README (seed 002) and the lab's analysis notebook (``SteinmetzLab/npOptoAnalysis``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from hdmf.common import DynamicTable, DynamicTableRegion, VectorData

RESPONSE_CLASSES = ("none", "activated", "inactivated")


@dataclass(frozen=True)
class ResponseParameters:
    """The dataset's response definition (all of it can be changed with metadata ``OptogeneticResponse``)."""

    baseline_window_s: float = 0.5
    activated_min_percent_change: float = 200.0
    inactivated_max_percent_change: float = -50.0
    inactivated_min_baseline_rate_hz: float = 2.0
    significance_max_p_value: float = 0.005

    def as_dict(self) -> dict:
        return asdict(self)


#: What each parameter means, with its unit, for the parameters table.
PARAMETER_DESCRIPTIONS = {
    "baseline_window_s": ("s", "length of the baseline window that ends at each pulse onset"),
    "activated_min_percent_change": ("%", "activated: percent change above this"),
    "inactivated_max_percent_change": ("%", "inactivated: percent change below this ..."),
    "inactivated_min_baseline_rate_hz": ("Hz", "... and baseline rate above this"),
    "significance_max_p_value": ("1", "significant: paired t-test p-value below this (a post-filter)"),
}


@dataclass
class Pulses:
    """The pulses to analyse: onsets, offsets, and the condition of each (sites-table row, emitter id, power)."""

    starts: np.ndarray
    stops: np.ndarray
    site_rows: np.ndarray
    site_ids: np.ndarray
    power_mw: np.ndarray


def conditions_of(pulses: Pulses) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (site row, power) conditions, sorted, and each pulse's condition index."""
    keys = np.column_stack([pulses.site_rows.astype(np.float64), pulses.power_mw])
    conditions, index = np.unique(keys, axis=0, return_inverse=True)
    return conditions, index.ravel()


def per_pulse_rates(spike_times: np.ndarray, pulses: Pulses, baseline_window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Stimulus and baseline rate (Hz) of one unit around every pulse; ``spike_times`` sorted."""
    onset, offset = pulses.starts, pulses.stops
    during = np.searchsorted(spike_times, offset, "left") - np.searchsorted(spike_times, onset, "left")
    before = np.searchsorted(spike_times, onset, "left") - np.searchsorted(
        spike_times, onset - baseline_window_s, "left"
    )
    return during / (offset - onset), before / baseline_window_s


def paired_t_test(differences: np.ndarray, condition: np.ndarray, num_conditions: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided paired t-test per condition, from the per-pulse differences (as ``scipy.stats.ttest_rel``)."""
    from scipy.special import stdtr  # Student's t distribution function (lighter to import than scipy.stats)

    counts = np.bincount(condition, minlength=num_conditions).astype(np.float64)
    sums = np.bincount(condition, weights=differences, minlength=num_conditions)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
        squares = np.bincount(condition, weights=(differences - means[condition]) ** 2, minlength=num_conditions)
        standard_error = np.sqrt(squares / (counts - 1) / counts)
        t_values = means / standard_error
        t_values[counts < 2] = np.nan
        p_values = 2 * stdtr(counts - 1, -np.abs(t_values))
    return t_values, p_values


def classify(
    stimulus_rate: np.ndarray, baseline_rate: np.ndarray, parameters: ResponseParameters
) -> tuple[np.ndarray, np.ndarray]:
    """Percent change and class (``activated``, ``inactivated`` or ``none``) of each unit × condition."""
    with np.errstate(invalid="ignore", divide="ignore"):
        percent = 100.0 * (stimulus_rate - baseline_rate) / baseline_rate
    activated = percent > parameters.activated_min_percent_change
    inactivated = (percent < parameters.inactivated_max_percent_change) & (
        baseline_rate > parameters.inactivated_min_baseline_rate_hz
    )
    classes = np.where(activated, "activated", np.where(inactivated, "inactivated", "none"))
    return percent, classes


def unit_responses(
    spike_trains: list[np.ndarray], pulses: Pulses, parameters: ResponseParameters = ResponseParameters()
) -> dict[str, np.ndarray]:
    """The response of every unit to every condition, unit-major (all conditions of unit 0 first).

    Parameters
    ----------
    spike_trains : list of numpy.ndarray
        Sorted spike times (s) of each unit, in units-table order.
    pulses : Pulses
    parameters : ResponseParameters

    Returns
    -------
    dict of numpy.ndarray
        Columns ``unit`` (units-table row), ``site_row``, ``emission_site_id``, ``power_in_mW``, ``num_pulses``,
        ``baseline_rate_hz``, ``stimulus_rate_hz``, ``percent_change``, ``t_statistic``, ``p_value``,
        ``response``, ``significant``.
    """
    conditions, condition = conditions_of(pulses)
    num_conditions, num_units = len(conditions), len(spike_trains)
    counts = np.bincount(condition, minlength=num_conditions)
    site_ids = np.zeros(num_conditions, dtype=np.int64)
    site_ids[condition] = pulses.site_ids
    stimulus, baseline, t_values, p_values = (np.empty((num_units, num_conditions)) for _ in range(4))
    for unit, spike_times in enumerate(spike_trains):
        during, before = per_pulse_rates(spike_times, pulses, parameters.baseline_window_s)
        stimulus[unit] = np.bincount(condition, weights=during, minlength=num_conditions) / counts
        baseline[unit] = np.bincount(condition, weights=before, minlength=num_conditions) / counts
        t_values[unit], p_values[unit] = paired_t_test(during - before, condition, num_conditions)
    percent, classes = classify(stimulus, baseline, parameters)
    return {
        "unit": np.repeat(np.arange(num_units), num_conditions),
        "site_row": np.tile(conditions[:, 0].astype(np.int64), num_units),
        "emission_site_id": np.tile(site_ids, num_units),
        "power_in_mW": np.tile(conditions[:, 1], num_units),
        "num_pulses": np.tile(counts, num_units),
        "baseline_rate_hz": baseline.ravel(),
        "stimulus_rate_hz": stimulus.ravel(),
        "percent_change": percent.ravel(),
        "t_statistic": t_values.ravel(),
        "p_value": p_values.ravel(),
        "response": classes.ravel(),
        "significant": (p_values < parameters.significance_max_p_value).ravel(),
    }


#: Descriptions of the response table's columns.
RESPONSE_COLUMNS = {
    "num_pulses": "number of pulses of this condition",
    "power_in_mW": "pulse power at the probe tip, mW (stim.powerMW)",
    "emission_site_id": "emitter id as in stim.emissionSites",
    "baseline_rate_hz": "mean firing rate over the condition's baseline windows [onset - baseline_window_s, onset), Hz",
    "stimulus_rate_hz": "mean firing rate over the condition's pulses [onset, onset + duration), Hz",
    "percent_change": "100 × (stimulus_rate_hz - baseline_rate_hz) / baseline_rate_hz (inf: baseline 0; NaN: both 0)",
    "t_statistic": "paired t statistic of per-pulse stimulus vs baseline rates (NaN with < 2 pulses)",
    "p_value": "two-sided paired t-test p-value of per-pulse stimulus vs baseline rates",
    "response": "activated (percent change > activated_min_percent_change), inactivated (percent change < "
    "inactivated_max_percent_change and baseline > inactivated_min_baseline_rate_hz) or none",
    "significant": "p_value < significance_max_p_value (the dataset's post-filter on the response class)",
}


def response_tables(
    responses: dict[str, np.ndarray], parameters: ResponseParameters, *, units_table, sites_table
) -> tuple[DynamicTable, DynamicTable]:
    """The ``optogenetic_responses`` table (one row per unit × condition) and its parameters table."""
    columns = [
        DynamicTableRegion(
            name="unit", data=responses["unit"], description="the unit (row of the units table)", table=units_table
        ),
        DynamicTableRegion(
            name="optogenetic_site",
            data=responses["site_row"],
            description="the emitter (row of the optogenetic sites table)",
            table=sites_table,
        ),
    ] + [VectorData(name=name, data=responses[name], description=text) for name, text in RESPONSE_COLUMNS.items()]
    responses_table = DynamicTable(
        name="optogenetic_responses",
        description=(
            "Firing-rate response of every unit to every stimulation condition (emitter × power), as the dataset "
            "defines it: rates during the pulses vs the baseline window before them, percent change, paired t-test "
            "and class. Parameters: the optogenetic_response_parameters table."
        ),
        columns=columns,
    )
    names = list(PARAMETER_DESCRIPTIONS)
    values = parameters.as_dict()
    parameters_table = DynamicTable(
        name="optogenetic_response_parameters",
        description="parameters of optogenetic_responses (test: two-sided paired t-test, scipy.stats.ttest_rel)",
        columns=[
            VectorData(name="parameter", data=names, description="parameter name"),
            VectorData(name="value", data=[float(values[name]) for name in names], description="parameter value"),
            VectorData(name="unit", data=[PARAMETER_DESCRIPTIONS[n][0] for n in names], description="unit of value"),
            VectorData(
                name="meaning", data=[PARAMETER_DESCRIPTIONS[n][1] for n in names], description="what it is used for"
            ),
        ],
    )
    return responses_table, parameters_table
