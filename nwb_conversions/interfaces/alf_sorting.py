"""ALF spike sorting (``spikes.*`` + ``clusters.*``) of one Neuropixels Opto session → ``units`` and electrodes.

Mapping
-------
- One ``units`` row per cluster id 0..K−1, in id order (K = the length of the ``clusters.*`` arrays); a cluster
  without spikes keeps its row, with no spike times. ``spike_times`` are the source's ``spikes.times`` values, bit
  for bit, grouped by ``spikes.clusters`` with one stable argsort (time order kept within a cluster).
- Columns: ``cluster_id``, ``ks_label`` (``clusters.KSLabel.csv``), ``qc_pass``, ``presence_ratio``,
  ``isi_violations_ratio``, ``amplitude_cutoff``, ``trough_to_peak_ms``, ``waveform_type`` (RS/FS),
  ``peak_channel`` (−1 where unavailable), ``template_depth_um``, ``depth_from_surface_um``; ``waveform_mean`` from
  ``clusters.templates`` (K, T, C); ``electrodes`` links each unit to its peak channel's electrode (none for −1).
- Electrodes: one row per ``clusters.channelPositions`` row (``rel_x``/``rel_y`` in µm), one group for the probe.

The units table is written by NeuroConv's ``add_sorting_to_nwbfile`` from a SpikeInterface sorting
(:class:`AlfSortingExtractor`) whose segment hands out the stored seconds directly
(``get_unit_spike_train_in_seconds``), so no time goes through a sample index and back.

The arrays are ``.npy`` files, read whole (the format offers no partial read worth having here): a 6 M-spike session
holds ~72 MB of spikes and a copy grouped by cluster.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from neuroconv.datainterfaces.ecephys.basesortingextractorinterface import BaseSortingExtractorInterface
from pynwb import NWBFile
from spikeinterface.core import BaseSorting, BaseSortingSegment

from ..layouts.np_opto.consistency import check_sorting_agrees
from ..layouts.np_opto.session import read_session_json, session_folder
from ..layouts.np_opto.sorting import check_cluster_ids, read_clusters, read_spikes
from ..metadata.assembly import deep_update
from .electrodes import add_probe_electrodes
from .metadata_blocks import MetadataBlocksMixin
from .schemas import DEVICE_SCHEMA, ELECTRODE_GROUP_SCHEMA, block_schema
from .stub import STUB_SECONDS

#: Used when ``session.json`` has no ``sampling_rate`` (Neuropixels action-potential band rate).
DEFAULT_SAMPLING_RATE = 30_000.0

#: The units columns, by property name: (source, description).
UNIT_COLUMNS = {
    "cluster_id": "cluster id (row of the clusters.* arrays, value in spikes.clusters)",
    "ks_label": "Kilosort cluster label (clusters.KSLabel.csv); empty where the file has no row for the cluster",
    "qc_pass": "passed the session's QC thresholds (clusters.qcPass; thresholds in the units description)",
    "presence_ratio": "QC metric: fraction of the session with spikes (clusters.presenceRatio; NaN if no QC file)",
    "isi_violations_ratio": "QC metric: ISI violations ratio (clusters.isiViolationsRatio; NaN if no QC file)",
    "amplitude_cutoff": "QC metric: amplitude cutoff (clusters.amplitudeCutoff; NaN if no QC file)",
    "trough_to_peak_ms": "spike width, trough to peak, in ms (clusters.troughToPeak; NaN if no waveform data)",
    "waveform_type": "RS (regular spiking) or FS (fast spiking) (clusters.waveformType.txt)",
    "peak_channel": "peak channel (row of the electrodes table of this probe; -1 if unavailable)",
    "template_depth_um": "template depth in raw probe coordinates, µm (clusters.templateDepths)",
    "depth_from_surface_um": "depth below the brain surface, µm (clusters.depthsFromSurface, computed with top_chan)",
}

ALF_SORTING_SCHEMA = block_schema(
    Device=DEVICE_SCHEMA,
    ElectrodeGroup=ELECTRODE_GROUP_SCHEMA,
    electrode_location={"type": "string", "description": "brain area of every electrode row"},
    units_description={"type": "string"},
)


def group_spikes_by_cluster(
    spike_times: np.ndarray, spike_clusters: np.ndarray, num_clusters: int
) -> tuple[np.ndarray, np.ndarray]:
    """Group spike times by cluster with one stable argsort.

    Returns
    -------
    grouped_times : numpy.ndarray
        The spike times, cluster 0's first, each cluster's in time order.
    boundaries : numpy.ndarray
        ``num_clusters + 1`` offsets: cluster ``k`` is ``grouped_times[boundaries[k]:boundaries[k + 1]]``.
    """
    in_time_order = bool(np.all(spike_times[1:] >= spike_times[:-1]))
    if in_time_order:  # a stable sort by cluster keeps time order; 16-bit keys get numpy's radix sort
        keys = spike_clusters.astype(np.uint16) if num_clusters <= 1 << 16 else spike_clusters
        order = np.argsort(keys, kind="stable")
    else:
        order = np.lexsort((spike_times, spike_clusters))
    counts = np.bincount(spike_clusters, minlength=num_clusters)
    boundaries = np.zeros(num_clusters + 1, dtype=np.int64)
    np.cumsum(counts, out=boundaries[1:])
    return spike_times[order], boundaries


class AlfSortingSegment(BaseSortingSegment):
    """One segment of spike times in seconds, grouped by cluster."""

    def __init__(self, grouped_times: np.ndarray, boundaries: np.ndarray, sampling_frequency: float):
        super().__init__(t_start=None)
        self.grouped_times = grouped_times
        self.boundaries = boundaries
        self.sampling_frequency = sampling_frequency

    def _times(self, unit_id) -> np.ndarray:
        unit = int(unit_id)
        return self.grouped_times[self.boundaries[unit] : self.boundaries[unit + 1]]

    def get_unit_spike_train(self, unit_id, start_frame=None, end_frame=None) -> np.ndarray:
        frames = np.round(self._times(unit_id) * self.sampling_frequency).astype(np.int64)
        if start_frame is not None:
            frames = frames[frames >= start_frame]
        if end_frame is not None:
            frames = frames[frames < end_frame]
        return frames

    def get_unit_spike_train_in_seconds(self, unit_id, start_time=None, end_time=None) -> np.ndarray:
        """The stored spike times (s), unchanged."""
        times = self._times(unit_id)
        if start_time is not None:
            times = times[times >= start_time]
        if end_time is not None:
            times = times[times < end_time]
        return times


class AlfSortingExtractor(BaseSorting):
    """A SpikeInterface sorting over ALF spikes: unit ids are the cluster ids 0..K−1 (clusters without spikes too).

    Parameters
    ----------
    spike_times : numpy.ndarray
        ``spikes.times`` (s).
    spike_clusters : numpy.ndarray
        ``spikes.clusters``, each below ``num_clusters``.
    num_clusters : int
        K, the number of rows of the ``clusters.*`` arrays.
    sampling_frequency : float
        The acquisition rate (Hz); spike frames are ``round(time × rate)``, spike times stay the stored seconds.
    """

    def __init__(
        self, spike_times: np.ndarray, spike_clusters: np.ndarray, num_clusters: int, sampling_frequency: float
    ):
        super().__init__(sampling_frequency=sampling_frequency, unit_ids=np.arange(num_clusters))
        grouped, boundaries = group_spikes_by_cluster(spike_times, spike_clusters, num_clusters)
        self.add_sorting_segment(AlfSortingSegment(grouped, boundaries, sampling_frequency))

    def spike_trains_in_seconds(self) -> list[np.ndarray]:
        """Every cluster's spike times (s), in cluster id order (views, no copy)."""
        segment = self._sorting_segments[0]
        return [segment._times(unit_id) for unit_id in self.unit_ids]


