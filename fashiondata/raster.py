"""Pixels: polygons and RLE to masks and back, through pycocotools (COCO's reference code).

Polygons are rasterised in COCO's convention (pixel *i* spans [i, i+1)); RLE follows COCO's
column-major run-length encoding. Masks are ``uint8`` H×W arrays of 0/1.

Label masks (one class id per pixel) become rings with OpenCV's contour tracer, traced on pixel
edges so that pycocotools fills them back to the same pixels (:func:`trace_components`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from fashiondata.errors import ValidationError
from fashiondata.model import BBox, Polygons, Rle


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


def iou_with_mask(segmentations: Sequence[Polygons | Rle], mask: np.ndarray) -> tuple[float, list[float]]:
    """IoU of the union of ``segmentations`` (rasterised as pycocotools does) with a 0/1 ``mask``,
    and each segmentation's area; computed on run-length encodings, without decoding.

    >>> iou_with_mask([Polygons(([0, 0, 2, 0, 2, 1, 0, 1],))], np.ones((1, 4), np.uint8))
    (0.5, [2.0])
    """
    height, width = mask.shape
    encoded = [to_coco_rle(s, height, width) for s in segmentations]
    union = encoded[0] if len(encoded) == 1 else mask_utils.merge(encoded)
    truth = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8, copy=False)))
    iou = float(mask_utils.iou([union], [truth], [0])[0][0])
    return iou, [float(a) for a in mask_utils.area(encoded)]


def masks_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two 0/1 masks (1.0 when both are empty)."""
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else float(np.count_nonzero(a & b)) / union


# ---------------------------------------------------------------- label masks to rings (opencv)


class Component(NamedTuple):
    """One 8-connected region of a binary mask: its outer ring and hole rings as (N, 2) int32
    vertex arrays on pixel edges (absolute pixels), and its pixel count."""

    outer: np.ndarray
    holes: tuple[np.ndarray, ...]
    area: int


def trace_components(binary: np.ndarray, *, origin: tuple[int, int] = (0, 0)) -> list[Component]:
    """The regions of a 0/1 mask with rings that follow pixel **edges**, not pixel centres.

    Filling the rings in COCO's convention (pycocotools, even-odd) gives back the mask exactly.
    OpenCV traces the boundary pixels (8-connected; holes are the foreground pixels around them);
    each boundary pixel then contributes the corners of its outside edges, chosen by the direction
    the trace came in and goes out (:data:`_CORNER_COUNT`). The rule was derived from, and is tested
    against, tracing the mask at twice its size, where every boundary half-pixel is one corner.
    ``origin`` (x, y) is added to every vertex (for masks cropped out of a larger image).

    Examples:
        >>> [c.outer.ravel().tolist() for c in trace_components(np.ones((1, 2), np.uint8))]
        [[0, 0, 0, 1, 2, 1, 2, 0]]
    """
    return trace_many([(binary, origin)])[0]


