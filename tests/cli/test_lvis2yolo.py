"""``fashiondata convert lvis2yolo`` / ``coco2yolo`` from the command line (the issue's acceptance)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import yaml

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lvis"


def test_pants_subset_command(run_cli, tmp_path):
    out = tmp_path / "pants"
    result = run_cli(
        "convert",
        "lvis2yolo",
        FIXTURE / "lvis_v1_train.json",
        out,
        "--categories",
        "trousers,short_pants,sweat_pants",
        "--rename",
        "pants",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((out / "data.yaml").read_text())["names"] == {0: "pants"}
    doc = json.loads((FIXTURE / "lvis_v1_train.json").read_text())
    pants = {1122, 951, 1040}
    positive = {a["image_id"] for a in doc["annotations"] if a["category_id"] in pants}
    verified = {i["id"] for i in doc["images"] if pants & set(i["neg_category_ids"])} - positive
    labels = {int(p.stem) for p in (out / "labels").rglob("*.txt")}
    assert labels == positive | verified  # one label file per positive or verified-negative image
    assert len((out / "train.txt").read_text().splitlines()) == len(labels)


def test_real_lvis_sample_counts_per_category(run_cli, corpus, tmp_path):
    sample = corpus / "lvis_api" / "data" / "lvis_val_100.json"
    out = tmp_path / "lvis"
    result = run_cli("convert", "lvis2yolo", sample, out, "--negatives", "all", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(sample.read_text())
    index = {c["id"]: i for i, c in enumerate(sorted(doc["categories"], key=lambda c: c["id"]))}
    direct = Counter(index[a["category_id"]] for a in doc["annotations"])
    written = Counter(
        int(line.split()[0]) for p in (out / "labels").rglob("*.txt") for line in p.read_text().splitlines()
    )
    assert written == direct
    report = json.loads(result.stdout)
    assert report["written"]["images"] == 100
    assert report["lossy"]["multi-part instance merged into one line by zero-width bridges"] == 98


def test_coco2yolo_keeps_custom_ids_and_all_negatives(run_cli, fixtures, tmp_path):
    source = tmp_path / "instances_val.json"  # COCO's own file name
    source.write_bytes((fixtures / "coco" / "datumaro_instances_val.json").read_bytes())
    out = tmp_path / "coco"
    result = run_cli("convert", "coco2yolo", source, out, "--quiet")
    assert result.exit_code == 0, result.output
    doc = json.loads(source.read_text())
    names = [c["name"] for c in sorted(doc["categories"], key=lambda c: c["id"])]
    assert yaml.safe_load((out / "data.yaml").read_text())["names"] == dict(enumerate(names))
    # instances_val.json → val.txt; the crowd RLE instance is written too
    listed = (out / "val.txt").read_text().splitlines()
    assert len(listed) == len(doc["images"])
    lines = [line for p in (out / "labels").rglob("*.txt") for line in p.read_text().splitlines()]
    assert len(lines) == len(doc["annotations"])


def test_bad_input_is_one_line_and_writes_nothing(run_cli, tmp_path):
    broken = tmp_path / "lvis_v1_val.json"
    broken.write_text('{"images": [{"id": 1, "width": 4, "height": 4}], "annotations": [], "categories": []}')
    result = run_cli("convert", "lvis2yolo", broken, tmp_path / "out")
    assert result.exit_code == 2
    assert "/images/0" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
