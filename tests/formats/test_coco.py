"""COCO instances: exact round trips of the real corpus files, derived fields, errors with places."""

from __future__ import annotations

import json
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import numpy as np
import orjson
import pytest
from pycocotools.coco import COCO

import fashiondata
from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.errors import OutputExistsError, ParseError
from fashiondata.formats import coco
from fashiondata.model import Polygons

INSTANCE_FILES = [
    "coco/annotations/instances_train.json",
    "coco/annotations/instances_val.json",
    "coco/annotations/person_keypoints_train.json",
    "coco/annotations/person_keypoints_val.json",
    "coco/annotations/stuff_train.json",
    "coco/annotations/stuff_val.json",
    "coco/annotations/labels_train.json",
    "coco/annotations/labels_val.json",
    "coco/annotations/image_info_train.json",
    "coco_instances/annotations/instances_val.json",
    "coco_roboflow/train/_annotations.coco.json",
    "coco_roboflow/val/_annotations.coco.json",
    "mmdet_coco/annotations/instances_val.json",
]


def _by_id(items: list[dict]) -> dict[int, dict]:
    return {item["id"]: item for item in items}


@pytest.mark.parametrize("name", INSTANCE_FILES)
def test_corpus_file_round_trips_exactly(corpus: Path, tmp_path: Path, name: str) -> None:
    source = corpus / "datumaro" / "coco_dataset" / name
    out = tmp_path / "out.json"
    fashiondata.convert(source, out, dst_format="coco")
    original, ours = json.loads(source.read_text()), json.loads(out.read_text())

    assert ours.get("info") == original.get("info") and ours.get("licenses") == original.get("licenses")
    assert _by_id(ours["categories"]) == _by_id(original.get("categories", []))
    assert _by_id(ours["images"]) == _by_id(original["images"])
    images = _by_id(original["images"])
    ours_annotations = _by_id(ours["annotations"])
    for ann in original.get("annotations", []):
        mine = ours_annotations[ann["id"]]
        extra = {k: v for k, v in ann.items() if k not in coco.ANNOTATION_KEYS}
        assert {k: mine[k] for k in extra} == extra
        assert mine["category_id"] == ann["category_id"] and mine["image_id"] == ann["image_id"]
        assert mine["iscrowd"] == ann.get("iscrowd", 0)
        if "bbox" in ann:
            assert np.allclose(mine["bbox"], ann["bbox"], atol=1e-6)
        if ann.get("segmentation"):
            image = images[ann["image_id"]]
            h, w = image["height"], image["width"]
            masks = [raster.decode(coco.parse_segmentation(a["segmentation"], "", ""), h, w) for a in (mine, ann)]
            assert np.array_equal(*masks)
    assert all(item["id"] > 0 for key in ("images", "annotations") for item in ours[key])
    COCO(str(out))  # the reference reader loads it


def test_uncompressed_rle_and_polygon_decode_like_pycocotools(corpus: Path, tmp_path: Path) -> None:
    source = corpus / "datumaro/coco_dataset/coco_instances/annotations/instances_val.json"
    out = tmp_path / "out.json"
    fashiondata.convert(source, out, dst_format="coco")
    theirs, ours = COCO(str(source)), COCO(str(out))
    for ann_id in theirs.getAnnIds():
        assert np.array_equal(theirs.annToMask(theirs.anns[ann_id]), ours.annToMask(ours.anns[ann_id]))


def _doc(**changes: object) -> dict:
    doc = {
        "images": [{"id": 1, "width": 10, "height": 8, "file_name": "a.jpg"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 4, 0, 4, 4]], "iscrowd": 0}],
        "categories": [{"id": 1, "name": "pants"}],
    }
    doc.update(changes)
    return doc


def _write(tmp_path: Path, doc: object, name: str = "in.json") -> Path:
    path = tmp_path / name
    path.write_bytes(doc if isinstance(doc, bytes) else orjson.dumps(doc))
    return path


