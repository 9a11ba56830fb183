"""Property-based tests (hypothesis): geometry round trips, and every reader fed random bytes or
random JSON lets only FashionDataError escape."""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pycocotools import mask as mask_utils

from fashiondata import raster, tracing
from fashiondata.context import RunContext
from fashiondata.errors import FashionDataError
from fashiondata.formats.tfexample import masked_crc32c
from fashiondata.formats.yolo import parse_label_text
from fashiondata.model import Polygons, Rle
from fashiondata.registry import all_formats
from fashiondata.validate import check_rings

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- geometry


@st.composite
def rectangles(draw) -> tuple[int, int, int, int, int, int]:
    """(width, height, x, y, w, h) of an integer rectangle inside an image."""
    width, height = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    x, y = draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1))
    return width, height, x, y, draw(st.integers(1, width - x)), draw(st.integers(1, height - y))


masks = st.integers(1, 24).flatmap(
    lambda h: st.integers(1, 24).flatmap(lambda w: arrays(np.uint8, (h, w), elements=st.integers(0, 1)))
)


@FAST
@given(rectangles())
def test_a_rectangle_polygon_fills_exactly_its_pixels(rect) -> None:
    width, height, x, y, w, h = rect
    polygon = Polygons(([x, y, x + w, y, x + w, y + h, x, y + h],))
    expected = np.zeros((height, width), np.uint8)
    expected[y : y + h, x : x + w] = 1
    assert np.array_equal(raster.decode(polygon, height, width), expected)
    assert raster.mask_area(polygon, height, width) == w * h == polygon.area()


@FAST
@given(masks)
def test_mask_to_rle_to_mask_is_identity(mask: np.ndarray) -> None:
    rle = raster.encode_mask(mask)
    assert rle.size == mask.shape
    assert np.array_equal(raster.decode(rle, *mask.shape), mask)
    assert raster.mask_area(rle, *mask.shape) == mask.sum()


@FAST
@given(masks)
def test_compressed_and_uncompressed_rle_decode_alike(mask: np.ndarray) -> None:
    column_major = mask.flatten(order="F")
    changes = np.flatnonzero(np.diff(np.concatenate(([0], column_major, [1 - column_major[-1]]))))
    counts = np.diff(np.concatenate(([0], changes))).tolist()  # runs starting with zeros, as COCO
    uncompressed = Rle(mask.shape, counts)
    uncompressed.check()
    assert np.array_equal(raster.decode(uncompressed, *mask.shape), mask)
    assert np.array_equal(raster.decode(raster.encode_mask(mask), *mask.shape), mask)


@FAST
@given(masks)
def test_mask_to_polygons_to_mask_is_identity(mask: np.ndarray) -> None:
    """Pixel-edge rings (holes bridged or as extra rings) fill back to the same pixels."""
    rebuilt = np.zeros_like(mask)
    for component in tracing.trace_components(mask):
        rebuilt |= raster.decode(Polygons((component.outer.ravel().tolist(),)), *mask.shape)
        for hole in component.holes:
            rebuilt &= 1 - raster.decode(Polygons((hole.ravel().tolist(),)), *mask.shape)
    assert np.array_equal(rebuilt, mask)


@FAST
@given(
    st.integers(1, 30),
    st.integers(1, 30),
    st.lists(st.tuples(st.floats(-400, 400), st.floats(-400, 400)), min_size=3, max_size=8),
)
def test_far_outside_polygons_fill_the_image_as_pycocotools_does(width, height, points) -> None:
    """Rings reaching far beyond the image are clipped before pycocotools sees them: the same pixels
    but for a few on the polygon's border (pycocotools rounds the new vertices to 1/5 pixel)."""
    ring = [v for point in points for v in point]
    direct = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([np.array(ring)], height, width)))
    assert np.count_nonzero(raster.decode(Polygons((ring,)), height, width) != direct) <= max(width, height)


def test_a_vertex_at_1e308_does_not_exhaust_memory() -> None:
    assert raster.mask_area(Polygons(([10, 10, 1e308, 10, 10, 50],)), 100, 100) == 3600


