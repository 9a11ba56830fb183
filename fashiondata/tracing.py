"""Label masks to rings with OpenCV's contour tracer, traced on pixel edges so that pycocotools fills
them back to the same pixels (:func:`trace_components`); Douglas-Peucker simplification scaled to a
region's size; holes joined to their outer ring by zero-width cuts (:func:`join_traced_rings`, the
integer fast path of :func:`fashiondata.geometry.join_rings`); RGB colour masks to label masks
(:func:`color_hash` for exact colours, :func:`color_lookup` within a tolerance).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np

from fashiondata.geometry import _walk_order  # the walk along the cuts, shared with join_rings


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
    parents: list[list[int]] = []  # per mask, each contour's parent (-1: an outer ring)
    for binary, origin in masks:
        contours, hierarchy = cv2.findContours(binary.view(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
        chains.extend(contours)
        shifts.extend([origin] * len(contours))
        parents.append(hierarchy[0][:, 3].tolist() if contours else [])
    rings, areas = _edge_rings(chains, np.array(shifts, dtype=np.int32).reshape(-1, 2)) if chains else ([], [])
    traced = []
    first = 0
    for own in parents:
        last = first + len(own)
        traced.append(_components(rings[first:last], areas[first:last], own))
        first = last
    return traced


def _components(rings: list[np.ndarray], areas: list[float], parents: list[int]) -> list[Component]:
    """Outer rings (no parent) with their holes; the area is the outer ring's minus its holes'."""
    holes: dict[int, list[int]] = {}
    for index, parent in enumerate(parents):
        if parent >= 0:
            holes.setdefault(parent, []).append(index)
    components = []
    for index, parent in enumerate(parents):
        if parent < 0:
            own = holes.get(index, ())
            area = areas[index] - sum(areas[h] for h in own)
            components.append(Component(rings[index], tuple(rings[h] for h in own), round(area)))
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


def _edge_rings(contours: Sequence[np.ndarray], shifts: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
    """Boundary-pixel chains to pixel-edge rings, all chains at once, without repeated or
    collinear vertices, and each ring's enclosed area. Works on x and y as separate 1-D arrays (numpy gathers those much faster
    than rows of an (N, 2) array)."""
    sizes = np.fromiter((len(c) for c in contours), dtype=np.intp, count=len(contours))
    ends = np.cumsum(sizes) - 1
    starts = ends - sizes + 1
    pixels = np.concatenate(contours).reshape(-1, 2)
    x, y = pixels[:, 0].copy(), pixels[:, 1].copy()
    following = np.arange(1, len(x) + 1)
    following[ends] = starts
    outgoing = _DIRECTION[(x[following] - x + 1) * 3 + (y[following] - y + 1)]
    before = np.arange(-1, len(x) - 1)
    before[starts] = ends
    incoming = outgoing[before]
    owner = np.repeat(np.arange(len(sizes)), sizes)
    # a pixel in the middle of a straight horizontal or vertical run adds only collinear corners
    turning = np.flatnonzero((incoming != outgoing) | (outgoing % 2 == 1) | (outgoing == 8))
    x, y, incoming, outgoing, owner = x[turning], y[turning], incoming[turning], outgoing[turning], owner[turning]
    counts = _CORNER_COUNT[incoming, outgoing]
    source = np.repeat(np.arange(len(x)), counts)
    offset = np.arange(len(source)) - np.repeat(np.cumsum(counts) - counts, counts)
    corner = (_ENTRY[incoming][source] + offset) % 4
    x, y, owner = x[source] + _CORNERS[corner, 0], y[source] + _CORNERS[corner, 1], owner[source]
    if shifts.any():
        x += shifts[owner, 0]
        y += shifts[owner, 1]
    return _drop_redundant(x, y, owner, len(sizes))


def _drop_redundant(
    x: np.ndarray, y: np.ndarray, owner: np.ndarray, count: int
) -> tuple[list[np.ndarray], list[float]]:
    """Split points by ring, dropping each vertex equal to its predecessor, then each vertex in the
    middle of a straight run (both cyclic within a ring); with each ring's area (shoelace)."""
    for test in ("repeat", "collinear"):
        sizes = np.bincount(owner, minlength=count)
        ends = np.cumsum(sizes) - 1
        starts = ends - sizes + 1
        before = np.arange(-1, len(x) - 1)
        before[starts[sizes > 0]] = ends[sizes > 0]
        into_x, into_y = x - x[before], y - y[before]
        if test == "repeat":
            keep = (into_x != 0) | (into_y != 0) | (sizes[owner] <= 1)
        else:
            after = np.arange(1, len(x) + 1)
            after[ends[sizes > 0]] = starts[sizes > 0]
            out_x, out_y = into_x[after], into_y[after]
            cross = into_x * out_y - into_y * out_x
            dot = into_x * out_x + into_y * out_y
            keep = (cross != 0) | (dot <= 0) | (sizes[owner] <= 3)
        keep = np.flatnonzero(keep)
        x, y, owner = x[keep], y[keep], owner[keep]
    sizes = np.bincount(owner, minlength=count)
    ends = np.cumsum(sizes)
    after = np.arange(1, len(x) + 1)
    after[ends[sizes > 0] - 1] = (ends - sizes)[sizes > 0]
    wide_x, wide_y = x.astype(np.int64), y.astype(np.int64)
    twice_area = np.bincount(owner, weights=wide_x * wide_y[after] - wide_x[after] * wide_y, minlength=count)
    points = np.empty((len(x), 2), dtype=np.int32)
    points[:, 0], points[:, 1] = x, y
    return np.split(points, ends[:-1]), (np.abs(twice_area) / 2).tolist()


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


