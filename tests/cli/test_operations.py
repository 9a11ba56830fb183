"""The operation verbs end to end through the CLI, on generated COCO, CSV and VOC datasets (and YOLO
when registered): inputs byte-identical after every verb, reruns byte-identical, per-format split
layouts, errors as one line with exit 2."""

from __future__ import annotations

import hashlib
import os
import random
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import orjson
import pytest

from fashiondata import api
from fashiondata.dataset import Dataset
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord
from fashiondata.registry import get_format

NAMES = ("top", "pants", "skirt")
FORMATS = ["coco", "csv", "voc", "yolo"]
#: The output format of a verb on each source: the source's own when it can be written, else COCO.
OUTPUT = {f: f if get_format(f).write is not None else "coco" for f in FORMATS}


def tree_digest(root: Path) -> dict[str, str]:
    """Every file and link under ``root`` (relative path → hash of its bytes or link target)."""
    digest = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            data = ("link:" + os.readlink(path)).encode() if path.is_symlink() else path.read_bytes()
            digest[path.relative_to(root).as_posix()] = hashlib.sha256(data).hexdigest()
    return digest


def png(width: int, height: int, value: int) -> bytes:
    ok, data = cv2.imencode(".png", np.full((height, width, 3), value, np.uint8))
    assert ok
    return data.tobytes()


