"""One cell of the SPE-1 Arrow re-packaging (Zhao et al. 2026 benchmark): a Hugging Face DatasetDict folder.

Adds the preprocessed segments as one filtered ``ElectricalSeries`` in ``processing/ecephys`` (float32 µV with
conversion 1e-6, on the raw recording's clock: starting time = first ``sample_id`` / rate), the train/test split as a
``TimeIntervals`` table, the electrodes (``templates.npz`` geometry, bad and ground-truth channels), the ground-truth
unit (spikes from ``cit``/``ctt``, the mean template, its location) and the patch trace of ``patch.npz`` on its own
timestamps. Everything large is streamed (:class:`~nwb_conversions.writing.plan.StreamedArray`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
from neuroconv.basedatainterface import BaseDataInterface
from neuroconv.tools.nwb_helpers import get_module
from pynwb import NWBFile
from pynwb.ecephys import ElectricalSeries, FilteredEphys
from pynwb.epoch import TimeIntervals

from ..layouts.spe1_arrow.recording import SegmentedRecording
from ..layouts.spe1_arrow.segments import check_contiguous, index_segments
from ..layouts.spe1_arrow.side_files import patch_clock_offset, read_conversion_metadata, read_patch, read_templates
from ..layouts.spe1_arrow.stated_twice import (
    check_dataset_stats,
    check_metadata_stated_twice,
    check_templates_window,
    check_unit_locations,
    check_window,
    sample_id_origin,
)
from ..metadata.assembly import deep_update
from ..readers.dataset_dict import dataset_dict_splits
from ..readers.dataset_dict_features import read_split_features
from ..writing.plan import StreamedArray
from .binary_recording import EXTRACELLULAR_METADATA_SCHEMA
from .electrodes import get_or_create_device
from .icephys import ICEPHYS_METADATA_SCHEMA, series_type_of
from .metadata_blocks import MetadataBlocksMixin
from .neuropixels_binary import NUM_CHANNELS, REFERENCE_SITES
from .schemas import block_schema, named_block
from .spe1_arrow_checks import check_channel_map, check_patch_cell, check_rate_and_lengths, collect_spike_times
from .spe1_arrow_objects import add_benchmark_unit, probe_electrodes
from .stub import STUB_SECONDS, first_seconds
from .time_basis import regular_timing
from .units import GROUND_TRUTH_UNIT_SCHEMA

BENCHMARK_METADATA_SCHEMA = block_schema(
    FilteredElectricalSeries=named_block("name", "description"),
    Segments=named_block("name", "description"),
    PatchTrace=named_block("name", "description", "stimulus_description"),
    Units=named_block("name", "description"),
)


class SPE1ArrowCellInterface(MetadataBlocksMixin, BaseDataInterface):
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
    metadata_blocks = {
        "Extracellular": EXTRACELLULAR_METADATA_SCHEMA,
        "Icephys": ICEPHYS_METADATA_SCHEMA,
        "Benchmark": BENCHMARK_METADATA_SCHEMA,
        "GroundTruthUnit": GROUND_TRUTH_UNIT_SCHEMA,
    }

    def __init__(
        self,
        folder_path: str | Path,
        recording_mode: Literal["voltage_clamp", "current_clamp"],
        conversion: float,
        channel_map_path: str | Path | None = None,
        verbose: bool = False,
    ):
        self.series_type = series_type_of(recording_mode)
        folder = Path(folder_path)
        splits = dataset_dict_splits(folder)
        self.cell_metadata = read_conversion_metadata(folder / "conversion_metadata.json")
        features = {split: read_split_features(folder / split) for split in splits}
        segments = index_segments(splits, num_channels=NUM_CHANNELS, features_by_split=features)
        check_rate_and_lengths(self.cell_metadata, segments, folder / "conversion_metadata.json")
        check_contiguous(segments)
        self.sample_id_origin = sample_id_origin(self.cell_metadata, segments)
        self.segments = [replace(segment, start_sample=segment.start_sample + self.sample_id_origin)
                         for segment in segments]
        self.recording = SegmentedRecording(self.segments, num_channels=NUM_CHANNELS)
        self.spike_times = collect_spike_times(self.cell_metadata, self.segments)
        self.templates = read_templates(folder / "templates.npz", self.cell_metadata)
        if channel_map_path is not None:
            check_channel_map(channel_map_path, self.templates, folder / "templates.npz")
        self._check_facts_stated_twice(folder)
        self.patch = read_patch(folder / "patch.npz")
        check_patch_cell(self.patch, self.cell_metadata)
        all_spikes = np.sort(np.concatenate(list(self.spike_times.values())))
        self.patch_clock_offset = patch_clock_offset(
            self.patch, all_spikes, self.starting_time, tolerance_s=1.0 / self.cell_metadata.sampling_frequency
        )
        self.recording_mode = recording_mode
        self.conversion = float(conversion)
        super().__init__(verbose=verbose, folder_path=str(folder), recording_mode=recording_mode)

    def _check_facts_stated_twice(self, folder: Path) -> None:
        """``conversion_metadata.json`` against itself, the shards, ``templates.npz`` and ``dataset_stats.json``."""
        metadata, path = self.cell_metadata, folder / "conversion_metadata.json"
        check_metadata_stated_twice(metadata, path)
        check_templates_window(metadata, self.templates, folder / "templates.npz")
        check_unit_locations(metadata, self.templates, path)
        check_window(metadata, self.segments, sum(len(times) for times in self.spike_times.values()), path)
        check_dataset_stats(folder / "dataset_stats.json", NUM_CHANNELS)

    @property
    def starting_time(self) -> float:
        """The first segment's start on the raw recording's clock (s)."""
        return self.segments[0].start_sample / self.cell_metadata.sampling_frequency

    def default_metadata(self) -> dict:
        """Complete defaults; the descriptions carry the preprocessing, split and template method of the release."""
        metadata = self.cell_metadata
        window = f"{len(self.segments)} contiguous segments from sample {self.segments[0].start_sample}"
        split = ", ".join(f"{name}: {sum(s.split == name for s in self.segments)}" for name in self._split_names())
        units = "pA (a current, although patch.npz calls the field patch_v)" if self.recording_mode == "voltage_clamp" \
            else "mV"
        return {
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
        }

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
                          split=segment.split, sample_id=segment.start_sample - self.sample_id_origin)
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
            self.series_type(
                name=block["name"],
                description=block["description"],
                stimulus_description=block.get("stimulus_description", "N/A"),
                data=StreamedArray(trace),
                electrode=electrode,
                **timing,
                conversion=self.conversion,
            )
        )