def trace_many(masks: Sequence[tuple[np.ndarray, tuple[int, int]]]) -> list[list[Component]]:
    """:func:`trace_components` of several (mask, origin) pairs, converting every chain in one
    vectorised pass (a label image's classes are traced together)."""
    chains: list[np.ndarray] = []
    shifts: list[tuple[int, int]] = []
    hierarchies: list[Any] = []
    for binary, origin in masks:
        contours, hierarchy = cv2.findContours(binary.view(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
        chains.extend(contours)
        shifts.extend([origin] * len(contours))
        hierarchies.append(hierarchy[0] if contours else ())
    rings = _edge_rings(chains, np.array(shifts, dtype=np.int32).reshape(-1, 2)) if chains else []
    traced = []
    first = 0
    for hierarchy in hierarchies:
        own = rings[first : first + len(hierarchy)]
        first += len(hierarchy)
        traced.append(_components(own, hierarchy))
    return traced


def _components(rings: list[np.ndarray], hierarchy) -> list[Component]:
    holes: dict[int, list[np.ndarray]] = {}
    for index, (_next, _prev, _child, parent) in enumerate(hierarchy):
        if parent >= 0:
            holes.setdefault(int(parent), []).append(rings[index])
    components = []
    for index, (_next, _prev, _child, parent) in enumerate(hierarchy):
        if parent < 0:
            own_holes = tuple(holes.get(index, ()))
            area = _ring_area(rings[index]) - sum(_ring_area(h) for h in own_holes)
            components.append(Component(rings[index], own_holes, round(area)))
    return components


# Corners of a pixel in walking order (top-left, bottom-left, bottom-right, top-right) as offsets.
_CORNERS = np.array([(0, 0), (0, 1), (1, 1), (1, 0)], dtype=np.int32)
# Chain directions 0..7 = E, SE, S, SW, W, NW, N, NE (image coordinates), indexed by (dx+1)*3 + (dy+1);
# 8 marks a chain of one pixel.
_DIRECTION = np.array([5, 4, 3, 6, 8, 2, 7, 0, 1])
# The first corner a pixel contributes, by incoming direction; its last, by outgoing direction.
_ENTRY = np.array([1, 0, 0, 3, 3, 2, 2, 1, 0])
_EXIT = np.array([2, 2, 1, 1, 0, 0, 3, 3, 3])
# How many corners (1-5): around the outside from entry to exit; a spur (going back the way it
# came along a diagonal) wraps the whole pixel, and so does a lone pixel (4 corners).
_CORNER_COUNT = (_EXIT[None, :] - _ENTRY[:, None]) % 4 + 1
_CORNER_COUNT[:8, :8][(_CORNER_COUNT[:8, :8] == 1) & (np.arange(8)[None, :] == (np.arange(8)[:, None] + 4) % 8)] = 5


def _edge_rings(contours: Sequence[np.ndarray], shifts: np.ndarray) -> list[np.ndarray]:
    """Boundary-pixel chains to pixel-edge rings, all chains at once, without repeated or
    collinear vertices."""
    sizes = np.fromiter((len(c) for c in contours), dtype=np.intp, count=len(contours))
    ends = np.cumsum(sizes) - 1
    starts = ends - sizes + 1
    pixels = np.concatenate(contours).reshape(-1, 2)
    following = np.arange(1, len(pixels) + 1)
    following[ends] = starts
    step = pixels[following] - pixels
    outgoing = _DIRECTION[(step[:, 0] + 1) * 3 + step[:, 1] + 1]
    before = np.arange(-1, len(pixels) - 1)
    before[starts] = ends
    incoming = outgoing[before]
    owner = np.repeat(np.arange(len(sizes)), sizes)
    # a pixel in the middle of a straight horizontal or vertical run adds only collinear corners
    turning = (incoming != outgoing) | (outgoing % 2 == 1) | (outgoing == 8)
    pixels, incoming, outgoing, owner = pixels[turning], incoming[turning], outgoing[turning], owner[turning]
    counts = _CORNER_COUNT[incoming, outgoing]
    source = np.repeat(np.arange(len(pixels)), counts)
    offset = np.arange(len(source)) - np.repeat(np.cumsum(counts) - counts, counts)
    points = pixels[source] + _CORNERS[(_ENTRY[incoming][source] + offset) % 4] + shifts[owner[source]]
    return _drop_redundant(points, owner[source], len(sizes))


def _drop_redundant(points: np.ndarray, owner: np.ndarray, count: int) -> list[np.ndarray]:
    """Split points by ring, dropping each vertex equal to its predecessor, then each vertex in the
    middle of a straight run (both cyclic within a ring)."""
    for test in ("repeat", "collinear"):
        sizes = np.bincount(owner, minlength=count)
        ends = np.cumsum(sizes) - 1
        starts = ends - sizes + 1
        before = np.arange(-1, len(points) - 1)
        before[starts[sizes > 0]] = ends[sizes > 0]
        into = points - points[before]
        if test == "repeat":
            drop = (into == 0).all(axis=1) & (sizes[owner] > 1)
        else:
            out = np.empty_like(into)
            out[:-1] = into[1:]
            out[ends[sizes > 0]] = into[starts[sizes > 0]]
            cross = into[:, 0] * out[:, 1] - into[:, 1] * out[:, 0]
            dot = into[:, 0] * out[:, 0] + into[:, 1] * out[:, 1]
            drop = (cross == 0) & (dot > 0) & (sizes[owner] > 3)
        points, owner = points[~drop], owner[~drop]
    sizes = np.bincount(owner, minlength=count)
    return np.split(points, np.cumsum(sizes)[:-1])


def _ring_area(points: np.ndarray) -> float:
    return abs(float(cv2.contourArea(points.reshape(-1, 1, 2))))


def simplify_component(component: Component, *, tolerance: float, relative: float) -> Component:
    """Douglas-Peucker on every ring with ``min(tolerance, relative × size)`` pixels, ``size`` being
    twice the region's pixel area over the length of all its rings (a disc's radius, a strap's
    width), so that small and thin regions keep their shape.

    Each ring becomes a subset of its vertices (so it stays inside the region's box) with at least
    3 points. ``area`` stays the traced pixel count.
    """
    rings = (component.outer, *component.holes)
    perimeter = sum(_ring_length(ring) for ring in rings)
    epsilon = min(tolerance, relative * 2 * component.area / perimeter) if perimeter else 0.0
    if epsilon < 0.5:  # below half a pixel Douglas-Peucker keeps every corner of a pixel outline
        return component
    outer, *holes = (_douglas_peucker(ring, epsilon) for ring in rings)
    return Component(outer, tuple(holes), component.area)


def _ring_length(points: np.ndarray) -> float:
    return float(cv2.arcLength(points.reshape(-1, 1, 2), True))


def _douglas_peucker(points: np.ndarray, epsilon: float) -> np.ndarray:
    if len(points) <= 4:
        return points
    simplified = cv2.approxPolyDP(points.reshape(-1, 1, 2), epsilon, True).reshape(-1, 2)
    return simplified if len(simplified) >= 3 else points


def colors_to_labels(rgb: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    """Map an H×W×3 RGB image to labels with a 2**24-entry table indexed by ``r << 16 | g << 8 | b``."""
    packed = rgb[..., 0].astype(np.uint32) << 16
    packed |= rgb[..., 1].astype(np.uint32) << 8
    packed |= rgb[..., 2]
    return lookup[packed]


def color_lookup(
    colors: Sequence[tuple[int, int, int]], labels: Sequence[int], *, tolerance: int = 0, unknown: int = 0xFFFF
) -> np.ndarray:
    """The 2**24-entry uint16 table for :func:`colors_to_labels`: each colour maps to its label, and
    so does every colour within ``tolerance`` per channel (the nearest colour wins where those
    neighbourhoods meet); every other colour maps to ``unknown``."""
    lookup = np.full(1 << 24, unknown, dtype=np.uint16)
    if tolerance <= 0:
        for (r, g, b), label in zip(colors, labels):
            lookup[(r << 16) | (g << 8) | b] = label
        return lookup
    distance = np.full(1 << 24, 255, dtype=np.uint8)
    steps = np.arange(-tolerance, tolerance + 1)
    for (r, g, b), label in zip(colors, labels):
        rs, gs, bs = (np.clip(c + steps, 0, 255) for c in (r, g, b))
        cube_r, cube_g, cube_b = np.meshgrid(rs, gs, bs, indexing="ij")
        keys = ((cube_r << 16) | (cube_g << 8) | cube_b).ravel()
        far = np.maximum(np.maximum(abs(cube_r - r), abs(cube_g - g)), abs(cube_b - b)).ravel().astype(np.uint8)
        closer = far < distance[keys]
        lookup[keys[closer]] = label
        distance[keys[closer]] = far[closer]
    return lookup
