"""The YOLO writer: line formatting, layout, negatives, nothing silent, agreement with Ultralytics."""

from __future__ import annotations

import json
import os
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import numpy as np
import pytest
import yaml
from pycocotools import mask as mask_utils

import fashiondata
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import LossyConversionError, OutputExistsError, ValidationError
from fashiondata.executor import make_executor
from fashiondata.formats import yolo_writer
from fashiondata.formats.yolo_writer import (
    data_yaml,
    format_lines,
    image_list_name,
    label_relative_path,
    relative_image_path,
    rle_crop,
    round_significant,
    yaml_key,
)
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord, Polygons, Rle
from fashiondata.report import Report

LVIS = Path(__file__).resolve().parents[2] / "fixtures" / "lvis"
SOURCES = [str(LVIS / "lvis_v1_train.json"), str(LVIS / "lvis_v1_val.json")]


def convert(
    tmp_path: Path, *sources: str, name: str = "out", ctx: RunContext | None = None, **options
) -> tuple[Path, Report]:
    out = tmp_path / name
    report = fashiondata.convert(
        list(sources or SOURCES), out, src_format="lvis", dst_format="yolo", ctx=ctx, **options
    )
    return out, report


def ultralytics_check(text: str, classes: int) -> list[np.ndarray]:
    """Ultralytics' ``verify_image_label`` rules, re-implemented: numbers only, boxes of 4 values or
    polygons of ≥ 3 points (never mixed), class in range, every value (and each polygon's box) in [0, 1]."""
    rows = [line.split() for line in text.splitlines() if line.strip()]
    values = [np.array(row, dtype=np.float64) for row in rows]
    polygons = any(len(v) > 5 for v in values)
    for v in values:
        assert float(v[0]).is_integer() and 0 <= v[0] < classes
        if polygons:
            assert len(v) >= 7 and len(v) % 2 == 1, "a polygon line needs ≥ 3 points"
        else:
            assert len(v) == 5
        assert v[1:].min() >= 0 and v[1:].max() <= 1
    return values


# ---------------------------------------------------------------- pure functions


@pytest.mark.parametrize(
    "values, expected",
    [
        ([0.1234564, 0.9999996], [0.123456, 1.0]),  # six significant digits, rounding up to 1
        ([0.01234567, 0.000123456789], [0.0123457, 0.000123457]),  # small values keep six digits
        ([0.0, 1.0, 0.5], [0.0, 1.0, 0.5]),  # exact values stay
    ],
)
def test_round_significant(values, expected):
    assert round_significant(np.array(values)).tolist() == expected


@pytest.mark.parametrize(
    "classes, values, counts, text, offsets",
    [
        ([3], [0.5, 0.25, 0.75], [3], b"3 0.5 0.25 0.75\n", [0, 16]),  # one line
        ([0, 1202], [0.1, 0.2, 0.3, 0.4], [2, 2], b"0 0.1 0.2\n1202 0.3 0.4\n", [0, 10, 23]),  # class widths
        ([1], [1 / 3, 2 / 3, 0.0], [3], b"1 0.333333 0.666667 0.0\n", [0, 24]),  # %g's digits
        ([], [], [], b"", [0]),  # no line
    ],
)
def test_format_lines(classes, values, counts, text, offsets):
    got_text, got_offsets = format_lines(
        np.array(classes, dtype=np.int64), np.array(values, dtype=np.float64), np.array(counts, dtype=np.int64)
    )
    assert got_text.tobytes() == text
    assert got_offsets.tolist() == offsets


def test_format_lines_matches_percent_g_to_1e_5():
    rng = np.random.default_rng(0)
    values = np.round(rng.uniform(0, 640, 5000), 2) / 640
    text, _ = format_lines(np.zeros(1, np.int64), values, np.array([len(values)]))
    written = np.array(text.tobytes().split()[1:], dtype=np.float64)
    assert np.abs(written - np.array([f"{v:g}" for v in values], dtype=np.float64)).max() <= 1e-5
    assert np.abs(written - values).max() <= 5.0001e-7  # six significant digits


