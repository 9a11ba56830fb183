"""Batched bridges: one ring per instance whose pycocotools fill is the union of its parts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from fashiondata import geometry
from fashiondata.batch_geometry import MAX_TREE_RINGS, bridge_many, join_many, overlapping


def fill(rings, height, width) -> np.ndarray:
    """The union of the rings' pycocotools masks."""
    return mask_utils.decode(
        mask_utils.merge(mask_utils.frPyObjects([list(map(float, r)) for r in rings], height, width))
    )


def square(x: float, y: float, size: float = 4) -> np.ndarray:
    return np.array([[x, y], [x + size, y], [x + size, y + size], [x, y + size]], dtype=np.float64)


def test_real_lvis_multi_part_instances_fill_their_union(corpus):
    doc = json.loads((corpus / "lvis_api" / "data" / "lvis_val_100.json").read_text())
    images = {i["id"]: i for i in doc["images"]}
    anns = [a for a in doc["annotations"] if len(a["segmentation"]) > 1]
    joined = bridge_many([[geometry.ring_points(r) for r in a["segmentation"]] for a in anns])
    wrong = []
    for ann, ring in zip(anns, joined):
        height, width = images[ann["image_id"]]["height"], images[ann["image_id"]]["width"]
        wrong.append(int((fill([ring], height, width) != fill(ann["segmentation"], height, width)).sum()))
    # two instances have parts that touch without sharing area: pycocotools gives the 1 and 3 pixels
    # on the touching edge to both parts, and the even-odd fill of one ring counts them once too often
    assert sorted(wrong)[-3:] == [0, 1, 3] and len(wrong) == 98


@pytest.mark.parametrize(
    "parts, overlaps",
    [
        ([square(0, 0), square(10, 0)], False),  # apart
        ([square(0, 0), square(4, 0)], False),  # touching edges: no shared interior
        ([square(0, 0), square(2, 2)], True),  # overlapping corners
        ([square(0, 0, 10), square(3, 3, 2), square(20, 20)], True),  # one inside another
    ],
)
def test_overlapping_parts_are_found_and_united(parts, overlaps):
    assert overlapping([parts]) == ([0] if overlaps else [])
    (ring,) = bridge_many([parts])
    assert np.array_equal(fill([ring], 40, 40), fill([p.ravel() for p in parts], 40, 40))


def test_many_specks_hang_from_the_first_ring_and_keep_their_fill():
    specks = [square(3 * (i % 8), 3 * (i // 8), 1) for i in range(MAX_TREE_RINGS + 8)]
    (ring,) = join_many([specks])
    assert len(ring) == 2 * (4 * len(specks) + 2 * (len(specks) - 1))  # every ring plus its cut there and back
    assert np.array_equal(fill([ring], 30, 30), fill([s.ravel() for s in specks], 30, 30))


def test_a_batch_mixes_single_rings_nested_rings_and_empty_instances():
    donut = [square(0, 0, 10), square(3, 3, 4)]  # a hole: even-odd join keeps it
    out = join_many([[square(1, 1)], donut, []])
    assert out[0].tolist() == square(1, 1).ravel().tolist()
    expected = fill([donut[0].ravel()], 20, 20) & ~fill([donut[1].ravel()], 20, 20).astype(bool)
    assert np.array_equal(fill([out[1]], 20, 20).astype(bool), expected.astype(bool))
    assert out[2].size == 0