class AlfSortingInterface(MetadataBlocksMixin, BaseSortingExtractorInterface):
    """Kilosort clusters of one Neuropixels Opto session in ALF files (``spikes.*``, ``clusters.*``).

    Parameters
    ----------
    folder_path : str or Path
        The session folder (``session.json``, ``spikes.*.npy``, ``clusters.*``); read and checked at once.
    """

    display_name = "ALF spike sorting (Neuropixels Opto)"
    keywords = ("extracellular electrophysiology", "spike sorting", "Neuropixels", "ALF")
    associated_suffixes = (".npy", ".json", ".txt", ".csv")
    info = "Spike times, cluster QC metrics and templates of a Kilosort sorting stored as ALF .npy files."
    metadata_blocks = {"AlfSorting": ALF_SORTING_SCHEMA}

    @classmethod
    def get_extractor_class(cls):
        return AlfSortingExtractor

    def __init__(self, folder_path: str | Path, verbose: bool = False):
        super().__init__(verbose=verbose, folder_path=str(folder_path))

    def _initialize_extractor(self, interface_kwargs: dict) -> AlfSortingExtractor:
        """Read and check the session's spikes, clusters and ``session.json`` (and that the facts they state twice
        agree); build the sorting."""
        folder = session_folder(interface_kwargs["folder_path"])
        self.session_info = read_session_json(folder / "session.json")
        self.spike_times, self.spike_clusters = read_spikes(folder)
        self.clusters = read_clusters(folder)
        check_cluster_ids(folder, self.spike_clusters, self.clusters.num_clusters)
        check_sorting_agrees(self.session_info, self.spike_times, self.clusters)
        self.sampling_frequency = self.session_info.sampling_rate or DEFAULT_SAMPLING_RATE
        self.extractor_kwargs = {}
        sorting = self._sorting(self.spike_times, self.spike_clusters)
        return sorting

    def _sorting(self, spike_times: np.ndarray, spike_clusters: np.ndarray) -> AlfSortingExtractor:
        """A sorting of the given spikes with every cluster's properties set."""
        sorting = AlfSortingExtractor(spike_times, spike_clusters, self.clusters.num_clusters, self.sampling_frequency)
        for name, values in self.unit_properties().items():
            sorting.set_property(name, values)
        return sorting

    def unit_properties(self) -> dict[str, np.ndarray]:
        """The per-cluster columns; ``ks_label`` and ``waveform_type`` only when their file exists."""
        clusters = self.clusters
        properties = {
            "cluster_id": np.arange(clusters.num_clusters),
            "ks_label": clusters.ks_label,
            "qc_pass": clusters.qc_pass,
            "presence_ratio": clusters.presence_ratio,
            "isi_violations_ratio": clusters.isi_violations_ratio,
            "amplitude_cutoff": clusters.amplitude_cutoff,
            "trough_to_peak_ms": clusters.trough_to_peak_ms,
            "waveform_type": clusters.waveform_type,
            "peak_channel": clusters.peak_channel,
            "template_depth_um": clusters.template_depths,
            "depth_from_surface_um": clusters.depths_from_surface,
        }
        return {name: np.asarray(values) for name, values in properties.items() if values is not None}

    def missing_file_notes(self) -> list[str]:
        """Say which optional cluster files are absent (their columns are left out)."""
        folder = Path(self.source_data["folder_path"])
        notes = []
        if self.clusters.ks_label is None:
            notes.append(f"{folder}: no clusters.KSLabel.csv, so the units table has no ks_label column")
        if self.clusters.waveform_type is None:
            notes.append(f"{folder}: no clusters.waveformType.txt, so the units table has no waveform_type column")
        if self.session_info.sampling_rate is None:
            notes.append(
                f"{self.session_info.path}: no sampling_rate; {DEFAULT_SAMPLING_RATE:g} Hz (the Neuropixels AP rate) "
                "is assumed for the units' resolution and the templates' sampling rate"
            )
        return notes

    def default_metadata(self) -> dict:
        """The session id and the probe's defaults (the dataset YAML refines them)."""
        info = self.session_info
        probe = f"probe {info.probe_index}" if info.probe_index is not None else "probe"
        thresholds = ", ".join(f"{key} {value}" for key, value in info.qc_thresholds.items()) or "not documented"
        return {
            "NWBFile": {"session_id": info.session_id},
            "AlfSorting": {
                "Device": {"name": "NeuropixelsOpto", "description": f"Neuropixels Opto {probe}"},
                "ElectrodeGroup": {
                    "name": f"probe{info.probe_index if info.probe_index is not None else ''}",
                    "description": f"the recording sites of Neuropixels Opto {probe}",
                    "location": "not documented",
                },
                "electrode_location": "root",
                "units_description": (
                    f"Kilosort clusters of {info.session_id}, one row per cluster id (clusters without spikes "
                    f"included). QC thresholds (session.json qc_thresholds): {thresholds}. waveform_mean is "
                    "clusters.templates; its units are not documented (possibly Kilosort template units, not "
                    "volts)."
                ),
            },
        }

    def stub_sorting(self) -> AlfSortingExtractor:
        """The spikes of the first :data:`STUB_SECONDS`, every cluster kept."""
        keep = self.spike_times < STUB_SECONDS
        return self._sorting(self.spike_times[keep], self.spike_clusters[keep])

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add the probe's electrodes and the units table (NeuroConv's ``add_sorting_to_nwbfile``).

        Parameters
        ----------
        nwbfile : NWBFile
        metadata : dict, optional
            Uses ``metadata["AlfSorting"]``.
        stub_test : bool, default: False
            Only the spikes of the first few seconds (every cluster keeps its row).
        """
        from neuroconv.tools.spikeinterface import add_sorting_to_nwbfile

        metadata = deep_update(self.get_metadata(), metadata or {})
        block = metadata["AlfSorting"]
        clusters = self.clusters
        first_row = len(nwbfile.electrodes) if nwbfile.electrodes is not None else 0
        add_probe_electrodes(
            nwbfile,
            device_metadata=block["Device"],
            group_metadata=block["ElectrodeGroup"],
            positions_um=clusters.channel_positions,
            electrode_location=block["electrode_location"],
        )
        peak_electrodes = [[first_row + int(channel)] if channel >= 0 else [] for channel in clusters.peak_channel]
        add_sorting_to_nwbfile(
            self.stub_sorting() if stub_test else self.sorting_extractor,
            nwbfile=nwbfile,
            property_descriptions=UNIT_COLUMNS,
            units_description=block["units_description"],
            unit_electrode_indices=peak_electrodes,
            waveform_data_dict={"means": clusters.templates, "sampling_rate": self.sampling_frequency},
        )
