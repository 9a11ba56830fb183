"""Detectors on real photos shipped by scikit-image and on their grayscale copies."""

from __future__ import annotations

import csv
import io
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

import fashiondata
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.detectors import DetectImage, ImageDetection, parse_checks, read_image
from fashiondata.detectors.color import classify_color, hue_spread
from fashiondata.detectors.faces import (
    Face,
    detect_faces,
    is_selfie,
    merge_boxes,
    persons_from_faces,
)
from fashiondata.detectors.filters import (
    GRAYSCALE_REASON,
    NO_FACE_REASON,
    DropGrayscale,
    RequireFaces,
    filter_by_detection,
)
from fashiondata.errors import ParseError, ValidationError
from fashiondata.executor import ProcessExecutor
from fashiondata.model import BBox, CategoryTable, ImageRecord

# The astronaut's face in skimage.data.astronaut() (512x512), by eye: x 170..280, y 60..170.
ASTRONAUT_FACE = (170, 60, 280, 170)


@pytest.fixture(scope="module")
def photo_report(sample_photos: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[fashiondata.Report, Path]:
    """Every check over the photos once (faces are the slow part), with its CSV."""
    out = tmp_path_factory.mktemp("detect") / "detections.csv"
    return fashiondata.api.detect(sample_photos, csv_path=out), out


def faces_of(report: fashiondata.Report, name: str) -> list[dict]:
    return next(d["faces"] for d in report.data["detections"] if d["file"] == name)


def sepia(rgb: np.ndarray) -> np.ndarray:
    """A one-hue (tinted) copy: gray levels scaled per channel."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.clip(np.dstack([gray * 1.0, gray * 0.82, gray * 0.6]), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("astronaut.jpg", "color"),
        ("coffee.jpg", "color"),
        ("chelsea.jpg", "color"),
        ("astronaut_gray.png", "grayscale"),  # one channel
        ("coffee_gray.jpg", "grayscale"),  # gray stored as RGB, through JPEG
        ("chelsea_gray.jpg", "grayscale"),
    ],
)
def test_colour_kind_of_photos_and_their_grayscale_copies(sample_photos: Path, name: str, expected: str) -> None:
    assert classify_color(read_image(sample_photos / name), order="BGR").kind == expected


@pytest.mark.parametrize(
    "image, expected",
    [
        (sepia(data.coffee()), "monochrome"),  # one hue
        (np.dstack([data.camera()] * 3), "grayscale"),
        (np.where(data.horse(), 0, 255).astype(np.uint8), "bw"),  # two levels, one channel
        (np.full((20, 20, 3), (200, 30, 30), np.uint8), "monochrome"),  # flat red: one hue, not gray
        (np.full((20, 20, 3), 77, np.uint8), "grayscale"),  # flat gray: no second level
    ],
)
def test_colour_kind_of_tinted_flat_and_two_level_images(image: np.ndarray, expected: str) -> None:
    assert classify_color(image, order="RGB").kind == expected


def test_colour_check_reads_the_channel_order_it_is_given() -> None:
    rgb = data.astronaut()
    as_rgb = classify_color(rgb, order="RGB")
    assert classify_color(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), order="BGR") == as_rgb


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ([3.0, 6.0], [4.0, 8.0], 0.0),  # one hue
        ([5.0, -5.0], [0.0, 0.0], 180.0),  # opposite hues cancel: no mean direction
    ],
)
def test_hue_spread(a: list[float], b: list[float], expected: float) -> None:
    assert hue_spread(np.array(a), np.array(b)) == pytest.approx(expected)


def test_face_found_in_the_portrait_and_in_its_grayscale_copy(photo_report) -> None:
    for name in ("astronaut.jpg", "astronaut_gray.png"):
        faces = faces_of(photo_report[0], name)
        assert len(faces) == 1, name
        x, y, w, h = faces[0]["bbox"]
        cx, cy = x + w / 2, y + h / 2
        x1, y1, x2, y2 = ASTRONAUT_FACE
        assert x1 < cx < x2 and y1 < cy < y2, name


@pytest.mark.parametrize("name", ["coffee.jpg", "chelsea.jpg", "coffee_gray.jpg", "chelsea_gray.jpg"])
def test_no_face_in_a_cup_or_a_cat(photo_report, name: str) -> None:
    assert faces_of(photo_report[0], name) == []


def test_faces_come_back_largest_first_in_image_pixels(sample_photos: Path) -> None:
    bgr = read_image(sample_photos / "astronaut.jpg")
    big = cv2.resize(bgr, (1024, 1024))  # reduced to HAAR_SIDE for the cascade, boxes scaled back
    (face,) = detect_faces(big)
    assert 2 * ASTRONAUT_FACE[0] < face.bbox.x + face.bbox.w / 2 < 2 * ASTRONAUT_FACE[2]


@pytest.mark.parametrize(
    "faces, size, persons, selfie",
    [
        ((), (100, 100), "0", False),
        ((Face(BBox(0, 0, 30, 30)),), (100, 100), "1", False),  # 9% of the image
        ((Face(BBox(0, 0, 32, 32)),), (100, 100), "1", True),  # 10.24%: at least 10%
        ((Face(BBox(0, 0, 10, 10)), Face(BBox(50, 50, 40, 40))), (100, 100), "many", True),
    ],
)
def test_persons_and_selfie_from_faces(faces: tuple, size: tuple[int, int], persons: str, selfie: bool) -> None:
    assert persons_from_faces(faces) == persons
    assert is_selfie(faces, *size) is selfie


def test_overlapping_boxes_merge_into_the_largest() -> None:
    boxes = [BBox(10, 10, 20, 20), BBox(0, 0, 40, 40), BBox(100, 100, 5, 5)]
    assert merge_boxes(boxes) == [BBox(0, 0, 40, 40), BBox(100, 100, 5, 5)]


@pytest.mark.parametrize(
    "text, expected, error",
    [
        (None, ("color", "faces"), does_not_raise()),
        ("faces,color", ("color", "faces"), does_not_raise()),  # canonical order
        ("color", ("color",), does_not_raise()),
        ("colour", None, pytest.raises(ValidationError)),
        ("", None, pytest.raises(ValidationError)),
    ],
)
def test_parse_checks(text: str | None, expected: tuple[str, ...] | None, error) -> None:
    with error:
        assert parse_checks(text) == expected


def test_a_file_that_is_not_an_image_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(ParseError):
        read_image(path)


def test_yunet_model_must_exist_and_load(tmp_path: Path) -> None:
    image = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValidationError, match="no such file"):
        detect_faces(image, face_model=str(tmp_path / "missing.onnx"))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(ParseError, match="YuNet"):
        detect_faces(image, face_model=str(broken))


def test_detect_over_a_folder_with_csv(photo_report) -> None:
    report, out = photo_report
    assert report.data["summary"] == {
        "images": 6,
        "color": {"color": 3, "monochrome": 0, "grayscale": 3, "bw": 0},
        "persons": {"0": 4, "1": 2, "many": 0},
        "selfies": 0,
    }
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["file"], r["color"], r["faces"], r["persons"]) for r in rows] == [
        ("astronaut.jpg", "color", "1", "1"),
        ("astronaut_gray.png", "grayscale", "1", "1"),
        ("chelsea.jpg", "color", "0", "0"),
        ("chelsea_gray.jpg", "grayscale", "0", "0"),
        ("coffee.jpg", "color", "0", "0"),
        ("coffee_gray.jpg", "grayscale", "0", "0"),
    ]
    assert report.outputs == [str(out)]


def test_detect_on_a_process_pool_matches_serial(sample_photos: Path) -> None:
    serial = fashiondata.api.detect(sample_photos, checks="color").data
    executor = ProcessExecutor(2)
    try:
        pooled = fashiondata.api.detect(sample_photos, checks="color", ctx=RunContext(executor=executor)).data
    finally:
        executor.close()
    assert pooled == serial
    assert "faces" not in serial["detections"][0]


def test_detection_as_dict() -> None:
    detection = ImageDetection("a.jpg", 10, 10, None, (Face(BBox(1, 2, 3, 4), 0.91234),))
    assert detection.to_dict() == {
        "file": "a.jpg",
        "width": 10,
        "height": 10,
        "faces": [{"bbox": [1, 2, 3, 4], "score": 0.91234}],
        "persons": "1",
        "selfie": True,
    }


def _dataset(names: list[str]) -> Dataset:
    return Dataset(CategoryTable(), tuple(ImageRecord(n, 8, 8) for n in names))


def test_record_steps_drop_grayscale_and_faceless_images(sample_photos: Path) -> None:
    root = str(sample_photos)
    assert DropGrayscale(root)(ImageRecord("coffee_gray.jpg", 600, 400)) is None
    assert DropGrayscale(root)(ImageRecord("coffee.jpg", 600, 400)) is not None
    assert RequireFaces(root)(ImageRecord("coffee.jpg", 600, 400)) is None
    assert RequireFaces(root)(ImageRecord("astronaut.jpg", 512, 512)) is not None
    assert DetectImage(("color",), None, root)("astronaut.jpg").faces is None


def test_filter_by_detection_counts_every_drop(sample_photos: Path) -> None:
    ctx = RunContext()
    names = ["astronaut.jpg", "astronaut_gray.png", "coffee.jpg"]
    kept = filter_by_detection(
        _dataset(names), ctx, image_root=str(sample_photos), drop_grayscale=True, require_faces=True
    )
    assert [r.file_name for r in kept.records] == ["astronaut.jpg"]
    assert dict(ctx.report.skipped) == {GRAYSCALE_REASON: 1, NO_FACE_REASON: 1}