@pytest.mark.parametrize(
    "source, name",
    [
        ("a/lvis_v1_train.json", "train"),  # Ultralytics strips lvis_v1_
        ("lvis_v1_val.json", "val"),
        ("instances_val2017.json", "val2017"),  # COCO's own names
        ("lvis_val_100.json", "lvis_val_100"),  # anything else keeps its stem
    ],
)
def test_image_list_name(source, name):
    assert image_list_name(source) == name


@pytest.mark.parametrize(
    "name, key", [("train", "train"), ("val2017", "val"), ("minival", "val"), ("test-dev", "test"), ("x", "train")]
)
def test_yaml_key(name, key):
    assert yaml_key(name) == key


@pytest.mark.parametrize(
    "record, image, label, error",
    [
        (ImageRecord("a.jpg", 2, 2), "a.jpg", "a.txt", does_not_raise()),  # flat
        (ImageRecord("a.b.png", 2, 2, split="val"), "val/a.b.png", "val/a.b.txt", does_not_raise()),
        (ImageRecord("val/a.jpg", 2, 2, split="val"), "val/a.jpg", "val/a.txt", does_not_raise()),  # no val/val
        (ImageRecord("../a.jpg", 2, 2), None, None, pytest.raises(ValidationError)),  # unsafe
    ],
)
def test_image_and_label_paths(record, image, label, error):
    with error:
        assert relative_image_path(record) == image
        assert label_relative_path(image) == label


def test_data_yaml_has_lists_and_names_and_no_path():
    doc = yaml.safe_load(data_yaml(["val", "train", "train2014"], ["pants", "top"]))
    assert doc == {"train": ["train.txt", "train2014.txt"], "val": "val.txt", "names": {0: "pants", 1: "top"}}


def test_rle_crop_of_uncompressed_counts():
    mask = np.zeros((6, 5), np.uint8)
    mask[1:4, 2:4] = 1
    counts = [len(list(g)) for g in _runs(mask.ravel(order="F"))]
    crop, x, y = rle_crop(Rle((6, 5), counts))
    assert (crop.tolist(), x, y) == (mask[1:4, 2:4].tolist(), 2, 1)


def _runs(flat):
    import itertools

    groups = [list(g) for _, g in itertools.groupby(flat.tolist())]
    return ([[]] if flat[0] else []) + groups


# ---------------------------------------------------------------- the LVIS fixture, end to end


def test_lines_agree_with_ultralytics_convert_coco(tmp_path):
    """Every single-part, non-crowd instance: our line is Ultralytics' line to 1e-5, except that
    coordinates outside the image are clipped (ours) where Ultralytics leaves them."""
    out, _ = convert(tmp_path)
    expected = json.loads((LVIS / "expected_ultralytics.json").read_text())
    compared = 0
    for source in SOURCES:
        doc = json.loads(Path(source).read_text())
        by_image: dict[int, list[dict]] = {}
        for ann in doc["annotations"]:
            by_image.setdefault(ann["image_id"], []).append(ann)
        for label, lines in expected[Path(source).name].items():
            ours = (out / label).read_text().splitlines()
            image_id = int(Path(label).stem)
            anns = [a for a in by_image[image_id] if not _degenerate(a)]  # our lines: one per kept annotation
            assert len(ours) == len(anns)
            for ann, line in zip(anns, ours):
                theirs = lines.get(str(ann["id"]))
                if theirs is None:
                    continue
                got, want = np.array(line.split(), float), np.array(theirs.split(), float)
                assert got[0] == want[0] == ann["category_id"] - 1
                assert np.abs(got[1:] - np.clip(want[1:], 0, 1)).max() <= 1e-5
                compared += 1
    assert compared == sum(len(v) for f in expected.values() for v in f.values()) == 18


def _degenerate(ann: dict) -> bool:
    seg = ann["segmentation"]
    if isinstance(seg, dict):
        return False
    ring = np.array(seg[0], float).reshape(-1, 2) if len(seg) == 1 else None
    if ring is None:
        return False
    x, y = ring[:, 0], ring[:, 1]
    return abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) == 0


