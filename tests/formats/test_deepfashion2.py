"""DeepFashion2 reader: the real per-image annotations in the corpus, generated folders, filters, CLI."""

from __future__ import annotations

import ast
import json
import random
import shutil
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

import fashiondata
from fashiondata.context import RunContext
from fashiondata.errors import ParseError, ValidationError
from fashiondata.executor import ProcessExecutor
from fashiondata.formats import deepfashion2 as df2
from fashiondata.model import BBox

README_ANNOTATION = Path("df2_yolo_tomsebastiank/readme_snippets/train_annos_000001.json")
README_LABELS = Path("df2_yolo_tomsebastiank/readme_snippets/train_labels_000001.txt")
ISSUE4_ANNOTATION = Path("deepfashion2_official/issue4_annotation_pyrepr.txt")


def write_jpeg(path: Path, width: int, height: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".jpg", np.zeros((height, width, 3), np.uint8))
    assert ok
    path.write_bytes(data.tobytes())


def add_image(folder: Path, number: int, doc: dict, width: int, height: int) -> None:
    (folder / "annos").mkdir(parents=True, exist_ok=True)
    (folder / "annos" / f"{number:06d}.json").write_text(json.dumps(doc))
    write_jpeg(folder / "image" / f"{number:06d}.jpg", width, height)


def read(folder: Path, **options):
    ctx = RunContext()
    dataset = df2.read([str(folder)], ctx, **options).materialize()
    return dataset, ctx.report


