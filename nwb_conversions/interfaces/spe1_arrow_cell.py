"""One cell of the SPE-1 Arrow re-packaging (Zhao et al. 2026 benchmark): a Hugging Face DatasetDict folder.

Adds the preprocessed segments as one filtered ``ElectricalSeries`` in ``processing/ecephys`` (float32 µV with
conversion 1e-6, on the raw recording's clock: starting time = first ``sample_id`` / rate), the train/test split as a
``TimeIntervals`` table, the electrodes (``templates.npz`` geometry, bad and ground-truth channels), the ground-truth
unit (spikes from ``cit``/``ctt``, the mean template, its location) and the patch trace of ``patch.npz`` on its own
timestamps. Everything large is streamed (:class:`~nwb_conversions.writing.hdf5.StreamedArray`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from neuroconv.basedatainterface import BaseDataInterface
from neuroconv.tools.nwb_helpers import get_module
from pynwb import NWBFile
from pynwb.ecephys import ElectricalSeries, FilteredEphys
from pynwb.epoch import TimeIntervals

from ..errors import SourceFormatError
from ..layouts.spe1_arrow.segments import SegmentedRecording, check_contiguous, index_segments
from ..layouts.spe1_arrow.side_files import patch_clock_offset, read_conversion_metadata, read_patch, read_templates
from ..metadata.assembly import deep_update
from ..readers.channel_map import read_channel_map_csv
from ..readers.dataset_dict import dataset_dict_splits
from ..writing.hdf5 import StreamedArray
from .binary_recording import EXTRACELLULAR_METADATA_SCHEMA
from .electrodes import get_or_create_device
from .juxtacellular_trace import ICEPHYS_METADATA_SCHEMA, SERIES_TYPES
from .neuropixels_binary import NUM_CHANNELS, REFERENCE_SITES, SAMPLING_FREQUENCY
from .schemas import named_block
from .spe1_arrow_objects import add_benchmark_unit, probe_electrodes
from .stub import STUB_SECONDS, first_seconds
from .units import GROUND_TRUTH_UNIT_SCHEMA

BENCHMARK_METADATA_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "FilteredElectricalSeries": named_block("name", "description"),
        "Segments": named_block("name", "description"),
        "PatchTrace": named_block("name", "description", "stimulus_description"),
        "Units": named_block("name", "description"),
    },
}


class SPE1ArrowCellInterface(BaseDataInterface):
    """A DatasetDict cell folder ``cNN/`` of the SPE-1 Arrow re-packaging.

    Parameters
    ----------
    folder_path : str or Path
        The cell folder (``dataset_dict.json``, ``train/``, ``test/``, ``templates.npz``, ``patch.npz``,
        ``conversion_metadata.json``).
    recording_mode : {"voltage_clamp", "current_clamp"}
        The patch trace's amplifier mode (from the cell's Data Summary ``Patch Type``): voltage clamp records a
        current (pA whatever ``patch.npz`` calls it), current clamp a voltage (mV).
    conversion : float
        SI units per stored patch value (1e-12 for pA, 1e-3 for mV).
    channel_map_path : str or Path, optional
        A headerless ``channel,x,y`` CSV (µm); ``templates.npz`` ``probe_positions`` must equal it.
    """

    display_name = "SPE-1 Arrow cell (Zhao et al. 2026 benchmark)"
    keywords = ("extracellular electrophysiology", "ground truth", "spike localization", "Arrow")
    associated_suffixes = (".arrow", ".npz", ".json")
    info = "Preprocessed Neuropixels segments (Arrow), templates, patch trace and split of one SPE-1 cell."

    def __init__(
        self,
        folder_path: str | Path,
        recording_mode: Literal["voltage_clamp", "current_clamp"],
        conversion: float,
        channel_map_path: str | Path | None = None,
        verbose: bool = False,
    ):
        if recording_mode not in SERIES_TYPES:
            raise ValueError(f"recording_mode must be one of {sorted(SERIES_TYPES)}, not {recording_mode!r}")
        folder = Path(folder_path)
        splits = dataset_dict_splits(folder)
        self.cell_metadata = read_conversion_metadata(folder / "conversion_metadata.json")
        self.segments = index_segments(splits, num_channels=NUM_CHANNELS)
        self._check_rate_and_lengths(folder / "conversion_metadata.json")
        check_contiguous(self.segments)
        self.recording = SegmentedRecording(self.segments, num_channels=NUM_CHANNELS)
        self.spike_times = self._collect_spike_times()
        self.templates = read_templates(folder / "templates.npz", self.cell_metadata)
        if channel_map_path is not None:
            shipped = read_channel_map_csv(channel_map_path, num_channels=NUM_CHANNELS)
            if not np.array_equal(shipped, self.templates.probe_positions):
                channel = int(np.flatnonzero(np.any(shipped != self.templates.probe_positions, axis=1))[0])
                raise SourceFormatError(
                    folder / "templates.npz",
                    f"probe_positions of channel {channel} are {self.templates.probe_positions[channel].tolist()} µm",
                    f"the SPE-1 channel map's {shipped[channel].tolist()} µm for every channel",
                )
        self.patch = read_patch(folder / "patch.npz")
        if self.cell_metadata.cell_id is not None and self.patch.cell_id != self.cell_metadata.cell_id:
            raise SourceFormatError(
                self.patch.path, f"cell_id is {self.patch.cell_id!r}",
                f"{self.cell_metadata.cell_id!r}, the cell of conversion_metadata.json",
            )
        all_spikes = np.sort(np.concatenate(list(self.spike_times.values())))
        self.patch_clock_offset = patch_clock_offset(
            self.patch, all_spikes, self.starting_time, tolerance_s=1.0 / self.cell_metadata.sampling_frequency
        )
        self.recording_mode = recording_mode
        self.conversion = float(conversion)
        super().__init__(verbose=verbose, folder_path=str(folder), recording_mode=recording_mode)

    @property
    def starting_time(self) -> float:
        """The first segment's start on the raw recording's clock (s)."""
        return self.segments[0].start_sample / self.cell_metadata.sampling_frequency

    def _check_rate_and_lengths(self, metadata_path: Path) -> None:
        """The rate is SPE-1's, the channel count the shards', every segment as long as ``segment_duration_s`` says.

        Only the last segment of the window may be shorter (a trailing partial segment: an assumption, the release
        does not say whether its conversion keeps one).
        """
        metadata, first = self.cell_metadata, self.segments[0]
        if metadata.num_channels != NUM_CHANNELS:
            raise SourceFormatError(
                metadata_path, f"num_channels is {metadata.num_channels}", f"{NUM_CHANNELS}, as the shards' rows hold"
            )
        if metadata.sampling_frequency != SAMPLING_FREQUENCY or first.num_samples != metadata.segment_samples:
            raise SourceFormatError(
                metadata_path,
                f"sampling_frequency {metadata.sampling_frequency} Hz × segment_duration_s "
                f"{metadata.segment_duration_s} s = {metadata.segment_samples} samples per segment",
                f"the SPE-1 Neuropixels rate {SAMPLING_FREQUENCY} Hz and the shards' {first.num_samples} samples per "
                f"segment ({first.shard.name})",
            )
        for index, segment in enumerate(self.segments):
            last = index == len(self.segments) - 1
            if segment.num_samples > metadata.segment_samples or (segment.num_samples < metadata.segment_samples
                                                                  and not last):
                raise SourceFormatError(
                    segment.shard,
                    f"the segment at sample_id {segment.start_sample} holds {segment.num_samples} samples per channel",
                    f"{metadata.segment_samples} (segment_duration_s × sampling_frequency) in every row; only the "
                    "window's last segment may be shorter",
                )

    def _collect_spike_times(self) -> dict[int, np.ndarray]:
        """Each unit's spike times (s, recording clock): segment start + ctt / 1000, listed on its peak channel."""
        metadata = self.cell_metadata
        times = {unit: [] for unit in range(metadata.num_units)}
        for segment in self.segments:
            for channel, unit, milliseconds in zip(segment.spike_channels, segment.spike_units, segment.spike_times_ms):
                if unit not in times or channel != metadata.peak_channels[unit]:
                    raise SourceFormatError(
                        segment.shard,
                        f"the segment at sample_id {segment.start_sample} lists a spike of unit {unit} on channel "
                        f"{channel}",
                        f"unit indices 0..{metadata.num_units - 1} (cit), listed on the unit's peak channel "
                        f"{metadata.peak_channels.get(unit, '')} (unit_peak_channel)",
                    )
                times[unit].append(segment.start_sample / metadata.sampling_frequency + milliseconds / 1000.0)
        return {unit: np.sort(np.array(values, dtype=np.float64)) for unit, values in times.items()}

    def get_metadata_schema(self) -> dict:
        """Add the ``Extracellular``, ``Icephys``, ``Benchmark`` and ``GroundTruthUnit`` blocks."""
        schema = super().get_metadata_schema()
        schema["properties"].update(
            Extracellular=EXTRACELLULAR_METADATA_SCHEMA,
            Icephys=ICEPHYS_METADATA_SCHEMA,
            Benchmark=BENCHMARK_METADATA_SCHEMA,
            GroundTruthUnit=GROUND_TRUTH_UNIT_SCHEMA,
        )
        return schema

    def get_metadata(self) -> dict:
        """Complete defaults; the descriptions carry the preprocessing, split and template method of the release."""
        metadata = self.cell_metadata
        window = f"{len(self.segments)} contiguous segments from sample {self.segments[0].start_sample}"
        split = ", ".join(f"{name}: {sum(s.split == name for s in self.segments)}" for name in self._split_names())
        units = "pA (a current, although patch.npz calls the field patch_v)" if self.recording_mode == "voltage_clamp" \
            else "mV"
        return deep_update(
            super().get_metadata(),
            {
                "Extracellular": {
                    "Device": {"name": "NeuropixelsProbe", "description": "Neuropixels probe, 384 recorded sites",
                               "model": {"manufacturer": "imec"}},
                    "ElectrodeGroup": {"name": "NeuropixelsShank", "description": "the probe's single shank",
                                       "location": "unknown"},
                    "electrode_location": "unknown",
                },
                "Icephys": {
                    "Device": {"name": "PatchAmplifier", "description": "amplifier of the pipette"},
                    "IntracellularElectrode": {"name": "PatchPipette", "description": "pipette"},
                },
                "Benchmark": {
                    "FilteredElectricalSeries": {
                        "name": "FilteredElectricalSeries",
                        "description": (
                            f"preprocessed Neuropixels segments in µV (float32, conversion 1e-6 to volts): "
                            f"preprocessing '{metadata.preprocessing}'; {window}, "
                            f"{metadata.segment_duration_s} s each, on the raw recording's clock"
                        ),
                    },
                    "Segments": {
                        "name": "BenchmarkSegments",
                        "description": (
                            f"the release's segments and their split ({split}; train_fraction "
                            f"{metadata.train_fraction}, contiguous: first segments train, last test)"
                        ),
                    },
                    "PatchTrace": {
                        "name": "BenchmarkPatchTrace",
                        "description": (
                            f"patch.npz patch_v in {units}, timed by its own t_patch_s on the recording's clock "
                            "(written as starting time and rate when those timestamps are regular)"
                        ),
                        "stimulus_description": "N/A",
                    },
                    "Units": {
                        "name": "BenchmarkUnits",
                        "description": (
                            "ground-truth unit of the benchmark window: spike times = segment start + ctt / 1000; "
                            f"waveform_mean = templates.npz ('{metadata.template_method}', µV)"
                        ),
                    },
                },
                "GroundTruthUnit": {"description": "ground-truth spikes of the patched cell"},
            },
        )

    def _split_names(self) -> list[str]:
        return list(dict.fromkeys(segment.split for segment in self.segments))

    def electrode_columns(self) -> dict[str, tuple[str, np.ndarray]]:
        """``bad_channel``, ``is_ground_truth_electrode`` and the Neuropixels 3A ``is_reference_site`` flags."""
        bad = np.zeros(NUM_CHANNELS, dtype=bool)
        bad[list(self.cell_metadata.bad_channels)] = True
        ground_truth = np.arange(NUM_CHANNELS) == self.cell_metadata.gt_electrode
        reference = np.isin(np.arange(NUM_CHANNELS), REFERENCE_SITES)
        return {
            "is_reference_site": ("True for the 10 Neuropixels 3A internal reference sites", reference),
            "bad_channel": ("True for the channels in conversion_metadata.json bad_channel_ids (SpikeInterface "
                            "detect_bad_channels): mask them before amplitude-weighted localization", bad),
            "is_ground_truth_electrode": ("True for gt_electrode_chan_idx, the electrode closest to the pipette tip",
                                          ground_truth),
        }

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add electrodes, the filtered series, the split, the ground-truth unit and the patch trace."""
        metadata = deep_update(self.get_metadata(), metadata or {})
        benchmark = metadata["Benchmark"]
        rate = self.cell_metadata.sampling_frequency
        region = probe_electrodes(nwbfile, metadata["Extracellular"], self.templates.probe_positions,
                                  self.electrode_columns())
        samples = first_seconds(self.recording, rate, stub_test=stub_test)
        series = ElectricalSeries(
            name=benchmark["FilteredElectricalSeries"]["name"],
            description=benchmark["FilteredElectricalSeries"]["description"],
            data=StreamedArray(samples, rows_per_chunk=int(rate)),
            electrodes=region,
            rate=rate,
            starting_time=self.starting_time,
            conversion=1e-6,
            filtering=self.cell_metadata.preprocessing,
        )
        filtered = FilteredEphys(name="FilteredEphys")
        get_module(nwbfile, "ecephys", "processed extracellular electrophysiology").add(filtered)
        filtered.add_electrical_series(series)
        self._add_segments(nwbfile, benchmark["Segments"])
        stop = self.starting_time + (STUB_SECONDS if stub_test else np.inf)
        add_benchmark_unit(
            nwbfile, benchmark["Units"], metadata["GroundTruthUnit"],
            spike_times=self.spike_times[0][self.spike_times[0] < stop],
            template=self.templates, metadata=self.cell_metadata, electrode_region=region,
        )
        self._add_patch_trace(nwbfile, metadata["Icephys"], benchmark["PatchTrace"], stub_test=stub_test)

    def _add_segments(self, nwbfile: NWBFile, block: dict) -> None:
        """One row per segment: its span, ``split`` and ``sample_id``."""
        table = TimeIntervals(name=block["name"], description=block["description"])
        table.add_column(name="split", description="the DatasetDict split holding the segment (train or test)")
        table.add_column(name="sample_id", description="the segment's first sample on the recording's clock")
        rate = self.cell_metadata.sampling_frequency
        for segment in self.segments:
            table.add_row(start_time=segment.start_sample / rate, stop_time=segment.stop_sample / rate,
                          split=segment.split, sample_id=segment.start_sample)
        nwbfile.add_time_intervals(table)

    def _add_patch_trace(self, nwbfile: NWBFile, icephys: dict, block: dict, *, stub_test: bool) -> None:
        """The ``patch.npz`` trace as a Voltage/CurrentClampSeries on ``t_patch_s`` (shifted onto the recording's
        clock if it is relative to the window); as starting time and rate if those timestamps are regular."""
        trace, timestamps = self.patch.trace, self.patch.timestamps.shifted(self.patch_clock_offset)
        if stub_test:
            span = float(timestamps[-1] - timestamps[0])
            count = int(STUB_SECONDS * (len(timestamps) - 1) / span) if span > 0 else len(timestamps)
            trace, timestamps = trace.head(count), timestamps.head(count)
        timing = regular_timing(timestamps)
        timing = timing or dict(timestamps=StreamedArray(timestamps))
        electrode_block = icephys["IntracellularElectrode"]
        electrode = nwbfile.icephys_electrodes.get(electrode_block["name"]) or nwbfile.create_icephys_electrode(
            device=get_or_create_device(nwbfile, icephys["Device"]), **electrode_block
        )
        nwbfile.add_acquisition(
            SERIES_TYPES[self.recording_mode](
                name=block["name"],
                description=block["description"],
                stimulus_description=block.get("stimulus_description", "N/A"),
                data=StreamedArray(trace),
                electrode=electrode,
                **timing,
                conversion=self.conversion,
            )
        )


#: Timestamps whose steps agree to this many decimals (s) are regular: nwbinspector's ``check_regular_timestamps``.
REGULAR_DECIMALS = 9

#: Timestamps read per step while checking regularity.
TIMESTAMP_BLOCK = 1 << 20


def regular_timing(timestamps) -> dict | None:
    """``{starting_time, rate}`` equivalent to ``timestamps`` if their steps are all equal (to
    :data:`REGULAR_DECIMALS` decimals, as nwbinspector judges), else None. Reads the timestamps block by block."""
    count = len(timestamps)
    if count < 3:
        return None
    steps = set()
    for start in range(0, count - 1, TIMESTAMP_BLOCK):
        block = np.asarray(timestamps[start : start + TIMESTAMP_BLOCK + 1], dtype=np.float64)
        steps.update(np.unique(np.round(np.diff(block), REGULAR_DECIMALS)).tolist())
        if len(steps) > 1:
            return None
    first, last = float(timestamps[0]), float(timestamps[count - 1])
    return dict(starting_time=first, rate=(count - 1) / (last - first)) if last > first else None
