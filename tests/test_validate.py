"""validate: each planted defect is found with its code and place; clean outputs give no finding."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import fashiondata
from fashiondata import io
from fashiondata.api import validate
from fashiondata.model import Annotation, BBox, Polygons, Rle
from fashiondata.report import Finding
from fashiondata.validate import check_annotation, check_rings, reaches, severity_of

SQUARE = [0, 0, 10, 0, 10, 10, 0, 10]


@pytest.mark.parametrize(
    "rings, expected",
    [
        ([SQUARE], []),  # a clean square
        ([[0, 0, 10, 0]], ["polygon-four-numbers"]),  # pycocotools would read it as a box
        ([[0, 0]], ["polygon-too-few-points"]),  # one point
        ([[0, 0, 5, 5, 10, 10]], ["polygon-zero-area"]),  # collinear
        ([[0, 0, 10, 10, 10, 0, 0, 10]], ["polygon-self-intersecting"]),  # bow tie (shoelace area 0)
        ([[0, 0, 10, 0, 0, 10, 10, 10, 5, 12]], ["polygon-self-intersecting"]),  # crossing edges
        ([[-1, 0, 10, 0, 10, 10]], ["polygon-outside-image"]),  # a point left of the image
        ([[0, 0, 21, 0, 21, 10]], ["polygon-outside-image"]),  # past the right edge (width 20)
        ([[0, 0, 20, 0, 20, 20]], []),  # on the far edges: inside (pixel-edge convention)
        ([SQUARE, [0, 0, 1, 1]], ["polygon-four-numbers"]),  # one bad ring among good ones
    ],
)
def test_check_rings(rings, expected) -> None:
    assert [code for code, _ in check_rings(rings, 20, 20)] == expected


@pytest.mark.parametrize(
    "annotation, backend, expected",
    [
        (Annotation(1, bbox=BBox(0, 0, 5, 5)), None, []),  # clean box
        (Annotation(1, bbox=BBox(0, 0, 0, 5)), None, ["bbox-zero-size"]),  # zero width
        (Annotation(1, bbox=BBox(15, 15, 10, 10)), None, ["bbox-outside-image"]),  # past the corner
        (Annotation(1, bbox=BBox(-0.5, 0, 5, 5)), None, ["bbox-outside-image"]),  # left of the image
        (Annotation(1, segmentation=Rle((10, 20), "x")), None, ["rle-size-mismatch"]),  # h, w swapped
        (Annotation(1, segmentation=Rle((20, 20), "x"), iscrowd=True), None, []),  # crowd: no rule
        (Annotation(1, segmentation=Rle((20, 20), "x"), iscrowd=True), "detectron2", ["crowd-ignored"]),
        (Annotation(1, segmentation=Rle((20, 20), "x")), "detectron2", ["rle-in-polygon-set"]),
        (Annotation(1, segmentation=Rle((20, 20), "x")), "yolo", []),  # only Detectron2's polygon sets
        (Annotation(1, bbox=BBox(0, 0, 5, 5), iscrowd=True), "tfod", ["crowd-ignored"]),
        (Annotation(1, bbox=BBox(0, 0, 5, 5), attributes={"ignore": 1}), "detectron2", ["annotation-ignore-key"]),
        (Annotation(1, segmentation=Polygons(([0, 0, 1, 1],))), "detectron2", ["polygon-four-numbers"]),
    ],
)
def test_check_annotation(annotation, backend, expected) -> None:
    assert [code for code, _ in check_annotation(annotation, 20, 20, backend)] == expected


@pytest.mark.parametrize(
    "severities, level, expected",
    [
        (["info", "warning"], "error", False),
        (["info", "warning"], "warning", True),
        (["error"], "warning", True),  # warning means "warning or worse"
        ([], "warning", False),
    ],
)
def test_reaches(severities, level, expected) -> None:
    assert reaches([Finding("x", s, "m") for s in severities], level) is expected


def test_backend_changes_the_severity_of_category_id_zero() -> None:
    assert severity_of("category-id-zero", None) == "warning"
    assert severity_of("category-id-zero", "tfod") == "error"  # the TF OD API keeps 0 for the background


# ---------------------------------------------------------------- a COCO file with planted defects


def jpeg_bytes(width: int, height: int) -> bytes:
    return cv2.imencode(".jpg", np.full((height, width, 3), 90, np.uint8))[1].tobytes()


def png_bytes(width: int, height: int) -> bytes:
    return cv2.imencode(".png", np.full((height, width, 3), 90, np.uint8))[1].tobytes()


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an APP1 Exif segment holding only IFD0's Orientation tag."""
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + b"\0\0\0\0"
    payload = b"Exif\0\0" + b"MM\x00\x2a\x00\x00\x00\x08" + ifd
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, Path]:
    """A COCO file and image folder where each image or annotation carries one known defect."""
    images = tmp_path / "images"
    images.mkdir()
    (images / "clean.jpg").write_bytes(jpeg_bytes(40, 30))
    (images / "wrong_size.png").write_bytes(png_bytes(40, 30))
    (images / "cut.png").write_bytes(png_bytes(40, 30)[:-20])
    (images / "rotated.jpg").write_bytes(with_exif_orientation(jpeg_bytes(40, 30), 6))
    (images / "not_an_image.jpg").write_bytes(b"hello")

    def image(i, name, w=40, h=30):
        return {"id": i, "file_name": name, "width": w, "height": h}

    def ann(i, image_id=1, category_id=1, **extra):
        return {"id": i, "image_id": image_id, "category_id": category_id, "iscrowd": 0, **extra}

    doc = {
        "images": [
            image(1, "clean.jpg"),
            image(2, "wrong_size.png", 50),
            image(3, "cut.png"),
            image(4, "rotated.jpg"),
            image(5, "missing.jpg"),
            image(6, "not_an_image.jpg"),
            image(6, "again.jpg"),
            image(0, "clean.jpg"),
            image(8, "../outside.jpg"),
        ],
        "annotations": [
            ann(1, bbox=[0, 0, 10, 10], segmentation=[[0, 0, 10, 0, 10, 10, 0, 10]]),  # clean
            ann(2, category_id=9, bbox=[0, 0, 5, 5]),  # undeclared category
            ann(2, bbox=[0, 0, 5, 5]),  # duplicate id
            ann(0, bbox=[0, 0, 5, 5]),  # id 0
            ann(5, segmentation=[[0, 0, 10, 10]]),  # 4 numbers
            ann(6, segmentation=[[0, 0, 10, 10, 10, 0, 0, 10]]),  # bow tie
            ann(7, bbox=[30, 20, 20, 20]),  # leaves the image
            ann(8, bbox=[3, 3, 0, 4]),  # zero width
            ann(9, image_id=99, bbox=[0, 0, 1, 1]),  # orphan
            ann(10, bbox="0 0 1 1"),  # unparseable
            ann(11, segmentation=[[0, 0, 1, 1, 2, 2]]),  # collinear
            ann(12, segmentation=[[1, 1]]),  # one point
        ],
        "categories": [{"id": 1, "name": "top"}, {"id": 0, "name": "background"}],
    }
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(doc))
    return path, images


