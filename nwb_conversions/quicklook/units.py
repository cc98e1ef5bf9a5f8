"""Units and optogenetics panels: a spike raster with the stimulation pulses by emitter, and unit waveforms.

Pulses come from an ndx-optogenetics ``OptogeneticPulsesTable`` (``start_time``, ``stop_time``, ``power_in_mW`` and
the ragged ``optogenetic_sites`` region into the ``OptogeneticSitesTable``): one strip per emitter above the raster.
Spike times are read unit by unit, and only within the shown window (bisected in the stored column); what is read
is checked (:mod:`.tables`: finite times, an index that agrees with its values).
"""

from __future__ import annotations

import bisect

import numpy as np

from .checks import location, read_numbers, read_whole, require_times, values_per_row
from .layout import FONT_SIZE, Panel, style_axes
from .reading import busiest_window, find_objects
from .tables import (
    column_values,
    column_where,
    numeric_column,
    ragged_column,
    read_rows_of,
    spike_times_column,
    table_length,
)

#: The raster shows this many seconds, and at most this many units.
RASTER_WINDOW_S = 10.0
MAX_RASTER_UNITS = 150
#: Waveforms of this many units (those with the most spikes).
WAVEFORM_UNITS = 6
#: Columns that order units by depth on the probe, in order of preference.
DEPTH_COLUMNS = ("depth", "depths", "depth_um")


def spikes_between(data, where: str, bounds, start: float, stop: float) -> list[np.ndarray]:
    """Each unit's spike times within ``[start, stop)``, bisecting the stored column ``data`` (spike times are
    sorted)."""
    found = []
    for first, last in bounds:
        low = bisect.bisect_left(data, start, int(first), int(last))
        high = bisect.bisect_left(data, stop, low, int(last))
        found.append(require_times(read_rows_of(data, low, high, where), where))
    return found


def recording_span(data, where: str, bounds) -> tuple[float, float]:
    """The first and last spike of the units whose ``bounds`` are given (each unit's first and last spike read)."""
    firsts = [float(data[int(first)]) for first, last in bounds if last > first]
    lasts = [float(data[int(last) - 1]) for first, last in bounds if last > first]
    require_times(np.array(firsts + lasts), where)
    return (min(firsts), max(lasts)) if firsts else (0.0, 0.0)


class Pulses:
    """The stimulation pulses of an ``OptogeneticPulsesTable``: times and emitter (site row) per pulse."""

    def __init__(self, table):
        self.name = table.name
        table_length(table)
        self.starts = require_times(column_values(table, "start_time"), column_where(table, "start_time"))
        self.stops = require_times(column_values(table, "stop_time"), column_where(table, "stop_time"))
        self.sites = np.full(len(self.starts), -1)
        if "optogenetic_sites" in table.colnames:
            values, bounds = ragged_column(table, "optogenetic_sites")
            rows = read_whole(values, location(values, column_where(table, "optogenetic_sites")), integers=True)
            has_site = bounds[:, 1] > bounds[:, 0]
            self.sites[has_site] = rows[bounds[has_site, 0]]
        self.emitters = np.unique(self.sites)


def pulse_tables(nwbfile) -> list:
    """The file's ndx-optogenetics pulse tables."""
    return find_objects(nwbfile, "OptogeneticPulsesTable")


def unit_order(units) -> np.ndarray:
    """Rows of the units table, by depth when a depth column exists."""
    for name in DEPTH_COLUMNS:
        depth = numeric_column(units, name)
        if depth is not None:
            return np.argsort(depth, kind="stable")
    return np.arange(len(units))