def join_traced_rings(rings: Sequence[np.ndarray]) -> np.ndarray:
    """:func:`fashiondata.geometry.join_rings` of integer (N, 2) rings, as an (N, 2) array: the
    same vertices in the same order, found with exact integer distances and one small distance
    matrix per ring pair (a traced region has few rings of a few hundred vertices).

    Examples:
        >>> outer = np.array([(0, 0), (0, 4), (4, 4), (4, 0)]); hole = np.array([(1, 1), (1, 2), (2, 2), (2, 1)])
        >>> join_traced_rings([outer, hole]).tolist()
        [[0, 0], [1, 1], [1, 2], [2, 2], [2, 1], [1, 1], [0, 0], [0, 4], [4, 4], [4, 0]]
    """
    parts = [ring for ring in rings if len(ring) >= 3]
    if len(parts) < 2:
        return parts[0] if parts else np.zeros((0, 2), np.int32)
    wide = max(int(np.abs(ring).max()) for ring in parts) > 32767  # a squared distance may pass 2**31
    parts = [ring.astype(np.int64 if wide else np.int32, copy=False) for ring in parts]
    if len(parts) == 2:  # one hole (most often): out along the cut at vertex i, around the hole, back
        outer, hole = parts
        j, i, _ = _closest_pair(outer, hole)
        return np.concatenate((outer[: i + 1], hole[j:], hole[: j + 1], outer[i:]))
    best_d2 = np.full(len(parts), np.iinfo(np.int64).max)
    best_link = [(0, 0, 0)] * len(parts)  # parent ring, parent vertex, own vertex
    in_tree = np.zeros(len(parts), dtype=bool)
    children: dict[tuple[int, int], list[tuple[int, int]]] = {}
    newest = 0
    for _ in range(len(parts) - 1):  # Prim's tree over the rings, grown from ring 0
        in_tree[newest] = True
        open_rings = np.flatnonzero(~in_tree)
        source = parts[newest]
        for ring in open_rings.tolist():
            vertex, source_vertex, d2 = _closest_pair(source, parts[ring])
            if d2 < best_d2[ring]:
                best_d2[ring] = d2
                best_link[ring] = (newest, source_vertex, vertex)
        newest = int(open_rings[np.argmin(best_d2[open_rings])])
        parent, parent_vertex, own_vertex = best_link[newest]
        children.setdefault((parent, parent_vertex), []).append((newest, own_vertex))
    return np.concatenate(parts)[_walk_order(parts, children)]


