"""Valid source files of every reader, as bytes or written to disk, for the bad-input table and the fuzz tests.

Each ``valid_*`` function returns a small file that its reader accepts; the tests then damage it.
"""

from __future__ import annotations

import io
from pathlib import Path

import h5py
import numpy as np

from nwb_conversions.samples.allen_oephys import write_allen_oephys_recording
from nwb_conversions.samples.spe2 import LAYOUTS, readme_values

from ..pickle_payloads import object_npy_bytes

#: The real ``c45_expt_meta.csv`` content.
EXPT_META_TEXT = "npx,patch\n\"[(384L, 24301033L), 'int16']\",\"[40521060, 'float64']\"\n"

#: Channels of the small channel maps used here.
NUM_MAP_CHANNELS = 8

#: A Data Summary with the required columns and one cell, as CSV text.
DATA_SUMMARY_CSV = (
    "Cell,Patch Type,chan_predicted,chan_highest,Distance,Cell Type,Date,Patch Samp. Freq. (Hz)\n"
    "c1,\"Juxta, VC\",159,161,44.78,PC,2017-11-28,50000\n"
)

#: A user metadata file with every kind of value the reader accepts.
METADATA_YAML = (
    "NWBFile:\n  session_start_time: 2017-11-28T14:30:00+00:00\n  keywords: [juxtacellular, ground truth]\n"
    "Subject:\n  subject_id: animal01\n  species: Rattus norvegicus\n  sex: U\n  age: P60D\n  weight: 0.25\n"
    "  description: &text a rat\n  genotype: *text\n"
)


def readme_docx_values() -> dict[str, str]:
    """The ``READ ME.docx`` keys of the common 32-channel layout."""
    return readme_values(LAYOUTS["common32"])


def docx_bytes(values: dict[str, str], *, extra_lines: tuple[str, ...] = ()) -> bytes:
    """A minimal Word document (content types, relationships, main document) with one paragraph per line."""
    import zipfile
    from xml.sax.saxutils import escape

    lines = [f"{key} = {value}" for key, value in values.items()] + list(extra_lines)
    namespace = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    paragraphs = "".join(f"<w:p><w:r><w:t>{escape(line)}</w:t></w:r></w:p>" for line in lines)
    document = f'<?xml version="1.0"?><w:document xmlns:w="{namespace}"><w:body>{paragraphs}</w:body></w:document>'
    relationships = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>'
    )
    content_types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'wordprocessingml.document.main+xml"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", relationships)
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def channel_positions() -> np.ndarray:
    """A two-column probe: x 0/32 µm, y every 20 µm."""
    return np.column_stack([np.tile([0.0, 32.0], NUM_MAP_CHANNELS // 2), 20.0 * np.arange(NUM_MAP_CHANNELS)])


def mat_v5_bytes(**variables) -> bytes:
    """A MAT v5 file; by default a channel map of :data:`NUM_MAP_CHANNELS` column vectors."""
    from scipy.io import savemat

    positions = channel_positions()
    content = dict(xcoords=positions[:, :1], ycoords=positions[:, 1:], chanMap0ind=np.arange(NUM_MAP_CHANNELS, dtype=float))
    content.update(variables)
    buffer = io.BytesIO()
    savemat(buffer, content, do_compression=False)
    return buffer.getvalue()


def write_mat_v73(path: Path, **variables) -> Path:
    """A MAT 7.3 file (HDF5 after a 512-byte MATLAB header); values are stored transposed, as MATLAB does."""
    positions = channel_positions()
    content = dict(xcoords=positions[:, 0].reshape(-1, 1), ycoords=positions[:, 1].reshape(-1, 1))
    content.update(variables)
    with h5py.File(path, "w", userblock_size=512) as mat:
        for name, value in content.items():
            value = np.asarray(value)
            matlab_class = "char" if value.dtype.kind == "U" else "double"
            if value.dtype.kind == "U":
                value = np.array([[ord(char) for char in "".join(value.ravel())]], dtype=np.uint16)
            mat[name] = value.T
            mat[name].attrs["MATLAB_class"] = np.bytes_(matlab_class)
    with open(path, "r+b") as stream:
        stream.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2018 HDF5 schema 1.00 .")
    return path


def write_allen_recording(path: Path, **replace) -> Path:
    """A one-second Allen recording at ``path`` (its stem is the recording id), with keys replaced (None deletes)."""
    write_allen_oephys_recording(path.parent, recording_id=path.stem, duration_s=1.0, num_spikes=3)
    with h5py.File(path, "a") as h5:
        for key, value in replace.items():
            del h5[key]
            if value is not None:
                h5[key] = value
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    """An ``.npy`` file's bytes (an object array's as ``np.save`` pickles it)."""
    if array.dtype.hasobject:
        return object_npy_bytes(array)
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def xlsx_bytes(rows: list[list], *, title: str = "Sheet1", extra_sheet_first: bool = False) -> bytes:
    """A workbook whose first sheet holds ``rows`` (or, with ``extra_sheet_first``, an unrelated sheet first)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if extra_sheet_first:
        sheet.title = "Notes"
        sheet.append(["recorded by", "someone"])
        sheet = workbook.create_sheet(title)
    else:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def data_summary_rows() -> list[list]:
    """:data:`DATA_SUMMARY_CSV` as workbook rows (numbers as numbers)."""
    from datetime import datetime

    return [
        ["Cell", "Patch Type", "chan_predicted", "chan_highest", "Distance", "Cell Type", "Date",
         "Patch Samp. Freq. (Hz)"],
        ["c1", "Juxta, VC", 159, 161, 44.78, "PC", datetime(2017, 11, 28), 50000],
    ]
