"""SSC-11 ``an*sess_struct.mat``: whisker kinematics, touches, licks, pole in reach and the trials table.

Mapping (each only when the struct holds it; what it lacks is named in the conversion's notes)
----------------------------------------------------------------------------------------------
- ``whiskerAngleTSA`` / ``whiskerCurvatureTSA`` / ``whiskerCurvatureChangeTSA`` →
  ``processing/behavior/BehavioralTimeSeries/WhiskerAngle`` / ``WhiskerCurvature`` / ``WhiskerCurvatureChange``:
  time × whisker, timestamps in seconds (streamed from v7.3 files).
- Touches (protraction / retraction), pole in reach and the ``behavESA`` series (``LickLeft``, ``LickRight``, and
  any other, named after its ``idStr``) → one NWB ``EventsTable`` each (``/events/<name>``; pynwb deprecates
  ``BehavioralEvents``): ``timestamp`` = the event times (s) and, when the struct has them, ``trial_id``
  (``eventTrials``).
- Trials → the NWB trials table: ``start_time`` from ``trialStartTimes``, ``stop_time`` from each trial's
  ``endTime`` (else the next trial's start), ``trial_id``, ``trial_type`` (``trialTypeMat`` × ``trialTypeStr``),
  ``correct`` and ``lick_side`` (from the lab's type names), ``pole_position_ap`` (``behavParams``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hdmf.common import VectorData
from neuroconv.basedatainterface import BaseDataInterface
from pynwb import NWBFile, TimeSeries
from pynwb.behavior import BehavioralTimeSeries
from pynwb.event import EventsTable, TimestampVectorData

from ..layouts.ssc11.behavior import read_behavior
from ..layouts.ssc11.imaging import frame_times
from ..layouts.ssc11.struct import load_session_struct
from ..writing.plan import StreamedArray
from .stub import STUB_SECONDS
from .time_basis import time_basis

#: Samples per chunk of a streamed whisker series.
WHISKER_ROWS_PER_CHUNK = 262_144


class PeronSessionBehaviorInterface(BaseDataInterface):
    """Behaviour and trials of one SSC-11 session struct file (``an*sess_struct.mat``, MATLAB v5 or v7.3).

    Parameters
    ----------
    file_path : str or Path
        The session struct file.
    """

    display_name = "SSC-11 session struct: behaviour and trials"
    keywords = ("behavior", "whisker", "licks", "trials", "MATLAB")
    associated_suffixes = (".mat",)
    info = "Whisker kinematics, touches, licks, pole in reach and trials of Peron et al. 2020 (CRCNS ssc-11)."

    def __init__(self, file_path: str | Path, verbose: bool = False):
        self.session = load_session_struct(file_path)
        frames = frame_times(self.session) if "caTSA" in self.session.sess else np.zeros(0)
        session_end = float(frames[-1]) if frames.size else None
        self.behavior = read_behavior(self.session, session_end=session_end)
        super().__init__(verbose=verbose, file_path=str(file_path))

    def consistency_notes(self) -> list[str]:
        """What the struct lacks (each absent field is skipped, never faked)."""
        return list(self.behavior.notes)

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add the whisker series, the behavioural events and the trials.

        Parameters
        ----------
        nwbfile : NWBFile
        metadata : dict
            Not used (kept for NeuroConv's signature).
        stub_test : bool, default: False
            Only the first few seconds of whisker data, events and trials.
        """
        behavior = self.behavior
        start = _first_time(behavior)
        end = start + STUB_SECONDS if stub_test else np.inf
        module = None
        if behavior.whisker_series:
            module = nwbfile.processing.get("behavior") or nwbfile.create_processing_module(
                name="behavior", description="whisker kinematics from high-speed video, touches, licks, pole position"
            )
        if behavior.whisker_series:
            container = module.add(BehavioralTimeSeries(name="BehavioralTimeSeries"))
            for series in behavior.whisker_series:
                timestamps = np.asarray(series.timestamps[:])
                count = int(np.searchsorted(timestamps, end, side="right")) if stub_test else timestamps.size
                labels = f" (whiskers: {', '.join(series.whisker_labels)})" if series.whisker_labels else ""
                data = _FirstRows(series.data, count)
                container.add_timeseries(
                    TimeSeries(
                        name=series.name,
                        description=f"{series.description}{labels}: time x whisker",
                        data=StreamedArray(data, rows_per_chunk=WHISKER_ROWS_PER_CHUNK),
                        unit=series.unit,
                        **time_basis(timestamps[:count]),
                    )
                )
        for event in behavior.events:
            keep = event.times <= end
            if not keep.any():
                continue
            columns = [TimestampVectorData(name="timestamp", description="event time (s)", data=event.times[keep])]
            if event.trials is not None:
                columns.append(VectorData(name="trial_id", description="trial of each event (eventTrials)",
                                          data=event.trials[keep]))
            nwbfile.add_events_table(
                EventsTable(name=event.name, description=event.description, columns=columns,
                            source_description="the session struct of the Peron lab's pipeline")
            )
        if behavior.trials is not None:
            _add_trials(nwbfile, behavior.trials, end)


class _FirstRows:
    """The first ``count`` rows of a lazy ``(time, ...)`` source (``--stub``)."""

    def __init__(self, source, count: int):
        self.source = source
        self.shape = (int(count),) + tuple(int(n) for n in source.shape[1:])
        self.dtype = np.dtype(source.dtype)

    def __getitem__(self, selection: slice) -> np.ndarray:
        rows = range(self.shape[0])[selection]
        return np.asarray(self.source[rows.start : rows.stop], dtype=self.dtype)


def _first_time(behavior) -> float:
    """The earliest time of any behavioural stream (the start of the ``--stub`` window)."""
    firsts = [float(series.timestamps[0:1][0]) for series in behavior.whisker_series if series.timestamps.shape[0]]
    firsts += [float(event.times[0]) for event in behavior.events if event.times.size]
    if behavior.trials is not None and behavior.trials.start_times.size:
        firsts.append(float(behavior.trials.start_times[0]))
    return min(firsts) if firsts else 0.0


def _add_trials(nwbfile: NWBFile, trials, end: float) -> None:
    keep = trials.start_times <= end
    columns = {
        "trial_id": ("the lab's trial id (sess.trialIds)", trials.trial_ids),
        "trial_type": ("trial type name(s) flagged in sess.trialTypeMat (sess.trialTypeStr); ';' joins several",
                       np.array(trials.trial_types, dtype=object)),
    }
    if trials.correct is not None:
        columns["correct"] = ("the mouse licked the correct side (trial type Hit*)", trials.correct)
        columns["lick_side"] = ("side the mouse licked: left, right or none (from the trial type)",
                                np.array(trials.lick_side, dtype=object))
    if trials.pole_position_ap is not None:
        columns["pole_position_ap"] = (
            "anterior-posterior pole position (behavParams polePositionAP, motor units as stored; NaN if absent)",
            trials.pole_position_ap,
        )
    for name, (description, _) in columns.items():
        nwbfile.add_trial_column(name=name, description=description)
    for index in np.flatnonzero(keep):
        values = {name: column[index] for name, (_, column) in columns.items()}
        nwbfile.add_trial(
            start_time=float(trials.start_times[index]), stop_time=float(trials.stop_times[index]), **values
        )