def _closest_pair(source: np.ndarray, points: np.ndarray) -> tuple[int, int, int]:
    """The first vertex of ``points`` nearest to ``source``, the first vertex of ``source`` nearest
    to it, and their squared distance."""
    # a source vertex farther from the points' box than the first point is from the source cannot
    # be in a closest pair, nor tie with one
    to_first = source - points[0]
    bound = (to_first * to_first).sum(axis=1).min()
    gap = np.maximum(np.maximum(points.min(axis=0) - source, source - points.max(axis=0)), 0)
    near = np.flatnonzero((gap * gap).sum(axis=1) <= bound)
    d2 = np.subtract.outer(points[:, 0], source[near, 0])  # (points, near sources), squared in place
    dy = np.subtract.outer(points[:, 1], source[near, 1])
    d2 *= d2
    dy *= dy
    d2 += dy
    nearest_d2 = d2.min(axis=1)
    vertex = int(nearest_d2.argmin())
    return vertex, int(near[d2[vertex].argmin()]), int(nearest_d2[vertex])


class ColorHash(NamedTuple):
    """Exact colours → labels through 256 slots, for labels below 256: a BGR pixel falls into slot
    ``(T_b[b] + T_g[g] + T_r[r]) mod 256`` (tabulation hashing with seeded random byte tables).
    Each slot holds one colour and its label; a pixel that differs from its slot's colour is not
    in the table. Every step is an OpenCV look-up table on one channel (twice as fast as the
    2**24-entry table, whose index array alone is 4 bytes a pixel)."""

    tables: np.ndarray  # (3, 256) uint8: T_b, T_g, T_r
    labels: np.ndarray  # (256,) uint8: the label of each slot's colour
    colors: np.ndarray  # (3, 256) uint8: each slot's B, G and R; an empty slot's colour hashes elsewhere


def color_hash(colors: Sequence[tuple[int, int, int]], labels: Sequence[int]) -> ColorHash | None:
    """The :class:`ColorHash` of RGB ``colors``, or None when a label passes 255 or no seeded
    table puts every colour in its own slot."""
    if len(colors) > 64 or any(not 0 <= label <= 255 for label in labels):
        return None
    bgr = np.array([(b, g, r) for r, g, b in colors], dtype=np.intp).reshape(-1, 3)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        tables = rng.integers(0, 256, (3, 256), dtype=np.intp)
        slots = tables[[0, 1, 2], bgr].sum(axis=1) % 256
        if len(np.unique(slots)) < len(slots):
            continue
        table_labels = np.zeros(256, dtype=np.uint8)
        table_colors = np.zeros((3, 256), dtype=np.uint8)  # black: a stranger to every other slot
        black = int(tables[:, 0].sum() % 256)
        if black not in slots:  # black's own slot gets a blue that hashes elsewhere
            table_colors[0, black] = np.flatnonzero(tables[0] != tables[0, 0])[0]
        table_labels[slots] = labels
        table_colors[:, slots] = bgr.T
        return ColorHash(tables.astype(np.uint8), table_labels, table_colors)
    return None


def hashed_colors_to_labels(bgr: np.ndarray, hashed: ColorHash, *, unknown: int = 0xFFFF) -> np.ndarray:
    """Map an H×W×3 uint8 BGR image to labels with :func:`color_hash` tables: uint8 when every
    colour is in the table, else uint16 with ``unknown`` where a colour is not."""
    channels = cv2.split(np.ascontiguousarray(bgr))
    slot = cv2.LUT(channels[0], hashed.tables[0])
    for channel, table in zip(channels[1:], hashed.tables[1:]):
        slot += cv2.LUT(channel, table)  # bytes wrap around: the sum mod 256
    labels = cv2.LUT(slot, hashed.labels)
    if all(np.array_equal(cv2.LUT(slot, colors), channel) for channel, colors in zip(channels, hashed.colors)):
        return labels
    stray = np.zeros(slot.shape, dtype=bool)
    for channel, colors in zip(channels, hashed.colors):
        stray |= cv2.LUT(slot, colors) != channel
    wide = labels.astype(np.uint16)
    wide[stray] = unknown
    return wide


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