def test_layout_lists_yaml_and_loader_rules(tmp_path):
    out, report = convert(tmp_path)
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert "path" not in data
    assert data["train"] == "train.txt" and data["val"] == "val.txt"
    assert len(data["names"]) == 1203 and data["names"][1121] == "trousers"
    val_images = (out / "val.txt").read_text().splitlines()
    # LVIS val holds a train2017 image: it is listed in val.txt, its label stays in labels/train2017
    assert "./images/train2017/000000000104.jpg" in val_images
    for list_name in ("train.txt", "val.txt"):
        for line in (out / list_name).read_text().splitlines():
            label = out / (line.replace("./images/", "labels/", 1).rsplit(".", 1)[0] + ".txt")
            ultralytics_check(label.read_text(), classes=1203)
    assert report.written["images"] == 15


def test_nothing_is_silent(tmp_path):
    _, report = convert(tmp_path)
    assert report.lossy[yolo_writer.LOST_RLE] == 1  # the crowd instance is kept
    assert report.lossy[yolo_writer.LOST_MERGED] == 2
    assert report.lossy[yolo_writer.LOST_CLIPPED] == 2
    assert report.skipped[yolo_writer.SKIP_DEGENERATE] == 1
    assert report.skipped[yolo_writer.SKIP_UNKNOWN] == 1
    assert report.written["negatives (empty label files)"] == 3
    assert report.written["instances"] + 1 == report.read["annotations"] == 22


def test_crowd_rle_becomes_its_exact_mask(tmp_path):
    out, _ = convert(tmp_path)
    doc = json.loads(Path(SOURCES[0]).read_text())
    crowd = next(a for a in doc["annotations"] if a.get("iscrowd"))
    image = next(i for i in doc["images"] if i["id"] == crowd["image_id"])
    height, width = image["height"], image["width"]
    line = next(
        line for line in (out / "labels/train2017/000000000003.txt").read_text().splitlines() if line.startswith("967 ")
    )
    ring = np.array(line.split()[1:], float).reshape(-1, 2) * [width, height]
    ours = mask_utils.decode(mask_utils.frPyObjects([ring.ravel().tolist()], height, width))[:, :, 0]
    truth = mask_utils.decode(mask_utils.frPyObjects(crowd["segmentation"], height, width))
    assert np.array_equal(ours, truth)  # the one-pixel hole too


def test_multipart_merge_fills_the_union_and_split_gives_one_line_per_part(tmp_path):
    merged, _ = convert(tmp_path, name="merged")
    split, report = convert(tmp_path, name="split", multipart="split")
    assert report.lossy[yolo_writer.LOST_SPLIT] == 2
    height, width = 240, 320

    def masks(folder: Path) -> list[np.ndarray]:
        lines = (folder / "labels/train2017/000000000002.txt").read_text().splitlines()
        rings = [
            (np.array(line.split()[1:], float).reshape(-1, 2) * [width, height]).ravel().tolist()
            for line in lines
            if line.startswith("1121 ")
        ]
        return [mask_utils.decode(mask_utils.frPyObjects([ring], height, width))[:, :, 0] for ring in rings]

    (one,), parts = masks(merged), masks(split)
    assert len(parts) == 2 and not (parts[0] & parts[1]).any()
    assert np.array_equal(one, parts[0] | parts[1])  # the bridges add and remove nothing


def test_boxes_write_detection_lines(tmp_path):
    out, _ = convert(tmp_path, boxes=True)
    rows = ultralytics_check((out / "labels/train2017/000000000001.txt").read_text(), classes=1203)
    doc = json.loads(Path(SOURCES[0]).read_text())
    x, y, w, h = next(a for a in doc["annotations"] if a["id"] == 101)["bbox"]
    assert np.allclose(rows[0][1:], [(x + w / 2) / 320, (y + h / 2) / 240, w / 320, h / 240], atol=1e-6)


