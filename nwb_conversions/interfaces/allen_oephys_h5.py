"""Allen Institute Dataset II ``<recording_id>.h5``: GCaMP6 ΔF/F, cell-attached voltage and spikes of one neuron.

Mapping
-------
- ``dff`` → ``processing/ophys/DfOverF/RoiResponseSeries`` (time × 1 ROI) at rate 1/``dto``, starting at 0. Its one
  ROI is a row of ``ImageSegmentation/PlaneSegmentation``. The release has no image, field of view or mask, but
  pynwb's ``add_roi`` requires a mask, so the row holds the smallest placeholder: a 1 × 1 ``image_mask`` of weight 0
  (no pixel belongs to it), which the PlaneSegmentation's description names as such. (An empty ``pixel_mask`` is
  smaller still, but nwbinspector 0.7 fails with an IndexError on an empty mask column.)
- ``ephys_raw`` → ``acquisition/CellAttachedVoltageRaw`` and ``ephys_baseline_subtracted`` →
  ``processing/icephys/CellAttachedVoltageBaselineSubtracted``, both ``CurrentClampSeries`` in volts at rate
  1/``dte``, starting at 0, on one ``IntracellularElectrode`` (the cell-attached pipette).
- ``sptimes`` → one row of ``units`` with ``quiroga`` as its ``spike_detection_threshold`` column;
  ``resolution`` = ``dte``.
- ``genotype`` → ``Subject.genotype``; its Cre line and reporter go into ``Subject.description``; the reporter
  gives the ImagingPlane's indicator (Ai94 → GCaMP6s, Ai93 → GCaMP6f, per the dataset page).

Why icephys rather than an ``ElectricalSeries``: the signal is the voltage of a glass pipette sealed on one
identified neuron (cell-attached), not an extracellular array channel. NWB's intracellular types model exactly that
— an ``IntracellularElectrode`` with its own description and location, and no electrodes table, probe or
electrode group to invent. The stored quantity is a voltage measured through the pipette, which is what a
``CurrentClampSeries`` holds; the release documents no holding current, bridge balance or capacitance
compensation, so those fields stay unset.

Optical wavelengths are not in the release: pynwb requires ``emission_lambda`` and ``excitation_lambda``, so they
are NaN (unless given in the metadata) and the descriptions say so.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from neuroconv.basedatainterface import BaseDataInterface
from pynwb import NWBFile
from pynwb.icephys import CurrentClampSeries
from pynwb.ophys import DfOverF, ImageSegmentation

from ..layouts.allen_oephys.consistency import consistency_notes
from ..layouts.allen_oephys.recording import read_oephys_recording
from ..metadata.assembly import deep_update
from .electrodes import get_or_create_device
from .imaging_plane import OPTICAL_CHANNEL_SCHEMA, add_imaging_plane, processing_module, sentences
from .metadata_blocks import MetadataBlocksMixin
from .schemas import DEVICE_SCHEMA, INTRACELLULAR_ELECTRODE_SCHEMA, block_schema, named_block
from .stub import STUB_SECONDS, first_seconds
from .units import GROUND_TRUTH_UNIT_SCHEMA, add_ground_truth_unit

#: Reporter line → calcium indicator, per the Dataset II page's genotype table.
INDICATOR_BY_REPORTER = {"Ai94": "GCaMP6s", "Ai93": "GCaMP6f"}

#: Allen Mouse Brain CCF acronym of the recorded area (primary visual area, layer 2/3).
RECORDED_AREA = "VISp2/3"

#: Named where a wavelength is not documented.
RELEASE = "Dataset II"

MASK_PLACEHOLDER_NOTE = (
    "The release holds no image, field of view or ROI mask, only the ΔF/F0 trace of the recorded neuron: the single "
    "ROI's image_mask is a placeholder (1 x 1 pixel of weight 0), not a segmentation."
)

CELL_ID_NOTE = (
    "cell_id is the recording id: the release does not say which of its 50 recordings share one of its 35 neurons"
)

#: The placeholder mask: one pixel of weight 0, i.e. no pixel belongs to the ROI.
PLACEHOLDER_IMAGE_MASK = np.zeros((1, 1))


CALCIUM_IMAGING_SCHEMA = block_schema(
    Device=DEVICE_SCHEMA,
    OpticalChannel=OPTICAL_CHANNEL_SCHEMA,
    ImagingPlane=named_block("name", "description", "location", "indicator", positive_numbers=("excitation_lambda",)),
    PlaneSegmentation=named_block("name", "description"),
    RoiResponseSeries=named_block("name", "description"),
)

CELL_ATTACHED_SCHEMA = block_schema(
    Device=DEVICE_SCHEMA,
    IntracellularElectrode=INTRACELLULAR_ELECTRODE_SCHEMA,
    RawSeries=named_block("name", "description"),
    BaselineSubtractedSeries=named_block("name", "description"),
)


def indicator_of(genotype: str) -> str | None:
    """The GCaMP variant its reporter line expresses (Ai94 → GCaMP6s, Ai93 → GCaMP6f); None for another reporter."""
    for part in re.split(r"\s*;\s*", genotype):
        if part in INDICATOR_BY_REPORTER:
            return INDICATOR_BY_REPORTER[part]
    return None


def describe_genotype(genotype: str) -> str:
    """Say what the genotype's parts are: the Cre line, the tTA line and the reporter (with its indicator)."""
    parts = [part for part in re.split(r"\s*;\s*", genotype) if part]
    roles = []
    for part in parts:
        if "Cre" in part:
            roles.append(f"Cre line {part}")
        elif "tTA" in part:
            roles.append(f"tTA line {part}")
        elif part in INDICATOR_BY_REPORTER:
            roles.append(f"reporter {part} ({INDICATOR_BY_REPORTER[part]})")
        else:
            roles.append(part)
    return f"transgenic mouse {genotype}: " + ", ".join(roles)