def random_item(rng: random.Random, width: int, height: int, **labels) -> dict:
    """A DeepFashion2 item with the real landmark count of its category and 1–3 polygon parts."""
    category_id = labels.pop("category_id", rng.randint(1, 13))
    x1, y1 = rng.randint(0, width // 2), rng.randint(0, height // 2)
    x2, y2 = rng.randint(x1 + 10, width - 1), rng.randint(y1 + 10, height - 1)
    parts = []
    for _ in range(rng.randint(1, 3)):
        cx, cy = rng.randint(x1, x2), rng.randint(y1, y2)
        parts.append(
            [v for _ in range(rng.randint(3, 9)) for v in (rng.randint(x1, x2), rng.randint(y1, y2))] + [cx, cy]
        )
    count = df2.CATEGORIES[category_id][3]
    landmarks = [v for _ in range(count) for v in (rng.randint(x1, x2), rng.randint(y1, y2), rng.choice((0, 1, 2)))]
    item = {
        "category_id": category_id,
        "category_name": df2.CATEGORIES[category_id][1],
        "style": rng.randint(0, 3),
        "bounding_box": [x1, y1, x2, y2],
        "landmarks": landmarks,
        "segmentation": parts,
        "scale": rng.randint(1, 3),
        "occlusion": rng.randint(1, 3),
        "zoom_in": rng.randint(1, 3),
        "viewpoint": rng.randint(1, 3),
    }
    item.update(labels)
    return item


@pytest.fixture
def generated(tmp_path) -> tuple[Path, dict[int, dict], dict[int, tuple[int, int]]]:
    """Twelve DeepFashion2 images of mixed sizes with 1–3 random items each (seeded)."""
    rng = random.Random(7)
    docs, sizes = {}, {}
    for number in range(1, 13):
        width, height = rng.choice(((468, 624), (640, 960), (748, 585)))
        doc = {"source": rng.choice(("user", "shop")), "pair_id": number // 3 + 1}
        for index in range(1, rng.randint(1, 3) + 1):
            doc[f"item{index}"] = random_item(rng, width, height)
        add_image(tmp_path, number, doc, width, height)
        docs[number], sizes[number] = doc, (width, height)
    return tmp_path, docs, sizes


# ---------------------------------------------------------------- pure functions


@pytest.mark.parametrize(
    "category_id, first, count",
    [
        (1, 0, 25),
        (2, 25, 33),
        (3, 58, 31),
        (4, 89, 39),
        (5, 128, 15),
        (6, 143, 15),
        (7, 158, 10),
        (8, 168, 14),
        (9, 182, 8),
        (10, 190, 29),
        (11, 219, 37),
        (12, 256, 19),
        (13, 275, 19),
    ],
)
def test_landmarks_fill_the_official_slots(category_id, first, count):
    landmarks = [v for i in range(count) for v in (i + 1, i + 2, 2 if i % 2 else 1)]
    values = df2.item_keypoints(category_id, landmarks, "a.json", "/item1/landmarks").values
    assert len(values) == 3 * 294
    assert values[3 * first : 3 * (first + count)] == landmarks
    assert not any(values[: 3 * first]) and not any(values[3 * (first + count) :])


@pytest.mark.parametrize(
    "landmarks, error",
    [
        ([0] * 24, does_not_raise()),  # skirt: 8 landmarks
        ([0] * 21, pytest.raises(ParseError, match="needs 8 landmarks")),  # too few
        ([0] * 23 + ["x"], pytest.raises(ParseError, match="expected a number")),
        (None, pytest.raises(ParseError, match="got NoneType")),
    ],
)
def test_landmark_count_must_match_the_category(landmarks, error):
    with error:
        df2.item_keypoints(9, landmarks, "a.json", "/item1/landmarks")


@pytest.mark.parametrize(
    "text, expected, error",
    [
        ("2,3", frozenset({2, 3}), does_not_raise()),
        ("2", frozenset({2}), does_not_raise()),
        (None, None, does_not_raise()),
        ("front", None, pytest.raises(ValidationError, match="whole numbers")),
        (",", None, pytest.raises(ValidationError, match="at least one")),
    ],
)
def test_parse_int_list(text, expected, error):
    with error:
        assert df2.parse_int_list(text, "--viewpoint") == expected


def test_category_table_is_the_official_converters():
    table = df2.category_table()
    assert table.names[:3] == ("short_sleeved_shirt", "long_sleeved_shirt", "short_sleeved_outwear")
    assert table.names[-1] == "sling_dress" and table.ids == tuple(range(1, 14))
    assert all(c.supercategory == "clothes" and c.keypoints == tuple(str(i) for i in range(1, 295)) for c in table)
    assert table.resolve("short sleeve top").id == 1 and table.resolve("Sling Dress").id == 13


# ---------------------------------------------------------------- real annotations


def test_readme_annotation_converts_as_the_authors_yolo_labels_say(corpus, tmp_path):
    doc = json.loads((corpus / README_ANNOTATION).read_text())
    add_image(tmp_path, 1, doc, 468, 624)  # the README's image 000001.jpg is 468x624
    dataset, _ = read(tmp_path)
    (record,) = dataset.records
    assert (record.id, record.file_name, dict(record.attributes)) == (1, "000001.jpg", {"source": "user", "pair_id": 1})
    top, trousers = record.annotations  # item1 then item2, although the file lists item2 first
    assert (top.category_id, top.bbox, trousers.category_id, trousers.bbox) == (
        1,
        BBox(0, 29, 466, 593),
        8,
        BBox(249, 423, 217, 200),
    )
    expected = [line.split() for line in (corpus / README_LABELS).read_text().split("\n") if line.strip()]
    for annotation, row in zip((top, trousers), expected):
        x, y, w, h = annotation.bbox
        assert int(row[0]) == annotation.category_id - 1
        assert [float(v) for v in row[1:]] == pytest.approx([(x + w / 2) / 468, (y + h / 2) / 624, w / 468, h / 624])
    assert top.keypoints.values[:6] == [182, 54, 1, 45, 91, 1]
    assert top.keypoints.num_visible == sum(1 for v in doc["item1"]["landmarks"][2::3] if v > 0) == 22
    assert trousers.keypoints.values[3 * 168 : 3 * 168 + 6] == [251, 520, 1, 374, 484, 1]
    assert top.segmentation.rings == tuple(doc["item1"]["segmentation"])  # parts as given
    assert top.attributes == {"style": 1, "scale": 3, "occlusion": 2, "zoom_in": 2, "viewpoint": 2, "pair_id": 1}
    union = mask_utils.merge(mask_utils.frPyObjects(doc["item1"]["segmentation"], 624, 468))
    assert top.area == float(mask_utils.area(union)) < 466 * 593  # the mask, not the official box area


def test_issue4_annotation_with_nested_parts(corpus, tmp_path):
    doc = ast.literal_eval((corpus / ISSUE4_ANNOTATION).read_text())
    add_image(tmp_path, 56, doc, 600, 500)
    dataset, _ = read(tmp_path)
    (record,) = dataset.records
    assert record.id == 56 and record.attributes == {"source": "shop", "pair_id": 1811}
    skirt, top = record.annotations
    assert (skirt.category_id, skirt.bbox, skirt.keypoints.num_visible) == (9, BBox(227, 86, 316, 369), 8)
    assert (top.category_id, top.keypoints.num_visible, len(top.segmentation.rings)) == (1, 3, 2)
    outer = mask_utils.frPyObjects(doc["item2"]["segmentation"][:1], 500, 600)
    assert top.area == float(mask_utils.area(outer)[0])  # the inner part lies inside the outer one


def test_area_bbox_gives_the_official_value(corpus, tmp_path):
    add_image(tmp_path, 1, json.loads((corpus / README_ANNOTATION).read_text()), 468, 624)
    dataset, _ = read(tmp_path, area="bbox")
    assert [a.area for a in dataset.records[0].annotations] == [466 * 593, 217 * 200]


# ---------------------------------------------------------------- generated folders


def test_generated_folder_matches_the_rules(generated):
    folder, docs, sizes = generated
    dataset, report = read(folder)
    assert [r.id for r in dataset.records] == list(range(1, 13))
    for record in dataset.records:
        doc = docs[record.id]
        assert (record.width, record.height) == sizes[record.id]
        assert record.attributes == {"source": doc["source"], "pair_id": doc["pair_id"]}
        items = [doc[k] for k in sorted(k for k in doc if k.startswith("item"))]
        assert len(record.annotations) == len(items)
        for annotation, item in zip(record.annotations, items):
            category_id = item["category_id"]
            first, count = df2.CATEGORIES[category_id][2:]
            x1, y1, x2, y2 = item["bounding_box"]
            assert annotation.bbox == BBox(x1, y1, x2 - x1, y2 - y1)
            assert annotation.keypoints.values[3 * first : 3 * (first + count)] == item["landmarks"]
            assert annotation.keypoints.num_visible == sum(1 for v in item["landmarks"][2::3] if v > 0)
            rle = mask_utils.merge(mask_utils.frPyObjects(item["segmentation"], record.height, record.width))
            assert annotation.area == float(mask_utils.area(rle))
            assert {k: annotation.attributes[k] for k in ("scale", "occlusion", "zoom_in", "viewpoint", "style")} == {
                k: item[k] for k in ("scale", "occlusion", "zoom_in", "viewpoint", "style")
            }
    assert not report.skipped


def test_coco_output_loads_in_pycocotools_with_official_fields(generated, tmp_path):
    folder, docs, _ = generated
    out = tmp_path / "out" / "df2.json"
    report = fashiondata.convert(str(folder), out, src_format="df2", dst_format="coco")
    api = COCO(str(out))
    assert sorted(api.getImgIds()) == list(range(1, 13))
    assert len(api.getAnnIds()) == report.written["annotations"] == sum(len(d) - 2 for d in docs.values())
    annotation = api.loadAnns(api.getAnnIds())[0]
    assert {"pair_id", "style", "num_keypoints", "keypoints", "scale", "occlusion", "zoom_in", "viewpoint"} <= set(
        annotation
    )
    assert len(annotation["keypoints"]) == 882
    category = api.loadCats(1)[0]
    assert (category["name"], category["supercategory"], category["skeleton"]) == ("short_sleeved_shirt", "clothes", [])
    assert api.loadImgs(1)[0]["source"] == docs[1]["source"]


@pytest.mark.parametrize(
    "options, keep",
    [
        ({"max_occlusion": 1}, lambda item: item["occlusion"] <= 1),
        ({"scale": "2"}, lambda item: item["scale"] == 2),
        ({"max_zoom_in": 1}, lambda item: item["zoom_in"] <= 1),
        ({"viewpoint": "2,3"}, lambda item: item["viewpoint"] in (2, 3)),
        # the DeepFashion2 seed's filters together
        (
            {"max_occlusion": 1, "scale": "2", "max_zoom_in": 1, "viewpoint": "2,3"},
            lambda item: (
                item["occlusion"] <= 1 and item["scale"] == 2 and item["zoom_in"] <= 1 and item["viewpoint"] in (2, 3)
            ),
        ),
    ],
)
def test_item_filters_keep_exactly_the_matching_items(tmp_path, options, keep):
    rng = random.Random(11)
    expected: dict[int, list[int]] = {}
    for number in range(1, 41):
        doc = {"source": "user", "pair_id": 1}
        items = [random_item(rng, 200, 300, category_id=rng.randint(1, 13)) for _ in range(rng.randint(1, 3))]
        for index, item in enumerate(items, 1):
            doc[f"item{index}"] = item
        add_image(tmp_path, number, doc, 200, 300)
        expected[number] = [item["category_id"] for item in items if keep(item)]
    dataset, report = read(tmp_path, **options)
    assert {r.id: [a.category_id for a in r.annotations] for r in dataset.records} == expected  # empties stay
    dropped = sum(count for reason, count in report.skipped.items() if reason.startswith("item dropped"))
    assert dropped == sum(
        len(d) - 2 for d in (json.loads(p.read_text()) for p in (tmp_path / "annos").iterdir())
    ) - sum(len(v) for v in expected.values())
    dataset, report = read(tmp_path, drop_empty=True, **options)
    assert sorted(r.id for r in dataset.records) == sorted(n for n, kept in expected.items() if kept)
    assert report.skipped["image without items dropped by --drop-empty"] == sum(1 for v in expected.values() if not v)


def test_categories_accept_the_datasets_own_spelling(generated, tmp_path):
    folder, docs, _ = generated
    out = tmp_path / "five.json"
    seed_classes = "short sleeve top,long_sleeved_shirt,long sleeve outwear,shorts,8"
    fashiondata.convert(str(folder), out, src_format="df2", dst_format="coco", categories=seed_classes)
    written = json.loads(out.read_text())
    assert [c["name"] for c in written["categories"]] == [
        "short_sleeved_shirt",
        "long_sleeved_shirt",
        "long_sleeved_outwear",
        "shorts",
        "trousers",
    ]
    kept = sum(
        1 for d in docs.values() for k, v in d.items() if k.startswith("item") and v["category_id"] in (1, 2, 4, 7, 8)
    )
    assert len(written["annotations"]) == kept and len(written["images"]) == 12


def test_folder_of_splits(tmp_path):
    rng = random.Random(3)
    for split in ("train", "validation"):
        add_image(tmp_path / split, 1, {"source": "shop", "pair_id": 1, "item1": random_item(rng, 100, 100)}, 100, 100)
    dataset, _ = read(tmp_path)
    assert [(r.split, r.file_name) for r in dataset.records] == [
        ("train", "train/image/000001.jpg"),
        ("validation", "validation/image/000001.jpg"),
    ]
    assert (
        df2.sniff(str(tmp_path))
        and df2.sniff(str(tmp_path / "train"))
        and not df2.sniff(str(tmp_path / "train" / "annos" / "000001.json"))
    )


def test_missing_image_is_an_error_or_skipped(generated):
    folder, _, _ = generated
    (folder / "image" / "000003.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="000003.jpg"):
        read(folder)
    ctx = RunContext(on_error="skip")
    records = list(df2.read([str(folder)], ctx).records)
    assert len(records) == 11 and [item for item, _ in ctx.report.skipped_items] == [
        str(folder / "annos" / "000003.json")
    ]


@pytest.mark.parametrize(
    "item, message",
    [
        ({"category_id": 14}, "category_id must be 1..13"),
        ({"bounding_box": [10, 10, 5, 20]}, "x2 < x1"),
        ({"segmentation": [[1, 2, 3]]}, "x, y numbers"),
        ({"landmarks": [1, 2]}, "needs"),
    ],
)
def test_bad_items_name_the_file_and_pointer(tmp_path, item, message):
    add_image(
        tmp_path,
        5,
        {"source": "user", "pair_id": 1, "item1": {**random_item(random.Random(1), 100, 100, category_id=7), **item}},
        100,
        100,
    )
    with pytest.raises(ParseError, match=message) as caught:
        read(tmp_path)
    assert caught.value.path.endswith("000005.json") and caught.value.location.startswith("/item1/")


def test_serial_and_process_executors_write_the_same_bytes(generated, tmp_path):
    folder, _, _ = generated
    executor = ProcessExecutor(2)
    try:
        fashiondata.convert(
            str(folder), tmp_path / "p.json", src_format="df2", dst_format="coco", ctx=RunContext(executor=executor)
        )
    finally:
        executor.close()
    fashiondata.convert(str(folder), tmp_path / "s.json", src_format="df2", dst_format="coco")
    assert (tmp_path / "p.json").read_bytes() == (tmp_path / "s.json").read_bytes()


# ---------------------------------------------------------------- CLI


def test_cli_df2coco_with_filters(run_cli, generated, tmp_path):
    folder, _, _ = generated
    out = tmp_path / "seed.json"
    result = run_cli(
        "convert",
        "df2coco",
        folder,
        out,
        "--max-occlusion",
        "2",
        "--viewpoint",
        "2,3",
        "--drop-empty",
        "--categories",
        "short sleeve top,trousers",
        "--json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["written"]["images"] == len(COCO(str(out)).getImgIds())


def test_cli_df2coco_bad_json_is_one_line_and_writes_nothing(run_cli, generated, tmp_path):
    folder, _, _ = generated
    (folder / "annos" / "000004.json").write_text('{"source": "user", "item1": {')
    out = tmp_path / "out.json"
    result = run_cli("convert", "df2coco", folder, out, "--quiet")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "000004.json" in line and "line 1" in line and "invalid JSON" in line
    assert not out.exists()


def test_cli_deepfashion2_alias_and_area_flag(run_cli, corpus, tmp_path):
    add_image(tmp_path / "df2", 1, json.loads((corpus / README_ANNOTATION).read_text()), 468, 624)
    out = tmp_path / "out.json"
    result = run_cli("convert", "deepfashion2coco", tmp_path / "df2", out, "--area", "bbox", "--quiet")
    assert result.exit_code == 0, result.output
    assert [a["area"] for a in json.loads(out.read_text())["annotations"]] == [466 * 593, 217 * 200]
    shutil.rmtree(tmp_path / "df2")


def test_documented_command_on_the_fixture(run_cli, fixtures, tmp_path):
    out = tmp_path / "df2_coco.json"
    result = run_cli("convert", "df2coco", fixtures / "df2/train", out, "--max-occlusion", "2", "--quiet")
    assert result.exit_code == 0, result.output
    api = COCO(str(out))
    assert sorted(api.getImgIds()) == [1, 2, 3]
    assert min(api.loadAnns(api.getAnnIds()), key=lambda a: a["id"])["category_id"] == 1
    assert len(api.getAnnIds()) == 4  # the long sleeve dress of 000003 is heavily occluded


@pytest.mark.parametrize("source", [README_ANNOTATION, ISSUE4_ANNOTATION])
def test_real_annotations_convert_to_coco_that_pycocotools_loads(corpus, tmp_path, source):
    text = (corpus / source).read_text()
    doc = json.loads(text) if source.suffix == ".json" else ast.literal_eval(text)
    add_image(tmp_path / "df2", 1, doc, 600, 640)
    out = tmp_path / "out.json"
    fashiondata.convert(str(tmp_path / "df2"), out, src_format="df2", dst_format="coco")
    api = COCO(str(out))
    assert len(api.getAnnIds()) == 2 and api.imgs[1]["source"] == doc["source"]
    assert all(api.annToMask(a).sum() == a["area"] for a in api.loadAnns(api.getAnnIds()))
    assert sorted(a["num_keypoints"] for a in api.loadAnns(api.getAnnIds())) == sorted(
        sum(1 for v in item["landmarks"][2::3] if v > 0) for key, item in doc.items() if key.startswith("item")
    )


def test_coco_written_from_df2_reads_back_the_same(fixtures, tmp_path):
    dataset, _ = read(fixtures / "df2/train")
    out = tmp_path / "df2.json"
    fashiondata.convert(str(fixtures / "df2/train"), out, src_format="df2", dst_format="coco")
    back = fashiondata.read(str(out), "coco").materialize()
    assert [(c.id, c.name, c.keypoints) for c in back.categories] == [
        (c.id, c.name, c.keypoints) for c in dataset.categories
    ]
    for mine, theirs in zip(dataset.records, sorted(back.records, key=lambda r: r.id)):
        assert (mine.id, mine.file_name, mine.width, mine.height) == (
            theirs.id,
            theirs.file_name,
            theirs.width,
            theirs.height,
        )
        for a, b in zip(mine.annotations, theirs.annotations):
            assert (a.category_id, list(a.bbox), a.area, list(a.keypoints.values)) == (
                b.category_id,
                list(b.bbox),
                b.area,
                list(b.keypoints.values),
            )
            assert [list(r) for r in a.segmentation.rings] == [list(r) for r in b.segmentation.rings]
            assert {k: b.attributes[k] for k in a.attributes} == dict(a.attributes)