@pytest.mark.parametrize(
    "negatives, empty_files",
    [
        (None, {"000000000006", "000000000007", "000000000102"}),  # LVIS default: verified
        ("all", {"000000000006", "000000000007", "000000000008", "000000000102"}),
        ("none", set()),
    ],
)
def test_negatives_policy(tmp_path, negatives, empty_files):
    out, _ = convert(tmp_path, negatives=negatives)
    empty = {p.stem for p in (out / "labels").rglob("*.txt") if p.stat().st_size == 0}
    assert empty == empty_files


def test_pants_subset_gives_one_class_and_verified_negatives(tmp_path):
    out, report = convert(tmp_path, SOURCES[0], categories="trousers,short_pants,sweat_pants", rename="pants")
    assert yaml.safe_load((out / "data.yaml").read_text())["names"] == {0: "pants"}
    labels = {p.stem: p.read_text() for p in (out / "labels").rglob("*.txt")}
    # positives: images 1, 2, 3, 4, 5, 10, 12; verified negative: 6 (neg trousers)
    assert sorted(labels) == [f"{i:012d}" for i in (1, 2, 3, 4, 5, 6, 10, 12)]
    assert labels["000000000006"] == ""
    assert all(line.startswith("0 ") for text in labels.values() for line in text.splitlines())
    assert report.skipped[yolo_writer.SKIP_UNKNOWN] == 4  # 7, 8, 9, 11: pants unknown there


def test_output_is_deterministic_and_the_same_on_every_executor(tmp_path):
    serial, _ = convert(tmp_path, name="serial")
    pool, _ = convert(tmp_path, name="pool", ctx=RunContext(executor=make_executor(workers=2)))
    files = sorted(p.relative_to(serial) for p in serial.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(pool) for p in pool.rglob("*") if p.is_file())
    assert all((serial / f).read_bytes() == (pool / f).read_bytes() for f in files)


def test_refuses_a_non_empty_destination_and_never_appends(tmp_path):
    out, _ = convert(tmp_path)
    before = (out / "labels/train2017/000000000001.txt").read_bytes()
    with pytest.raises(OutputExistsError):
        convert(tmp_path)
    convert(tmp_path, ctx=RunContext(overwrite=True))
    assert (out / "labels/train2017/000000000001.txt").read_bytes() == before


def test_strict_refuses_lossy_changes_and_writes_nothing(tmp_path):
    with pytest.raises(LossyConversionError):
        convert(tmp_path, ctx=RunContext(strict=True))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("mode", ["symlink", "hardlink", "copy", "none"])
def test_link_modes_place_images(tmp_path, mode):
    images = tmp_path / "coco"
    for split, image_id in (("val2017", 101), ("val2017", 103), ("train2017", 104)):
        (images / split).mkdir(parents=True, exist_ok=True)
        (images / split / f"{image_id:012d}.jpg").write_bytes(b"\xff\xd8\xff jpeg")
    out, _ = convert(tmp_path, SOURCES[1], images=str(images), link_mode=mode, negatives="none")
    placed = sorted(str(p.relative_to(out)) for p in (out / "images").rglob("*.jpg")) if mode != "none" else []
    expected = [
        "images/train2017/000000000104.jpg",
        "images/val2017/000000000101.jpg",
        "images/val2017/000000000103.jpg",
    ]
    assert placed == ([] if mode == "none" else expected)
    if mode == "symlink":
        assert os.path.islink(out / expected[0])
    if mode in ("hardlink", "copy"):
        assert (out / expected[0]).read_bytes() == b"\xff\xd8\xff jpeg"


def test_missing_image_is_an_error_or_skipped(tmp_path):
    with pytest.raises(FileNotFoundError):
        convert(tmp_path, SOURCES[1], images=str(tmp_path))
    assert not (tmp_path / "out").exists()
    out, report = convert(tmp_path, SOURCES[1], images=str(tmp_path), ctx=RunContext(on_error="skip"))
    assert report.skipped["image not found under --images"] == 4
    assert (out / "data.yaml").exists()