unit = st.floats(0, 1, allow_nan=False)


@FAST
@given(st.integers(1, 4000), st.integers(1, 4000), unit, unit, unit, unit)
def test_yolo_box_denormalised_and_normalised_again_is_the_same(width, height, cx, cy, w, h) -> None:
    (ann,) = parse_label_text(f"0 {cx!r} {cy!r} {w!r} {h!r}\n", width, height, "a.txt", classes=1)
    box = ann.bbox
    assert box.w == pytest.approx(w * width) and box.h == pytest.approx(h * height)
    assert (box.x + box.w / 2) / width == pytest.approx(cx, abs=1e-12)
    assert (box.y + box.h / 2) / height == pytest.approx(cy, abs=1e-12)


@FAST
@given(st.integers(1, 4000), st.integers(1, 4000), st.lists(st.tuples(unit, unit), min_size=3, max_size=12))
def test_yolo_polygon_in_the_unit_square_stays_inside_the_image(width, height, points) -> None:
    line = "0 " + " ".join(f"{x!r} {y!r}" for x, y in points)
    (ann,) = parse_label_text(line, width, height, "a.txt", classes=1)
    (ring,) = ann.segmentation.rings
    assert [v / (width if i % 2 == 0 else height) for i, v in enumerate(ring)] == pytest.approx(
        [v for point in points for v in point], abs=1e-12
    )
    assert "polygon-outside-image" not in {code for code, _ in check_rings([ring], width, height)}


# ---------------------------------------------------------------- readers against random input

JPEG = cv2.imencode(".jpg", np.full((12, 16, 3), 90, np.uint8))[1].tobytes()


def place(reader: str, folder: Path, data: bytes) -> Path:
    """Put ``data`` where ``reader`` looks for its annotations; return the source to read."""
    if reader == "voc":
        (folder / "a.xml").write_bytes(data)
        return folder
    if reader == "df2":
        (folder / "annos").mkdir()
        (folder / "image").mkdir()
        (folder / "annos" / "000001.json").write_bytes(data)
        (folder / "image" / "000001.jpg").write_bytes(JPEG)
        return folder
    if reader == "yolo":
        (folder / "images").mkdir()
        (folder / "labels").mkdir()
        (folder / "data.yaml").write_text("train: images\nnames: [top, pants]\n")
        (folder / "images" / "a.jpg").write_bytes(JPEG)
        (folder / "labels" / "a.txt").write_bytes(data)
        return folder
    if reader == "masks":
        (folder / "a.png").write_bytes(data)
        return folder
    suffix = {"csv": ".csv", "tfrecord": ".record"}.get(reader, ".json")
    path = folder / f"data{suffix}"
    path.write_bytes(data)
    return path


def read_everything(reader: str, data: bytes) -> None:
    """Read ``data`` with ``reader``; anything but success or a FashionDataError fails the test."""
    folder = Path(tempfile.mkdtemp())
    try:
        source = place(reader, folder, data)
        spec = next(s for s in all_formats() if s.name == reader)
        dataset = spec.read([str(source)], RunContext())
        for _record in dataset.records:
            pass
    except FashionDataError:
        pass
    finally:
        shutil.rmtree(folder)


READERS = [spec.name for spec in all_formats() if spec.read is not None]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


small_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**40) | st.floats(-1e3, 1e3) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=8),
    max_leaves=10,
)


def coco_like(keys: list[str]) -> st.SearchStrategy:
    return st.lists(st.dictionaries(st.sampled_from(keys), small_json_values, max_size=len(keys)), max_size=3)


coco_documents = st.fixed_dictionaries(
    {
        "images": coco_like(["id", "file_name", "width", "height", "coco_url", "neg_category_ids"]),
        "annotations": coco_like(
            ["id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd", "keypoints"]
        ),
        "categories": coco_like(["id", "name", "keypoints", "skeleton", "synonyms"]),
    }
)


