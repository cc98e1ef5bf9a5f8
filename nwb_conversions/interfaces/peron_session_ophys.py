"""SSC-11 ``an*sess_struct.mat``: the calcium imaging of one subvolume (3 planes), its ROIs and their traces.

Mapping
-------
- Each ``sess.caTSA.roiArray{v}`` → ``ImagingPlane<v>`` (imaging rate, 512 × 512 pixels over 600 µm, so
  ``grid_spacing`` 600/512 µm; ``origin_coords`` the plane's depth relative to plane 1 of subvolume 1, by the lab's
  convention z = (subvolume − 1)·45 µm + (plane − 1)·15 µm) and ``ImageSegmentation/PlaneSegmentation<v>``: one row
  per ROI, its ``id`` the MATLAB ROI id, ``pixel_mask`` decoded from the 1-based column-major pixel indices
  (x = column, y = row, 0-based, weight 1), ``cellFeatures`` numbers as columns, and, given the ablation files,
  ``is_ablated`` and ``ablation_date``.
- Raw F (``caTSA.valueMatrix``) → ``Fluorescence/FluorescencePlane<v>`` and ΔF/F
  (``caTSA.dffTimeSeriesArray.valueMatrix``) → ``DfOverF/DfOverFPlane<v>``: time × ROI (the MATLAB ROI × time
  matrix transposed), the plane's ROIs only, timestamps = ``caTSA.time`` in seconds (shared by all series).
  From v7.3 files the matrices are streamed in blocks of time.
- Detected events (``caTSA.caPeakEventSeriesArray``) → ``CalciumEventsPlane<v>``, an ``EventsTable`` in
  ``processing/ophys`` with one row per event: its timestamp (s), the ROI (a region of the plane's segmentation),
  the ROI id and the trial.

Regular frame times (to the nanosecond) are written as a start time and rate, as NWB's best practice asks;
otherwise (e.g. frames imaged trial by trial, with gaps) as timestamps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hdmf.common import DynamicTableRegion, VectorData
from neuroconv.basedatainterface import BaseDataInterface
from pynwb import NWBFile
from pynwb.event import EventsTable, TimestampVectorData
from pynwb.ophys import DfOverF, Fluorescence, ImageSegmentation

from ..layouts.ssc11.imaging import read_calcium_imaging
from ..layouts.ssc11.release import read_ablation_file
from ..layouts.ssc11.rois import IMAGE_SIZE
from ..layouts.ssc11.struct import load_session_struct
from ..layouts.ssc11.traces import PlaneTraces
from ..metadata.assembly import deep_update
from ..writing.plan import StreamedArray
from .electrodes import get_or_create_device
from .imaging_plane import OPTICAL_CHANNEL_SCHEMA, add_imaging_plane, processing_module
from .metadata_blocks import MetadataBlocksMixin
from .schemas import DEVICE_SCHEMA, block_schema, named_block
from .stub import STUB_SECONDS
from .time_basis import time_basis

#: Field of view side (µm) of every plane (CRCNS ssc-11 page; ``pix2um = 600/512`` in the lab's code).
FIELD_OF_VIEW_UM = 600.0

#: The lab's depth convention (``get_ablation_data.m``): subvolumes 45 µm apart, planes 15 µm apart.
SUBVOLUME_SPACING_UM, PLANE_SPACING_UM = 45.0, 15.0

#: Elements per block of time read from a trace matrix (16 MiB of float64), whatever the number of ROIs.
ELEMENTS_PER_BLOCK = 2**21

#: Named where a wavelength is not documented.
RELEASE = "SSC-11"

CALCIUM_IMAGING_SCHEMA = block_schema(
    Device=DEVICE_SCHEMA,
    OpticalChannel=OPTICAL_CHANNEL_SCHEMA,
    ImagingPlane=named_block(
        "description", "location", "indicator", positive_numbers=("excitation_lambda", "imaging_rate")
    ),
    PlaneSegmentation=named_block("description"),
    Fluorescence=named_block("description"),
    DfOverF=named_block("description"),
    CalciumEvents=named_block("description"),
    IsAblated=named_block("description"),
)


class PeronSessionOphysInterface(MetadataBlocksMixin, BaseDataInterface):
    """The 3-plane calcium imaging of one SSC-11 subvolume file (``an*sess_struct.mat``, MATLAB v5 or v7.3).

    Parameters
    ----------
    file_path : str or Path
        The session struct file.
    subvolume : int, optional
        The subvolume number (for the planes' relative depth); depths are left out without it.
    ablation_file_paths : list of str, optional
        The animal's ablation files (``manualCurationData.mat``, ``an<ID>_<date>.mat``, ``an<ID>_all.mat``): with
        them the segmentation gets ``is_ablated`` and ``ablation_date`` columns.
    """

    display_name = "SSC-11 session struct: calcium imaging"
    keywords = ("two-photon", "calcium imaging", "ROI", "MATLAB")
    associated_suffixes = (".mat",)
    info = "ROIs, raw F, ΔF/F and calcium events of one subvolume of Peron et al. 2020 (CRCNS ssc-11)."
    metadata_blocks = {"CalciumImaging": CALCIUM_IMAGING_SCHEMA}

    def __init__(
        self,
        file_path: str | Path,
        subvolume: int | None = None,
        ablation_file_paths: list[str] | None = None,
        verbose: bool = False,
    ):
        self.session = load_session_struct(file_path)
        self.imaging = read_calcium_imaging(self.session)
        self.subvolume = subvolume
        self.ablations = [read_ablation_file(path) for path in ablation_file_paths or []]
        self.ablation_files_given = ablation_file_paths is not None
        super().__init__(
            verbose=verbose,
            file_path=str(file_path),
            subvolume=subvolume,
            ablation_file_paths=None if ablation_file_paths is None else [str(path) for path in ablation_file_paths],
        )

    def default_metadata(self) -> dict:
        """Defaults for every object this interface creates (the dataset YAML refines them)."""
        return {
            "CalciumImaging": {
                "Device": {"name": "TwoPhotonMicroscope", "description": "two-photon microscope"},
                "OpticalChannel": {"name": "OpticalChannel", "description": "calcium indicator fluorescence"},
                "ImagingPlane": {
                    "description": "one plane of a 3-plane imaging subvolume",
                    "location": "SSp-bfd",
                    "indicator": "not documented",
                },
                "PlaneSegmentation": {"description": "ROIs of one imaging plane (sess.caTSA.roiArray)"},
                "Fluorescence": {"description": "raw fluorescence F (sess.caTSA.valueMatrix)"},
                "DfOverF": {"description": "ΔF/F (sess.caTSA.dffTimeSeriesArray.valueMatrix)"},
                "CalciumEvents": {"description": "detected calcium events (sess.caTSA.caPeakEventSeriesArray)"},
                "IsAblated": {
                    "description": "the neuron is listed as successfully ablated in the animal's ablation files"
                },
            }
        }

    def consistency_notes(self) -> list[str]:
        """What the struct lacks (ΔF/F, events, features) and what the conversion leaves out."""
        notes = list(self.imaging.notes)
        if not self.ablation_files_given:
            notes.append(f"{self.session.file_path.name}: no ablation files given: no is_ablated column")
        return notes

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add the imaging planes, their segmentations, the raw F and ΔF/F series and the events tables.

        ``metadata["CalciumImaging"]`` (over :meth:`get_metadata`'s) describes the planes; ``stub_test`` writes only
        the first few seconds of each trace.
        """
        metadata = deep_update(self.get_metadata(), metadata or {})["CalciumImaging"]
        imaging = self.imaging
        num_frames = imaging.timestamps.size
        if stub_test:
            num_frames = int(np.searchsorted(imaging.timestamps, imaging.timestamps[0] + STUB_SECONDS)) or 1
        ophys = processing_module(
            nwbfile, "ophys", "optical physiology: ROIs, raw fluorescence, ΔF/F and calcium events"
        )
        segmentation = ophys.data_interfaces.get("ImageSegmentation") or ophys.add(ImageSegmentation())
        fluorescence = ophys.add(Fluorescence(name="Fluorescence"))
        df_over_f = ophys.add(DfOverF(name="DfOverF")) if imaging.dff is not None else None
        device = get_or_create_device(nwbfile, metadata["Device"])
        time_basis_of_traces = time_basis(imaging.timestamps[:num_frames])
        for plane in imaging.planes:
            imaging_plane = self._add_imaging_plane(nwbfile, plane.plane_number, device, metadata)
            table = self._add_plane_segmentation(segmentation, imaging_plane, plane, metadata)
            region = table.create_roi_table_region(region=list(range(plane.roi_ids.size)), description="all ROIs")
            for container, matrix, key, unit in (
                (fluorescence, imaging.raw_f, "Fluorescence", "a.u."),
                (df_over_f, imaging.dff, "DfOverF", "n.a."),
            ):
                if container is None:
                    continue
                traces = PlaneTraces(matrix, plane.matrix_rows, num_frames)
                rows_per_chunk = max(1, min(num_frames, ELEMENTS_PER_BLOCK // max(1, plane.roi_ids.size)))
                series = container.create_roi_response_series(
                    name=f"{key}Plane{plane.plane_number}",
                    description=f"{metadata[key]['description']}, plane {plane.plane_number}: time x ROI",
                    data=StreamedArray(traces, rows_per_chunk=rows_per_chunk),
                    rois=region,
                    unit=unit,
                    **time_basis_of_traces,
                )
                if "timestamps" in time_basis_of_traces and isinstance(time_basis_of_traces["timestamps"], np.ndarray):
                    time_basis_of_traces = {"timestamps": series}  # later series link to the first one's timestamps
            self._add_events(
                ophys, table, plane, metadata, end_time=imaging.timestamps[num_frames - 1], stub_test=stub_test
            )

    def _add_imaging_plane(self, nwbfile: NWBFile, plane_number: int, device, metadata: dict):
        plane = dict(metadata["ImagingPlane"])
        plane["description"] = (
            f"{plane.get('description', 'imaging plane')}: plane {plane_number} of subvolume "
            f"{self.subvolume or 'unknown'}, {IMAGE_SIZE} x {IMAGE_SIZE} pixels over {FIELD_OF_VIEW_UM:g} x "
            f"{FIELD_OF_VIEW_UM:g} µm"
        )
        spacing_m = FIELD_OF_VIEW_UM / IMAGE_SIZE * 1e-6
        depth = {}
        if self.subvolume is not None:
            depth_um = (self.subvolume - 1) * SUBVOLUME_SPACING_UM + (plane_number - 1) * PLANE_SPACING_UM
            depth = dict(
                origin_coords=[0.0, 0.0, depth_um * 1e-6],
                origin_coords_unit="meters",
                reference_frame=(
                    "x, y: the image's first pixel; z: depth relative to plane 1 of subvolume 1 of this animal, by the "
                    "lab's convention (subvolumes 45 µm apart, planes 15 µm apart); the absolute depth is not "
                    "documented"
                ),
            )
        return add_imaging_plane(
            nwbfile,
            device,
            metadata["OpticalChannel"],
            plane,
            release=RELEASE,
            name=f"ImagingPlane{plane_number}",
            grid_spacing=[spacing_m, spacing_m],
            grid_spacing_unit="meters",
            **depth,
        )

    def _add_plane_segmentation(self, segmentation: ImageSegmentation, imaging_plane, plane, metadata: dict):
        imaging = self.imaging
        table = segmentation.create_plane_segmentation(
            name=f"PlaneSegmentation{plane.plane_number}",
            description=(
                f"{metadata['PlaneSegmentation']['description']}, plane {plane.plane_number}. id = the MATLAB ROI id; "
                "pixel_mask from its 1-based column-major pixel indices (x = column, y = row, 0-based)"
            ),
            imaging_plane=imaging_plane,
        )
        columns = {}
        for name, values in imaging.cell_features.items():
            table.add_column(name=name, description=f"cellFeatures '{name}' of the session struct (per ROI)")
            columns[name] = values[plane.matrix_rows]
        if self.ablations:
            ablated_on = {}
            for record in self.ablations:
                for roi_id in record.roi_ids.tolist():
                    ablated_on.setdefault(roi_id, record.date or "date not recorded")
            table.add_column(
                name="is_ablated",
                description=(
                    f"{metadata['IsAblated']['description']} (any ablation of the animal, before or after this "
                    f"session; files: {', '.join(record.file_path.name for record in self.ablations)})"
                ),
            )
            table.add_column(
                name="ablation_date", description="date of the ablation that removed the neuron, '' if none"
            )
            columns["is_ablated"] = np.array([roi_id in ablated_on for roi_id in plane.roi_ids.tolist()])
            columns["ablation_date"] = [ablated_on.get(roi_id, "") for roi_id in plane.roi_ids.tolist()]
        for index, (roi_id, mask) in enumerate(zip(plane.roi_ids.tolist(), plane.pixel_masks)):
            pixel_mask = [(int(x), int(y), float(weight)) for x, y, weight in mask]
            table.add_roi(id=roi_id, pixel_mask=pixel_mask, **{name: values[index] for name, values in columns.items()})
        return table

    def _add_events(self, ophys, table, plane, metadata: dict, *, end_time: float, stub_test: bool) -> None:
        imaging = self.imaging
        if imaging.event_times is None:
            return
        rows, times, trials = [], [], []
        for position, matrix_row in enumerate(plane.matrix_rows):
            event_times = imaging.event_times[matrix_row]
            keep = event_times <= end_time if stub_test else np.ones(event_times.size, dtype=bool)
            rows.append(np.full(int(keep.sum()), position))
            times.append(event_times[keep])
            if imaging.event_trials is not None:
                trials.append(imaging.event_trials[matrix_row][keep])
        rows, times = np.concatenate(rows), np.concatenate(times)
        if times.size == 0:
            return
        order = np.argsort(times, kind="stable")
        columns = [
            TimestampVectorData(name="timestamp", description="event time (s)", data=times[order]),
            DynamicTableRegion(name="roi", description="the ROI of the event", data=rows[order], table=table),
            VectorData(name="roi_id", description="the MATLAB ROI id", data=plane.roi_ids[rows[order]]),
        ]
        if trials:
            columns.append(VectorData(name="trial_id", description="trial of the event (eventTrials)",
                                      data=np.concatenate(trials)[order]))
        ophys.add(
            EventsTable(
                name=f"CalciumEventsPlane{plane.plane_number}",
                description=(
                    f"{metadata['CalciumEvents']['description']}, plane {plane.plane_number}: one row per event"
                ),
                source_description="event detection of the Peron lab's pipeline (caPeakEventSeriesArray)",
                columns=columns,
            )
        )