def test_records_from_other_readers_box_only_and_keypoints(tmp_path):
    table = CategoryTable.from_names(["top"])
    records = (
        ImageRecord("a.jpg", 10, 10, (Annotation(1, bbox=BBox(1, 1, 4, 4)),)),  # a box only
        ImageRecord("b.jpg", 10, 10, (Annotation(1, segmentation=Polygons(([0, 0, 20, 0, 20, 20],))),)),
        ImageRecord("c.jpg", 10, 10),  # no instance: a negative under "all"
    )
    ctx = RunContext()
    fashiondata.write(Dataset(table, records), tmp_path / "y", "yolo", ctx=ctx)
    assert (tmp_path / "y/labels/a.txt").read_text() == "0 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5\n"
    assert (tmp_path / "y/labels/b.txt").read_text() == "0 0.0 0.0 1.0 0.0 1.0 1.0\n"  # clipped
    assert (tmp_path / "y/labels/c.txt").read_text() == ""
    assert ctx.report.lossy[yolo_writer.LOST_BOX_AS_POLYGON] == 1
    assert (tmp_path / "y/train.txt").read_text() == "./images/a.jpg\n./images/b.jpg\n./images/c.jpg\n"


def _uncompressed(mask: np.ndarray) -> Rle:
    counts = [len(run) for run in _runs(mask.ravel(order="F"))]
    return Rle(mask.shape, counts)


@pytest.mark.parametrize(
    "shape, fast",
    [
        ("ellipse", True),  # one run per column, neighbours overlap: the outline from the runs
        ("box", True),
        ("ring", False),  # a hole: two runs in a column, traced instead
        ("two blobs", False),  # an empty column between them
    ],
)
def test_rle_lines_fill_back_to_the_mask(shape, fast):
    yy, xx = np.mgrid[0:30, 0:40] + 0.5
    ellipse = ((xx - 20) / 15) ** 2 + ((yy - 15) / 9) ** 2 <= 1
    masks = {
        "ellipse": ellipse,
        "box": (xx > 5) & (xx < 30) & (yy > 3) & (yy < 20),
        "ring": ellipse & ~(((xx - 20) / 6) ** 2 + ((yy - 15) / 4) ** 2 <= 1),
        "two blobs": ((xx < 10) | (xx > 20)) & (yy > 5) & (yy < 25),
    }
    mask = masks[shape].astype(np.uint8)
    rle = _uncompressed(mask)
    assert (yolo_writer.column_outlines([rle])[0] is not None) == fast
    (lines,) = yolo_writer.complex_lines([("rle", rle)], split=False)
    assert len(lines) == 1
    filled = mask_utils.decode(mask_utils.frPyObjects([lines[0].tolist()], 30, 40))[:, :, 0]
    assert np.array_equal(filled, mask)


def test_column_outlines_of_many_masks_are_each_masks_own():
    yy, xx = np.mgrid[0:30, 0:40] + 0.5
    ellipse = ((xx - 20) / 15) ** 2 + ((yy - 15) / 9) ** 2 <= 1
    masks = [
        _uncompressed(ellipse.astype(np.uint8)),
        _uncompressed((ellipse & ~(((xx - 20) / 6) ** 2 + ((yy - 15) / 4) ** 2 <= 1)).astype(np.uint8)),  # a hole
        Rle((30, 40), [1200]),  # empty
        _uncompressed(((xx > 5) & (xx < 30) & (yy > 3) & (yy < 20)).astype(np.uint8)),
        Rle((2, 2), "04"),  # compressed: never outlined from runs
        _uncompressed(((xx < 10) | (xx > 20)).astype(np.uint8)),  # an empty column between two parts
        _uncompressed((xx < 1).astype(np.uint8)),  # one full column, first run empty
    ]
    together = yolo_writer.column_outlines(masks)
    alone = [yolo_writer.column_outlines([m])[0] for m in masks]
    assert [o is None for o in together] == [False, True, True, False, True, True, False]
    assert all(a is None if t is None else np.array_equal(a, t) for t, a in zip(together, alone))
    assert together[6].tolist() == [[0, 0], [1, 0], [1, 30], [0, 30]]