def run_with(strategy: st.SearchStrategy, encode: Callable[[object], bytes], reader: str, examples: int = 60) -> None:
    @settings(FAST, max_examples=examples)
    @given(strategy)
    def check(value: object) -> None:
        read_everything(reader, encode(value))

    check()


@pytest.mark.parametrize("reader", READERS)
def test_random_bytes_raise_only_fashiondata_errors(reader: str) -> None:
    run_with(st.binary(max_size=300), lambda b: b, reader)


@pytest.mark.parametrize("reader", READERS)
def test_random_json_raises_only_fashiondata_errors(reader: str) -> None:
    run_with(json_values, lambda v: json.dumps(v).encode(), reader)


@pytest.mark.parametrize("reader", ["coco", "lvis", "via", "df2"])
def test_random_coco_shaped_json_raises_only_fashiondata_errors(reader: str) -> None:
    run_with(coco_documents, lambda v: json.dumps(v).encode(), reader, examples=40)


def framed(payload: bytes) -> bytes:
    """One TFRecord record with correct CRCs around ``payload``."""
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", masked_crc32c(length)) + payload + struct.pack("<I", masked_crc32c(payload))


def test_random_payloads_in_valid_tfrecord_framing_raise_only_fashiondata_errors() -> None:
    run_with(st.binary(max_size=200), framed, "tfrecord")


label_images = st.tuples(
    st.integers(1, 12), st.integers(1, 12), st.sampled_from([np.uint8, np.uint16]), st.sampled_from([1, 3, 4])
).flatmap(lambda t: arrays(t[2], (t[0], t[1], t[3]) if t[3] > 1 else (t[0], t[1]), elements=st.integers(0, 40)))


def test_random_valid_pngs_raise_only_fashiondata_errors_in_the_masks_reader() -> None:
    run_with(label_images, lambda a: cv2.imencode(".png", a)[1].tobytes(), "masks")


cell = st.one_of(
    st.integers(-5, 3000).map(str),
    st.floats(-10, 3000).map(repr),
    st.sampled_from(["", "nan", "inf", "x", "-0", "1e999"]),
    st.text(alphabet="ab./\\:<>&;_- ", max_size=6),
)
voc_objects = st.lists(st.tuples(st.text(alphabet="ab_ ", max_size=4), cell, cell, cell, cell), max_size=3)


@st.composite
def voc_documents(draw) -> bytes:
    """LabelImg-shaped XML whose every value is drawn at random (tags sometimes missing)."""
    size = "" if draw(st.booleans()) else f"<size><width>{draw(cell)}</width><height>{draw(cell)}</height></size>"
    objects = "".join(
        f"<object><name>{n}</name><bndbox><xmin>{a}</xmin><ymin>{b}</ymin><xmax>{c}</xmax><ymax>{d}</ymax></bndbox></object>"
        for n, a, b, c, d in draw(voc_objects)
    )
    text = f"<annotation><filename>{draw(cell)}</filename>{size}{objects}</annotation>"
    return text.replace("&", "&amp;").replace("<>", "").encode()


@st.composite
def csv_documents(draw) -> bytes:
    """The box CSV's header and rows of random cells."""
    rows = draw(st.lists(st.lists(cell, min_size=8, max_size=8), max_size=4))
    return ("filename,width,height,class,xmin,ymin,xmax,ymax\n" + "".join(",".join(r) + "\n" for r in rows)).encode()


@st.composite
def yolo_labels(draw) -> bytes:
    """YOLO label lines of random length and values."""
    lines = draw(st.lists(st.lists(cell, min_size=1, max_size=9), max_size=4))
    return "".join(" ".join(line) + "\n" for line in lines).encode()


@pytest.mark.parametrize(
    "reader, documents", [("voc", voc_documents()), ("csv", csv_documents()), ("yolo", yolo_labels())]
)
def test_random_documents_of_the_right_shape_raise_only_fashiondata_errors(reader: str, documents) -> None:
    run_with(documents, lambda b: b, reader)
