"""The YOLO reader: Ultralytics data.yaml variants from the corpus (Datumaro's test assets), splits,
negatives, errors, and mask → YOLO-seg → pixels keeping a hole."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import fashiondata
from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.errors import ParseError, ValidationError
from fashiondata.formats.masks import InstanceSettings, label_instances
from fashiondata.formats.yolo import label_path, parse_label_text, parse_names, split_and_name
from fashiondata.model import BBox, Polygons

YOLOV8 = Path("datumaro") / "yolo_dataset_yolov8_c7bc106"
BOXES = [(3, (0.0, 2.0, 4.0, 2.0)), (5, (3.0, 3.0, 2.0, 3.0))]  # image 1.jpg is 15×10


def _read(path, **kwargs):
    ctx = RunContext()
    dataset = fashiondata.read(path, "yolo", ctx=ctx, **kwargs)
    return dataset, list(dataset.records), ctx.report


def _boxes(record):
    return [(a.category_id, tuple(round(v, 4) for v in a.bbox)) for a in record.annotations]


@pytest.mark.parametrize(
    "folder",
    [
        "yolov8",  # names as a dict, train: images/train
        "yolov8_with_list_of_names",  # names as a list
        "yolov8_with_subset_txt",  # train: train.txt listing data/images/train/1.jpg (Datumaro's prefix)
        "yolov8_with_list_of_imgs",  # train: [images/train/1.jpg]
    ],
)
def test_detection_variants_read_the_same(corpus, folder):
    dataset, records, _ = _read(corpus / YOLOV8 / folder)
    assert dataset.categories.names == tuple(f"label_{i}" for i in range(10))
    assert dataset.categories.ids == tuple(range(1, 11))  # class index + 1
    assert [(r.file_name, r.split, r.width, r.height) for r in records] == [("1.jpg", "train", 15, 10)]
    assert _boxes(records[0]) == BOXES


def test_data_yaml_or_its_folder_read_the_same(corpus):
    assert _read(corpus / YOLOV8 / "yolov8")[1] == _read(corpus / YOLOV8 / "yolov8" / "data.yaml")[1]


def test_segmentation_lines_become_absolute_polygons(corpus):
    _, records, _ = _read(corpus / YOLOV8 / "yolov8_segmentation")
    assert [(a.category_id, a.segmentation) for a in records[0].annotations] == [
        (3, Polygons(([1.5, 1.0, 6.0, 1.0, 6.0, 5.0],))),
        (5, Polygons(([3.0, 1.5, 6.0, 1.5, 6.0, 7.5, 4.5, 7.5, 3.75, 3.0],))),
    ]


def test_oriented_boxes_read_as_four_point_polygons_kept_as_written(corpus):
    _, records, _ = _read(corpus / YOLOV8 / "yolov8_oriented_boxes")
    rings = [a.segmentation.rings[0] for a in records[0].annotations]
    assert [len(r) for r in rings] == [8, 8]
    assert rings[1][-1] == pytest.approx(-0.09808)  # outside the image: clipping is a writer's business


@pytest.mark.parametrize("folder", ["yolov8_pose", "yolov8_pose_two_values_per_point"])
def test_pose_lines_with_kpt_shape(corpus, folder):
    _, records, _ = _read(corpus / YOLOV8 / folder)
    (ann,) = records[0].annotations
    assert ann.keypoints.values == pytest.approx([1.5, 2.0, 2.0, 4.5, 4.0, 2.0, 7.5, 6.0, 2.0])


def test_roboflow_export_paths_and_missing_split(corpus):
    dataset, records, report = _read(corpus / "datumaro" / "roboflow_dataset" / "yolo")
    assert dataset.categories.names == ("label_0", "label_1")
    assert [r.file_name for r in records] == ["train_001.jpg", "train_002.jpg"]  # ../train/images → train/images
    assert "data.yaml entry not found, skipped: val: ../valid/images" in report.notes


def _tree(tmp_path: Path, files: dict[str, str | tuple[int, int]]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple):
            cv2.imwrite(str(path), np.zeros((content[1], content[0], 3), np.uint8))
        else:
            path.write_text(content)
    return tmp_path


def test_split_folders_negatives_and_missing_labels(tmp_path):
    root = _tree(
        tmp_path,
        {
            "data.yaml": "train: images/train2017\nval: images/val2017\nnames:\n  0: pants\n",
            "images/train2017/a.jpg": (20, 10),
            "labels/train2017/a.txt": "0 0.5 0.5 0.5 0.5\n",
            "images/train2017/b.jpg": (20, 10),
            "labels/train2017/b.txt": "",  # a negative
            "images/val2017/c.png": (8, 8),  # no label file
        },
    )
    _, records, report = _read(root)
    assert [(r.split, r.file_name, len(r.annotations)) for r in records] == [
        ("train2017", "a.jpg", 1),
        ("train2017", "b.jpg", 0),
        ("val2017", "c.png", 0),
    ]
    assert records[0].annotations[0].bbox == BBox(5.0, 2.5, 10.0, 5.0)
    assert report.read["images without label file"] == 1


def test_folder_without_yaml_uses_classes_txt(tmp_path):
    root = _tree(tmp_path, {"classes.txt": "top\npants\n", "images/a.jpg": (4, 4), "labels/a.txt": "1 0 0 1 0 1 1\n"})
    dataset, records, _ = _read(root)
    assert dataset.categories.names == ("top", "pants")
    assert (records[0].split, records[0].annotations[0].category_id) == (None, 2)


@pytest.mark.parametrize(
    "text, expectation",
    [
        ("0 0.5 0.5 0.2 0.2\n\n", does_not_raise()),  # blank lines are fine
        ("2 0.5 0.5 0.2 0.2", pytest.raises(ParseError, match="line 1: class 2 is not among the 2 names")),
        ("0 0.5 0.5 0.2", pytest.raises(ParseError, match="3 coordinates")),
        ("0 0.1 0.1 0.2 0.2\n1 0.1 0.1 0.2 0.2 0.3", pytest.raises(ParseError, match="line 2: 5 coordinates")),
        ("0 0.5 x 0.2 0.2", pytest.raises(ParseError, match="not numbers")),
        ("0 0.5 nan 0.2 0.2", pytest.raises(ParseError, match="not finite")),
    ],
)
def test_label_lines(text, expectation):
    with expectation:
        parse_label_text(text, 10, 10, "a.txt", classes=2)


@pytest.mark.parametrize(
    "names, expectation",
    [
        ({0: "a", 1: "b"}, does_not_raise()),
        ({"0": "a"}, does_not_raise()),  # string keys (JSON-ish YAML)
        ({0: "a", 2: "b"}, pytest.raises(ParseError, match="indices must be 0..1")),
        ("a,b", pytest.raises(ParseError, match="dict")),
        ([""], pytest.raises(ParseError, match="class 0 has no name")),
    ],
)
def test_names(names, expectation):
    with expectation:
        parse_names(names, "data.yaml")


def test_nc_must_match_names(tmp_path):
    root = _tree(tmp_path, {"data.yaml": "train: images\nnc: 3\nnames: [a, b]\n", "images/a.jpg": (4, 4)})
    with pytest.raises(ParseError, match="nc is 3 but names has 2"):
        _read(root)


def test_missing_image_in_a_list_names_the_list_and_line(tmp_path):
    root = _tree(
        tmp_path,
        {
            "data.yaml": "train: train.txt\nnames: [a]\n",
            "train.txt": "images/a.jpg\n./images/zz.jpg\n",
            "images/a.jpg": (4, 4),
        },
    )
    with pytest.raises(ParseError, match=r"train.txt: line 2: image ./images/zz.jpg not found"):
        _read(root)


def test_not_a_yolo_folder(tmp_path):
    with pytest.raises(ValidationError, match="not a YOLO dataset"):
        _read(tmp_path)


@pytest.mark.parametrize(
    "image, label",
    [
        ("d/images/train/a.jpg", "d/labels/train/a.txt"),
        ("images/x/images/b.png", "images/x/labels/b.txt"),  # the last /images/ only
    ],
)
def test_label_path_follows_ultralytics(image, label):
    assert label_path(image).as_posix() == label


def test_split_and_name_without_images_folder():
    assert split_and_name(Path("x/a.jpg"), "train", True) == ("train", "a.jpg")


def test_mask_to_yolo_seg_lines_and_back_keeps_the_hole(tmp_path):
    labels = np.zeros((90, 120), np.uint8)
    labels[10:80, 10:60] = 12
    labels[30:50, 25:45] = 0  # the bag's strap loop
    labels[20:70, 80:90] = 5
    labels[20:70, 100:110] = 5  # two legs, one instance
    instances = label_instances(labels, InstanceSettings())
    lines = []
    for ann in instances.annotations:
        from fashiondata.geometry import join_rings

        ring = np.asarray(join_rings(ann.segmentation.rings)).reshape(-1, 2) / (120, 90)
        lines.append(" ".join([str(ann.category_id - 1), *(f"{v:.6g}" for v in ring.ravel())]))
    names = "".join(f"  {i}: c{i}\n" for i in range(24))
    root = _tree(
        tmp_path,
        {
            "data.yaml": f"train: images\nnames:\n{names}",
            "images/a.png": (120, 90),
            "labels/a.txt": "\n".join(lines) + "\n",
        },
    )
    _, records, _ = _read(root)
    for ann in records[0].annotations:
        truth = (labels == ann.category_id).astype(np.uint8)
        assert raster.masks_iou(raster.decode(ann.segmentation, 90, 120), truth) > 0.99
    bag = next(a for a in records[0].annotations if a.category_id == 12)
    assert raster.decode(bag.segmentation, 90, 120)[40, 35] == 0  # the hole is still a hole


def test_yolo2masks_draws_denormalised_polygons_in_split_folders(corpus, tmp_path, run_cli):
    result = run_cli("convert", "yolo2masks", corpus / YOLOV8 / "yolov8_segmentation", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "out" / "train" / "1.png") as image:
        drawn = np.asarray(image)
    triangle = raster.decode(Polygons(([1.5, 1.0, 6.0, 1.0, 6.0, 5.0],)), 10, 15)
    pentagon = raster.decode(Polygons(([3.0, 1.5, 6.0, 1.5, 6.0, 7.5, 4.5, 7.5, 3.75, 3.0],)), 10, 15)
    expected = np.where(triangle > 0, 3, np.where(pentagon > 0, 5, 0))  # the larger one drawn first
    assert np.array_equal(drawn, expected) and set(np.unique(drawn).tolist()) == {0, 3, 5}


def test_bundled_fixture_bridged_lines_fill_parts_and_holes():
    _, records, _ = _read(Path(__file__).resolve().parents[2] / "fixtures" / "yolo" / "data.yaml")
    assert [(r.split, r.file_name, r.width, r.height, len(r.annotations)) for r in records] == [
        ("train", "look_001.jpg", 64, 48, 3),
        ("train", "look_002.jpg", 48, 64, 1),
        ("val", "look_003.jpg", 64, 48, 0),
    ]
    pants = raster.decode(records[0].annotations[1].segmentation, 48, 64)  # two legs in one line
    expected = np.zeros((48, 64), np.uint8)
    expected[24:46, 20:30] = 1
    expected[24:46, 34:44] = 1
    assert np.array_equal(pants, expected)
    bag = raster.decode(records[1].annotations[0].segmentation, 64, 48)  # a bag with a hole, one line
    expected = np.zeros((64, 48), np.uint8)
    expected[16:48, 6:42] = 1
    expected[26:38, 18:30] = 0
    assert np.array_equal(bag, expected)


def test_masks2yolo_then_read_back_keeps_holes_and_fidelity(tmp_path, run_cli):
    labels = np.zeros((90, 120), np.uint8)
    labels[10:80, 10:60] = 12
    labels[30:50, 25:45] = 0  # the bag's strap loop
    labels[20:70, 80:90] = 5
    labels[20:70, 100:110] = 5  # two legs, one instance, one line
    (tmp_path / "segm").mkdir()
    cv2.imwrite(str(tmp_path / "segm" / "look_segm.png"), labels)
    result = run_cli(
        "convert",
        "masks2yolo",
        tmp_path / "segm",
        tmp_path / "out",
        "--classes",
        "deepfashion-mm",
        "--link-mode",
        "none",
        "-q",
    )
    assert result.exit_code == 0, result.output
    (tmp_path / "out" / "images").mkdir(exist_ok=True)
    cv2.imwrite(
        str(tmp_path / "out" / "images" / "look.jpg"), np.zeros((90, 120, 3), np.uint8)
    )  # sizes come from images
    _, records, _ = _read(tmp_path / "out" / "data.yaml")
    (record,) = records
    assert len((tmp_path / "out" / "labels" / "look.txt").read_text().splitlines()) == 2
    for ann in record.annotations:  # class i is pixel value i + 1, read back as category id i + 1
        truth = (labels == ann.category_id).astype(np.uint8)
        assert raster.masks_iou(raster.decode(ann.segmentation, 90, 120), truth) > 0.99
    bag = next(a for a in record.annotations if a.category_id == 12)
    assert raster.decode(bag.segmentation, 90, 120)[40, 35] == 0  # still a hole after normalising
