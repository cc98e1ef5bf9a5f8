"""Sample SSC-11 sessions: ``an*sess_struct.mat`` files (v5 or v7.3) in the release's folder layout.

The ``sess`` struct (:mod:`.ssc11_struct`) carries the fields the research notes list (imaging_opto.md §1.3–1.4);
the signals are synthetic, the layout follows the notes. Plane 1 holds an ROI in the image's top-left corner (pixel
index 1) and plane 3 one reaching its last pixel (index 512²).

A release (:func:`write_sample_release`) is ``an<ID>/session_neuropilone_{pre,post}ablate_merged/`` with one file
per subvolume, the NYU-style ``<date>_ablation/manualCurationData.mat`` and, beside each struct file, the class-object
``an*sess.mat`` file the release also holds (which the converter refuses).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..readers.matlab_values import StructArray
from . import start_sample_release, write_sample_metadata
from .matlab_files import write_mat_v5, write_mat_v73
from .ssc11_struct import build_session_struct

#: Subject facts for the sample only: synthetic values so that the example passes DANDI's checks.
SAMPLE_METADATA = {
    "Subject": {"sex": "U", "age": "P90D"},
    "NWBFile": {"experimenter": ["Sample, Synthetic"]},
}

SAMPLE_ANIMAL = "an274424"


def write_session_file(path: str | Path, sess: dict, *, version: str = "7.3") -> Path:
    """Write ``sess`` as the variable ``sess`` of a MAT file of ``version``: "7.3" (HDF5), "5" (MATLAB 5,
    compressed, as MATLAB's default ``-v7`` writes it) or "6" (MATLAB 5 uncompressed, as ``-v6`` writes it)."""
    if version == "7.3":
        return write_mat_v73(path, {"sess": sess})
    return write_mat_v5(path, {"sess": sess}, compress=version != "6")


def ablated_roi_ids(sess: dict, count: int = 4) -> list[int]:
    """The sample's ablated neurons: the first ``count`` ROIs of plane 2."""
    return [int(value) for value in sess["caTSA"]["roiArray"][1]["roiIds"].ravel()[:count]]


def write_nyu_ablation(
    animal_folder: Path, roi_ids: list[int], *, date: str = "2019_04_07", version: str = "5"
) -> Path:
    """Write ``<date>_ablation/manualCurationData.mat``: the targets, one of them failed (plus a repeated target)."""
    failed = 9_999_999
    targets = np.array([roi_ids + [failed, roi_ids[0]]], dtype=np.float64)
    successful = np.array([[True] * len(roi_ids) + [False, True]])
    writer = write_mat_v73 if version == "7.3" else write_mat_v5
    return writer(animal_folder / f"{date}_ablation" / "manualCurationData.mat",
                  {"ablationTargetIds": targets, "ablationSuccessful": successful})


def write_jrc_ablation(animal_folder: Path, subject: str, roi_ids: list[int], *, date: str = "2014_09_17") -> Path:
    """Write the JRC-style ``an<ID>_<date>.mat`` with ``ablated_ids``."""
    return write_mat_v5(animal_folder / f"{subject}_{date}.mat", {"ablated_ids": np.array([roi_ids], dtype=np.float64)})


def write_class_object_v73(path: str | Path) -> Path:
    """An ``an*sess.mat`` as MATLAB v7.3 saves a classdef object: variable ``s`` of class ``session.session``."""
    import h5py

    path = write_mat_v73(path, {"placeholder": np.zeros((1, 1))})
    with h5py.File(path, "a") as mat:
        del mat["placeholder"]
        objects = mat.create_dataset("s", data=np.array([[3707764736, 2, 1, 1, 1, 1]], dtype=np.uint32).T)
        objects.attrs["MATLAB_class"] = np.bytes_("session.session")
        objects.attrs["MATLAB_object_decode"] = np.int32(3)
    return path


def write_class_object_v5(path: str | Path) -> Path:
    """An ``an*sess.mat`` as MATLAB v7 saves a classdef object: an ``mxOPAQUE_CLASS`` (MCOS) element."""
    import struct

    def element(data_type: int, payload: bytes) -> bytes:
        padding = (-len(payload)) % 8
        return struct.pack("<II", data_type, len(payload)) + payload + b"\x00" * padding

    mi_int8, mi_uint32, mi_matrix = 1, 6, 14
    metadata = element(mi_uint32, struct.pack("<II", 6, 0))  # array flags: mxUINT32_CLASS
    metadata += element(5, struct.pack("<ii", 6, 1)) + element(mi_int8, b"")  # dims 6 x 1 (miINT32), no name
    metadata += element(mi_uint32, struct.pack("<6I", 3707764736, 2, 1, 1, 1, 1))
    body = element(mi_uint32, struct.pack("<II", 17, 0))  # array flags: mxOPAQUE_CLASS
    body += element(mi_int8, b"s") + element(mi_int8, b"MCOS") + element(mi_int8, b"session")
    body += element(mi_matrix, metadata)
    header = b"MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Mon Apr  8 10:00:00 2019".ljust(116, b" ")
    header += b"\x00" * 8 + struct.pack("<H", 0x0100) + b"IM"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + element(mi_matrix, body))
    return path