def test_area_and_bbox_are_derived_from_the_mask_not_the_box(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    fashiondata.convert(_write(tmp_path, _doc()), out, dst_format="coco")
    ann = json.loads(out.read_text())["annotations"][0]
    assert ann["bbox"] == [0, 0, 4, 4]
    # pycocotools rasterises the right triangle of legs 4 to 6 pixels: the area is that, not the box's 16
    assert ann["area"] == raster.mask_area(Polygons(([0, 0, 4, 0, 4, 4],)), 8, 10) == 6.0


def test_four_number_polygon_is_not_read_as_a_box(tmp_path: Path) -> None:
    doc = _doc(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 5, 5]]}])
    dataset = fashiondata.read(_write(tmp_path, doc), "coco").materialize()
    assert dataset.records[0].annotations[0].segmentation == Polygons(([1, 1, 5, 5],))
    ctx = RunContext()
    out = tmp_path / "out.json"
    fashiondata.write(dataset, out, "coco", ctx=ctx)
    ann = json.loads(out.read_text())["annotations"][0]
    assert ann["segmentation"] == [] and ann["area"] == 0.0
    assert ctx.report.lossy["polygon ring of fewer than 3 points dropped"] == 1


def test_invalid_ids_are_reassigned_from_one_deterministically(tmp_path: Path) -> None:
    doc = _doc(
        images=[
            {"id": 0, "width": 10, "height": 8, "file_name": "b.jpg"},
            {"id": 7, "width": 10, "height": 8, "file_name": "a.jpg"},
        ],
        annotations=[{"id": 0, "image_id": 0, "category_id": 1, "bbox": [1, 1, 2, 2]}],
    )
    out1, out2 = tmp_path / "o1.json", tmp_path / "o2.json"
    fashiondata.convert(_write(tmp_path, doc), out1, dst_format="coco")
    fashiondata.convert(_write(tmp_path, doc), out2, dst_format="coco")
    assert out1.read_bytes() == out2.read_bytes()
    written = json.loads(out1.read_text())
    assert [(i["id"], i["file_name"]) for i in written["images"]] == [(1, "a.jpg"), (2, "b.jpg")]
    assert [(a["id"], a["image_id"]) for a in written["annotations"]] == [(1, 2)]


def test_several_sources_make_one_dataset(corpus: Path, tmp_path: Path) -> None:
    folder = corpus / "datumaro/coco_dataset/coco/annotations"
    out = tmp_path / "out.json"
    report = fashiondata.convert(
        [folder / "instances_train.json", folder / "instances_val.json"], out, dst_format="coco"
    )
    written = json.loads(out.read_text())
    assert report.read["images"] == len(written["images"]) == 2
    assert sorted(i["file_name"] for i in written["images"]) == ["a.jpg", "b.jpg"]


def test_existing_output_is_refused_and_left_untouched(tmp_path: Path) -> None:
    source, out = _write(tmp_path, _doc()), tmp_path / "out.json"
    out.write_text("first")
    with pytest.raises(OutputExistsError):
        fashiondata.convert(source, out, dst_format="coco")
    assert out.read_text() == "first"
    fashiondata.convert(source, out, dst_format="coco", overwrite=True)
    assert json.loads(out.read_text())["images"][0]["file_name"] == "a.jpg"