def codes_and_places(findings) -> set[tuple[str, str | None, str | None]]:
    return {(f.code, f.image, f.location) for f in findings}


def test_validate_finds_each_planted_defect_with_its_place(planted) -> None:
    path, images = planted
    report = validate(path, images=images)
    assert codes_and_places(report.findings) == {
        ("category-id-zero", None, "/categories/1/id"),
        ("image-duplicate-id", "again.jpg", "/images/6/id"),
        ("image-id-zero", "clean.jpg", "/images/7/id"),
        ("file-name-unsafe", "../outside.jpg", "/images/8/file_name"),
        ("annotation-duplicate-id", None, "/annotations/2/id"),
        ("annotation-id-zero", None, "/annotations/3/id"),
        ("annotation-orphan", None, "/annotations/8/image_id"),
        ("parse-error", None, "/annotations/9/bbox"),
        ("category-undeclared", "clean.jpg", "/annotations/1"),
        ("polygon-four-numbers", "clean.jpg", "/annotations/4"),
        ("polygon-self-intersecting", "clean.jpg", "/annotations/5"),
        ("bbox-outside-image", "clean.jpg", "/annotations/6"),
        ("bbox-zero-size", "clean.jpg", "/annotations/7"),
        ("polygon-zero-area", "clean.jpg", "/annotations/10"),
        ("polygon-too-few-points", "clean.jpg", "/annotations/11"),
        ("image-size-mismatch", "wrong_size.png", None),
        ("image-truncated", "cut.png", None),
        ("image-exif-rotated", "rotated.jpg", None),  # stored 40x30 as the record says, shown 30x40
        ("image-missing", "missing.jpg", None),
        ("image-unreadable", "not_an_image.jpg", None),
        ("file-name-duplicate", "clean.jpg", None),  # images 1 and 0
    }
    assert report.data["validate"]["findings"] == {"error": 14, "warning": 7}


