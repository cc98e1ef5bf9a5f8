"""ROI masks for the imaging panels: each ROI's pixels, the field of view they lie in, and the outline overlay.

Pixel masks are read at once (a few pixels per ROI); image masks one ROI at a time, never all at once.
``pixel_mask`` (x, y, weight) is drawn at ``image[y, x]``, pynwb's convention (``PlaneSegmentation.pixel_to_image``).
The field of view's size comes from the ``image_mask`` shape, else from a ``TwoPhotonSeries`` of the same plane;
without either it is the smallest power of two that holds every mask pixel (512 × 512 for SSC-11). A field larger
than :data:`MAX_FIELD_PIXELS` is not drawn (a note), and no image mask of such a field is read.
"""

from __future__ import annotations

import numpy as np

from .checks import NUMBER_KINDS, MalformedContent, PanelNote, bounded, fetch, location, read_numbers
from .reading import find_objects
from .tables import column_where, ragged_column

ABLATED_COLOR = (0.86, 0.08, 0.24)
ROI_COLOR = (0.12, 0.29, 0.65)
#: The largest field of view drawn (pixels): 2048 × 2048.
MAX_FIELD_PIXELS = 2048 * 2048


def pixel_mask_fields(data, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ROI's ``x``, ``y`` and ``weight`` of a stored pixel mask (records, or rows of three numbers), read at
    once: a few pixels per ROI, small next to any image."""
    bounded(int(np.prod(data.shape, dtype=np.int64)) * (3 if len(data.shape) == 1 else 1), where)
    pixels = fetch(data, slice(None), where)
    fields = pixels.dtype.names
    if fields:
        if not {"x", "y", "weight"} <= set(fields) or any(pixels.dtype[name].kind not in NUMBER_KINDS
                                                          for name in ("x", "y", "weight")):
            raise MalformedContent(where, f"holds records of {pixels.dtype}", "records of numbers x, y, weight")
        return pixels["x"], pixels["y"], pixels["weight"]
    if pixels.dtype.kind not in NUMBER_KINDS or pixels.ndim != 2 or pixels.shape[1] != 3:
        raise MalformedContent(where, f"holds {pixels.dtype} values of the shape {pixels.shape}",
                               "one (x, y, weight) of numbers per pixel")
    return pixels[:, 0], pixels[:, 1], pixels[:, 2]


def mask_pixels(segmentation) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each ROI's (rows, columns) of pixels with non-zero weight (pixel masks read at once, image masks one by one)."""
    if "pixel_mask" in segmentation.colnames:
        data, bounds = ragged_column(segmentation, "pixel_mask", numbers=False)
        x, y, weight = pixel_mask_fields(data, location(data, column_where(segmentation, "pixel_mask")))
        rois = []
        for first, stop in bounds:
            keep = weight[first:stop] != 0
            rois.append((np.asarray(y[first:stop][keep], dtype=np.int64),
                         np.asarray(x[first:stop][keep], dtype=np.int64)))
        return rois
    if "image_mask" in segmentation.colnames:
        data = segmentation["image_mask"].data
        where = location(data, column_where(segmentation, "image_mask"))
        if len(data.shape) != 3:
            raise MalformedContent(where, f"has the shape {data.shape}",
                                   "one 2-D mask per ROI (ROIs × height × width)")
        per_mask = int(data.shape[1]) * int(data.shape[2])
        drawable_field(tuple(int(n) for n in data.shape[1:3]), segmentation)  # before any mask is read
        return [tuple(np.nonzero(read_numbers(data, row, where, count=per_mask))[:2]) for row in range(data.shape[0])]
    return []


def field_of_view(nwbfile, segmentation, rois) -> tuple[tuple[int, int], bool]:
    """(height, width) of the plane and whether it was inferred from the mask pixels alone."""
    if "image_mask" in segmentation.colnames:
        return tuple(int(n) for n in segmentation["image_mask"].data.shape[1:3]), False
    for series in find_objects(nwbfile, "TwoPhotonSeries"):
        if series.imaging_plane is segmentation.imaging_plane:
            if series.dimension is not None:
                width, height = (int(n) for n in series.dimension[:2])
                return (height, width), False
            if series.data is not None and len(series.data.shape) >= 3:
                return tuple(int(n) for n in series.data.shape[1:3]), False
    largest = max(
        [int(rows.max()) for rows, _ in rois if len(rows)] + [int(cols.max()) for _, cols in rois if len(cols)]
    )
    side = 1 << int(np.ceil(np.log2(max(largest, 0) + 1)))
    return (side, side), True


def drawable_field(shape: tuple[int, int], segmentation) -> tuple[int, int]:
    """The field of view if it can be drawn (at most :data:`MAX_FIELD_PIXELS`), else a note."""
    if shape[0] * shape[1] > MAX_FIELD_PIXELS or min(shape) < 1:
        raise PanelNote(f"the field of view of {segmentation.name} ({shape[0]} × {shape[1]} px) is not between 1 "
                        f"and {MAX_FIELD_PIXELS:,} pixels")
    return shape


def outline_image(rois, shape, ablated: np.ndarray) -> np.ndarray:
    """An RGBA overlay: each ROI filled lightly, its outline opaque; ablated ROIs in red."""
    labels = np.full(shape, -1, dtype=np.int64)
    for number, (rows, columns) in enumerate(rois):
        inside = (rows >= 0) & (rows < shape[0]) & (columns >= 0) & (columns < shape[1])
        labels[rows[inside], columns[inside]] = number
    edge = np.zeros(shape, dtype=bool)
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    edge[:-1, :] |= labels[:-1, :] != labels[1:, :]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge &= labels >= 0
    overlay = np.zeros(shape + (4,))
    inside = labels >= 0
    is_ablated = np.zeros(shape, dtype=bool)
    is_ablated[inside] = ablated[labels[inside]]
    overlay[inside & ~is_ablated] = ROI_COLOR + (0.3,)
    overlay[inside & is_ablated] = ABLATED_COLOR + (0.55,)
    overlay[edge & ~is_ablated] = ROI_COLOR + (1.0,)
    overlay[edge & is_ablated] = ABLATED_COLOR + (1.0,)
    return overlay
