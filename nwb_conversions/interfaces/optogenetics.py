"""Neuropixels Opto light pulses (``stim.*``) → ndx-optogenetics 0.4 objects, calibration files kept verbatim.

Mapping
-------
- The opsin (DLX2.0-ChrimsonR-tdTomato, per the dataset README) → an ``Effector`` (ndx-ophys-devices) in
  ``OptogeneticEffectors``.
- The probe's 14 emitters → ``OptogeneticSitesTable``, one row per emitter (all 14, used or not), with the emitter
  id as the session numbers it (``emission_site_id``) and its distance from the probe tip (``distance_from_tip_um``
  = 70 + 100·i µm for the i-th emitter from the tip, i = 0..13). There is no optical fiber (on-shank waveguides)
  and no excitation source device: the lasers' make, model and wavelength are not documented.
- ``OptogeneticExperimentMetadata`` (lab metadata) holds both; its required ``stimulation_software`` is not
  documented and says so unless the metadata gives it.
- Every pulse → one ``OptogeneticPulsesTable`` row in ``intervals``: ``start_time`` = ``stim.times``, ``stop_time`` =
  start + ``stim.durations``, ``power_in_mW`` = ``stim.powerMW`` (calibrated power at the tip), ``wavelength_in_nm``
  = NaN unless the metadata gives one, ``optogenetic_sites`` = the emitter's row, plus ``emission_site_id``.
- Emitter ids: 0- or 1-based is decided from the session's ids
  (:func:`nwb_conversions.layouts.np_opto.stimulation.emission_site_base`), unless the metadata sets
  ``emission_site_id_base``.
- ``laser_calibration.json`` and ``calibration.json`` beside the sessions, and the session's ``session.json``, are
  kept verbatim in ``scratch`` (their schema is not documented, so nothing is read out of the calibration).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from ndx_ophys_devices import Effector
from ndx_optogenetics import (
    OptogeneticEffectors,
    OptogeneticExperimentMetadata,
    OptogeneticPulsesTable,
    OptogeneticSitesTable,
)
from neuroconv.basedatainterface import BaseDataInterface
from pynwb import NWBFile

from ..errors import SourceFormatError
from ..layouts.np_opto.consistency import check_stimulation_agrees
from ..layouts.np_opto.session import calibration_notes, find_calibration_files, read_session_json, session_folder
from ..layouts.np_opto.stimulation import (
    EMITTER_PITCH_UM,
    FIRST_EMITTER_FROM_TIP_UM,
    NUM_EMITTERS,
    emission_site_base,
    read_stimulation,
)
from ..metadata.assembly import deep_update
from ..readers.json_object import read_json_object_text
from .metadata_blocks import MetadataBlocksMixin
from .schemas import block_schema, named_block

NOT_DOCUMENTED = "not documented in the release"

OPTOGENETICS_SCHEMA = block_schema(
    Effector=named_block("name", "label", "description", "manufacturer"),
    OptogeneticSitesTable=named_block("description"),
    OptogeneticPulsesTable=named_block("name", "description"),
    stimulation_software={"type": "string"},
    wavelength_in_nm={"type": ["number", "null"], "exclusiveMinimum": 0},
    emission_site_id_base={"type": ["integer", "null"], "enum": [0, 1, None]},
)


def emitter_distances_um() -> np.ndarray:
    """Distance of each emitter from the probe tip, nearest first: 70, 170, ..., 1370 µm."""
    return FIRST_EMITTER_FROM_TIP_UM + EMITTER_PITCH_UM * np.arange(NUM_EMITTERS)


class NpOptoStimulationInterface(MetadataBlocksMixin, BaseDataInterface):
    """The light pulses of one Neuropixels Opto session, its emitters, opsin and calibration files.

    Parameters
    ----------
    folder_path : str or Path
        The session folder (``stim.*.npy``, ``session.json``); calibration files are looked up beside it.
    """

    display_name = "Neuropixels Opto stimulation (ALF stim.*)"
    keywords = ("optogenetics", "Neuropixels Opto", "ALF")
    associated_suffixes = (".npy", ".json")
    info = "Per-pulse optogenetic stimulation through the 14 emitters of a Neuropixels Opto probe."
    metadata_blocks = {"Optogenetics": OPTOGENETICS_SCHEMA}

    def __init__(self, folder_path: str | Path, verbose: bool = False):
        folder = session_folder(folder_path)
        self.session_info = read_session_json(folder / "session.json")
        self.stimulation = read_stimulation(folder)
        check_stimulation_agrees(self.session_info, self.stimulation)
        self.inferred_base, self.base_note = emission_site_base(
            self.stimulation.emission_sites, folder / "stim.emissionSites.npy"
        )
        self.calibration_files, mat_files = find_calibration_files(folder)
        self.calibration_texts = {
            path: read_json_object_text(path, "the release's calibration JSON (kept verbatim)")[1]
            for path in self.calibration_files
        }
        self._calibration_notes = calibration_notes(folder, self.calibration_files, mat_files)
        super().__init__(verbose=verbose, folder_path=str(folder_path))

    def notes(self) -> list[str]:
        """The emitter id reading, and which calibration files were kept or not found."""
        return [self.base_note] + self._calibration_notes

    def default_metadata(self) -> dict:
        """The objects' defaults: what the release documents, the rest marked as not documented."""
        return {
            "NWBFile": {"session_id": self.session_info.session_id},
            "Optogenetics": {
                "Effector": {
                    "name": "ChrimsonR",
                    "label": "DLX2.0-ChrimsonR-tdTomato",
                    "description": "opsin expressed by the mice (dataset README)",
                },
                "OptogeneticSitesTable": {"description": "the emitters of the Neuropixels Opto probe"},
                "OptogeneticPulsesTable": {
                    "name": "optogenetic_pulses",
                    "description": "one row per light pulse (stim.times, stim.durations, stim.powerMW, "
                    "stim.emissionSites)",
                },
                "stimulation_software": NOT_DOCUMENTED,
                "wavelength_in_nm": None,
                "emission_site_id_base": None,
            },
        }

    def emission_site_rows(self, base: int) -> np.ndarray:
        """The sites-table row of every pulse (0 = the emitter nearest the tip)."""
        rows = self.stimulation.emission_sites - base
        if len(rows) and (rows.min() < 0 or rows.max() >= NUM_EMITTERS):
            raise SourceFormatError(
                Path(self.source_data["folder_path"]) / "stim.emissionSites.npy",
                f"ids span {self.stimulation.emission_sites.min()}–{self.stimulation.emission_sites.max()}, outside "
                f"the {base}-based reading set in the metadata (Optogenetics: emission_site_id_base)",
                f"ids {base}–{base + NUM_EMITTERS - 1}",
            )
        return rows

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, *, stub_test: bool = False) -> None:
        """Add the effector, the sites table, the experiment metadata, the pulses table and the provenance files.

        Parameters
        ----------
        nwbfile : NWBFile
        metadata : dict, optional
            Uses ``metadata["Optogenetics"]``.
        stub_test : bool, default: False
            Has no effect: the pulses table is small and written whole.
        """
        metadata = deep_update(self.get_metadata(), metadata or {})
        block = metadata["Optogenetics"]
        base = block["emission_site_id_base"]
        base = self.inferred_base if base is None else int(base)
        sites_table = self._add_sites(nwbfile, block, base)
        self._add_pulses(nwbfile, block, sites_table, base)
        self._add_provenance(nwbfile)

    def _add_sites(self, nwbfile: NWBFile, block: dict, base: int) -> OptogeneticSitesTable:
        """The effector, one sites row per emitter, and the lab metadata that holds them."""
        effector = Effector(**{key: value for key, value in block["Effector"].items() if value is not None})
        sites_table = OptogeneticSitesTable(description=block["OptogeneticSitesTable"]["description"])
        sites_table.add_column(
            name="emission_site_id", description=f"the emitter's id in stim.emissionSites ({base}-based)"
        )
        sites_table.add_column(
            name="distance_from_tip_um", description="distance of the emitter from the probe tip, µm"
        )
        for index, distance in enumerate(emitter_distances_um()):
            sites_table.add_row(effector=effector, emission_site_id=index + base, distance_from_tip_um=float(distance))
        nwbfile.add_lab_meta_data(
            OptogeneticExperimentMetadata(
                stimulation_software=block["stimulation_software"],
                optogenetic_sites_table=sites_table,
                optogenetic_effectors=OptogeneticEffectors(effectors=[effector]),
            )
        )
        return sites_table

    def _add_pulses(self, nwbfile: NWBFile, block: dict, sites_table: OptogeneticSitesTable, base: int) -> None:
        """One pulses-table row per ``stim.*`` row."""
        stim = self.stimulation
        wavelength = block["wavelength_in_nm"]
        wavelength = math.nan if wavelength is None else float(wavelength)
        pulses_block = block["OptogeneticPulsesTable"]
        description = pulses_block["description"]
        if math.isnan(wavelength):
            description += "; wavelength_in_nm is NaN: the wavelength is not documented in the release"
        pulses = OptogeneticPulsesTable(
            name=pulses_block["name"], description=description, target_tables={"optogenetic_sites": sites_table}
        )
        pulses.add_column(name="emission_site_id", description=f"stim.emissionSites ({base}-based emitter id)")
        rows = self.emission_site_rows(base)
        for start, duration, power, row, site_id in zip(
            stim.times, stim.durations, stim.power_mw, rows, stim.emission_sites
        ):
            pulses.add_row(
                start_time=float(start),
                stop_time=float(start + duration),
                power_in_mW=float(power),
                wavelength_in_nm=wavelength,
                optogenetic_sites=[int(row)],
                emission_site_id=int(site_id),
            )
        nwbfile.add_time_intervals(pulses)

    def _add_provenance(self, nwbfile: NWBFile) -> None:
        """The calibration JSON files and ``session.json``, verbatim, in ``scratch``."""
        for path, text in self.calibration_texts.items():
            nwbfile.add_scratch(
                data=text,
                name=path.name,
                description=f"{path.name} beside the release's sessions, verbatim (laser calibration; its structure "
                "is not documented, so nothing is read from it)",
            )
        nwbfile.add_scratch(
            data=self.session_info.text,
            name="session.json",
            description="the session's session.json, verbatim (includes the calibration slope/intercept, "
            "power_level_scaling, top_chan and top_of_shank_um that no NWB field holds)",
        )