def test_exif_orientation_agrees_with_pillow(tmp_path: Path) -> None:
    for orientation in range(1, 9):
        path = tmp_path / f"{orientation}.jpg"
        path.write_bytes(with_exif_orientation(jpeg_bytes(16, 8), orientation))
        assert io.exif_orientation(path) == Image.open(path).getexif().get(0x0112) == orientation


def test_image_over_the_pixel_limit_is_a_finding(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "big.jpg").write_bytes(jpeg_bytes(40, 30))
    path = tmp_path / "a.json"
    path.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "big.jpg", "width": 20, "height": 15}],
                "annotations": [],
                "categories": [],
            }
        )
    )
    monkeypatch.setattr(io, "MAX_IMAGE_PIXELS", 40 * 30 - 1)  # the record fits, the file does not
    assert [(f.code, f.image) for f in validate(path, images=tmp_path).findings] == [("image-too-large", "big.jpg")]


def test_backend_rules_for_detectron2_and_tfod(tmp_path: Path) -> None:
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 10}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [0, 0, 20, 10],
                "iscrowd": 1,
                "segmentation": {"size": [10, 20], "counts": [200]},
            },
            {
                "id": 2,
                "image_id": 1,
                "category_id": 1,
                "bbox": [0, 0, 20, 10],
                "iscrowd": 0,
                "segmentation": {"size": [10, 20], "counts": [0, 200]},
            },
        ],
        "categories": [{"id": 1, "name": "top"}],
    }
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))
    assert validate(path).findings == []
    detectron2 = [(f.code, f.severity, f.location) for f in validate(path, backend="detectron2").findings]
    assert detectron2 == [
        ("crowd-ignored", "warning", "/annotations/0"),
        ("rle-in-polygon-set", "error", "/annotations/1"),
    ]
    doc["categories"] = [{"id": 0, "name": "top"}]
    for a in doc["annotations"]:
        a["category_id"] = 0
    path.write_text(json.dumps(doc))
    tfod = {(f.code, f.severity) for f in validate(path, backend="tfod").findings}
    assert ("category-id-zero", "error") in tfod


# ---------------------------------------------------------------- YOLO label lint


