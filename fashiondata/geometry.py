"""Pure geometry on flat rings ``[x1, y1, x2, y2, ...]`` in absolute pixels (COCO's pixel-edge
convention, see :mod:`fashiondata.model`).

The central tool is the *zero-width cut*: several rings become one ring by walking from a vertex of
one ring to a vertex of the next, around that ring, and back along the same segment. A segment
walked twice adds nothing to an even-odd fill, so the single ring fills exactly what the rings filled
together. This is how a garment in several parts, or a part with holes, fits formats that hold one
ring per instance (YOLO-seg) and still rasterises right with pycocotools (even-odd, column crossings)
and, apart from the one-pixel-wide cut lines OpenCV draws on its boundaries, with ``cv2.fillPoly``.

Examples:
    >>> left = [0, 0, 2, 0, 2, 2, 0, 2]
    >>> right = [5, 0, 7, 0, 7, 2, 5, 2]
    >>> join_rings([left, right])
    [0.0, 0.0, 2.0, 0.0, 5.0, 0.0, 7.0, 0.0, 7.0, 2.0, 5.0, 2.0, 5.0, 0.0, 2.0, 0.0, 2.0, 2.0, 0.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from fashiondata.errors import ValidationError
from fashiondata.lazy import LazyModule

if TYPE_CHECKING:
    import numpy as np

    #: A flat ring ``[x1, y1, x2, y2, ...]``: a list or tuple of numbers, or a 1-D numpy array.
    Ring = Sequence[float] | np.ndarray
else:
    np = LazyModule("numpy")


def ring_points(ring: Ring) -> np.ndarray:
    """A flat ring as an (N, 2) float64 array."""
    if len(ring) % 2:
        raise ValidationError(f"a ring needs an even count of coordinates, got {len(ring)}")
    return np.asarray(ring, dtype=np.float64).reshape(-1, 2)


def bridge_rings(rings: Sequence[Ring], holes: Sequence[Ring] = ()) -> list[float]:
    """One ring whose fill is the union of ``rings`` minus the union of ``holes``.

    This is what a multi-part COCO polygon means (its parts are united) and what a format with one
    ring per instance needs. When no two parts overlap and no hole is given, the rings are joined as
    they are (:func:`join_rings`), so their vertices are kept exactly; otherwise the union and
    difference are computed first with shapely (overlapping or nested parts, holes).

    Examples:
        >>> donut = bridge_rings([[0, 0, 4, 0, 4, 4, 0, 4]], holes=[[1, 1, 2, 1, 2, 2, 1, 2]])
        >>> len(donut) // 2   # 4 outer + 4 hole vertices + the 2 ends of the cut
        10
    """
    parts = [p for p in (ring_points(ring) for ring in rings) if len(p) >= 3]
    cutouts = [p for p in (ring_points(ring) for ring in holes) if len(p) >= 3]
    if not cutouts and not _any_overlap(parts):
        return join_rings([p.ravel() for p in parts])
    return join_rings(_boundary_rings(_union(parts), _union(cutouts)))


def _any_overlap(parts: list[np.ndarray]) -> bool:
    """Whether the interiors of any two parts meet (boxes first, shapely only for boxes that meet)."""
    if len(parts) < 2:
        return False
    boxes = np.array([(*p.min(axis=0), *p.max(axis=0)) for p in parts])
    meets = (
        (boxes[:, None, 0] < boxes[None, :, 2])
        & (boxes[None, :, 0] < boxes[:, None, 2])
        & (boxes[:, None, 1] < boxes[None, :, 3])
        & (boxes[None, :, 1] < boxes[:, None, 3])
    )
    pairs = np.argwhere(np.triu(meets, k=1))
    if not len(pairs):
        return False
    shapes = [_valid_polygon(p) for p in parts]
    return any(shapes[a].intersection(shapes[b]).area > 0 for a, b in pairs)


def _valid_polygon(points: np.ndarray):
    import shapely

    polygon = shapely.Polygon(points)
    return polygon if polygon.is_valid else shapely.make_valid(polygon)


def _union(parts: list[np.ndarray]):
    import shapely

    return shapely.unary_union([_valid_polygon(p) for p in parts])


def _boundary_rings(area, cutout) -> list[np.ndarray]:
    """The exterior and interior rings of ``area - cutout``, polygons only (lines and points drop)."""
    import shapely

    shape = area.difference(cutout) if not cutout.is_empty else area
    rings: list[np.ndarray] = []
    for polygon in shapely.get_parts(shape):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue  # a GeometryCollection from make_valid may hold lines: they fill nothing
        for ring in (polygon.exterior, *polygon.interiors):
            rings.append(np.asarray(ring.coords)[:-1].ravel())
    return rings


def join_rings(rings: Sequence[Ring]) -> list[float]:
    """Join rings into one by zero-width cuts, keeping their even-odd fill.

    The fill of the result is the even-odd fill of all rings together: rings side by side are
    united, a ring inside another cuts a hole, a ring inside that hole is an island again. This is
    exactly the meaning of the outer and hole boundaries traced from a mask. Rings that overlap
    partly are XOR-ed, not united: use :func:`bridge_rings` for parts that may overlap.

    The cuts are the shortest vertex-to-vertex connections (a minimum spanning tree over the rings,
    grown from the first ring; ties go to the earlier ring and vertex), so the result is
    deterministic. Rings of fewer than 3 points are ignored; with none left the result is ``[]``.
    """
    parts = [p for p in (ring_points(ring) for ring in rings) if len(p) >= 3]
    if not parts:
        return []
    if len(parts) == 1:
        return parts[0].ravel().tolist()
    order = _walk_order(parts, _spanning_tree(parts))
    return np.concatenate(parts)[order].ravel().tolist()


def _spanning_tree(parts: list[np.ndarray]) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """Prim's tree over rings, with vertex-to-vertex distances, grown from ring 0.

    Returns ``(ring, vertex) -> [(child ring, child vertex), ...]``: each child hangs off that vertex
    of its parent by a cut to its own vertex.
    """
    count = len(parts)
    sizes = np.array([len(p) for p in parts])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    points = np.concatenate(parts)
    owner = np.repeat(np.arange(count), sizes)
    low = np.array([p.min(axis=0) for p in parts])
    high = np.array([p.max(axis=0) for p in parts])
    best_d2 = np.full(count, np.inf)
    best_link = np.zeros((count, 3), dtype=np.intp)  # parent ring, parent vertex, own vertex
    in_tree = np.zeros(count, dtype=bool)
    children: dict[tuple[int, int], list[tuple[int, int]]] = {}
    newest = 0
    for _ in range(count - 1):
        in_tree[newest] = True
        open_rings = np.flatnonzero(~in_tree)
        source_index, candidate_index = _near_pairs(parts[newest], points, owner, open_rings, starts, low, high)
        source, candidates = parts[newest][source_index], points[candidate_index]
        d2 = _squared_distances(source, candidates)
        nearest_source = np.argmin(d2, axis=0)  # per candidate point: closest vertex of the newest ring
        nearest_d2 = d2[nearest_source, np.arange(len(candidates))]
        candidate_owner = owner[candidate_index]
        candidate_vertex = candidate_index - starts[candidate_owner]
        # per open ring, its first closest point (lexsort: by owner, then distance, then index)
        rank = np.lexsort((np.arange(len(candidates)), nearest_d2, candidate_owner))
        first = rank[np.r_[True, candidate_owner[rank][1:] != candidate_owner[rank][:-1]]]
        for index in first:
            ring = candidate_owner[index]
            if nearest_d2[index] < best_d2[ring]:
                best_d2[ring] = nearest_d2[index]
                best_link[ring] = (newest, source_index[nearest_source[index]], candidate_vertex[index])
        newest = int(open_rings[np.argmin(best_d2[open_rings])])
        parent, parent_vertex, own_vertex = (int(v) for v in best_link[newest])
        children.setdefault((parent, parent_vertex), []).append((newest, own_vertex))
    return children


def _near_pairs(
    source: np.ndarray,
    points: np.ndarray,
    owner: np.ndarray,
    open_rings: np.ndarray,
    starts: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The source vertices and open-ring points that can take part in a closest pair.

    Each open ring's first vertex gives an upper bound on its closest distance; a source vertex
    farther than that from the ring's box, or a ring point farther than that from the box of the
    remaining source vertices, cannot be in a closest pair (nor tie with one), so the result is the
    same as with every vertex, from a much smaller distance matrix (a hole next to a long outline).
    """
    bound = _squared_distances(source, points[starts[open_rings]]).min(axis=0)  # per open ring
    gap = np.maximum(np.maximum(low[open_rings][None] - source[:, None], source[:, None] - high[open_rings][None]), 0)
    source_index = np.flatnonzero(((gap**2).sum(axis=2) <= bound[None, :]).any(axis=1))
    kept = source[source_index]
    ring_bound = np.full(len(low), -1.0)
    ring_bound[open_rings] = bound
    gap = np.maximum(np.maximum(kept.min(axis=0) - points, points - kept.max(axis=0)), 0)
    candidate_index = np.flatnonzero((gap**2).sum(axis=1) <= ring_bound[owner])
    return source_index, candidate_index


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All squared distances between the rows of ``a`` and ``b`` (|a|² + |b|² − 2ab: one matrix
    product instead of an (N, M, 2) temporary). Exact for the integer-valued coordinates of traced
    rings; rounding elsewhere only affects which of two nearly equal cuts is taken."""
    return np.maximum((a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T), 0.0)


def _walk_order(parts: list[np.ndarray], children: dict[tuple[int, int], list[tuple[int, int]]]) -> np.ndarray:
    """Global vertex indices of the joined ring: each ring walked from its cut vertex, each child
    walked (and left again by the same cut) where it hangs. Iterative, and emitting whole runs of
    vertices at once, so thousands of rings and vertices are cheap."""
    sizes = [len(p) for p in parts]
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).tolist()
    hanging: dict[int, list[tuple[int, int, int]]] = {}
    for (ring, vertex), kids in children.items():
        hanging.setdefault(ring, []).extend((vertex, child, child_vertex) for child, child_vertex in kids)

    def hangs(ring: int, start: int) -> list[tuple[int, int, int]]:
        """(step from the start, child, child's vertex), in walking order (stable for one vertex)."""
        return sorted(((v - start) % sizes[ring], c, cv) for v, c, cv in hanging.get(ring, ()))

    pieces: list[np.ndarray] = []

    def emit(ring: int, start: int, first: int, last: int) -> None:
        if first <= last:
            pieces.append(offsets[ring] + (start + np.arange(first, last + 1)) % sizes[ring])

    # a frame: ring, start vertex, its hangs, next hang, next step, where to return (ring, vertex) or None
    stack: list[list] = [[0, 0, hangs(0, 0), 0, 0, None]]
    while stack:
        frame = stack[-1]
        ring, start, waiting, index, step, back = frame
        if index < len(waiting):
            hang_step, child, child_vertex = waiting[index]
            emit(ring, start, step, hang_step)
            frame[3], frame[4] = index + 1, hang_step + 1
            here = offsets[ring] + (start + hang_step) % sizes[ring]
            stack.append([child, child_vertex, hangs(child, child_vertex), 0, 0, here])
            continue
        emit(ring, start, step, sizes[ring] - 1)
        stack.pop()
        if back is not None:  # close this ring, then walk the cut back to the parent's vertex
            pieces.append(np.array([offsets[ring] + start, back]))
    return np.concatenate(pieces).astype(np.intp)