@pytest.mark.parametrize(
    "document, location, expectation",
    [
        (b'{"images": [{"id": 1,', "line 1 column 22", pytest.raises(ParseError)),  # truncated JSON
        (b'\xff\xfe{"images": []}', "line 1 column 1", pytest.raises(ParseError)),  # not UTF-8
        (_doc(images="x"), "/images", pytest.raises(ParseError)),  # wrong type
        (
            _doc(annotations=[{"id": 1, "image_id": 9, "category_id": 1}]),
            "/annotations/0/image_id",
            pytest.raises(ParseError),
        ),  # unknown image_id
        (
            _doc(annotations=[{"id": 1, "image_id": 1, "category_id": 5}]),
            "/annotations/0/category_id",
            pytest.raises(ParseError),
        ),  # undeclared category
        (
            _doc(
                images=[
                    {"id": 1, "width": 1, "height": 1, "file_name": "a"},
                    {"id": 1, "width": 1, "height": 1, "file_name": "b"},
                ]
            ),
            "/images/1/id",
            pytest.raises(ParseError),
        ),  # duplicate image id
        (
            _doc(annotations=[{"id": 3, "image_id": 1, "category_id": 1}] * 2),
            "/annotations/1/id",
            pytest.raises(ParseError),
        ),  # duplicate annotation id
        (
            _doc(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, "w", 1]}]),
            "/annotations/0/bbox/2",
            pytest.raises(ParseError),
        ),  # non-number in a box
        (
            b'{"images": [], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "area": NaN}]}',
            "line 1",
            pytest.raises(ParseError),
        ),  # NaN is not JSON
        (
            _doc(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 1]]}]),
            "/annotations/0/segmentation/0",
            pytest.raises(ParseError),
        ),  # odd coordinate count
        (
            _doc(
                annotations=[
                    {"id": 1, "image_id": 1, "category_id": 1, "segmentation": {"size": [2, 2], "counts": [1, 1]}}
                ]
            ),
            "/annotations/0/segmentation/counts",
            pytest.raises(ParseError),
        ),  # RLE does not cover the mask
        (_doc(), None, does_not_raise()),  # the valid document
    ],
)
def test_broken_input_raises_parse_error_with_its_place(tmp_path: Path, document, location, expectation) -> None:
    path = _write(tmp_path, document)
    with expectation as raised:
        fashiondata.read(path, "coco").materialize()
    if location is not None:
        assert raised.value.path == str(path)
        assert raised.value.location.startswith(location)


@pytest.mark.parametrize(
    "name, split",
    [("instances_train2017.json", "train2017"), ("person_keypoints_val.json", "val"), ("mine.json", None)],
)
def test_split_comes_from_the_file_name(name: str, split: str | None) -> None:
    assert coco.split_from_filename(name) == split


_ANNOTATION = {"id": 7, "image_id": 1, "category_id": 1, "bbox": [1.5, 2.0, 3.0, 4.0], "area": 6.0}


@pytest.mark.parametrize(
    "changes",
    [
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]]},  # the common shape
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0], [9, 9, 10, 9, 10, 10]], "iscrowd": 0},
        {"segmentation": [[0, 0, 4, 0, 4, 3]], "bbox": [1, 2, 3, 4], "area": 6},  # ints
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "bbox": None, "area": None, "id": None},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "iscrowd": True},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "score": 0.5, "keypoints": [1, 2, 2]},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "synset": "x.n.01"},  # an extra key
        {"segmentation": {"size": [2, 2], "counts": [1, 2, 1]}, "iscrowd": 1},
        {"segmentation": []},
        {"segmentation": [[0.0, 0.0, 4.0, "x", 4.0, 3.0]]},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0]]},
        {"segmentation": [[]]},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, float("nan")]]},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "bbox": [1.0, 2.0, -3.0, 4.0]},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "bbox": [1.0, 2.0, float("inf"), 4.0]},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "area": float("nan")},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "category_id": 2},  # undeclared
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "category_id": [1]},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "id": 3},  # seen before
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "id": "7"},
        {"segmentation": [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]], "iscrowd": 2},
    ],
)
def test_parse_annotations_matches_parse_annotation_and_check_references(changes: dict) -> None:
    obj = {**_ANNOTATION, **changes}

    def one_by_one() -> tuple:
        seen = {3}
        annotation = coco.parse_annotation(obj, "f.json", "/annotations/1")
        coco.check_references(annotation, {1}, seen, "f.json", "/annotations/1")
        return annotation, seen

    def batched() -> tuple:
        seen = {3}
        (annotation,) = coco.parse_annotations(["unused", obj], [1], {1}, seen, "f.json")
        return annotation, seen

    try:
        expected = one_by_one()
    except ParseError as error:
        with pytest.raises(ParseError) as raised:
            batched()
        assert (raised.value.reason, raised.value.location) == (error.reason, error.location)
    else:
        got = batched()
        assert got == expected
        assert [type(part) for part in got[0]] == [type(part) for part in expected[0]]
