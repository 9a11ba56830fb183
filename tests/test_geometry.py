"""Zero-width cuts: one ring that pycocotools (COCO's reference rasteriser) and cv2.fillPoly fill
like the parts it was made from."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from fashiondata.errors import ValidationError
from fashiondata.geometry import bridge_rings, join_rings


def square(x: float, y: float, size: float) -> list[float]:
    return [x, y, x + size, y, x + size, y + size, x, y + size]


def coco_fill(rings: list[list[float]], height: int = 64, width: int = 64) -> np.ndarray:
    """Union of the rings' masks as pycocotools rasterises them (each ring on its own)."""
    masks = [mask_utils.decode(mask_utils.frPyObjects([ring], height, width))[..., 0] for ring in rings]
    return np.bitwise_or.reduce(masks) if masks else np.zeros((height, width), np.uint8)


def coco_fill_one(ring: list[float], height: int = 64, width: int = 64) -> np.ndarray:
    return coco_fill([ring], height, width)


@pytest.mark.parametrize(
    "rings, expected",
    [
        ([square(0, 0, 2)], [0, 0, 2, 0, 2, 2, 0, 2]),  # one ring passes through
        # two squares: the cut leaves (2, 0) for (5, 0), walks the right square, comes back
        (
            [square(0, 0, 2), square(5, 0, 2)],
            [0, 0, 2, 0, 5, 0, 7, 0, 7, 2, 5, 2, 5, 0, 2, 0, 2, 2, 0, 2],
        ),
        ([[0, 0, 1, 1], square(3, 3, 1)], [3, 3, 4, 3, 4, 4, 3, 4]),  # a 2-point ring fills nothing: ignored
        ([[0, 0, 1, 1]], []),  # nothing left
        ([], []),
    ],
)
def test_join_rings_exact_output(rings, expected):
    assert join_rings(rings) == [float(v) for v in expected]


def test_join_rings_odd_coordinate_count_is_refused():
    with pytest.raises(ValidationError, match="even count"):
        join_rings([[0, 0, 1, 0, 1]])


def test_join_rings_keeps_every_vertex_and_adds_two_per_cut():
    rings = [square(10 * i, 10 * j, 3) for i in range(6) for j in range(6)]
    joined = join_rings(rings)
    assert len(joined) // 2 == 4 * len(rings) + 2 * (len(rings) - 1)


def test_join_rings_is_deterministic_and_independent_of_repeats():
    rings = [square(7 * i % 50, 11 * i % 50, 4) for i in range(20)]
    assert join_rings(rings) == join_rings([list(r) for r in rings])


@pytest.mark.parametrize(
    "rings, expected_mask",
    [
        # side by side: the union
        ([square(2, 2, 8), square(20, 4, 10)], lambda m: m[2:10, 2:10].fill(1) or m[4:14, 20:30].fill(1)),
        # outer, hole, island in the hole: even-odd
        (
            [square(2, 2, 30), square(8, 8, 18), square(14, 14, 6)],
            lambda m: m[2:32, 2:32].fill(1) or m[8:26, 8:26].fill(0) or m[14:20, 14:20].fill(1),
        ),
        # 36 specks in a grid: a long tree of cuts crossing nothing but background
        (
            [square(2 + 10 * i, 2 + 10 * j, 3) for i in range(6) for j in range(6)],
            lambda m: [m[2 + 10 * j : 5 + 10 * j, 2 + 10 * i : 5 + 10 * i].fill(1) for i in range(6) for j in range(6)],
        ),
    ],
)
def test_join_rings_fills_like_the_rings_in_pycocotools(rings, expected_mask):
    expected = np.zeros((64, 64), np.uint8)
    expected_mask(expected)
    assert np.array_equal(coco_fill_one(join_rings(rings)), expected)


@pytest.mark.parametrize(
    "parts, holes, expected_mask",
    [
        # disjoint parts: vertices kept, union
        ([square(2, 2, 8), square(20, 4, 10)], [], lambda m: m[2:10, 2:10].fill(1) or m[4:14, 20:30].fill(1)),
        # overlapping parts (an XOR would hollow the overlap): the union
        ([square(2, 2, 20), square(12, 12, 20)], [], lambda m: m[2:22, 2:22].fill(1) or m[12:32, 12:32].fill(1)),
        # a part inside another part is no hole in COCO: the union is the big one
        ([square(2, 2, 30), square(10, 10, 5)], [], lambda m: m[2:32, 2:32].fill(1)),
        # a donut: outer minus the hole
        ([square(2, 2, 30)], [square(10, 10, 8)], lambda m: m[2:32, 2:32].fill(1) or m[10:18, 10:18].fill(0)),
        # two holes in two parts
        (
            [square(2, 2, 20), square(30, 30, 20)],
            [square(5, 5, 4), square(40, 40, 4)],
            lambda m: (
                m[2:22, 2:22].fill(1) or m[30:50, 30:50].fill(1) or m[5:9, 5:9].fill(0) or m[40:44, 40:44].fill(0)
            ),
        ),
    ],
)
def test_bridge_rings_fills_the_union_minus_holes_in_pycocotools(parts, holes, expected_mask):
    expected = np.zeros((64, 64), np.uint8)
    expected_mask(expected)
    assert np.array_equal(coco_fill_one(bridge_rings(parts, holes)), expected)


def test_bridge_rings_keeps_disjoint_parts_vertices_exactly():
    parts = [[2.25, 2.5, 10.125, 2.0, 9.0, 9.75], square(20.5, 4.5, 10)]
    assert bridge_rings(parts) == join_rings(parts)


def test_bridge_rings_matches_union_of_smooth_parts():
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)

    def blob(cx, cy, r):
        return np.column_stack([cx + r * np.cos(angles), cy + r * 0.7 * np.sin(angles)]).ravel().tolist()

    parts = [blob(16, 16, 12), blob(44, 40, 14), blob(20, 48, 6)]
    assert np.array_equal(coco_fill_one(bridge_rings(parts)), coco_fill(parts))


def test_cv2_fill_poly_differs_only_on_the_cut_lines():
    parts = [square(2, 2, 10), square(30, 6, 12), square(8, 40, 9)]
    hole = square(5, 5, 3)
    joined = join_rings([*parts, hole])
    points = np.round(np.asarray(joined).reshape(-1, 2)).astype(np.int32)
    ours = np.zeros((64, 64), np.uint8)
    cv2.fillPoly(ours, [points], 1)
    expected = np.zeros((64, 64), np.uint8)
    cv2.fillPoly(expected, [np.asarray(r, np.int32).reshape(-1, 2) for r in [*parts, hole]], 1)
    cuts = np.zeros((64, 64), np.uint8)
    for a, b in zip(points, np.roll(points, -1, axis=0)):
        cv2.line(cuts, tuple(int(v) for v in a), tuple(int(v) for v in b), 1)
    differs = ours != expected
    assert differs.any()  # OpenCV does draw the cuts…
    assert not (differs & (cuts == 0)).any()  # …and nothing else
