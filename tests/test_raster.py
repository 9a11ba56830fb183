"""Pixels: pycocotools round trips, and label masks traced on pixel edges so that COCO's own
rasteriser gives the mask back exactly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from fashiondata import raster, tracing
from fashiondata.geometry import join_rings
from fashiondata.model import BBox, Polygons, Rle

PIXEL = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "segmentation, height, width, area, bbox",
    [
        (Polygons((PIXEL,)), 3, 3, 1.0, BBox(0, 0, 1, 1)),  # one pixel traced on its edges
        (Polygons(([1, 1, 4, 1, 4, 3, 1, 3], [5, 0, 7, 0, 7, 1, 5, 1])), 4, 8, 8.0, BBox(1, 0, 6, 3)),  # 2 parts
        (Rle(size=(2, 3), counts=[1, 2, 3]), 2, 3, 2.0, BBox(0, 0, 2, 2)),  # uncompressed, column-major
        (Polygons(([0, 0, 1, 1],)), 2, 2, 0.0, BBox(0, 0, 1, 1)),  # a 2-point ring fills nothing
    ],
)
def test_area_and_bbox_follow_pycocotools(segmentation, height, width, area, bbox):
    assert raster.mask_area(segmentation, height, width) == area
    assert raster.mask_bbox(segmentation, height, width) == bbox


def test_encode_mask_round_trips_through_decode():
    mask = np.zeros((5, 7), np.uint8)
    mask[1:4, 2:6] = 1
    rle = raster.encode_mask(mask)
    assert isinstance(rle.counts, str) and rle.size == (5, 7)
    assert np.array_equal(raster.decode(rle, 5, 7), mask)


@pytest.mark.parametrize(
    "a, b, iou",
    [
        (np.array([[1, 1], [0, 0]], np.uint8), np.array([[1, 0], [0, 0]], np.uint8), 0.5),
        (np.zeros((2, 2), np.uint8), np.zeros((2, 2), np.uint8), 1.0),  # both empty
    ],
)
def test_masks_iou(a, b, iou):
    assert raster.masks_iou(a, b) == iou


def _fill(components: list[tracing.Component], height: int, width: int) -> np.ndarray:
    rings = [r.ravel().tolist() for c in components for r in (c.outer, *c.holes)]
    return mask_utils.decode(mask_utils.frPyObjects([join_rings(rings)], height, width))[..., 0]


@pytest.mark.parametrize("seed", range(6))
def test_traced_rings_fill_back_to_the_same_pixels(seed):
    rng = np.random.default_rng(seed)
    # noise at several densities: diagonal touches, one-pixel lines, holes, islands in holes
    mask = (rng.random((40, 50)) < (0.2 + 0.12 * seed)).astype(np.uint8)
    components = tracing.trace_components(mask)
    assert np.array_equal(_fill(components, 40, 50), mask)
    assert sum(c.area for c in components) == int(mask.sum())


def test_traced_donut_has_one_hole_and_its_pixel_count():
    mask = np.zeros((9, 9), np.uint8)
    mask[1:8, 1:8] = 1
    mask[3:6, 3:6] = 0
    (donut,) = tracing.trace_components(mask)
    assert len(donut.holes) == 1 and donut.area == 49 - 9
    assert sorted(map(tuple, donut.outer.tolist())) == [(1, 1), (1, 8), (8, 1), (8, 8)]
    assert sorted(map(tuple, donut.holes[0].tolist())) == [(3, 3), (3, 6), (6, 3), (6, 6)]


def test_trace_origin_shifts_every_vertex():
    (component,) = tracing.trace_components(np.ones((1, 1), np.uint8), origin=(10, 20))
    assert sorted(map(tuple, component.outer.tolist())) == [(10, 20), (10, 21), (11, 20), (11, 21)]


def test_simplify_keeps_small_parts_and_simplifies_big_ones_within_tolerance():
    yy, xx = np.mgrid[:300, :300]
    disc = ((xx - 150) ** 2 + (yy - 150) ** 2 < 120**2).astype(np.uint8)
    speck = np.zeros((10, 10), np.uint8)
    speck[3:6, 2:7] = 1
    (big,) = tracing.trace_components(disc)
    (small,) = tracing.trace_components(speck)
    simple_big = tracing.simplify_component(big, tolerance=1.0, relative=0.025)
    assert 3 <= len(simple_big.outer) < len(big.outer) / 2
    assert set(map(tuple, simple_big.outer.tolist())) <= set(map(tuple, big.outer.tolist()))  # a subset
    assert tracing.simplify_component(small, tolerance=1.0, relative=0.025) is small
    assert raster.masks_iou(_fill([simple_big], 300, 300), disc) > 0.995


def test_color_lookup_maps_exact_colours_and_marks_others_unknown():
    lookup = tracing.color_lookup([(0, 0, 0), (211, 211, 211)], [0, 5])
    rgb = np.array([[[0, 0, 0], [211, 211, 211], [211, 211, 212]]], np.uint8)
    assert tracing.colors_to_labels(rgb, lookup).tolist() == [[0, 5, 0xFFFF]]


def test_color_tolerance_maps_near_colours_to_the_nearest_class():
    lookup = tracing.color_lookup([(100, 100, 100), (110, 100, 100)], [1, 2], tolerance=6)
    rgb = np.array([[[97, 103, 100], [104, 100, 100], [106, 100, 100], [100, 100, 93]]], np.uint8)
    assert tracing.colors_to_labels(rgb, lookup).tolist() == [[1, 1, 2, 0xFFFF]]


def _doubled_reference(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """Rings by tracing the mask at twice its size (vertex X → edge ceil(X / 2)), without repeated
    or collinear vertices: the construction the corner rule was derived from."""
    doubled = cv2.resize(mask, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(doubled, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    rings = []
    for contour in contours:
        points = [tuple(p) for p in ((contour.reshape(-1, 2) + 1) // 2).tolist()]
        points = [p for i, p in enumerate(points) if p != points[i - 1]] or points[:1]
        rings.append(_without_collinear(points))
    return rings


def _without_collinear(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if len(points) <= 3:
        return points
    kept = []
    for i, (x, y) in enumerate(points):
        (px, py), (nx, ny) = points[i - 1], points[(i + 1) % len(points)]
        ax, ay, bx, by = x - px, y - py, nx - x, ny - y
        if not (ax * by - ay * bx == 0 and ax * bx + ay * by > 0):
            kept.append((x, y))
    return kept


def _cyclic(points: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    start = points.index(min(points))
    return tuple(points[start:] + points[:start])


@pytest.mark.parametrize("seed", range(4))
def test_corner_rule_matches_tracing_at_twice_the_size(seed):
    rng = np.random.default_rng(100 + seed)
    mask = (rng.random((30, 30)) < 0.3 + 0.1 * seed).astype(np.uint8)
    ours = [r for c in tracing.trace_components(mask) for r in (c.outer, *c.holes)]
    reference = _doubled_reference(mask)
    assert sorted(_cyclic([tuple(p) for p in r.tolist()]) for r in ours) == sorted(_cyclic(r) for r in reference)


@pytest.mark.parametrize("seed", range(6))
def test_join_traced_rings_is_join_rings_on_traced_and_random_rings(seed):
    rng = np.random.default_rng(300 + seed)
    mask = (rng.random((40, 40)) < 0.25 + 0.1 * seed).astype(np.uint8)
    for component in tracing.trace_components(mask):
        rings = [component.outer, *component.holes]
        expected = join_rings([r.ravel().tolist() for r in rings])
        assert tracing.join_traced_rings(rings).ravel().tolist() == expected
    for _ in range(200):  # ties everywhere: points on a small grid, rings of 1-8 points
        rings = [rng.integers(0, 12, (rng.integers(1, 9), 2)).astype(np.int32) for _ in range(rng.integers(1, 6))]
        assert tracing.join_traced_rings(rings).ravel().tolist() == join_rings([r.ravel().tolist() for r in rings])


def test_join_traced_rings_keeps_far_coordinates_exact():
    outer = np.array([(0, 0), (0, 60000), (60000, 60000), (60000, 0)], np.int32)
    hole = np.array([(40000, 40000), (40000, 40001), (40001, 40001)], np.int32)
    joined = tracing.join_traced_rings([outer, hole]).ravel().tolist()
    assert joined == join_rings([outer.ravel().tolist(), hole.ravel().tolist()])


@pytest.mark.parametrize("table", ["deepfashion-mm", "fashionista"])
def test_color_hash_gives_the_lookup_table_labels_and_catches_every_other_colour(table):
    from fashiondata.formats.masks_classes import load_class_table

    colors = load_class_table(table).colors
    ids = sorted(colors)
    rgb = [colors[i] for i in ids]
    hashed, lookup = tracing.color_hash(rgb, ids), tracing.color_lookup(rgb, ids)
    rng = np.random.default_rng(7)
    known = np.array(rgb, np.uint8)[rng.integers(0, len(ids), 5000)]
    near = np.clip(known.astype(int) + rng.integers(-1, 2, known.shape), 0, 255).astype(np.uint8)  # one step off
    image = np.concatenate([known, near, rng.integers(0, 256, (20000, 3), dtype=np.uint8)]).reshape(60, -1, 3)
    expected = tracing.colors_to_labels(image, lookup)
    assert (expected == 0xFFFF).any() and (expected != 0xFFFF).any()
    assert np.array_equal(tracing.hashed_colors_to_labels(image[..., ::-1], hashed), expected)
    labels = tracing.hashed_colors_to_labels(known.reshape(50, 100, 3)[..., ::-1], hashed)
    assert labels.dtype == np.uint8 and np.array_equal(
        labels, tracing.colors_to_labels(known.reshape(50, 100, 3), lookup)
    )