def generated_dataset(images: Path, count: int = 40, seed: int = 11) -> Dataset:
    """Images 0..count-1 (PNG files of their true size; every 7th a copy of its predecessor) with 0–2
    boxes of one category each, a quarter of them negatives."""
    rng = random.Random(seed)
    images.mkdir(parents=True, exist_ok=True)
    records, value = [], 0
    for index in range(count):
        width, height = 32 + index % 5, 24 + index % 3
        if index % 7 == 6:
            width, height = records[-1].width, records[-1].height
        else:
            value += 3
        name = f"img_{rng.randrange(10**6):06d}_{index:02d}.png"
        (images / name).write_bytes(png(width, height, value))
        category_id = 1 + index % 3 if index % 4 else None
        annotations = (
            ()
            if category_id is None
            else tuple(Annotation(category_id, BBox(2.0 + k, 3.0, 10.0, 8.0)) for k in range(1 + index % 2))
        )
        records.append(ImageRecord(name, width, height, annotations, id=index + 1, attributes={"pair_id": index // 2}))
    return Dataset(CategoryTable.from_names(NAMES), tuple(records))


def write_yolo_by_hand(dataset: Dataset, images: Path, root: Path) -> None:
    """The dataset as an Ultralytics detection dataset, written here line by line (not by our writer):
    every third image in val, the rest in train, empty label files for negatives."""
    names = "\n".join(f"  {i}: {c.name}" for i, c in enumerate(dataset.categories))
    (root).mkdir(parents=True)
    (root / "data.yaml").write_text(f"train: images/train\nval: images/val\nnames:\n{names}\n")
    for index, record in enumerate(sorted(dataset.records, key=lambda r: r.file_name)):
        split = "val" if index % 3 == 0 else "train"
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        (root / "images" / split / record.file_name).write_bytes((images / record.file_name).read_bytes())
        lines = []
        for annotation in record.annotations:
            box = annotation.bbox
            cx, cy = (box.x + box.w / 2) / record.width, (box.y + box.h / 2) / record.height
            lines.append(
                f"{annotation.category_id - 1} {cx:.6f} {cy:.6f} {box.w / record.width:.6f} {box.h / record.height:.6f}\n"
            )
        (root / "labels" / split / (record.file_name.rsplit(".", 1)[0] + ".txt")).write_text("".join(lines))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """in/ holds the same generated dataset in every format (images in in/images); out/ is empty."""
    dataset = generated_dataset(tmp_path / "in" / "images")
    api.write(dataset, tmp_path / "in" / "ds.json", "coco")
    api.write(dataset, tmp_path / "in" / "ds.csv", "csv")
    api.write(dataset, tmp_path / "in" / "voc", "voc")
    write_yolo_by_hand(dataset, tmp_path / "in" / "images", tmp_path / "in" / "yolo")
    (tmp_path / "out").mkdir()
    return tmp_path


SOURCES = {"coco": "in/ds.json", "csv": "in/ds.csv", "voc": "in/voc", "yolo": "in/yolo"}
IMAGES = {"coco": "in/images", "csv": "in/images", "voc": "in/images", "yolo": "in/yolo/images"}
EXTENSIONS = {"coco": ".json", "csv": ".csv", "voc": "", "yolo": ""}
VERBS = {
    "filter": ["filter", "{src}", "out/x{ext}", "--categories", "pants,skirt", "--rename", "bottom", "--drop-empty"],
    "balance": ["balance", "{src}", "out/x{ext}", "--ratio", "0.5", "--seed", "3"],
    "split": ["split", "{src}", "out/x", "--ratios", "0.8,0.1,0.1", "--stratify"],
    "split-groups": ["split", "{src}", "out/x", "--ratios", "4,1", "--names", "train,test", "--group-by", "pair_id"],
    "merge": ["merge", "{src}", "{src}", "-o", "out/x{ext}"],
    "dedupe": ["dedupe", "{src}", "out/x{ext}", "--images", "{images}", "--merge-annotations"],
}


def arguments(verb: str, fmt: str, root: Path, output: str = "out/x") -> list[str]:
    values = {"src": str(root / SOURCES[fmt]), "images": str(root / IMAGES[fmt]), "ext": EXTENSIONS[OUTPUT[fmt]]}
    args = [a.format(**values) for a in VERBS[verb]]
    to = ["--to", OUTPUT[fmt]] if OUTPUT[fmt] != fmt else []
    return [str(root / a.replace("out/x", output)) if a.startswith("out/x") else a for a in args] + to


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_leaves_its_input_tree_byte_identical_and_reruns_identically(run_cli, workspace, fmt, verb):
    before = tree_digest(workspace / "in")
    first = run_cli(*arguments(verb, fmt, workspace, "out/first"), "--quiet")
    assert first.exit_code == 0, first.output
    assert tree_digest(workspace / "in") == before
    second = run_cli(*arguments(verb, fmt, workspace, "out/second"), "--quiet")
    assert second.exit_code == 0, second.output
    assert tree_digest(workspace / "in") == before
    outputs = sorted(p for p in (workspace / "out").iterdir())
    assert len(outputs) == 2
    if outputs[0].is_dir():
        assert tree_digest(outputs[0]) == tree_digest(outputs[1]) != {}
    else:
        assert outputs[0].read_bytes() == outputs[1].read_bytes()


def test_prune_dry_run_leaves_the_tree_and_apply_moves(run_cli, workspace):
    images, labels = workspace / "in" / "images", workspace / "in" / "labels"
    labels.mkdir()
    names = sorted(p.name for p in images.iterdir())
    for name in names[2:]:
        (labels / name.replace(".png", ".txt")).write_text("0 0.5 0.5 0.2 0.2\n")
    (labels / "stray.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    before = tree_digest(workspace / "in")
    dry = run_cli("prune", images, labels)
    assert dry.exit_code == 0
    assert tree_digest(workspace / "in") == before
    assert dry.stdout.splitlines() == [
        "# images without a label: 2",
        *(f"{images}/{n}" for n in names[:2]),
        "# labels without an image: 1",
        f"{labels}/stray.txt",
    ]
    moved = run_cli("prune", images, labels, "--apply", "--move-to", workspace / "out" / "q", "--json")
    assert moved.exit_code == 0
    assert orjson.loads(moved.stdout)["prune"]["changed"] == 3
    assert sorted(tree_digest(workspace / "out" / "q")) == [*(f"images/{n}" for n in names[:2]), "labels/stray.txt"]
    assert len(tree_digest(workspace / "in")) == len(before) - 3


def test_balance_report_counts_available_and_kept_negatives(run_cli, workspace):
    result = run_cli("balance", workspace / "in/ds.json", workspace / "out/b.json", "--ratio", "0.2", "--json")
    facts = orjson.loads(result.stdout)["balance"]
    assert (facts["positives"], facts["negatives_available"], facts["negatives_kept"]) == (30, 10, 6)
    doc = orjson.loads((workspace / "out/b.json").read_bytes())
    assert len(doc["images"]) == 36


def test_split_coco_writes_one_file_per_split_with_exact_counts(run_cli, workspace):
    result = run_cli("split", workspace / "in/ds.json", workspace / "out/s", "--quiet")
    assert result.exit_code == 0
    counts = {p.name: len(orjson.loads(p.read_bytes())["images"]) for p in (workspace / "out/s").iterdir()}
    assert counts == {"train.json": 32, "val.json": 4, "test.json": 4}


def test_split_csv_writes_labels_per_split_and_a_summary_keeping_absent_classes(run_cli, workspace):
    # only one image of "top": one side of a 4:1 split has no "top" at all
    dataset = generated_dataset(workspace / "one" / "images", count=8)
    records = [r.replace(annotations=tuple(a._replace(category_id=2) for a in r.annotations)) for r in dataset.records]
    records[1] = records[1].replace(annotations=(Annotation(1, BBox(1.0, 1.0, 4.0, 4.0)),))
    api.write(dataset.replace(records=tuple(records)), workspace / "one" / "labels.csv", "csv")
    result = run_cli(
        "split", workspace / "one/labels.csv", workspace / "out/s", "--ratios", "4,1", "--names", "train,test"
    )
    assert result.exit_code == 0, result.output
    out = workspace / "out/s"
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv", "test_labels.csv", "train_labels.csv"]
    rows = [line.split(",") for line in (out / "summary.csv").read_text().splitlines()]
    assert rows[0] == ["class", "counts_train", "counts_test", "total"]
    by_class = {row[0]: [int(v) for v in row[1:]] for row in rows[1:]}
    assert set(by_class) == {"pants", "top"}
    assert 0 in by_class["top"][:2] and by_class["top"][2] == 1
    for name, column in (("train", 0), ("test", 1)):
        lines = (out / f"{name}_labels.csv").read_text().splitlines()[1:]
        per_class = Counter(line.split(",")[3] for line in lines)
        assert [per_class[c] for c in ("pants", "top")] == [by_class["pants"][column], by_class["top"][column]]


def test_split_voc_writes_a_folder_per_split(run_cli, workspace):
    result = run_cli("split", workspace / "in/voc", workspace / "out/s", "--ratios", "3,1", "--names", "train,val")
    assert result.exit_code == 0, result.output
    files = tree_digest(workspace / "out/s")
    assert Counter(p.split("/")[0] for p in files) == {"train": 30, "val": 10}
    assert all(p.count("/") == 1 and p.endswith(".xml") for p in files)


def test_merge_keeps_every_image_and_annotation_of_both_sources(run_cli, workspace):
    result = run_cli(
        "merge", workspace / "in/ds.json", workspace / "in/ds.json", "-o", workspace / "out/m.json", "--json"
    )
    assert result.exit_code == 0
    doc = orjson.loads((workspace / "out/m.json").read_bytes())
    source = orjson.loads((workspace / "in/ds.json").read_bytes())
    assert len(doc["images"]) == 2 * len(source["images"])
    assert len(doc["annotations"]) == 2 * len(source["annotations"])
    assert len({i["file_name"] for i in doc["images"]}) == len(doc["images"])
    assert {(i["merge_file_name"], i["merge_image_id"]) for i in doc["images"]} == {
        (i["file_name"], i["id"]) for i in source["images"]
    }


def test_dedupe_drops_the_copies(run_cli, workspace):
    result = run_cli(
        "dedupe", workspace / "in/ds.json", workspace / "out/d.json", "--images", workspace / "in/images", "--json"
    )
    assert result.exit_code == 0
    facts = orjson.loads(result.stdout)["dedupe"]
    assert (facts["images"], facts["duplicates"], facts["unique"]) == (40, 5, 35)


@pytest.mark.parametrize(
    "args, message",
    [
        (["split", "in/ds.json", "out/s", "--ratios", "0,0"], "ratios"),
        (["filter", "in/ds.json", "in/ds.json", "--overwrite"], "would hold or replace the source"),
        (["filter", "in/voc", "in/voc/sub", "--categories", "top"], "would hold or replace the source"),
        (["filter", "in/ds.json", "out/f.json", "--categories", "hat"], "unknown category 'hat'"),
        (["balance", "in/ds.json", "out/b.json", "--link-mode", "copy"], "--link-mode: not an option"),
        (["merge", "in/ds.json", "-o", "out/m.json", "--category-map", "in/ds.csv"], "category map"),
        (["dedupe", "in/ds.json", "in/images/d.json", "--images", "in/images"], "would hold or replace the source"),
        (
            ["merge", "in/ds.json", "-o", "in/", "--images", "in/images", "--overwrite"],
            "would hold or replace the source",
        ),
    ],
)
def test_bad_requests_fail_in_one_line_and_write_nothing(run_cli, workspace, args, message):
    before = tree_digest(workspace)
    result = run_cli(*[str(workspace / a) if a.startswith(("in/", "out/")) else a for a in args], "--quiet")
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert tree_digest(workspace) == before


def test_dedupe_finds_a_yolo_datasets_images_by_itself(run_cli, workspace):
    result = run_cli("dedupe", workspace / "in/yolo", workspace / "out/d.json", "--to", "coco", "--json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["dedupe"]["duplicates"] == 5


def test_balance_counts_empty_yolo_label_files_as_negatives(run_cli, workspace):
    result = run_cli(
        "balance", workspace / "in/yolo", workspace / "out/b.json", "--to", "coco", "--ratio", "0.1", "--json"
    )
    facts = orjson.loads(result.stdout)["balance"]
    assert (facts["positives"], facts["negatives_available"], facts["negatives_kept"]) == (30, 10, 3)


def test_merge_of_yolo_and_coco_keeps_every_image_and_annotation(run_cli, workspace):
    result = run_cli(
        "merge",
        workspace / "in/yolo",
        workspace / "in/ds.json",
        "-o",
        workspace / "out/m.json",
        "--to",
        "coco",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    doc = orjson.loads((workspace / "out/m.json").read_bytes())
    source = orjson.loads((workspace / "in/ds.json").read_bytes())
    assert len(doc["images"]) == 2 * len(source["images"])
    assert len(doc["annotations"]) == 2 * len(source["annotations"])
    assert [c["name"] for c in doc["categories"]] == list(NAMES)
    assert Counter(i["merge_source"] for i in doc["images"]) == {
        str(workspace / "in/yolo"): 40,
        str(workspace / "in/ds.json"): 40,
    }


def yolo_labels(root: Path) -> dict[str, str]:
    """``<split>/<stem>`` → label text, for every label file of a YOLO output."""
    return {
        p.relative_to(root / "labels").with_suffix("").as_posix(): p.read_text()
        for p in (root / "labels").rglob("*.txt")
    }


def numbers(text: str) -> list[float]:
    return [float(token) for token in text.split()]


def test_split_yolo_moves_images_and_labels_into_split_folders_with_one_data_yaml(run_cli, workspace):
    result = run_cli(
        "split", workspace / "in/yolo", workspace / "out/s", "--ratios", "0.8,0.1,0.1", "--seed", "5", "--quiet"
    )
    assert result.exit_code == 0, result.output
    out = workspace / "out/s"
    labels = yolo_labels(out)
    assert Counter(key.split("/")[0] for key in labels) == {"train": 32, "val": 4, "test": 4}
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["data.yaml", "test.txt", "train.txt", "val.txt"]
    data = (out / "data.yaml").read_text()
    assert "train:" in data and "val:" in data and "test:" in data and "path:" not in data
    source_labels = {k.split("/", 1)[1]: v for k, v in yolo_labels(workspace / "in/yolo").items()}
    source_images = {p.name: p for p in (workspace / "in/yolo/images").rglob("*.png")}
    for key, text in labels.items():
        split, stem = key.split("/")
        assert numbers(text) == pytest.approx(numbers(source_labels[stem]), abs=1e-6)  # the same boxes
        [image] = (out / "images" / split).glob(f"{stem}.*")
        assert image.is_symlink() and image.resolve() == source_images[image.name].resolve()
    findings = api.validate(out, backend="yolo").findings  # Ultralytics' label rules, re-implemented
    assert [f for f in findings if f.severity == "error"] == []


def test_merge_into_yolo_places_both_images_of_a_colliding_name(run_cli, workspace):
    result = run_cli(
        "merge",
        workspace / "in/yolo",
        workspace / "in/ds.json",
        "-o",
        workspace / "out/m",
        "--to",
        "yolo",
        "--images",
        workspace / "in/yolo/images",
        "--images",
        workspace / "in/images",
        "--link-mode",
        "copy",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    images = sorted((workspace / "out/m/images").rglob("*.png"))
    assert len(images) == 80
    assert not any(p.is_symlink() for p in images)
    renamed = [p for p in images if "__ds" in p.name]
    assert len(renamed) == 40
    for copy in renamed:
        original = workspace / "in/images" / copy.name.replace("__ds", "")
        assert copy.read_bytes() == original.read_bytes()
    assert len(yolo_labels(workspace / "out/m")) == 80


def test_filter_yolo_keeps_detection_lines_with_boxes(run_cli, workspace):
    result = run_cli(
        "filter", workspace / "in/yolo", workspace / "out/f", "--categories", "pants", "--boxes", "--quiet"
    )
    assert result.exit_code == 0, result.output
    labels = yolo_labels(workspace / "out/f")
    assert len(labels) == 40
    lines = [line.split() for text in labels.values() for line in text.splitlines()]
    assert lines and all(len(tokens) == 5 and tokens[0] == "0" for tokens in lines)
    assert "0: pants" in (workspace / "out/f/data.yaml").read_text()


@pytest.mark.parametrize(
    "verb",
    [
        ["dedupe", "in/yolo", "out/{name}", "--merge-annotations"],
        ["merge", "in/yolo", "in/yolo", "-o", "out/{name}"],
    ],
)
def test_worker_processes_give_the_same_output_as_serial(run_cli, workspace, verb):
    outputs = {}
    for name, extra in (("serial", []), ("processes", ["-j", "2"])):
        args = [str(workspace / a.format(name=name)) if a.startswith(("in/", "out/")) else a for a in verb]
        result = run_cli(*args, *extra, "--quiet")
        assert result.exit_code == 0, result.output
        outputs[name] = tree_digest(workspace / "out" / name)
    assert outputs["serial"] == outputs["processes"] != {}


def test_filtered_categories_keep_the_same_names_and_order_in_every_writer(run_cli, workspace):
    # --categories skirt,top: YOLO classes 0 skirt and 1 top; COCO keeps the ids 3 and 1; label_map.pbtxt agrees
    common = ["--categories", "skirt,top", "--quiet"]
    assert run_cli("filter", workspace / "in/ds.json", workspace / "out/f.json", *common).exit_code == 0
    assert (
        run_cli("filter", workspace / "in/ds.json", workspace / "out/y", "--to", "yolo", "--boxes", *common).exit_code
        == 0
    )
    assert (
        run_cli(
            "filter",
            workspace / "in/ds.json",
            workspace / "out/t.record",
            "--to",
            "tfrecord",
            "--images",
            workspace / "in/images",
            *common,
        ).exit_code
        == 0
    )
    coco = orjson.loads((workspace / "out/f.json").read_bytes())
    assert [(c["id"], c["name"]) for c in coco["categories"]] == [(1, "top"), (3, "skirt")]
    assert "names:\n  0: skirt\n  1: top\n" in (workspace / "out/y/data.yaml").read_text()
    skirt_images = {
        i["file_name"].rsplit(".", 1)[0]
        for i in coco["images"]
        if any(a["image_id"] == i["id"] and a["category_id"] == 3 for a in coco["annotations"])
    }
    classes = {
        p.stem: {line.split()[0] for line in p.read_text().splitlines()}
        for p in (workspace / "out/y/labels").rglob("*.txt")
    }
    assert {stem for stem, found in classes.items() if "0" in found} == skirt_images
    label_map = (workspace / "out/label_map.pbtxt").read_text()
    assert label_map.index("'skirt'") < label_map.index("'top'")


def test_split_of_the_seed_labels_csv_matches_its_summary_totals(run_cli, corpus, tmp_path):
    # the product-image seed split labels.csv 4:1 by image and wrote summary.csv; ours has its columns and totals
    seed = corpus / "weizh888_productimageseg/model_six_classes/data"
    result = run_cli(
        "split",
        seed / "labels.csv",
        tmp_path / "s",
        "--ratios",
        "4,1",
        "--names",
        "train,test",
        "--stratify",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    ours = [line.split(",") for line in (tmp_path / "s/summary.csv").read_text().splitlines()]
    theirs = [line.split(",") for line in (seed / "summary.csv").read_text().splitlines()]
    assert ours[0] == theirs[0] == ["class", "counts_train", "counts_test", "total"]
    assert [(row[0], row[3]) for row in ours[1:]] == [(row[0], row[3]) for row in theirs[1:]]
    images = {}
    for name in ("train", "test"):
        rows = (tmp_path / f"s/{name}_labels.csv").read_text().splitlines()
        assert rows[0] == "filename,width,height,class,xmin,ymin,xmax,ymax"
        images[name] = {row.split(",")[0] for row in rows[1:]}
        per_class = Counter(row.split(",")[3] for row in rows[1:])
        column = 1 if name == "train" else 2
        assert {row[0]: int(row[column]) for row in ours[1:]} == {c: per_class[c] for c, *_ in ours[1:]}
    assert (len(images["train"]), len(images["test"])) == (729, 182)  # 911 images, largest remainder of 4:1
    assert not images["train"] & images["test"]


def test_verbs_on_a_real_yolo_dataset_leave_it_untouched_and_keep_its_labels(run_cli, corpus, tmp_path):
    # DeepFashion2 images with YOLO box labels written by another project (images/, labels/, classes.names)
    source = corpus / "df2_yolo_tomsebastiank/data/custom"
    before = tree_digest(source)
    runs = {
        "split": ["split", source, tmp_path / "split", "--ratios", "2,1", "--names", "train,val"],
        "filter": ["filter", source, tmp_path / "filter", "--categories", "trousers,shorts,skirt", "--drop-empty"],
        "balance": ["balance", source, tmp_path / "balance", "--ratio", "0"],
        "dedupe": ["dedupe", source, tmp_path / "dedupe"],
        "merge": ["merge", source, source, "-o", tmp_path / "merge"],
    }
    for verb, args in runs.items():
        result = run_cli(*args, "--format", "yolo", "--quiet")
        assert result.exit_code == 0, (verb, result.output)
    assert run_cli("prune", source / "images", source / "labels").stdout.splitlines() == [
        "# images without a label: 0",
        "# labels without an image: 0",
    ]
    assert tree_digest(source) == before
    theirs = {p.stem: numbers(p.read_text()) for p in (source / "labels").glob("*.txt")}
    split = yolo_labels(tmp_path / "split")
    assert Counter(key.split("/")[0] for key in split) == {"train": 4, "val": 2}
    for key, text in split.items():
        assert numbers(text) == pytest.approx(theirs[key.split("/")[1]], abs=1e-6)
        [image] = (tmp_path / "split/images").glob(f"{key}.*")
        assert image.resolve() == (source / "images" / image.name).resolve()
    kept = yolo_labels(tmp_path / "filter")
    bottoms = {"6", "7", "8"}  # shorts, trousers, skirt in DF2's order
    assert set(kept) == {
        stem
        for stem, text in ((p.stem, p.read_text()) for p in (source / "labels").glob("*.txt"))
        if any(line.split()[0] in bottoms for line in text.splitlines())
    }
    assert len(yolo_labels(tmp_path / "merge")) == 12 and len(yolo_labels(tmp_path / "dedupe")) == 6


def test_split_tfrecord_writes_a_record_per_split_and_one_label_map(run_cli, workspace):
    result = run_cli(
        "split",
        workspace / "in/ds.json",
        workspace / "out/s",
        "--to",
        "tfrecord",
        "--images",
        workspace / "in/images",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    out = workspace / "out/s"
    assert sorted(p.name for p in out.iterdir()) == ["label_map.pbtxt", "test.record", "train.record", "val.record"]
    counts = {name: api.info(out / f"{name}.record").data["info"]["images"] for name in ("train", "val", "test")}
    assert counts == {"train": 32, "val": 4, "test": 4}


def test_a_missing_image_fails_a_yolo_split_or_is_left_out_whole_with_skip(run_cli, workspace):
    missing = min((workspace / "in/images").iterdir())
    missing.unlink()
    stem = missing.name.rsplit(".", 1)[0]
    args = ["split", workspace / "in/ds.json", workspace / "out/s", "--to", "yolo", "--images", workspace / "in/images"]
    failed = run_cli(*args, "--quiet")
    assert failed.exit_code == 2 and missing.name in failed.stderr
    assert not (workspace / "out/s").exists()
    result = run_cli(*args, "--on-error", "skip", "--json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["skipped"]["image not found"] == 1
    out = workspace / "out/s"
    assert len(yolo_labels(out)) == 39 and not any(key.endswith(stem) for key in yolo_labels(out))
    assert len(list((out / "images").rglob("*.png"))) == 39
    assert not any(stem in (out / f"{name}.txt").read_text() for name in ("train", "val", "test"))
