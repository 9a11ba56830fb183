"""The fast paths DeepFashion2 → COCO takes give exactly what the general paths give.

Mask areas (pycocotools straight from lists), the visible-keypoint count over an item's own slots,
and JPEG sizes read from the first block of the file instead of walking it byte by byte.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from fashiondata import io as fio
from fashiondata import raster
from fashiondata.errors import ParseError
from fashiondata.formats import deepfashion2 as df2
from fashiondata.model import Keypoints, Polygons


def general_area(segmentation: Polygons, height: int, width: int) -> float:
    """The area through the general path: the merged COCO RLE of :func:`raster.to_coco_rle`."""
    return float(mask_utils.area(raster.to_coco_rle(segmentation, height, width)))


def random_ring(rng: random.Random, height: int, width: int) -> list[float]:
    points = rng.randint(1, 12)
    kind = rng.random()
    if kind < 0.4:  # integer vertices a little beyond the image
        return [rng.randint(-5, width + 5) if i % 2 == 0 else rng.randint(-5, height + 5) for i in range(2 * points)]
    if kind < 0.8:  # float vertices
        return [rng.uniform(-3, width + 3) if i % 2 == 0 else rng.uniform(-3, height + 3) for i in range(2 * points)]
    if kind < 0.9:  # far outside: the general path clips
        return [rng.choice((-1e6, 0, width / 2, 1e6)) for _ in range(2 * points)]
    return [rng.randint(0, width) for _ in range(2 * points + 1)]  # an odd count


def test_mask_area_of_random_polygons_is_the_general_paths() -> None:
    rng = random.Random(7)
    for _ in range(400):
        height, width = rng.randint(1, 50), rng.randint(1, 50)
        segmentation = Polygons(tuple(random_ring(rng, height, width) for _ in range(rng.randint(1, 3))))
        assert raster.mask_area(segmentation, height, width) == general_area(segmentation, height, width)


@pytest.mark.parametrize(
    ("rings", "area"),
    [
        (([0, 0, 4, 0, 4, 4, 0, 4],), 16.0),
        (([0, 0, 4, 0, 4, 4, 0, 4], [2, 2, 6, 2, 6, 6, 2, 6]), 28.0),  # two parts: their union
        (([0, 0, 4, 0, 4, 4, 0, 4], [1, 1]), 16.0),  # a part of one point is dropped
        (([1, 1, 2, 2],), 0.0),  # nothing of 3 points or more: no pixel
        (([0, 0, 1e9, 0, 0, 1e9],), 100.0),  # far outside: clipped by the general path, covers all
    ],
)
def test_mask_area_examples(rings: tuple[list[float], ...], area: float) -> None:
    assert raster.mask_area(Polygons(rings), 10, 10) == area == general_area(Polygons(rings), 10, 10)


@pytest.mark.parametrize("category_id", sorted(df2.CATEGORIES))
def test_slotted_keypoints_read_as_the_full_list(category_id: int) -> None:
    rng = random.Random(category_id)
    count = df2.CATEGORIES[category_id][3]
    landmarks = [v for _ in range(count) for v in (rng.randint(0, 99), rng.randint(0, 99), rng.choice((0, 1, 2)))]
    keypoints = df2.item_keypoints(category_id, landmarks, "a.json", "/item1/landmarks")
    full = list(keypoints.values)
    assert isinstance(keypoints, Keypoints)
    assert keypoints.num_visible == Keypoints(full).num_visible == sum(1 for v in landmarks[2::3] if v > 0)
    assert keypoints.values[2::3] == full[2::3] and keypoints.values[-5:] == full[-5:]
    assert keypoints.values.expanded() == full and len(full) == 3 * df2.NUM_KEYPOINTS


def jpeg(width: int, height: int, exif: bytes = b"") -> bytes:
    ok, data = cv2.imencode(".jpg", np.zeros((height, width, 3), np.uint8))
    assert ok
    data = data.tobytes()
    if exif:  # an APP1 segment before the others, as cameras write it
        data = data[:2] + b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif + data[2:]
    return data


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (jpeg(640, 480), (640, 480)),
        (jpeg(17, 3000), (17, 3000)),
        (jpeg(800, 600, exif=b"Exif\x00\x00" + bytes(9000)), (800, 600)),  # frame header beyond the first block
    ],
)
def test_jpeg_size_from_the_first_block_or_the_file(tmp_path: Path, data: bytes, size: tuple[int, int]) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    assert fio.image_size(path) == fio._jpeg_size(io.BytesIO(data), path) == size
    assert fio._jpeg_size_in(data[: fio._HEAD_BYTES]) == (size if len(data) < 9000 else None)


def test_corpus_jpegs_read_the_same_from_the_first_block(corpus: Path) -> None:
    compared = 0
    for path in sorted(corpus.rglob("*.jp*g"))[:200]:
        data = path.read_bytes()
        if data[:2] != b"\xff\xd8":
            continue
        quick = fio._jpeg_size_in(data[: fio._HEAD_BYTES])
        if quick is not None:
            assert quick == fio._jpeg_size(io.BytesIO(data), path), path
            compared += 1
    assert compared >= 50


def test_truncated_jpeg_still_names_the_problem(tmp_path: Path) -> None:
    data = jpeg(64, 48)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: data.index(b"\xff\xc0")])  # cut before the frame header
    with pytest.raises(ParseError, match="truncated JPEG"):
        fio.image_size(path)
