"""`fashiondata demo`: every listed output exists and is what its consumer expects; refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from pycocotools.coco import COCO
from tfrecord.reader import tfrecord_loader

from fashiondata import demo
from fashiondata.errors import OutputExistsError
from fashiondata.samples import sample_path

OUTPUTS = [
    "pants_yolo",
    "thesis_coco.json",
    "shop_labels.csv",
    "shop_split/train_labels.csv",
    "shop_split/test_labels.csv",
    "shop_split/summary.csv",
    "tfrecord/label_map.pbtxt",
    "tfrecord/train.record",
    "tfrecord/test.record",
    "stats",
    "preview.png",
]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, demo.Report]:
    out = tmp_path_factory.mktemp("demo") / "out"
    return out, demo.run_demo(out)


def test_report_lists_every_output_under_out_dir(demo_run) -> None:
    out, report = demo_run
    assert report.outputs == [str(out / name) for name in OUTPUTS]
    assert all(Path(p).exists() for p in report.outputs)
    assert sorted(report.data["demo"]) == sorted(name for name, _title, _step in demo.STEPS)
    step_outputs = [o for step in report.data["demo"].values() for o in step["outputs"]]
    assert all(o.startswith(str(out)) for o in step_outputs)  # final paths, not the staging folder's


def test_pants_yolo_has_one_class_three_positives_three_negatives(demo_run) -> None:
    out, _ = demo_run
    root = out / "pants_yolo"
    assert yaml.safe_load((root / "data.yaml").read_text())["names"] == {0: "pants"}
    labels = {p.stem: p.read_text().splitlines() for p in sorted((root / "labels").glob("*.txt"))}
    assert {stem for stem, lines in labels.items() if lines} == {"look_1", "look_3", "look_6"}
    assert {stem for stem, lines in labels.items() if not lines} == {"look_2", "look_4", "look_5"}
    for lines in labels.values():
        for line in lines:  # Ultralytics' segment label rules: class 0, ≥3 normalised points
            values = [float(v) for v in line.split()]
            assert values[0] == 0 and len(values) >= 7 and len(values) % 2 == 1
            assert all(0 <= v <= 1 for v in values[1:])
    assert sorted(p.name for p in (root / "images").iterdir()) == [f"look_{i}.jpg" for i in range(1, 7)]
    assert not any(p.is_symlink() for p in (root / "images").iterdir())  # copies: the folder can move


def test_thesis_coco_loads_in_pycocotools_with_both_annotators_images(demo_run) -> None:
    out, _ = demo_run
    coco = COCO(str(out / "thesis_coco.json"))
    assert sorted(image["file_name"] for image in coco.dataset["images"]) == [f"look_{i}.jpg" for i in range(1, 7)]
    assert {image["width"] for image in coco.dataset["images"]} == {250}
    pants = coco.getCatIds(catNms=["pants"])
    assert len(coco.getAnnIds(catIds=pants)) == 4  # look 6's legs are two VIA polygons
    assert all(coco.annToMask(a).sum() > 0 for a in coco.dataset["annotations"])


def test_shop_csv_split_and_records_agree(demo_run) -> None:
    out, _ = demo_run
    rows = list(csv.DictReader((out / "shop_labels.csv").open()))
    split = {
        name: list(csv.DictReader((out / "shop_split" / f"{name}_labels.csv").open())) for name in ("train", "test")
    }
    assert len({r["filename"] for r in split["train"]}) == 5 and len({r["filename"] for r in split["test"]}) == 1
    assert sorted(tuple(r.values()) for r in rows) == sorted(tuple(r.values()) for r in split["train"] + split["test"])
    label_ids = {
        name: i
        for i, name in enumerate(
            ("top", "outer", "skirt", "dress", "pants", "leggings", "headwear", "belt", "footwear", "bag"), 1
        )
    }
    for name in ("train", "test"):
        examples = list(tfrecord_loader(str(out / "tfrecord" / f"{name}.record"), None))
        assert len(examples) == len({r["filename"] for r in split[name]})
        for example in examples:
            texts = (
                [t.decode() for t in np.atleast_1d(example["image/object/class/text"])]
                if "image/object/class/text" in example
                else []
            )
            labels = list(np.atleast_1d(example.get("image/object/class/label", [])))
            assert labels == [label_ids[t] for t in texts]
    assert (out / "tfrecord" / "label_map.pbtxt").read_text() == sample_path("voc/label_map.pbtxt").read_text()


def test_stats_report_and_preview(demo_run) -> None:
    out, _ = demo_run
    stats = json.loads((out / "stats" / "stats.json").read_text())
    assert stats["images"] == 6 and stats["annotations"] == 32
    assert (out / "stats" / "index.html").is_file()
    assert (out / "preview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_stats_json_is_written_and_the_skip_noted(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(demo, "has_matplotlib", lambda: False)
    report = demo.run_demo(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out" / "stats").iterdir()) == ["stats.json"]
    assert any("HTML report skipped: matplotlib is absent" in note for note in report.notes)


def test_refuses_a_non_empty_out_dir_and_leaves_it_alone(tmp_path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError):
        demo.run_demo(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_overwrite_replaces_the_folder(tmp_path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stale.txt").write_text("old")
    demo.run_demo(tmp_path / "out", overwrite=True)
    assert not (tmp_path / "out" / "stale.txt").exists()
    assert (tmp_path / "out" / "preview.png").is_file()


def test_cli_demo_prints_each_output(run_cli, tmp_path) -> None:
    result = run_cli("demo", tmp_path / "d", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["outputs"][-1] == str(tmp_path / "d" / "preview.png")
    again = run_cli("demo", tmp_path / "d")
    assert again.exit_code == 2 and "exists and is not empty" in again.stderr


def test_same_bytes_on_a_second_run_with_two_worker_processes(demo_run, tmp_path) -> None:
    from fashiondata.context import RunContext
    from fashiondata.executor import make_executor

    out, _ = demo_run
    pool = make_executor("process:2")
    try:
        demo.run_demo(tmp_path / "again", ctx=RunContext(executor=pool))
    finally:
        pool.close()

    def tree(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    assert tree(tmp_path / "again") == tree(out)