def write_ssc11_session(
    folder: str | Path,
    *,
    version: str = "7.3",
    subject: str = SAMPLE_ANIMAL,
    condition_folder: str = "session_neuropilone_postablate_merged",
    subvolume: int = 1,
    with_ablation: bool = True,
    **struct_options,
) -> Path:
    """Write one session file ``<folder>/<subject>/<condition_folder>/<subject>_vol_<NN>_sess_struct.mat``.

    With ``with_ablation``, the animal folder also gets the NYU-style curation file listing
    :func:`ablated_roi_ids` of subvolume 1.
    """
    animal_folder = Path(folder) / subject
    sess = build_session_struct(subvolume=subvolume, seed=subvolume, **struct_options)
    path = animal_folder / condition_folder / f"{subject}_vol_{subvolume:02d}_sess_struct.mat"
    write_session_file(path, sess, version=version)
    if with_ablation and not (animal_folder / "2019_04_07_ablation").exists():
        write_nyu_ablation(animal_folder, ablated_roi_ids(build_session_struct(subvolume=1, seed=1, **struct_options)))
    return path


def write_sample(folder: str | Path, *, version: str = "7.3", **session_options) -> tuple[Path, Path]:
    """Write a sample session (v7.3, or MATLAB 5: ``version="5"`` compressed, ``"6"`` uncompressed; see
    :func:`write_session_file`) and its sample metadata YAML.

    Returns
    -------
    tuple of Path
        The ``an*sess_struct.mat`` file, and ``sample_metadata.yaml`` (synthetic subject facts) for ``--metadata``.
    """
    folder = Path(folder)
    path = write_ssc11_session(folder, version=version, **session_options)
    return path, write_sample_metadata(folder, SAMPLE_METADATA)


def write_sample_release(folder: str | Path, num_sessions: int = 3) -> tuple[Path, list[Path]]:
    """Write a sample release: ``num_sessions`` struct files over the pre- and post-ablation folders of one animal,
    the ablation curation file, a class-object ``an*sess.mat`` beside each struct file and a README.

    Returns
    -------
    tuple
        The release root, and the struct files sorted by path.
    """
    root = start_sample_release(folder, SAMPLE_METADATA, {"README.txt": "SSC-11 sample release (synthetic)\n"})
    sessions = []
    for index in range(num_sessions):
        condition = f"session_neuropilone_{'pre' if index % 2 == 0 else 'post'}ablate_merged"
        subvolume = index // 2 + 1
        path = write_ssc11_session(root, condition_folder=condition, subvolume=subvolume, num_frames=60,
                                   rois_per_plane=(3, 3, 3), num_trials=3, version="5" if index % 2 else "7.3")
        write_class_object_v73(path.with_name(path.name.replace("_sess_struct.mat", "_sess.mat")))
        sessions.append(path)
    return root, sorted(sessions)


__all__ = ["StructArray", "write_sample", "write_sample_release", "write_session_file"]