class AllenOephysRecordingInterface(MetadataBlocksMixin, BaseDataInterface):
    """One Allen Dataset II recording (``<recording_id>.h5``): ΔF/F, cell-attached voltage, spikes, genotype.

    Parameters
    ----------
    file_path : str or Path
        The recording's HDF5 file; read and checked at once (the arrays are small enough to hold in memory).
    """

    display_name = "Allen Dataset II recording (HDF5)"
    keywords = ("calcium imaging", "cell-attached", "ground truth", "GCaMP6")
    associated_suffixes = (".h5",)
    info = "Simultaneous GCaMP6 ΔF/F and cell-attached voltage of one neuron (Ledochowitsch et al. 2019)."
    metadata_blocks = {
        "CalciumImaging": CALCIUM_IMAGING_SCHEMA,
        "CellAttached": CELL_ATTACHED_SCHEMA,
        "GroundTruthUnit": GROUND_TRUTH_UNIT_SCHEMA,
    }

    def __init__(self, file_path: str | Path, verbose: bool = False):
        self.recording = read_oephys_recording(file_path)
        super().__init__(verbose=verbose, file_path=str(file_path))

    def default_metadata(self) -> dict:
        """Return what the file records (session id, genotype, threshold, indicator) and the objects' defaults."""
        recording = self.recording
        subject = {"genotype": recording.genotype, "description": describe_genotype(recording.genotype)}
        return {
            "NWBFile": {"session_id": recording.recording_id},
            "Subject": subject,
            "CalciumImaging": {
                "Device": {"name": "TwoPhotonMicroscope", "description": "two-photon microscope"},
                "OpticalChannel": {"name": "OpticalChannel", "description": "GCaMP6 fluorescence"},
                "ImagingPlane": {
                    "name": "ImagingPlane",
                    "description": "two-photon imaging of the recorded neuron",
                    "location": RECORDED_AREA,
                    "indicator": indicator_of(recording.genotype) or "not documented",
                },
                "PlaneSegmentation": {"name": "PlaneSegmentation", "description": "the recorded neuron"},
                "RoiResponseSeries": {"name": "RoiResponseSeries", "description": "ΔF/F0 (dff), dimensionless"},
            },
            "CellAttached": {
                "Device": {"name": "CellAttachedAmplifier", "description": "amplifier of the pipette"},
                "IntracellularElectrode": {
                    "name": "CellAttachedPipette",
                    "description": f"cell-attached pipette on the imaged neuron. {CELL_ID_NOTE}",
                    "location": RECORDED_AREA,
                    "cell_id": recording.recording_id,
                },
                "RawSeries": {
                    "name": "CellAttachedVoltageRaw",
                    "description": "cell-attached membrane voltage (ephys_raw), volts",
                },
                "BaselineSubtractedSeries": {
                    "name": "CellAttachedVoltageBaselineSubtracted",
                    "description": "cell-attached membrane voltage - baseline (ephys_baseline_subtracted), volts",
                },
            },
            "GroundTruthUnit": {
                "description": "spikes of the recorded neuron, detected on the baseline-subtracted voltage",
                "columns": {
                    "spike_detection_threshold": {
                        "description": (
                            f"spike detection threshold in volts applied to the baseline-subtracted cell-attached "
                            f"voltage (source key '{recording.threshold_key}')"
                        ),
                        "value": recording.spike_threshold,
                    }
                },
            },
        }

    def consistency_notes(self) -> list[str]:
        """What is suspicious but valid in the recording (spikes outside the trace or far from the threshold)."""
        notes = consistency_notes(self.recording)
        if indicator_of(self.recording.genotype) is None:
            notes.append(
                f"{self.recording.file_path}: genotype {self.recording.genotype!r} names neither Ai93 nor Ai94, so "
                "the indicator is written as 'not documented'; supply it with --metadata "
                "(CalciumImaging: ImagingPlane: indicator)"
            )
        return notes

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add the ΔF/F series with its placeholder ROI, both voltage traces and the spikes' unit.

        Parameters
        ----------
        nwbfile : NWBFile
        metadata : dict
            Uses ``CalciumImaging``, ``CellAttached`` and ``GroundTruthUnit``.
        stub_test : bool, default: False
            Write only the first few seconds of each stream.
        """
        metadata = deep_update(self.get_metadata(), metadata or {})
        self._add_dff(nwbfile, metadata["CalciumImaging"], stub_test=stub_test)
        self._add_cell_attached_voltage(nwbfile, metadata["CellAttached"], stub_test=stub_test)
        spike_times = self.recording.spike_times
        if stub_test:
            spike_times = spike_times[spike_times < STUB_SECONDS]
        add_ground_truth_unit(nwbfile, spike_times, metadata["GroundTruthUnit"], resolution=self.recording.ephys_period)

    def _add_dff(self, nwbfile: NWBFile, imaging: dict, *, stub_test: bool) -> None:
        """Add the imaging plane, the one-ROI plane segmentation and the ΔF/F series to ``processing/ophys``."""
        recording = self.recording
        device = get_or_create_device(nwbfile, imaging["Device"])
        imaging_plane = add_imaging_plane(
            nwbfile, device, imaging["OpticalChannel"], imaging["ImagingPlane"], release=RELEASE,
            imaging_rate=recording.ophys_rate,
        )
        ophys = processing_module(nwbfile, "ophys", "optical physiology: ΔF/F of the recorded neuron")
        segmentation = ImageSegmentation(name="ImageSegmentation")
        ophys.add(segmentation)
        segment = dict(imaging["PlaneSegmentation"])
        plane_segmentation = segmentation.create_plane_segmentation(
            name=segment["name"],
            description=sentences(segment["description"], MASK_PLACEHOLDER_NOTE),
            imaging_plane=imaging_plane,
        )
        plane_segmentation.add_roi(image_mask=PLACEHOLDER_IMAGE_MASK)
        df_over_f = DfOverF(name="DfOverF")
        ophys.add(df_over_f)
        dff = first_seconds(recording.dff, recording.ophys_rate, stub_test=stub_test)
        series = dict(imaging["RoiResponseSeries"])
        df_over_f.create_roi_response_series(
            name=series.pop("name"),
            description=series.pop("description"),
            data=dff.reshape(-1, 1),
            rois=plane_segmentation.create_roi_table_region(region=[0], description="the recorded neuron"),
            unit="n.a.",
            rate=recording.ophys_rate,
            starting_time=0.0,
        )

    def _add_cell_attached_voltage(self, nwbfile: NWBFile, cell_attached: dict, *, stub_test: bool) -> None:
        """Add the pipette, the raw voltage to ``acquisition`` and the baseline-subtracted one to ``processing``."""
        recording = self.recording
        device = get_or_create_device(nwbfile, cell_attached["Device"])
        electrode = nwbfile.create_icephys_electrode(device=device, **cell_attached["IntracellularElectrode"])

        def voltage_series(trace: np.ndarray, series_metadata: dict) -> CurrentClampSeries:
            return CurrentClampSeries(
                name=series_metadata["name"],
                description=series_metadata["description"],
                data=first_seconds(trace, recording.ephys_rate, stub_test=stub_test),
                electrode=electrode,
                stimulus_description="N/A: no stimulus is documented",
                rate=recording.ephys_rate,
                starting_time=0.0,
            )

        nwbfile.add_acquisition(voltage_series(recording.ephys_raw, cell_attached["RawSeries"]))
        icephys = processing_module(nwbfile, "icephys", "processed cell-attached voltage")
        icephys.add(voltage_series(recording.ephys_baseline_subtracted, cell_attached["BaselineSubtractedSeries"]))
