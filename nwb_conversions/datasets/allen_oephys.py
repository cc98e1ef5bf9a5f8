"""Allen Institute Dataset II (Ledochowitsch et al. 2019): one ``<recording_id>.h5`` per simultaneous recording.

Each file holds one neuron's GCaMP6 ΔF/F, its cell-attached voltage (raw and baseline-subtracted), the detected
spike times, the detection threshold and the mouse's genotype (see :mod:`nwb_conversions.readers.allen_oephys_h5`).
The session id is the recording id (the file's stem).

The release records no session start time: unless the user's metadata gives one, it is the placeholder
1900-01-01T00:00:00+00:00, as CatalystNeuro's conversion of the same lab's data (DANDI:000048) used, and the file's
notes say so.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from neuroconv import NWBConverter

from ..interfaces.allen_oephys_h5 import AllenOephysRecordingInterface
from ..metadata import PLACEHOLDER_START_TIME_NOTE, deep_update, load_dataset_metadata, placeholder_start_time
from . import Conversion, Dataset

#: The placeholder session start time (the release has none); DANDI:000048 used the same date.
PLACEHOLDER_START_TIME = datetime(1900, 1, 1, tzinfo=timezone.utc)

PLACEHOLDER_NOTE = (
    PLACEHOLDER_START_TIME_NOTE.format(value=PLACEHOLDER_START_TIME.isoformat())
    + " The same placeholder date was used by CatalystNeuro's conversion of this lab's data (DANDI:000048)."
)


class AllenOephysConverter(NWBConverter):
    """ΔF/F, cell-attached voltage and spikes of one Allen Dataset II recording."""

    data_interface_classes = dict(Recording=AllenOephysRecordingInterface)


def build_conversion(h5_path: Path, user_metadata: dict, stub_test: bool = False) -> Conversion:
    """Assemble the converter and metadata for one recording file.

    Metadata precedence, lowest first: the file (session id, genotype, threshold, indicator) →
    ``metadata/allen_oephys.yaml`` → the user's metadata.

    Raises
    ------
    SourceFormatError
        If the file is not a valid Dataset II recording.
    """
    converter = AllenOephysConverter(source_data=dict(Recording=dict(file_path=Path(h5_path))))
    interface = converter.data_interface_objects["Recording"]
    metadata = converter.get_metadata()
    metadata = deep_update(metadata, load_dataset_metadata("allen-oephys"))
    metadata = deep_update(metadata, user_metadata)
    notes = interface.consistency_notes()
    if not metadata.get("NWBFile", {}).get("session_start_time"):
        metadata = placeholder_start_time(metadata, PLACEHOLDER_START_TIME, note=PLACEHOLDER_NOTE)
        notes.append(PLACEHOLDER_NOTE)
    options = {"Recording": {"stub_test": stub_test}}
    return Conversion(converter=converter, metadata=metadata, conversion_options=options, notes=notes)


def write_sample(folder: Path) -> tuple[Path, Path]:
    """Write a sample recording ``103991.h5`` and its sample metadata; see :mod:`nwb_conversions.samples`."""
    from ..samples.allen_oephys import write_sample as write_allen_oephys_sample

    return write_allen_oephys_sample(folder)


DATASET = Dataset(
    key="allen-oephys",
    summary="Allen Dataset II: GCaMP6 ΔF/F + cell-attached ephys of one neuron (Ledochowitsch et al. 2019)",
    source_help="a Dataset II recording file <recording_id>.h5 (keys dff, dte, dto, ephys_raw, sptimes, ...)",
    build=build_conversion,
    write_sample=write_sample,
)
