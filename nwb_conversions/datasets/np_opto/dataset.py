"""Neuropixels Opto (Steinmetz lab): one session folder ``<subject>_<date>_en<N>_p<P>/`` of ALF files.

The session's Kilosort clusters become ``units`` (:mod:`nwb_conversions.interfaces.alf_sorting`), its light pulses
an ndx-optogenetics pulses table over the probe's 14 emitters (:mod:`nwb_conversions.interfaces.optogenetics`), and
the converter adds what users of the dataset compute first: each unit's response to each emitter × power
(:mod:`nwb_conversions.analysis.opto_response`), in ``processing/ogen``.

Both release layouts are accepted: the README's ``data/sessions/<id>/`` and the notebook's session folders directly
beside the calibration files. ``session.json`` gives the session id, the subject id (``AL_0034``) and the date; the
time of day is not recorded, so the session starts at 00:00 of that date, labelled UTC (the time zone is not
documented either), and the file's notes say so.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from neuroconv import NWBConverter
from pynwb import NWBFile

from ...analysis.opto_response import Pulses, ResponseParameters, response_tables, unit_responses
from ...interfaces.alf_sorting import AlfSortingInterface
from ...interfaces.optogenetics import NpOptoStimulationInterface
from ...metadata.assembly import assemble_metadata, deep_update, placeholder_note
from .. import Conversion, Dataset, natural_key, release_root_folder, sample_writers, stub_conversion
from . import ENTRY

#: Start time when session.json has no date (DANDI:000048-style placeholder, said so in the notes).
PLACEHOLDER_START_TIME = datetime(1900, 1, 1, tzinfo=timezone.utc)

RESPONSE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {name: {"type": "number"} for name in ResponseParameters().as_dict()},
}


class NpOptoConverter(NWBConverter):
    """Units, light pulses and light responses of one Neuropixels Opto session."""

    data_interface_classes = dict(Sorting=AlfSortingInterface, Stimulation=NpOptoStimulationInterface)

    def get_metadata_schema(self) -> dict:
        """The interfaces' schemas and the ``OptogeneticResponse`` parameters block."""
        schema = super().get_metadata_schema()
        schema["properties"]["OptogeneticResponse"] = RESPONSE_SCHEMA
        return schema

    def get_metadata(self, **kwargs) -> dict:
        """The interfaces' metadata and the dataset's response parameters."""
        return deep_update(super().get_metadata(**kwargs), {"OptogeneticResponse": ResponseParameters().as_dict()})

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, conversion_options: dict | None = None):
        """Add the interfaces' objects, then the light-response table computed from the written units and pulses."""
        super().add_to_nwbfile(nwbfile=nwbfile, metadata=metadata, conversion_options=conversion_options)
        metadata = metadata or self.get_metadata()
        stub_test = (conversion_options or {}).get("Sorting", {}).get("stub_test", False)
        sorting = self.data_interface_objects["Sorting"]
        stimulation = self.data_interface_objects["Stimulation"]
        stim = stimulation.stimulation
        base = metadata.get("Optogenetics", {}).get("emission_site_id_base")
        pulses = Pulses(
            starts=stim.times,
            stops=stim.times + stim.durations,
            site_rows=stimulation.emission_site_rows(stimulation.inferred_base if base is None else int(base)),
            site_ids=stim.emission_sites,
            power_mw=stim.power_mw,
        )
        parameters = ResponseParameters(**metadata.get("OptogeneticResponse", {}))
        trains = (sorting.stub_sorting() if stub_test else sorting.sorting_extractor).spike_trains_in_seconds()
        sites_table = nwbfile.lab_meta_data["optogenetic_experiment_metadata"].optogenetic_sites_table
        responses, parameters_table = response_tables(
            unit_responses(trains, pulses, parameters), parameters, units_table=nwbfile.units, sites_table=sites_table
        )
        module = nwbfile.create_processing_module(
            name="ogen", description="light responses of the units (the dataset's response analysis)"
        )
        module.add(responses)
        module.add(parameters_table)


def start_time_default(sorting: AlfSortingInterface) -> tuple[datetime, str]:
    """00:00 UTC of the session's date, and the note that says so; the placeholder when there is no date."""
    info = sorting.session_info
    if info.date is None:
        return PLACEHOLDER_START_TIME, placeholder_note(PLACEHOLDER_START_TIME, f"{info.path} has no 'date'")
    start = datetime(info.date.year, info.date.month, info.date.day, tzinfo=timezone.utc)
    return start, (
        f"session_start_time {start.isoformat()} is the date in session.json at 00:00, labelled UTC: the time of day "
        "and the time zone are not recorded. Supply the real one with --metadata (NWBFile: session_start_time)."
    )


def build_conversion(session_dir: Path, user_metadata: dict, stub_test: bool = False) -> Conversion:
    """Assemble the converter and metadata for one session folder.

    Metadata precedence, lowest first: the session's files (session.json) → ``metadata/np_opto.yaml`` → the user's.

    Raises
    ------
    SourceFormatError
        If a file of the session is missing or not in the documented format.
    """
    session_dir = Path(session_dir)
    converter = NpOptoConverter(
        source_data=dict(Sorting=dict(folder_path=session_dir), Stimulation=dict(folder_path=session_dir))
    )
    sorting = converter.data_interface_objects["Sorting"]
    stimulation = converter.data_interface_objects["Stimulation"]
    info = sorting.session_info
    session = {"Subject": {"subject_id": info.subject}} if info.subject else {}
    metadata, notes = assemble_metadata(
        converter.get_metadata(),
        "np-opto",
        session=session,
        user=user_metadata,
        notes=sorting.missing_file_notes() + stimulation.notes(),
        default_start_time=start_time_default(sorting),
    )
    return stub_conversion(
        converter, metadata, notes=notes, sources=[session_dir, *stimulation.calibration_files], stub_test=stub_test
    )


def find_sessions(release_root: Path) -> list[Path]:
    """The session folders (holding ``session.json``) under the release root, in either layout."""
    release_root = release_root_folder(release_root)
    sessions = {path.parent for path in release_root.rglob("session.json") if path.is_file()}
    return sorted(sessions, key=natural_key)


DATASET = Dataset(ENTRY, build=build_conversion, find_sessions=find_sessions, **sample_writers("np_opto"))
