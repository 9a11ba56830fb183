"""Pixels: polygons and RLE to masks and back, through pycocotools (COCO's reference code).

Polygons are rasterised in COCO's convention (pixel *i* spans [i, i+1)); RLE follows COCO's
column-major run-length encoding. Masks are ``uint8`` H×W arrays of 0/1.

Label masks become rings in :mod:`fashiondata.tracing`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fashiondata.errors import ValidationError
from fashiondata.lazy import LazyModule
from fashiondata.model import BBox, Polygons, Rle

if TYPE_CHECKING:
    import numpy as np
    from pycocotools import mask as mask_utils
else:
    np = LazyModule("numpy")
    mask_utils = LazyModule("pycocotools.mask")


def to_coco_rle(segmentation: Polygons | Rle, height: int, width: int) -> dict:
    """The compressed COCO RLE (``{"size": [h, w], "counts": bytes}``) of one instance's mask."""
    if isinstance(segmentation, Polygons):
        rings = [np.asarray(ring, dtype=np.float64) for ring in segmentation.rings if len(ring) >= 6]
        rings = [r for r in (_bounded(ring, height, width) for ring in rings) if len(r) >= 6]
        if not rings:
            return mask_utils.encode(np.zeros((height, width), dtype=np.uint8, order="F"))
        # frPyObjects treats a 4-number list as a box: only rings of >= 3 points reach it
        return mask_utils.merge(mask_utils.frPyObjects(rings, height, width))
    size = [int(v) for v in segmentation.size]
    if size != [height, width]:  # pycocotools would return a mask of another shape than the image
        raise ValidationError(f"RLE size {size} is not the image's [{height}, {width}]")
    if segmentation.is_compressed:
        counts = segmentation.counts
        return {"size": size, "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
    return mask_utils.frPyObjects({"size": size, "counts": list(segmentation.counts)}, *size)


def _bounded(ring: np.ndarray, height: int, width: int) -> np.ndarray:
    """The ring, clipped to the image and a margin of ``width + height`` when it reaches beyond that.

    pycocotools walks every edge pixel by pixel: one vertex at 1e308 makes it allocate without bound
    (and crash). Clipping (Sutherland–Hodgman) keeps the shape inside the image; pycocotools rounds
    vertices to 1/5 pixel, so a new vertex far away may still flip a pixel on the polygon's border.
    Rings within the margin, every ring of real data, are passed as they are.
    """
    margin = width + height
    xs, ys = ring[0::2], ring[1::2]
    if xs.min() >= -margin and ys.min() >= -margin and xs.max() <= width + margin and ys.max() <= height + margin:
        return ring
    points = np.clip(ring.reshape(-1, 2), -1e12, 1e12)  # no overflow in the edge arithmetic below
    for axis, bound, keep_below in (
        (0, -margin, False),
        (0, width + margin, True),
        (1, -margin, False),
        (1, height + margin, True),
    ):
        points = _clip_half_plane(points, axis, bound, keep_below)
    return points.ravel()


def _clip_half_plane(points: np.ndarray, axis: int, bound: float, keep_below: bool) -> np.ndarray:
    inside = points[:, axis] <= bound if keep_below else points[:, axis] >= bound
    kept: list[np.ndarray] = []
    for i in range(len(points)):
        current, previous = points[i], points[i - 1]
        if inside[i] != inside[i - 1]:
            t = (bound - previous[axis]) / (current[axis] - previous[axis])
            kept.append(previous + t * (current - previous))
        if inside[i]:
            kept.append(current)
    return np.asarray(kept, dtype=np.float64).reshape(-1, 2)


def compressed_counts(text: str) -> list[int]:
    """The run lengths of a compressed COCO RLE string, as pycocotools' ``rleFrString`` reads them.

    Each count is a little-endian run of 6-bit characters (``chr(48 + c)``, bit 5 = more follows,
    bit 4 of the last = negative) and, from the fourth on, a difference to the count two before.
    Raises ValueError for a character outside ``0``..``o``, a cut-short count or a negative run,
    which pycocotools would turn into a crash or a garbage mask.

    >>> compressed_counts("5221")  # pycocotools' encoding of the 1×12 mask 000001100111
    [5, 2, 2, 3]
    """
    counts: list[int] = []
    position = 0
    while position < len(text):
        value = shift = 0
        more = True
        while more:
            if position >= len(text):
                raise ValueError("cut short inside a count")
            code = ord(text[position]) - 48
            if not 0 <= code < 64:
                raise ValueError(f"character {text[position]!r} at {position} is not an RLE digit")
            value |= (code & 0x1F) << shift
            more = bool(code & 0x20)
            position, shift = position + 1, shift + 5
            if not more and code & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        if value < 0:
            raise ValueError(f"count {len(counts)} is negative")
        counts.append(value)
    return counts


def decode(segmentation: Polygons | Rle, height: int, width: int) -> np.ndarray:
    """The H×W uint8 0/1 mask of one instance."""
    return mask_utils.decode(to_coco_rle(segmentation, height, width))


def mask_area(segmentation: Polygons | Rle, height: int, width: int) -> float:
    """The number of mask pixels, as COCO's ``area`` (never the box area).

    Polygons whose rings all lie near the image (every real one) go straight to pycocotools' C
    rasteriser as lists, merged only when there are several: the same pixels as :func:`to_coco_rle`
    without its per-ring NumPy checks (a quarter of the cost of an area, DeepFashion2's ~100k).
    """
    if isinstance(segmentation, Polygons):
        rings = [ring for ring in segmentation.rings if len(ring) >= 6]
        if rings and all(_near_image(ring, height, width) for ring in rings):
            rles = mask_utils.frPyObjects(rings, height, width)
            return float(mask_utils.area(rles[0] if len(rles) == 1 else mask_utils.merge(rles)))
    return float(mask_utils.area(to_coco_rle(segmentation, height, width)))


def _near_image(ring: Sequence[float], height: int, width: int) -> bool:
    """Every vertex finite and within the margin :func:`_bounded` keeps as it is (x and y both checked
    against the narrower bound: three C-level passes; a ring that fails takes the general path)."""
    margin = width + height
    return (
        len(ring) % 2 == 0
        and min(ring) >= -margin
        and max(ring) <= min(width, height) + margin
        and math.isfinite(sum(ring))  # NaN slips past min and max; huge ints were refused above
    )


def mask_bbox(segmentation: Polygons | Rle, height: int, width: int) -> BBox:
    """The box of a segmentation: the polygons' extent, or the RLE mask's pixel extent."""
    if isinstance(segmentation, Polygons):
        return segmentation.bbox()
    return BBox(*(float(v) for v in mask_utils.toBbox(to_coco_rle(segmentation, height, width))))


def encode_mask(mask: np.ndarray) -> Rle:
    """Compress a 0/1 mask into an :class:`Rle` with ``str`` counts, as COCO writes them."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return Rle(size=(int(rle["size"][0]), int(rle["size"][1])), counts=rle["counts"].decode("ascii"))


def masks_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two 0/1 masks (1.0 when both are empty)."""
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else float(np.count_nonzero(a & b)) / union