@pytest.fixture
def yolo_dataset(tmp_path: Path) -> Path:
    """A YOLO dataset whose label lines carry one planted defect each."""
    root = tmp_path / "yolo"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nnames:\n  0: top\n  1: pants\n")
    labels = {
        "a": "0 0.5 0.5 0.2 0.2\n",  # clean
        "b": "0 0.5 0.5 0.2\n1 0.5 0.5 1.2 0.2\n2 0.5 0.5 0.2 0.2\n0 0.5 zero 0.2 0.2\n",
        "c": "",  # empty: a negative image
        "d": "0 0.1 0.1 0.9 0.9 0.9 0.1 0.1 0.9\n0 0.5 0.5 0.0 0.2\n0 0.5 0.5 0.0 0.2\n",
        "e": "0.5 0.5 0.5 0.2 0.2\n0 nan 0.5 0.2 0.2\n",
    }
    for stem, text in labels.items():
        (root / "images" / "train" / f"{stem}.jpg").write_bytes(jpeg_bytes(64, 48))
        (root / "labels" / "train" / f"{stem}.txt").write_text(text)
    (root / "images" / "train" / "tiny.jpg").write_bytes(jpeg_bytes(8, 8))
    (root / "labels" / "train" / "ghost.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    return root


def test_yolo_lint_finds_each_planted_line(yolo_dataset: Path) -> None:
    report = validate(yolo_dataset, backend="yolo")
    found = {(f.code, Path(f.file).name if f.file else None, f.location) for f in report.findings}
    assert found == {
        ("yolo-line-format", "b.txt", "line 1"),  # 3 values after the class
        ("yolo-coordinate-range", "b.txt", "line 2"),  # w = 1.2
        ("yolo-class-index", "b.txt", "line 3"),  # class 2 of 2 names
        ("yolo-line-format", "b.txt", "line 4"),  # a word
        ("label-file-empty", "c.txt", None),
        ("polygon-self-intersecting", "d.txt", "line 1"),  # a bow tie
        ("bbox-zero-size", "d.txt", "line 2"),
        ("bbox-zero-size", "d.txt", "line 3"),
        ("yolo-duplicate-line", "d.txt", "line 3"),
        ("yolo-line-format", "e.txt", "line 1"),  # class 0.5
        ("yolo-line-format", "e.txt", "line 2"),  # nan
        ("image-too-small", "tiny.jpg", None),  # Ultralytics needs 10 pixels a side
        ("label-orphan", "ghost.txt", None),
        ("yolo-mixed-boxes-segments", "data.yaml", None),
    }


def test_yolo_lint_without_backend_has_no_backend_rules(yolo_dataset: Path) -> None:
    codes = {f.code for f in validate(yolo_dataset).findings}
    assert "image-too-small" not in codes and "yolo-class-index" in codes


# ---------------------------------------------------------------- clean outputs of our converters


def test_our_coco_output_of_the_corpus_fixture_is_clean(fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "coco.json"
    fashiondata.convert(fixtures / "coco" / "datumaro_instances_val.json", out, dst_format="coco")
    assert validate(out).findings == []


@pytest.mark.parametrize(
    "source, src_format, options, images",
    [
        ("masks/deepfashion_mm/index", "masks", {"classes": "deepfashion-mm"}, "masks/deepfashion_mm/images"),
        ("df2/train", "df2", {}, "df2/train/image"),
        ("via/shop/via_project.json", "via", {"images": "via/shop", "label_attribute": "garment"}, "via/shop"),
    ],
)
def test_our_coco_outputs_are_clean(source, src_format, options, images, fixtures: Path, tmp_path: Path) -> None:
    """Traced masks (pixel-edge rings, zero-width cuts to holes), DF2 and VIA through our readers
    and the COCO writer: nothing to report, not even under a backend."""
    out = tmp_path / "out.json"
    if "images" in options:
        options = {**options, "images": str(fixtures / options["images"])}
    fashiondata.convert(fixtures / source, out, src_format=src_format, dst_format="coco", **options)
    for backend in (None, "detectron2"):
        assert validate(out, images=fixtures / images, backend=backend).findings == []


def test_our_yolo_output_is_clean(fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "yolo"
    fashiondata.convert(
        fixtures / "yolo", out, src_format="yolo", dst_format="yolo", images=str(fixtures / "yolo" / "images")
    )
    assert [f.code for f in validate(out, backend="yolo").findings] == ["label-file-empty"]  # its one negative


def test_our_voc_output_is_clean(tmp_path: Path, fixtures: Path) -> None:
    out = tmp_path / "voc"
    fashiondata.convert(fixtures / "coco" / "datumaro_instances_val.json", out, dst_format="voc")
    assert [f for f in validate(out, "voc").findings if f.severity != "info"] == []


# ---------------------------------------------------------------- the CLI


def test_cli_exit_codes_follow_fail_on(planted, run_cli, tmp_path: Path) -> None:
    path, images = planted
    assert run_cli("validate", path, "--images", images, "-q").exit_code == 1
    warnings_only = tmp_path / "warn.json"
    warnings_only.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 10, 10]}],
                "categories": [{"id": 1, "name": "top"}],
            }
        )
    )
    assert run_cli("validate", warnings_only, "-q").exit_code == 0
    result = run_cli("validate", warnings_only, "-q", "--fail-on", "warning")
    assert result.exit_code == 1
    assert result.stdout.strip().startswith("warning bbox-outside-image")


