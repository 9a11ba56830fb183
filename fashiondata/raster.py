"""Pixels: polygons and RLE to masks and back, through pycocotools (COCO's reference code).

Polygons are rasterised in COCO's convention (pixel *i* spans [i, i+1)); RLE follows COCO's
column-major run-length encoding. Masks are ``uint8`` H×W arrays of 0/1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pycocotools import mask as mask_utils

from fashiondata.model import BBox, Polygons, Rle


def to_coco_rle(segmentation: Polygons | Rle, height: int, width: int) -> dict:
    """The compressed COCO RLE (``{"size": [h, w], "counts": bytes}``) of one instance's mask."""
    if isinstance(segmentation, Polygons):
        rings = [[float(v) for v in ring] for ring in segmentation.rings if len(ring) >= 6]
        if not rings:
            return mask_utils.encode(np.zeros((height, width), dtype=np.uint8, order="F"))
        # frPyObjects treats a 4-number list as a box: only rings of >= 3 points reach it
        return mask_utils.merge(mask_utils.frPyObjects(rings, height, width))
    size = [int(v) for v in segmentation.size]
    if segmentation.is_compressed:
        counts = segmentation.counts
        return {"size": size, "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
    return mask_utils.frPyObjects({"size": size, "counts": list(segmentation.counts)}, *size)


def decode(segmentation: Polygons | Rle, height: int, width: int) -> np.ndarray:
    """The H×W uint8 0/1 mask of one instance."""
    return mask_utils.decode(to_coco_rle(segmentation, height, width))


def mask_area(segmentation: Polygons | Rle, height: int, width: int) -> float:
    """The number of mask pixels, as COCO's ``area`` (never the box area)."""
    return float(mask_utils.area(to_coco_rle(segmentation, height, width)))


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