def draw_raster(units, pulses: list[Pulses], figure, cell) -> list:
    """A raster of the units shown over a window (the busiest in pulses, else the middle of their spikes), the
    pulses above it, one strip per emitter."""
    axes = figure.add_subplot(cell)
    data, bounds, where = spike_times_column(units)
    order = unit_order(units)[:MAX_RASTER_UNITS]
    first, last = recording_span(data, where, bounds[order])
    pulse_starts = np.concatenate([p.starts for p in pulses]) if pulses else np.array([])
    if len(pulse_starts):
        start, stop = busiest_window(pulse_starts, RASTER_WINDOW_S, min(first, pulse_starts.min()),
                                     max(last, pulse_starts.max()))
    else:
        middle = (first + last) / 2
        start = max(first, middle - RASTER_WINDOW_S / 2)
        stop = start + RASTER_WINDOW_S
    spikes = spikes_between(data, where, bounds[order], start, stop)
    axes.eventplot(spikes, lineoffsets=np.arange(len(order)), linelengths=0.8, linewidths=0.5, colors="0.15")
    top = len(order)
    colors = _emitter_colors(sorted({site for p in pulses for site in p.emitters}))
    strip_labels = []
    for table in pulses:
        inside = (table.stops >= start) & (table.starts < stop)
        for site in table.emitters:
            chosen = inside & (table.sites == site)
            row = top + 1 + len(strip_labels)
            spans = list(zip(table.starts[chosen], table.stops[chosen] - table.starts[chosen]))
            axes.broken_barh(spans, (row - 0.4, 0.8), color=colors[site], label=f"pulses of site {site}")
            for pulse_start in table.starts[chosen][:200]:
                axes.axvline(pulse_start, color=colors[site], lw=0.4, alpha=0.25)
            strip_labels.append((row, f"E{site}" if site >= 0 else "no site"))
    ticks = [0, top - 1] + [row for row, _ in strip_labels]
    labels = [f"unit {units.id[int(order[0])]}", f"unit {units.id[int(order[-1])]}"] + [t for _, t in strip_labels]
    axes.set_yticks(ticks, labels, fontsize=FONT_SIZE - 2)
    axes.set_xlim(start, stop)
    axes.set_ylim(-1, top + 1 + len(strip_labels))
    shown = f"{len(order)} of {len(units)} units" if len(order) < len(units) else f"{len(units)} units"
    stimulation = ""
    if pulses:
        emitters = len({site for p in pulses for site in p.emitters})
        stimulation = (f"; above: {sum(len(p.starts) for p in pulses)} pulses of {emitters} emitters (E = site row) "
                       f"in {', '.join(p.name for p in pulses)}")
    style_axes(axes, f"Raster: {shown}{stimulation}", xlabel="time (s)")
    return [axes]


def _emitter_colors(sites: list) -> dict:
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    return {site: palette(number % 20) for number, site in enumerate(sites)}


def peak_waveform(waveform: np.ndarray) -> np.ndarray:
    """A unit's mean waveform on its largest channel ((samples,) or (samples, channels) in)."""
    waveform = np.asarray(waveform, dtype=float)
    if waveform.ndim == 1:
        return waveform
    return waveform[:, int(np.argmax(np.ptp(waveform, axis=0)))]


def draw_waveforms(units, figure, cell) -> list:
    """The mean waveforms (largest channel) of the units with the most spikes, side by side."""
    axes = figure.add_subplot(cell)
    bounds = ragged_column(units, "spike_times")[1]
    counts = bounds[:, 1] - bounds[:, 0]
    chosen = np.sort(np.argsort(-counts, kind="stable")[:WAVEFORM_UNITS])
    data = units["waveform_mean"].data
    where = column_where(units, "waveform_mean")
    rate = getattr(units, "waveform_rate", None)
    for position, row in enumerate(chosen):
        waveform = peak_waveform(read_numbers(data, int(row), where, count=values_per_row(data)))
        x = np.arange(len(waveform)) / rate * 1e3 if rate else np.arange(len(waveform)) / len(waveform) * 2
        axes.plot(position * (x[-1] * 1.2 + 1e-9) + x, waveform, lw=1)
        axes.text(position * (x[-1] * 1.2 + 1e-9), np.nanmax(waveform), f"unit {units.id[int(row)]}\n{counts[row]} sp",
                  fontsize=FONT_SIZE - 2, va="bottom")
    unit = getattr(units, "waveform_unit", None) or "stored units"
    style_axes(axes, f"Mean waveforms of {len(chosen)} units with the most spikes (largest channel)",
               xlabel="ms, units side by side" if rate else "samples (scaled), units side by side", ylabel=unit)
    return [axes]


def panels(nwbfile) -> list[Panel]:
    """The units panels that fit the file: a raster when there are several units or stimulation pulses, the
    waveforms when the table has ``waveform_mean``."""
    units = nwbfile.units
    pulses = [Pulses(table) for table in pulse_tables(nwbfile)]
    if units is not None and len(units):
        table_length(units)
        ragged_column(units, "spike_times")  # checked now: a malformed file stops before anything is drawn
    found = []
    if units is not None and len(units) and (len(units) > 1 or pulses):
        found.append(Panel("Raster", lambda figure, cell: draw_raster(units, pulses, figure, cell),
                           height=1.3 if pulses else 1.0))
    if units is not None and len(units) and "waveform_mean" in units.colnames:
        found.append(Panel("Waveforms", lambda figure, cell: draw_waveforms(units, figure, cell)))
    return found
