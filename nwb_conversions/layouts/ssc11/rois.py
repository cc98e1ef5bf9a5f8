"""The ROIs of an SSC-11 subvolume: ``sess.caTSA.roiArray{v}``, one per imaging plane v, checked against the matrices.

Fields (the lab's ``calciumTimeSeriesArray``, struct-ified; research notes imaging_opto.md §1.3–1.4):
``roiArray{v}.roiIds``, ``.rois{r}.indices`` (the ROI's pixels as 1-based column-major linear indices into a 512 ×
512 image), ``.rois{r}.id``, ``.imageBounds``; beside them ``caTSA.numFOVs`` and ``caTSA.roiFOVidx`` (the plane of
each matrix row).

Every ROI of a plane has a row in the matrices (``caTSA.ids``) and every row is an ROI of exactly one plane. Facts
stated twice must agree: ``rois{r}.id`` and ``roiIds(r)``; ``imageBounds`` and the 512 × 512 image the indices are
decoded in; ``numFOVs`` and the number of planes; ``roiFOVidx(r)`` and the plane listing ``ids(r)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SourceFormatError
from .agreement import check_count, check_same, check_stated, check_unique, number
from .struct import as_list, field_of, vector

#: Side of the imaged field in pixels (``image_bounds = [512 512]`` in the lab's analysis code).
IMAGE_SIZE = 512


@dataclass
class PlaneRois:
    """The ROIs of one imaging plane of the subvolume.

    Attributes
    ----------
    plane_number : int
        1-based, the index of ``caTSA.roiArray``.
    roi_ids : ndarray of int64
    matrix_rows : ndarray of int
        Each ROI's row in the caTSA matrices (its column in the ``(time, ROI)`` views).
    pixel_masks : list of ndarray
        Per ROI, an ``(n, 3)`` array of ``(x, y, weight)``: x the 0-based image column, y the 0-based row.
    """

    plane_number: int
    roi_ids: np.ndarray
    matrix_rows: np.ndarray
    pixel_masks: list


def decode_pixel_indices(indices, file_path: Path, where: str) -> np.ndarray:
    """MATLAB 1-based column-major linear indices into a 512 × 512 image → ``(x, y, weight)`` rows (weight 1).

    ``x`` is the 0-based column (``ceil(i / 512) - 1``), ``y`` the 0-based row (``mod(i - 1, 512)``).
    """
    values = vector(indices, file_path, where)
    if values.size and (np.any(values != np.round(values)) or values.min() < 1 or values.max() > IMAGE_SIZE**2):
        bad = values[(values != np.round(values)) | (values < 1) | (values > IMAGE_SIZE**2)][0]
        raise SourceFormatError(
            file_path,
            f"{where} holds pixel index {bad:g}, outside 1..{IMAGE_SIZE**2}",
            f"1-based linear pixel indices of a {IMAGE_SIZE} x {IMAGE_SIZE} image",
        )
    zero_based = values.astype(np.int64) - 1
    columns, rows = np.divmod(zero_based, IMAGE_SIZE)
    return np.column_stack([columns, rows, np.ones(values.size)]).astype(np.float64)


def read_planes(ca: dict, roi_ids: np.ndarray, file_path: Path) -> list[PlaneRois]:
    """The planes of ``caTSA.roiArray``, each ROI matched to its row of the matrices (``roi_ids``)."""
    check_unique(roi_ids, file_path, "sess.caTSA.ids", "ROI id")
    row_of_id = {int(roi_id): row for row, roi_id in enumerate(roi_ids)}
    planes, plane_of_id = [], {}
    for index, plane in enumerate(as_list(field_of(ca, "roiArray", file_path))):
        planes.append(_read_plane(plane, index + 1, row_of_id, plane_of_id, file_path))
    unknown = [int(roi_id) for roi_id in roi_ids if int(roi_id) not in plane_of_id]
    if unknown:
        raise SourceFormatError(
            file_path, f"sess.caTSA.ids lists ROI id {unknown[0]} that no plane of sess.caTSA.roiArray holds",
            "every matrix row to be an ROI of one plane",
        )
    _check_plane_facts(ca, len(planes), roi_ids, plane_of_id, file_path)
    return planes


def _read_plane(plane, plane_number: int, row_of_id: dict, plane_of_id: dict, file_path: Path) -> PlaneRois:
    where = f"sess.caTSA.roiArray{{{plane_number}}}"
    if not isinstance(plane, dict):
        raise SourceFormatError(file_path, f"{where} is not a struct", f"{where} as a struct with roiIds and rois")
    ids = vector(field_of(plane, "roiIds", file_path), file_path, f"{where}.roiIds", dtype=np.int64)
    rois = as_list(field_of(plane, "rois", file_path))
    if len(rois) != ids.size:
        raise SourceFormatError(file_path, f"{where} has {ids.size} roiIds but {len(rois)} rois", "one ROI per id")
    if "imageBounds" in plane:
        check_same(file_path, f"{where}.imageBounds", vector(plane["imageBounds"], file_path, f"{where}.imageBounds"),
                   f"the {IMAGE_SIZE} x {IMAGE_SIZE} image its pixel indices are decoded in", [IMAGE_SIZE] * 2,
                   f"{IMAGE_SIZE} x {IMAGE_SIZE} images, as the lab's code assumes")
    check_unique(ids, file_path, f"{where}.roiIds", "ROI of a plane")
    for roi_id in ids.tolist():
        if roi_id not in row_of_id:
            raise SourceFormatError(file_path, f"{where}.roiIds has ROI id {roi_id} that sess.caTSA.ids lacks",
                                    "every ROI of a plane to have a row in the ΔF/F and raw F matrices")
        if roi_id in plane_of_id:
            raise SourceFormatError(
                file_path, f"{where}.roiIds lists ROI id {roi_id}, which sess.caTSA.roiArray{{{plane_of_id[roi_id]}}}"
                ".roiIds lists too", "each ROI in one plane")
        plane_of_id[roi_id] = plane_number
    masks = []
    for index, roi in enumerate(rois):
        roi_where = f"{where}.rois{{{index + 1}}}"
        if not isinstance(roi, dict) or "indices" not in roi:
            raise SourceFormatError(file_path, f"{roi_where} has no indices", f"{roi_where}.indices (pixel indices)")
        if "id" in roi:
            stated = vector(roi["id"], file_path, f"{roi_where}.id", dtype=np.int64)
            check_stated(file_path, f"{roi_where}.id", stated, f"{where}.roiIds({index + 1})", ids[index],
                         "the same ROI id in both")
        masks.append(decode_pixel_indices(roi["indices"], file_path, f"{roi_where}.indices"))
    rows = np.array([row_of_id[int(roi_id)] for roi_id in ids], dtype=np.int64)
    return PlaneRois(plane_number, ids, rows, masks)


def _check_plane_facts(ca: dict, num_planes: int, roi_ids: np.ndarray, plane_of_id: dict, file_path: Path) -> None:
    """``caTSA.numFOVs`` and ``caTSA.roiFOVidx``, when present, against what ``roiArray`` says."""
    if "numFOVs" in ca:
        stated = vector(ca["numFOVs"], file_path, "sess.caTSA.numFOVs", dtype=np.int64)
        if stated.size != 1 or stated[0] != num_planes:
            raise SourceFormatError(
                file_path, f"sess.caTSA.numFOVs is {' '.join(map(number, stated)) or 'empty'} but "
                f"sess.caTSA.roiArray holds {num_planes} planes", "one roiArray entry per imaging plane")
    if "roiFOVidx" in ca:
        planes = vector(ca["roiFOVidx"], file_path, "sess.caTSA.roiFOVidx", dtype=np.int64)
        check_count(file_path, ("sess.caTSA.roiFOVidx", planes.size, "entries"),
                    ("sess.caTSA.ids", roi_ids.size, "ROI ids"), "one plane per ROI")
        for row, (plane, roi_id) in enumerate(zip(planes.tolist(), roi_ids.tolist())):
            if plane != plane_of_id[roi_id]:
                raise SourceFormatError(
                    file_path,
                    f"sess.caTSA.roiFOVidx({row + 1}) is {plane} but ROI {roi_id} (sess.caTSA.ids({row + 1}))"
                    f" is in sess.caTSA.roiArray{{{plane_of_id[roi_id]}}}", "each ROI's plane stated once")
