"""Label masks ↔ instances: class tables, tracing with holes, fidelity targets, the three mask kinds
agreeing, the writer, errors, and the real corpus files (Text2Human swatches, CCP .mat maps)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import orjson
import pytest
from PIL import Image
from pycocotools.coco import COCO

import fashiondata
from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import OutputExistsError, ParseError, ValidationError
from fashiondata.formats.masks import InstanceSettings, class_boxes, image_stem, label_instances, read_labels
from fashiondata.formats.masks_classes import BUILTIN_TABLES, load_class_table, parse_classes_txt
from fashiondata.model import Category, CategoryTable, ImageRecord, Polygons, Rle

ROOT = Path(__file__).resolve().parents[2]
MASKS = ROOT / "fixtures" / "masks"
DF_MM = MASKS / "deepfashion_mm"
SWATCH_CLASS = {"bg": "background", "earstuds": "earrings", "glove": "gloves", "wrist": "wrist wearing"}


def _generator():
    spec = importlib.util.spec_from_file_location("generate_masks", ROOT / "bench" / "generate_masks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rings_mask(annotations, height, width) -> np.ndarray:
    out = np.zeros((height, width), np.uint8)
    for ann in annotations:
        out |= raster.decode(ann.segmentation, height, width)
    return out


# ---------------------------------------------------------------- class tables


@pytest.mark.parametrize(
    "name, class_id, expected_name, expected_color",
    [
        ("deepfashion-mm", 5, "pants", (211, 211, 211)),
        ("DeepFashion_MM", 17, "wrist wearing", (50, 155, 250)),  # spelled loosely
        ("deepfashion-mm", 22, "earrings", (130, 165, 180)),
        ("fashionista", 1, "skin", (128, 0, 0)),  # PASCAL VOC colour 1
        ("fashionista", 6, "dress", (0, 128, 128)),
        ("ccp", 31, "pants", None),
    ],
)
def test_builtin_tables(name, class_id, expected_name, expected_color):
    table = load_class_table(name)
    assert table.names[class_id] == expected_name
    assert (table.colors[class_id] if table.colors else None) == expected_color


def test_builtin_table_sizes():
    assert [len(BUILTIN_TABLES[n].names) for n in ("deepfashion-mm", "fashionista", "ccp")] == [24, 7, 59]
    assert 0 not in BUILTIN_TABLES["deepfashion-mm"].categories()  # background is never a category


def test_ccp_label_list_mat_equals_the_builtin_table(corpus):
    assert load_class_table(corpus / "ccp_bearpaw" / "label_list.mat").names == BUILTIN_TABLES["ccp"].names


@pytest.mark.parametrize(
    "file_name, text, names, colors",
    [
        ("t.json", '{"0": "background", "5": "pants"}', {0: "background", 5: "pants"}, None),
        ("t.yaml", "1: top\n2: pants\n", {1: "top", 2: "pants"}, None),
        ("t.yaml", "- background\n- shorts\n", {0: "background", 1: "shorts"}, None),
        (
            "t.json",
            '{"211,211,211": "pants", "0,0,0": "Background", "255,0,0": "hair"}',
            {1: "pants", 0: "Background", 2: "hair"},
            {1: (211, 211, 211), 0: (0, 0, 0), 2: (255, 0, 0)},
        ),
        ("classes.txt", "background\ntop\n\ndress\n", {0: "background", 1: "top", 3: "dress"}, None),
    ],
)
def test_table_files(tmp_path, file_name, text, names, colors):
    path = tmp_path / file_name
    path.write_text(text)
    table = load_class_table(path)
    assert dict(table.names) == names
    assert (dict(table.colors) if table.colors else None) == colors


@pytest.mark.parametrize(
    "file_name, text, error, message",
    [
        ("t.json", '{"top": "x"}', ParseError, "neither a class id"),
        ("t.json", '{"1,2,3": "a", "1,2,3 ": "b"}', ParseError, "share colour"),
        ("t.json", '{"1,2,300": "a"}', ParseError, "outside 0..255"),
        ("t.yaml", "a: [", ParseError, "invalid YAML"),
        ("t.csv", "x", ValidationError, "a class table is"),
    ],
)
def test_bad_table_files(tmp_path, file_name, text, error, message):
    path = tmp_path / file_name
    path.write_text(text)
    with pytest.raises(error, match=message):
        load_class_table(path)


def test_unknown_table_name_lists_the_builtins():
    with pytest.raises(ValidationError, match="deepfashion-mm, fashionista, ccp"):
        load_class_table("deepfashion")


# ---------------------------------------------------------------- instances from one mask


def _two_legs_and_a_donut() -> np.ndarray:
    labels = np.zeros((40, 40), np.uint8)
    labels[20:38, 5:14] = 5  # left leg
    labels[20:38, 20:29] = 5  # right leg, apart
    labels[2:15, 2:15] = 12  # a bag…
    labels[6:10, 6:11] = 0  # …with a hole (its strap loop)
    return labels


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("seed", range(6))
def test_class_boxes_are_each_values_bounding_box(dtype, seed):
    rng = np.random.default_rng(seed)
    height, width = rng.integers(1, 30, 2)
    labels = (rng.integers(0, 7, (height, width)) * (rng.random((height, width)) < 0.3)).astype(dtype) * (
        300 if dtype == np.uint16 else 1
    )
    expected = []
    for value in np.unique(labels[labels > 0]):
        ys, xs = np.nonzero(labels == value)
        expected.append((int(value), (int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)))
    assert class_boxes(labels) == expected


def test_per_class_keeps_both_legs_in_one_instance():
    result = label_instances(_two_legs_and_a_donut(), InstanceSettings())
    pants = [a for a in result.annotations if a.category_id == 5]
    assert len(pants) == 1 and len(pants[0].segmentation.rings) == 2


def test_components_gives_one_instance_per_region():
    result = label_instances(_two_legs_and_a_donut(), InstanceSettings(instances="components"))
    assert [a.category_id for a in result.annotations] == [5, 5, 12]


@pytest.mark.parametrize("instances", ["per-class", "components"])
def test_bridged_hole_survives_pycocotools_decode(instances):
    labels = _two_legs_and_a_donut()
    result = label_instances(labels, InstanceSettings(instances=instances))
    (bag,) = [a for a in result.annotations if a.category_id == 12]
    assert isinstance(bag.segmentation, Polygons) and len(bag.segmentation.rings) == 1  # one ring, cut in
    assert np.array_equal(raster.decode(bag.segmentation, 40, 40), (labels == 12).astype(np.uint8))
    assert dict(result.fidelity) == {5: 1.0, 12: 1.0}


def test_holes_rle_writes_the_holed_region_as_rle():
    labels = _two_legs_and_a_donut()
    result = label_instances(labels, InstanceSettings(holes="rle"))
    by_class = {a.category_id: a.segmentation for a in result.annotations}
    assert isinstance(by_class[12], Rle) and isinstance(by_class[5], Polygons)
    assert np.array_equal(raster.decode(by_class[12], 40, 40), (labels == 12).astype(np.uint8))


def test_holes_fill_is_counted_and_lowers_fidelity():
    result = label_instances(_two_legs_and_a_donut(), InstanceSettings(holes="fill"))
    assert result.holes_filled == 1
    assert dict(result.fidelity)[12] == pytest.approx((13 * 13 - 20) / (13 * 13))


def test_min_area_drops_specks_and_counts_them():
    labels = _two_legs_and_a_donut()
    labels[0, 39] = 16  # a one-pixel ring
    labels[39, 0] = 5  # a pants speck
    result = label_instances(labels, InstanceSettings(min_area=4))
    assert result.specks == 2
    assert 16 not in {a.category_id for a in result.annotations}
    assert dict(result.fidelity)[16] == 0.0  # the mask had it, the polygons do not


def test_background_is_never_an_instance():
    assert label_instances(np.zeros((5, 5), np.uint8), InstanceSettings()).annotations == ()


@pytest.mark.parametrize(
    "path, stem",
    [
        ("segm/MEN-Denim-id_00000080-01_7_additional_segm.png", "MEN-Denim-id_00000080-01_7_additional"),
        ("x/0001.mat", "0001"),
        ("x/_segm.png", "_segm"),  # nothing left: kept whole
    ],
)
def test_image_stem(path, stem):
    assert image_stem(path) == stem


# ---------------------------------------------------------------- fidelity on DeepFashion-MultiModal-like masks


def test_fidelity_targets_at_default_settings():
    generator = _generator()
    rng = np.random.default_rng(2024)
    per_class: dict[int, list[float]] = {}
    for _ in range(8):
        result = label_instances(generator.draw_person(rng), InstanceSettings())
        for class_id, iou in result.fidelity:
            per_class.setdefault(class_id, []).append(iou)
    every = [v for values in per_class.values() for v in values]
    assert {16, 22, 8, 12, 20} <= set(per_class)  # rings, earrings, glasses, bag, necklace were drawn
    assert np.mean(every) >= 0.99
    assert min(np.mean(values) for values in per_class.values()) >= 0.97


def test_index_palette_and_rgb_masks_give_the_same_instances():
    read = {
        kind: fashiondata.read(DF_MM / kind, "masks", classes="deepfashion-mm").materialize().records
        for kind in ("index", "palette", "rgb")
    }
    assert read["index"] == read["palette"] == read["rgb"]
    assert sum(len(r.annotations) for r in read["index"]) == 20


def test_rgb_mask_with_jpeg_damage_reads_with_color_tolerance(tmp_path):
    labels = read_labels(str(DF_MM / "index" / "person_00000_segm.png"), BUILTIN_TABLES["deepfashion-mm"])
    rgb = np.asarray(_generator().COLORS, np.uint8)[labels].astype(np.int16)
    noise = np.random.default_rng(0).integers(-3, 4, rgb.shape)
    damaged = np.clip(rgb + noise, 0, 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "d_segm.png"), damaged[..., ::-1])
    with pytest.raises(ParseError, match="is not in the class table"):
        read_labels(str(tmp_path / "d_segm.png"), BUILTIN_TABLES["deepfashion-mm"])
    tolerant = read_labels(str(tmp_path / "d_segm.png"), BUILTIN_TABLES["deepfashion-mm"], color_tolerance=3)
    assert np.array_equal(tolerant, labels)


# ---------------------------------------------------------------- CLI round trips


def test_masks2coco_pairs_images_and_reports_fidelity(tmp_path, run_cli):
    out = tmp_path / "out.json"
    result = run_cli(
        "convert",
        "masks2coco",
        DF_MM / "rgb",
        out,
        "--classes",
        "deepfashion-mm",
        "--images",
        DF_MM / "images",
        "--json",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["fidelity"]["mean"] >= 0.99
    assert report["fidelity"]["per_class"]["hair"]["images"] == 2
    coco = COCO(str(out))
    assert [(i["file_name"], i["width"], i["height"]) for i in coco.dataset["images"]] == [
        ("person_00000.jpg", 750, 1101),
        ("person_00001.jpg", 750, 1101),
    ]
    assert coco.cats[5]["name"] == "pants" and coco.cats[5]["color"] == [211, 211, 211]
    labels = read_labels(str(DF_MM / "index" / "person_00000_segm.png"), BUILTIN_TABLES["deepfashion-mm"])
    for ann in coco.loadAnns(coco.getAnnIds(imgIds=[1])):
        truth = (labels == ann["category_id"]).astype(np.uint8)
        assert raster.masks_iou(coco.annToMask(ann), truth) > 0.97
        assert ann["area"] == coco.annToMask(ann).sum()  # the area of what the polygons fill


def test_donut_keeps_its_hole_through_coco_and_pycocotools(tmp_path, run_cli):
    labels = np.zeros((60, 80), np.uint8)
    labels[10:50, 10:70] = 12
    labels[25:35, 30:50] = 0
    (tmp_path / "m").mkdir()
    cv2.imwrite(str(tmp_path / "m" / "bag_segm.png"), labels)
    assert (
        run_cli(
            "convert", "masks2coco", tmp_path / "m", tmp_path / "o.json", "--classes", "deepfashion-mm", "-q"
        ).exit_code
        == 0
    )
    coco = COCO(str(tmp_path / "o.json"))
    (ann,) = coco.anns.values()
    assert np.array_equal(coco.annToMask(ann), (labels == 12).astype(np.uint8))
    assert ann["area"] == 40 * 60 - 10 * 20


def test_masks_coco_masks_round_trip_is_exact_without_simplification(tmp_path, run_cli):
    assert (
        run_cli(
            "convert",
            "masks2coco",
            DF_MM / "index",
            tmp_path / "o.json",
            "--classes",
            "deepfashion-mm",
            "--tolerance",
            "0",
            "-q",
        ).exit_code
        == 0
    )
    assert run_cli("convert", "coco2masks", tmp_path / "o.json", tmp_path / "back", "-q").exit_code == 0
    for name in ("person_00000", "person_00001"):
        original = cv2.imread(str(DF_MM / "index" / f"{name}_segm.png"), cv2.IMREAD_UNCHANGED)
        with Image.open(tmp_path / "back" / f"{name}.png") as image:
            assert image.mode == "P" and image.getpalette()[5 * 3 : 6 * 3] == [211, 211, 211]
            assert np.array_equal(np.asarray(image), original)
    lines = (tmp_path / "back" / "classes.txt").read_text().splitlines()
    assert lines[0] == "background" and lines[5] == "pants" and len(lines) == 24


def test_parallel_read_gives_the_same_bytes(tmp_path, run_cli):
    for name, extra in (("serial.json", ()), ("parallel.json", ("-j", "2"))):
        result = run_cli(
            "convert", "masks2coco", DF_MM / "palette", tmp_path / name, "--classes", "deepfashion-mm", "-q", *extra
        )
        assert result.exit_code == 0
    assert (tmp_path / "serial.json").read_bytes() == (tmp_path / "parallel.json").read_bytes()


# ---------------------------------------------------------------- writer


def _dataset(categories: list[tuple[int, str]], annotations) -> Dataset:
    table = CategoryTable(tuple(Category(id=i, name=n) for i, n in categories))
    record = ImageRecord(file_name="sub/a.jpg", width=6, height=4, annotations=tuple(annotations))
    return Dataset(table, (record,))


def _ann(category_id: int, x0: int, y0: int, x1: int, y1: int):
    from fashiondata.model import Annotation

    return Annotation(category_id, segmentation=Polygons(([x0, y0, x1, y0, x1, y1, x0, y1],)))


def test_coco2masks_sparse_ids_and_crowd_rle(tmp_path):
    fashiondata.convert(
        ROOT / "fixtures" / "coco" / "datumaro_instances_val.json", tmp_path / "out", dst_format="masks"
    )
    assert (tmp_path / "out" / "classes.txt").read_text() == "background\na\nb\n\nc\n"
    with Image.open(tmp_path / "out" / "b.png") as image:
        values = set(np.unique(np.asarray(image)).tolist())
        assert image.mode == "P" and image.size == (5, 10)
    assert values == {0, 1, 2}


def test_writer_draws_small_items_over_large_ones(tmp_path):
    dataset = _dataset([(1, "skin"), (16, "ring")], [_ann(16, 2, 1, 3, 2), _ann(1, 0, 0, 6, 4)])
    fashiondata.write(dataset, tmp_path / "out", "masks")
    with Image.open(tmp_path / "out" / "sub" / "a.png") as image:
        labels = np.asarray(image)
    assert labels[1, 2] == 16 and (labels == 1).sum() == 23


def test_writer_uses_16_bit_above_255_classes(tmp_path):
    dataset = _dataset([(1, "a"), (300, "b")], [_ann(300, 0, 0, 2, 2)])
    fashiondata.write(dataset, tmp_path / "out", "masks")
    labels = cv2.imread(str(tmp_path / "out" / "sub" / "a.png"), cv2.IMREAD_UNCHANGED)
    assert labels.dtype == np.uint16 and labels[0, 0] == 300 and labels[3, 5] == 0
    assert len((tmp_path / "out" / "classes.txt").read_text().splitlines()) == 301


def test_binary_writes_instances_as_one(tmp_path):
    dataset = _dataset([(1, "skin"), (16, "ring")], [_ann(16, 2, 1, 3, 2), _ann(1, 4, 0, 6, 4)])
    fashiondata.write(dataset, tmp_path / "out", "masks", binary=True)
    with Image.open(tmp_path / "out" / "sub" / "a.png") as image:
        assert set(np.unique(np.asarray(image)).tolist()) == {0, 1}
    assert (tmp_path / "out" / "classes.txt").read_text() == "background\nforeground\n"


def test_writer_refuses_a_non_empty_destination(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    with pytest.raises(OutputExistsError):
        fashiondata.write(_dataset([(1, "a")], []), tmp_path / "out", "masks")
    assert (tmp_path / "out" / "keep.txt").read_text() == "x"


def test_box_only_annotations_are_counted_not_drawn(tmp_path):
    from fashiondata.model import Annotation, BBox

    dataset = _dataset([(1, "a")], [Annotation(1, bbox=BBox(0, 0, 2, 2))])
    report = fashiondata.write(dataset, tmp_path / "out", "masks")
    assert report.lossy["annotation without a mask (box only): not drawn"] == 1


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "folder, extra, message",
    [
        (
            "unknown_colour",
            (),
            r"shorts_segm.png: pixel x=6 y=4: colour \(1,2,3\) is not in the class table deepfashion-mm",
        ),
        ("truncated", (), "cut_segm.png: not a readable image"),
        ("unknown_value", (), "v_segm.png: pixel x=1 y=1: pixel value 40 is not a class of deepfashion-mm"),
        (
            "size_mismatch/segm",
            ("--images", MASKS / "broken" / "size_mismatch" / "images"),
            r"x_segm.png: mask is 12x10 but its image .*x.jpg is 14x10",
        ),
    ],
)
def test_bad_masks_fail_with_one_line_and_write_nothing(tmp_path, run_cli, folder, extra, message):
    result = run_cli(
        "convert",
        "masks2coco",
        MASKS / "broken" / folder,
        tmp_path / "out.json",
        "--classes",
        "deepfashion-mm",
        "-q",
        *extra,
    )
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert __import__("re").search(message, result.stderr)
    assert not (tmp_path / "out.json").exists()


def test_on_error_skip_counts_the_bad_mask(tmp_path, run_cli):
    result = run_cli(
        "convert",
        "masks2coco",
        MASKS / "broken" / "unknown_colour",
        tmp_path / "out.json",
        "--classes",
        "deepfashion-mm",
        "--on-error",
        "skip",
        "--json",
        "-q",
    )
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["skipped"] == {"colour (1,2,3) is not in the class table deepfashion-mm": 1}
    assert orjson.loads((tmp_path / "out.json").read_bytes())["images"] == []


def test_missing_class_table_is_explained():
    with pytest.raises(ValidationError, match="give --classes NAME or FILE"):
        fashiondata.read(DF_MM / "index", "masks")


# ---------------------------------------------------------------- the real corpus


def test_text2human_colour_swatches_read_as_their_class(corpus):
    folder = corpus / "deepfashion_multimodal_text2human" / "ui" / "color_blocks"
    ctx = RunContext()
    dataset = fashiondata.read(folder, "masks", classes="deepfashion-mm", ctx=ctx, tolerance=0)
    records = list(dataset.records)
    assert len(records) == 24
    table = BUILTIN_TABLES["deepfashion-mm"]
    for record in records:
        short = record.file_name.removeprefix("class_").removesuffix(".jpg")
        expected = SWATCH_CLASS.get(short, short)
        truth = read_labels(str(folder / f"class_{short}.png"), table)
        if expected == "background":
            assert record.annotations == ()
            continue
        (ann,) = record.annotations
        assert table.names[ann.category_id] == expected
        assert np.array_equal(_rings_mask([ann], 512, 512), (truth == ann.category_id).astype(np.uint8))
    assert ctx.report.data["fidelity"]["mean"] == 1.0


def test_ccp_mat_label_maps_with_their_photos(corpus):
    ccp = corpus / "ccp_bearpaw"
    ctx = RunContext()
    dataset = fashiondata.read(ccp / "annotations" / "pixel-level", "masks", images=ccp / "photos", ctx=ctx)
    records = list(dataset.records)
    assert (records[0].file_name, records[0].width, records[0].height) == ("0001.jpg", 550, 832)
    assert len(records) == 5 and len(dataset.categories) == 58
    names = sorted(dataset.categories.get(a.category_id).name for a in records[0].annotations)
    assert names == ["blouse", "hair", "shoes", "skin", "skirt", "stockings", "sunglasses", "vest"]
    assert ctx.report.data["fidelity"]["mean"] >= 0.99
    assert min(v["mean"] for v in ctx.report.data["fidelity"]["per_class"].values()) >= 0.97


def test_ccp_image_level_files_are_refused_with_a_reason(corpus):
    with pytest.raises(ParseError, match="only 'tags'"):
        read_labels(str(corpus / "ccp_bearpaw" / "annotations" / "image-level" / "1005.mat"), BUILTIN_TABLES["ccp"])


def test_classes_txt_beside_the_masks_is_used(tmp_path):
    (tmp_path / "classes.txt").write_text("background\nshorts\n")
    labels = np.zeros((4, 4), np.uint8)
    labels[1:3, 1:3] = 1
    cv2.imwrite(str(tmp_path / "a.png"), labels)
    dataset = fashiondata.read(tmp_path, "masks")
    assert dataset.categories.names == ("shorts",)
    assert parse_classes_txt("background\nshorts\n").names == {0: "background", 1: "shorts"}


def test_16_bit_masks_round_trip_with_their_classes_txt(tmp_path):
    dataset = _dataset([(1, "a"), (300, "b")], [_ann(300, 0, 0, 2, 2), _ann(1, 3, 1, 6, 4)])
    fashiondata.write(dataset, tmp_path / "out", "masks")
    back = fashiondata.read(tmp_path / "out", "masks", tolerance=0).materialize()
    assert back.categories.names[-1] == "b" and back.categories.ids[-1] == 300
    (record,) = back.records
    assert record.file_name == "sub/a.jpg"
    assert sorted((a.category_id, a.area) for a in record.annotations) == [(1, 9.0), (300, 4.0)]


def test_images_beside_their_masks_are_paired_not_read_as_masks(tmp_path):
    labels = np.zeros((6, 8), np.uint8)
    labels[1:4, 2:6] = 5
    cv2.imwrite(str(tmp_path / "look_segm.png"), labels)
    cv2.imwrite(str(tmp_path / "look.jpg"), np.zeros((6, 8, 3), np.uint8))
    (record,) = fashiondata.read(tmp_path, "masks", classes="deepfashion-mm").materialize().records
    assert (record.file_name, record.width, record.height, len(record.annotations)) == ("look.jpg", 8, 6, 1)


def test_a_folder_without_masks_is_an_error(tmp_path):
    with pytest.raises(ValidationError, match="no mask file"):
        fashiondata.read(tmp_path, "masks", classes="deepfashion-mm")
