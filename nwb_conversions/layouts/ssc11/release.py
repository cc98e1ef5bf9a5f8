"""Where an SSC-11 session sits in the release: animal, condition, subvolume, and the animal's ablation files.

Layout (the lab's ``get_data_path.m``; research notes imaging_opto.md §1.2)::

    an<ID>/
      session_neuropilone_preablate_merged/            one an*sess_struct.mat per subvolume
      session_neuropilone_postablate[_<type>]_merged/  (type: silent, whisking, touch for multi-ablation animals)
      <YYYY_MM_DD>_ablation[_<type>]/manualCurationData.mat      NYU animals: ablationTargetIds, ablationSuccessful
      an<ID>_<YYYY_MM_DD>.mat or an<ID>_all.mat                   JRC animals: ablated_ids

The subvolume number comes from the file name (``vol_<NN>`` / ``vol<NN>``): the lab's code numbers subvolumes by
the files' listing order, so a name without it leaves the subvolume unknown (said in a note).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from ...readers.matlab import read_mat_variables

ANIMAL_PATTERN = re.compile(r"^an(\d+)")
CONDITION_PATTERN = re.compile(r"^session_neuropilone_(pre|post)ablate(?:_([a-z]+))?_merged$")
SUBVOLUME_PATTERN = re.compile(r"vol_?(\d+)", re.IGNORECASE)
DATE_PATTERN = re.compile(r"(\d{4}_\d{2}_\d{2})")
NYU_CURATION_FILE = "manualCurationData.mat"


@dataclass
class AblationRecord:
    """The neurons one ablation file lists as ablated.

    Attributes
    ----------
    file_path : Path
    date : str
        ``YYYY-MM-DD`` from the folder / file name; empty for ``an<ID>_all.mat``.
    roi_ids : ndarray of int64
    """

    file_path: Path
    date: str
    roi_ids: np.ndarray


@dataclass
class SessionPlace:
    """What a session's path says about it.

    Attributes
    ----------
    subject_id : str or None
        ``an<ID>`` of the file name or of the animal folder.
    condition : str or None
        ``preablate`` or ``postablate``.
    ablation_type : str or None
        ``silent``, ``whisking``, ``touch`` (multi-ablation animals' folders), else None.
    subvolume : int or None
    animal_folder : Path or None
        The folder holding the condition folders (and the ablation files).
    ablations : list of AblationRecord
    notes : list of str
    """

    subject_id: str | None = None
    condition: str | None = None
    ablation_type: str | None = None
    subvolume: int | None = None
    animal_folder: Path | None = None
    ablations: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def session_id(self) -> str:
        """``an<ID>_<condition>[_<type>]_vol<NN>``, leaving out what is unknown."""
        parts = [self.subject_id or "unknown-animal"]
        if self.condition:
            parts.append(self.condition + (f"_{self.ablation_type}" if self.ablation_type else ""))
        if self.subvolume is not None:
            parts.append(f"vol{self.subvolume:02d}")
        return "_".join(parts)

    @property
    def ablation_files(self) -> list[Path]:
        return [record.file_path for record in self.ablations]


def locate_session(file_path: str | Path) -> SessionPlace:
    """Read the animal, condition and subvolume from a session file's path, and the animal's ablation files.

    Raises
    ------
    SourceFormatError
        An ablation file that is present but unreadable or lacks its ids.
    """
    file_path = Path(file_path)
    place = SessionPlace()
    condition = CONDITION_PATTERN.match(file_path.parent.name)
    if condition:
        place.condition, place.ablation_type = condition.group(1) + "ablate", condition.group(2)
        place.animal_folder = file_path.parent.parent
    else:
        place.notes.append(
            f"{file_path.name}: its folder {file_path.parent.name!r} is not session_neuropilone_{{pre,post}}ablate"
            "[_type]_merged: the condition (before / after ablation) is unknown and no ablation files are looked for"
        )
    place.subject_id = path_subject(file_path)
    if place.subject_id is None:
        place.notes.append(f"{file_path.name}: no an<ID> in the file or folder name: the subject id is unknown")
    subvolume = SUBVOLUME_PATTERN.search(file_path.name)
    if subvolume:
        place.subvolume = int(subvolume.group(1))
    else:
        place.notes.append(f"{file_path.name}: no vol_<NN> in the file name: the subvolume number is unknown")
    if place.animal_folder is not None:
        place.ablations = find_ablations(place.animal_folder, place.subject_id)
        if not place.ablations:
            place.notes.append(
                f"{file_path.name}: no ablation files in {place.animal_folder.name}/ (<date>_ablation*/"
                f"{NYU_CURATION_FILE}, an<ID>_<date>.mat, an<ID>_all.mat): no is_ablated column"
            )
    return place


def path_subject(file_path: Path) -> str | None:
    """``an<ID>`` as the file name and the animal folder (above the condition folder) state it, or None.

    Raises
    ------
    SourceFormatError
        The file name and the animal folder name two different animals.
    """
    in_name = ANIMAL_PATTERN.match(file_path.name)
    folder = file_path.parent.parent if CONDITION_PATTERN.match(file_path.parent.name) else None
    in_folder = ANIMAL_PATTERN.match(folder.name) if folder is not None else None
    if in_name and in_folder and in_name.group(1) != in_folder.group(1):
        raise SourceFormatError(
            file_path,
            f"the file name says an{in_name.group(1)} but its animal folder {folder.name}/ says an{in_folder.group(1)}",
            "a session file inside its own animal's folder",
        )
    found = in_name or in_folder
    return f"an{found.group(1)}" if found else None


def find_ablations(animal_folder: Path, subject_id: str | None) -> list[AblationRecord]:
    """Read every ablation file of an animal folder (NYU curation files and JRC id files), sorted by date."""
    records = []
    for folder in sorted(animal_folder.iterdir()):
        curation = folder / NYU_CURATION_FILE
        if folder.is_dir() and "ablation" in folder.name and DATE_PATTERN.match(folder.name) and curation.is_file():
            records.append(_read_nyu_curation(curation, folder.name))
    if subject_id:
        jrc = re.compile(rf"^{re.escape(subject_id)}_(\d{{4}}_\d{{2}}_\d{{2}}|all)\.mat$")
        for path in sorted(animal_folder.glob(f"{subject_id}_*.mat")):
            match = jrc.match(path.name)
            if match:
                records.append(_read_jrc_ids(path, "" if match.group(1) == "all" else match.group(1)))
    return sorted(records, key=lambda record: (record.date, record.file_path.name))


JRC_FILE_PATTERN = re.compile(r"^an\d+_(\d{4}_\d{2}_\d{2}|all)\.mat$")


def read_ablation_file(file_path: str | Path) -> AblationRecord:
    """Read one ablation file, by its name: ``manualCurationData.mat`` (NYU) or ``an<ID>_<date|all>.mat`` (JRC).

    Raises
    ------
    SourceFormatError
        A file of another name, unreadable, or without its ids.
    """
    file_path = Path(file_path)
    if file_path.name == NYU_CURATION_FILE:
        return _read_nyu_curation(file_path, file_path.parent.name)
    match = JRC_FILE_PATTERN.match(file_path.name)
    if match:
        return _read_jrc_ids(file_path, "" if match.group(1) == "all" else match.group(1))
    raise SourceFormatError(
        file_path, "is not an ablation file of the release", f"{NYU_CURATION_FILE}, an<ID>_<YYYY_MM_DD>.mat or an<ID>_all.mat"
    )


def _read_nyu_curation(path: Path, folder_name: str) -> AblationRecord:
    """``unique(ablationTargetIds(ablationSuccessful))``, as the lab's ``get_ablated_ids`` computes it."""
    variables = read_mat_variables(path, ("ablationTargetIds", "ablationSuccessful"))
    if "ablationTargetIds" not in variables or "ablationSuccessful" not in variables:
        raise SourceFormatError(
            path, "no ablationTargetIds / ablationSuccessful variables", "an ablation curation file of the release"
        )
    targets = _ids(variables["ablationTargetIds"], path, "ablationTargetIds")
    successful = np.asarray(variables["ablationSuccessful"]).reshape(-1)
    if successful.size != targets.size:
        raise SourceFormatError(
            path,
            f"ablationSuccessful has {successful.size} entries for {targets.size} ablationTargetIds",
            "one success flag per target",
        )
    return AblationRecord(path, _date(folder_name), np.unique(targets[successful.astype(bool)]))


def _read_jrc_ids(path: Path, date: str) -> AblationRecord:
    variables = read_mat_variables(path, ("ablated_ids",))
    if "ablated_ids" not in variables:
        raise SourceFormatError(path, "no ablated_ids variable", "an an<ID>_<date>.mat ablation file of the release")
    return AblationRecord(path, date.replace("_", "-"), np.unique(_ids(variables["ablated_ids"], path, "ablated_ids")))


def _ids(value, path: Path, name: str) -> np.ndarray:
    values = np.asarray(value).reshape(-1)
    if values.dtype.kind not in "fiu" or np.any(values != np.round(values)):
        raise SourceFormatError(path, f"{name} is not a vector of integer ROI ids", f"{name} as ROI ids")
    return values.astype(np.int64)


def _date(name: str) -> str:
    match = DATE_PATTERN.match(name)
    return match.group(1).replace("_", "-") if match else ""