def test_cli_json_lists_findings(planted, run_cli) -> None:
    path, images = planted
    result = run_cli("validate", path, "--images", images, "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert {
        "code": "image-missing",
        "severity": "error",
        "message": f"{images / 'missing.jpg'} does not exist",
        "file": str(path),
        "image": "missing.jpg",
    } in data["findings"]


def test_cli_unreadable_input_exits_2(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"images": [')
    result = run_cli("validate", path, "--format", "coco")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: line 1 column 13: invalid JSON: unexpected end of data"
    ]


def test_the_documented_examples_find_what_docs_validate_md_shows(fixtures: Path) -> None:
    coco = validate(
        fixtures / "validate" / "coco" / "instances.json",
        images=fixtures / "validate" / "coco" / "images",
        backend="detectron2",
    )
    assert [(f.code, f.image) for f in coco.findings] == [
        ("annotation-id-zero", None),
        ("polygon-self-intersecting", "shirt.jpg"),
        ("polygon-four-numbers", "shirt.jpg"),
        ("image-truncated", "dress.jpg"),
        ("bbox-outside-image", "dress.jpg"),
        ("image-exif-rotated", "pants.jpg"),  # the record has the rotated size: a warning only
        ("category-undeclared", "pants.jpg"),
        ("crowd-ignored", "pants.jpg"),
        ("image-missing", "skirt.jpg"),
    ]
    yolo = validate(fixtures / "validate" / "yolo", backend="yolo")
    assert [(f.code, f.location) for f in yolo.findings] == [
        ("yolo-coordinate-range", "line 1"),
        ("yolo-class-index", "line 2"),
        ("yolo-line-format", "line 3"),
        ("label-file-empty", None),
        ("polygon-self-intersecting", "line 1"),
        ("polygon-self-intersecting", "line 2"),
        ("yolo-duplicate-line", "line 2"),
        ("yolo-mixed-boxes-segments", None),
    ]


def test_a_yaml_alias_bomb_is_refused_by_validate_too(fixtures: Path, run_cli) -> None:
    result = run_cli("validate", fixtures / "broken" / "yolo_yaml_alias_bomb")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("data.yaml: val: val must be a path or a list of paths")


def test_images_are_found_in_the_split_folder_of_the_root(tmp_path: Path) -> None:
    (tmp_path / "root" / "val2017").mkdir(parents=True)
    (tmp_path / "root" / "val2017" / "a.jpg").write_bytes(jpeg_bytes(40, 30))
    path = tmp_path / "instances_val2017.json"  # split val2017, from the file name
    path.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30}],
                "annotations": [],
                "categories": [],
            }
        )
    )
    assert validate(path, images=tmp_path / "root").findings == []
    assert [f.code for f in validate(path, images=tmp_path).findings] == ["image-missing"]
