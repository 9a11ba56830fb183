"""evaluate: COCO AP equal to pycocotools' COCOeval, semantic numbers equal to a hand/independent
confusion matrix, predictions in every backend's format scoring the same."""

from __future__ import annotations

import contextlib
import io
import json
import random
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from fashiondata import api
from fashiondata.context import RunContext
from fashiondata.errors import ParseError, ValidationError
from fashiondata.evaluate import (
    LVIS_NOTE,
    STAT_NAMES,
    match_images,
    parse_coco_results,
    parse_yolo_prediction_line,
    run_cocoeval,
)
from fashiondata.evaluate_semantic import confusion, read_index_mask, semantic_scores
from fashiondata.executor import ProcessExecutor
from fashiondata.model import BBox

CATEGORIES = [{"id": 1, "name": "short sleeve top"}, {"id": 5, "name": "trousers"}, {"id": 9, "name": "skirt"}]


# ---------------------------------------------------------------- independent inputs


def make_gt(seed: int = 0, *, images: int = 12, one_per_category: bool = False) -> dict:
    """A COCO GT with polygons of small, medium and large size, a crowd region and an empty image."""
    rng = random.Random(seed)
    doc: dict = {"images": [], "annotations": [], "categories": CATEGORIES}
    for image_id in range(1, images + 1):
        width, height = rng.choice([(640, 480), (480, 640), (300, 400)])
        doc["images"].append({"id": image_id, "file_name": f"val/{image_id:06d}.jpg", "width": width, "height": height})
        if image_id == images:
            continue  # a negative image
        cats = [c["id"] for c in CATEGORIES]
        chosen = cats if one_per_category else [rng.choice(cats) for _ in range(rng.randint(1, 5))]
        for category_id in chosen:
            side = rng.choice([20, 60, 150, 250])
            w, h = side * rng.uniform(0.6, 1.0), side * rng.uniform(0.6, 1.0)
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            ring = [x, y, x + w, y, x + w * 0.8, y + h, x + w * 0.1, y + h * 0.9]
            area = float(mask_utils.area(mask_utils.merge(mask_utils.frPyObjects([ring], height, width))))
            doc["annotations"].append(
                {
                    "id": len(doc["annotations"]) + 1,
                    "image_id": image_id,
                    "category_id": category_id,
                    "segmentation": [[round(v, 2) for v in ring]],
                    "area": area,
                    "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                    "iscrowd": 0,
                }
            )
    if not one_per_category:
        crowd = doc["annotations"][0]
        doc["annotations"].append({**crowd, "id": len(doc["annotations"]) + 1, "iscrowd": 1})
    return doc


def perturbed_results(gt: dict, seed: int = 1, *, task: str = "bbox") -> list[dict]:
    """Jittered GT instances (some dropped, some relabelled) plus false positives, random scores."""
    rng = random.Random(seed)
    sizes = {i["id"]: (i["height"], i["width"]) for i in gt["images"]}
    results = []
    for ann in gt["annotations"]:
        if ann["iscrowd"] or rng.random() < 0.15:
            continue
        height, width = sizes[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        shift = rng.uniform(-0.15, 0.15)
        box = [x + shift * w, y - shift * h, w * rng.uniform(0.85, 1.15), h * rng.uniform(0.85, 1.15)]
        category_id = ann["category_id"] if rng.random() > 0.1 else rng.choice(CATEGORIES)["id"]
        results.append(_result(ann["image_id"], category_id, box, rng.random(), task, height, width))
    for _ in range(15):
        image = rng.choice(gt["images"])
        box = [rng.uniform(0, 100), rng.uniform(0, 100), rng.uniform(10, 200), rng.uniform(10, 200)]
        results.append(
            _result(image["id"], rng.choice(CATEGORIES)["id"], box, rng.random(), task, image["height"], image["width"])
        )
    return results


def _result(
    image_id: int, category_id: int, box: list[float], score: float, task: str, height: int, width: int
) -> dict:
    out = {"image_id": image_id, "category_id": category_id, "score": round(score, 6)}
    if task == "bbox":
        out["bbox"] = [round(v, 3) for v in box]
    else:
        x, y, w, h = box
        rle = mask_utils.merge(mask_utils.frPyObjects([[x, y, x + w, y, x + w * 0.85, y + h, x, y + h]], height, width))
        out["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
    return out


def cocoeval_reference(gt_path: Path, results_path: Path, task: str) -> COCOeval:
    """pycocotools run the documented way, on the files."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        evaluator = COCOeval(gt, gt.loadRes(str(results_path)), task)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


def metrics_of(report) -> dict:
    return report.data["evaluation"]["metrics"]


# ---------------------------------------------------------------- instance tasks vs COCOeval


@pytest.mark.parametrize("task", ["bbox", "segm"])
@pytest.mark.parametrize("seed", [0, 7])
def test_twelve_numbers_equal_cocoeval(tmp_path: Path, task: str, seed: int) -> None:
    gt = make_gt(seed)
    gt_path = write_json(tmp_path / "gt.json", gt)
    results_path = write_json(tmp_path / "results.json", perturbed_results(gt, seed + 1, task=task))
    reference = cocoeval_reference(gt_path, results_path, task)

    report = api.evaluate(gt_path, results_path, task=task)

    ours = metrics_of(report)
    assert list(ours) == list(STAT_NAMES)
    for name, expected in zip(STAT_NAMES, reference.stats, strict=True):
        assert ours[name] == (None if expected < 0 else pytest.approx(expected, abs=1e-6)), name
    assert 0.05 < ours["AP"] < 0.95  # the perturbation leaves something to measure


@pytest.mark.parametrize("executor", ["serial", "process"])
@pytest.mark.parametrize("task", ["bbox", "segm"])
def test_images_evaluated_in_chunks_on_the_executor_equal_one_cocoeval(
    tmp_path: Path, task: str, executor: str
) -> None:
    gt = make_gt(9, images=17)
    results = perturbed_results(gt, 10, task=task)
    reference = cocoeval_reference(write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "r.json", results), task)
    ctx = RunContext(executor=ProcessExecutor(2) if executor == "process" else RunContext().executor)

    evaluator = run_cocoeval(
        json.loads(json.dumps(gt)), json.loads(json.dumps(results)), ctx, task=task, chunk_images=4
    )
    ctx.executor.close()

    assert evaluator.stats.tolist() == pytest.approx(reference.stats.tolist(), abs=1e-12)
    assert np.array_equal(evaluator.eval["precision"], reference.eval["precision"])


def test_categories_without_gt_change_nothing(tmp_path: Path) -> None:
    """A declared category with no GT but with (false) predictions: left out of every mean by COCOeval."""
    gt = make_gt(33)
    gt["categories"] = [*CATEGORIES, {"id": 12, "name": "sling"}]
    results = perturbed_results(gt, 34)
    results += [{"image_id": 2, "category_id": 12, "bbox": [10, 10, 50, 50], "score": 0.99}]
    gt_path = write_json(tmp_path / "gt.json", gt)
    reference = cocoeval_reference(gt_path, write_json(tmp_path / "r.json", results), "bbox")

    report = api.evaluate(gt_path, tmp_path / "r.json")

    for name, expected in zip(STAT_NAMES, reference.stats, strict=True):
        assert metrics_of(report)[name] == pytest.approx(expected, abs=1e-6), name
    assert report.data["evaluation"]["per_category"][3] == {
        "id": 12,
        "name": "sling",
        "instances": 0,
        "AP": None,
        "AP50": None,
        "AP75": None,
    }


def test_per_category_ap_equals_cocoeval_precision(tmp_path: Path) -> None:
    gt = make_gt(3)
    gt_path = write_json(tmp_path / "gt.json", gt)
    results_path = write_json(tmp_path / "results.json", perturbed_results(gt, 4))
    precision = cocoeval_reference(gt_path, results_path, "bbox").eval["precision"]

    per_category = api.evaluate(gt_path, results_path).data["evaluation"]["per_category"]

    assert [c["name"] for c in per_category] == [c["name"] for c in CATEGORIES]
    for index, row in enumerate(per_category):
        values = precision[:, :, index, 0, -1]
        assert row["AP"] == pytest.approx(float(np.mean(values[values > -1])), abs=1e-6)
        at_50 = precision[0, :, index, 0, -1]
        assert row["AP50"] == pytest.approx(float(np.mean(at_50[at_50 > -1])), abs=1e-6)


@pytest.mark.parametrize("task", ["bbox", "segm"])
def test_predictions_identical_to_gt_score_one_everywhere(tmp_path: Path, task: str) -> None:
    gt = make_gt(5, images=30, one_per_category=True)
    results = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "score": 1.0,
            **({"bbox": a["bbox"]} if task == "bbox" else {"segmentation": a["segmentation"]}),
        }
        for a in gt["annotations"]
    ]
    if task == "segm":  # results carry RLE, as Detectron2 writes them
        sizes = {i["id"]: (i["height"], i["width"]) for i in gt["images"]}
        for result in results:
            rle = mask_utils.merge(mask_utils.frPyObjects(result["segmentation"], *sizes[result["image_id"]]))
            result["segmentation"] = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}

    report = api.evaluate(write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "r.json", results), task=task)

    assert metrics_of(report) == {name: 1.0 for name in STAT_NAMES}
    assert all(row["AP"] == 1.0 for row in report.data["evaluation"]["per_category"])


def test_no_predictions_scores_zero_and_says_so(tmp_path: Path) -> None:
    gt_path = write_json(tmp_path / "gt.json", make_gt(2))
    report = api.evaluate(gt_path, write_json(tmp_path / "r.json", []))
    assert metrics_of(report)["AP"] == 0.0
    assert "no prediction could be scored: every number is 0" in report.notes


# ---------------------------------------------------------------- every backend's predictions


def ultralytics_folder(folder: Path, gt: dict, results: list[dict]) -> Path:
    """The same boxes as Ultralytics writes them: one stem.txt per image, cls cx cy w h conf."""
    images = {i["id"]: i for i in gt["images"]}
    index_of = {c["id"]: i for i, c in enumerate(gt["categories"])}
    lines: dict[str, list[str]] = {Path(i["file_name"]).stem: [] for i in gt["images"]}
    for r in results:
        image = images[r["image_id"]]
        x, y, w, h = r["bbox"]
        W, H = image["width"], image["height"]
        values = (index_of[r["category_id"]], (x + w / 2) / W, (y + h / 2) / H, w / W, h / H, r["score"])
        lines[Path(image["file_name"]).stem].append(" ".join(repr(v) for v in values))
    labels = folder / "predict" / "labels"
    labels.mkdir(parents=True)
    for stem, rows in lines.items():
        if rows:
            (labels / f"{stem}.txt").write_text("\n".join(rows) + "\n")
    return folder / "predict"


def test_detectron2_and_ultralytics_predictions_holding_the_same_boxes_score_the_same(tmp_path: Path) -> None:
    gt = make_gt(11)
    gt_path = write_json(tmp_path / "gt.json", gt)
    results = perturbed_results(gt, 12)
    detectron2 = api.evaluate(gt_path, write_json(tmp_path / "coco_instances_results.json", results))
    ultralytics = api.evaluate(gt_path, ultralytics_folder(tmp_path / "runs", gt, results))

    for name in STAT_NAMES:
        assert ultralytics.data["evaluation"]["metrics"][name] == pytest.approx(
            detectron2.data["evaluation"]["metrics"][name], abs=1e-9
        )
    assert detectron2.data["evaluation"]["matched_by"] == "id"
    assert ultralytics.data["evaluation"]["matched_by"] == "stem"


@pytest.mark.parametrize(
    "key, matched_by",
    [
        (lambda image: image["id"], "id"),  # Detectron2
        (lambda image: image["file_name"], "file name"),  # TF OD API export keyed by file name
        (lambda image: Path(image["file_name"]).stem, "stem"),  # TF OD API export keyed by source id
    ],
)
def test_predictions_match_gt_images_by_id_file_name_or_stem(tmp_path: Path, key, matched_by: str) -> None:
    gt = make_gt(13)
    gt_path = write_json(tmp_path / "gt.json", gt)
    results = perturbed_results(gt, 14)
    by_id = {i["id"]: i for i in gt["images"]}
    keyed = [{**r, "image_id": key(by_id[r["image_id"]])} for r in results]
    reference = cocoeval_reference(gt_path, write_json(tmp_path / "ref.json", results), "bbox")

    report = api.evaluate(gt_path, write_json(tmp_path / "keyed.json", keyed))

    assert report.data["evaluation"]["matched_by"] == matched_by
    assert f"predictions (coco results) matched to GT images by {matched_by}" in report.notes
    assert metrics_of(report)["AP"] == pytest.approx(reference.stats[0], abs=1e-6)


def test_predictions_for_unknown_images_and_categories_are_counted_as_skipped(tmp_path: Path) -> None:
    gt = make_gt(15)
    results = perturbed_results(gt, 16)
    results.append({"image_id": 999, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5})
    results.append({"image_id": 1, "category_id": 77, "bbox": [0, 0, 5, 5], "score": 0.5})
    report = api.evaluate(write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "r.json", results))
    assert report.skipped == {
        "prediction names no GT image (or several)": 1,
        "prediction category id not in the GT categories": 1,
    }
    assert report.data["evaluation"]["predictions_scored"] == len(results) - 2


def test_box_only_predictions_cannot_be_scored_for_segm(tmp_path: Path) -> None:
    gt = make_gt(17)
    results = perturbed_results(gt, 18)
    args = (write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "r.json", results))
    with pytest.raises(ParseError, match="r.json: /0: a box-only prediction cannot be scored for segm"):
        api.evaluate(*args, task="segm")
    report = api.evaluate(*args, task="segm", ctx=RunContext(on_error="skip"))
    assert report.skipped == {"a box-only prediction cannot be scored for segm": len(results)}


def test_segm_needs_gt_masks(tmp_path: Path) -> None:
    gt = make_gt(19)
    for ann in gt["annotations"]:
        ann["segmentation"] = []
    with pytest.raises(ValidationError, match="--task segm needs masks"):
        api.evaluate(write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "r.json", []), task="segm")


def test_lvis_gt_says_federated_evaluation_is_out_of_scope(tmp_path: Path) -> None:
    gt = make_gt(21)
    gt["categories"] = [{**c, "synset": f"{c['name']}.n.01", "frequency": "f"} for c in gt["categories"]]
    report = api.evaluate(
        write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "r.json", perturbed_results(gt, 22))
    )
    assert LVIS_NOTE in report.notes


def test_gt_with_zero_based_category_ids_is_scored(tmp_path: Path) -> None:
    """A GT whose ids start at 0 (YOLO-born) is renumbered inside, reported with its own ids."""
    gt = make_gt(23)
    results = perturbed_results(gt, 24)
    reference = cocoeval_reference(
        write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "r.json", results), "bbox"
    )
    shift = {1: 0, 5: 4, 9: 8}
    gt["categories"] = [{**c, "id": shift[c["id"]]} for c in gt["categories"]]
    for item in gt["annotations"] + results:
        item["category_id"] = shift[item["category_id"]]

    report = api.evaluate(write_json(tmp_path / "gt0.json", gt), write_json(tmp_path / "r0.json", results))

    assert metrics_of(report)["AP"] == pytest.approx(reference.stats[0], abs=1e-6)
    assert [c["id"] for c in report.data["evaluation"]["per_category"]] == [0, 4, 8]


# ---------------------------------------------------------------- real result files (DeepFashion2)


def test_deepfashion2_official_example_results_parse(corpus: Path) -> None:
    folder = corpus / "deepfashion2_official" / "evaluation" / "example"
    boxes = parse_coco_results(json.loads((folder / "example_bbox_results.json").read_bytes()), "bbox.json")
    masks = parse_coco_results(json.loads((folder / "example_segm_results.json").read_bytes()), "segm.json")
    assert [(p.image_key, p.category, p.score) for p in boxes] == [
        (1, 1, 0.888266),
        (2, 1, 0.835943),
        (3, 1, 0.73926),
        (4, 1, 0.501832),
        (5, 1, 0.248207),
    ]
    assert boxes[0].bbox == BBox(199.376404, 179.645523, 91.256927, 93.557541)
    assert [p.image_key for p in masks] == [1, 2, 3, 4, 5]
    assert [p.segmentation.size for p in masks] == [(624, 468), (624, 468), (883, 640), (892, 640), (487, 640)]
    assert all(p.segmentation.is_compressed for p in masks)


def test_deepfashion2_example_results_score_as_cocoeval_does(corpus: Path, tmp_path: Path) -> None:
    """GT: the example masks themselves, on images of their sizes; the boxes scored against them."""
    folder = corpus / "deepfashion2_official" / "evaluation" / "example"
    masks = json.loads((folder / "example_segm_results.json").read_bytes())
    gt = {
        "images": [
            {
                "id": m["image_id"],
                "file_name": f"{m['image_id']:06d}.jpg",
                "height": m["segmentation"]["size"][0],
                "width": m["segmentation"]["size"][1],
            }
            for m in masks
        ],
        "annotations": [
            {
                "id": n,
                "image_id": m["image_id"],
                "category_id": 1,
                "segmentation": m["segmentation"],
                "iscrowd": 0,
                "area": float(mask_utils.area(m["segmentation"])),
                "bbox": mask_utils.toBbox(m["segmentation"]).tolist(),
            }
            for n, m in enumerate(masks, 1)
        ],
        "categories": [{"id": 1, "name": "short_sleeved_shirt"}],
    }
    gt_path = write_json(tmp_path / "gt.json", gt)
    reference = cocoeval_reference(gt_path, folder / "example_bbox_results.json", "bbox")

    boxes = api.evaluate(gt_path, folder / "example_bbox_results.json", task="bbox")
    segm = api.evaluate(gt_path, folder / "example_segm_results.json", task="segm")

    for name, expected in zip(STAT_NAMES, reference.stats, strict=True):
        assert metrics_of(boxes)[name] == (None if expected < 0 else pytest.approx(expected, abs=1e-6))
    assert metrics_of(segm)["AP"] == 1.0


# ---------------------------------------------------------------- pure parsing


@pytest.mark.parametrize(
    "line, expected, error",
    [
        ("0 0.5 0.5 0.2 0.4 0.9", (0, 0.9, BBox(0.4, 0.3, 0.2, 0.4), None), does_not_raise()),  # box + conf
        (
            "3 0.1 0.1 0.5 0.1 0.3 0.6 0.75",
            (3, 0.75, BBox(0.1, 0.1, 0.4, 0.5), (0.1, 0.1, 0.5, 0.1, 0.3, 0.6)),
            does_not_raise(),
        ),  # triangle
        ("0 0.5 0.5 0.2 0.4", None, pytest.raises(ParseError, match="save_conf=True")),  # box, no conf
        ("0 0.1 0.1 0.5 0.1 0.3 0.6", None, pytest.raises(ParseError, match="save_conf=True")),  # polygon, no conf
        ("0 0.5 0.5 0.9", None, pytest.raises(ParseError, match="4 values")),  # too short
        ("x 0.5 0.5 0.2 0.4 0.9", None, pytest.raises(ParseError, match="not a number")),  # bad class
        ("0 0.5 nan 0.2 0.4 0.9", None, pytest.raises(ParseError, match="finite")),  # NaN
        ("0 0.5 0.5 -0.2 0.4 0.9", None, pytest.raises(ParseError, match="negative")),  # negative size
    ],
)
def test_parse_yolo_prediction_line(line: str, expected, error) -> None:
    with error as caught:
        prediction = parse_yolo_prediction_line(line, "a", "a.txt", "line 3")
    if expected is None:
        assert caught.value.path == "a.txt" and caught.value.location == "line 3"
        return
    category, score, bbox, ring = expected
    assert (prediction.category, prediction.score) == (category, score)
    assert prediction.bbox == pytest.approx(bbox)
    assert (prediction.segmentation.rings[0] if prediction.segmentation else None) == (list(ring) if ring else None)


@pytest.mark.parametrize(
    "doc, pointer",
    [
        ({"image_id": 1}, "/0/images"),
        ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}], "/0"),  # no score
        ([{"image_id": None, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}], "/0/image_id"),
        ([{"image_id": 1, "category_id": 1, "score": 1}], "/0"),  # no bbox or mask
        ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}], "/0/bbox"),
        ([{"image_id": 1, "category_id": "a", "bbox": [0, 0, 1, 1], "score": 1}], "/0/category_id"),
    ],
)
def test_parse_coco_results_errors_name_the_place(doc, pointer: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_coco_results(doc, "results.json")
    assert caught.value.path == "results.json"
    assert caught.value.location == pointer.replace("/0/images", "/")


def test_bad_prediction_file_is_a_parse_error_naming_the_line(tmp_path: Path) -> None:
    gt_path = write_json(tmp_path / "gt.json", make_gt(25))
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "000001.txt").write_text("0 0.5 0.5 0.2 0.4 0.9\n0 0.5 0.5 0.2 0.4\n")
    with pytest.raises(ParseError, match=r"000001.txt: line 2: no confidence"):
        api.evaluate(gt_path, labels)


def test_match_images_prefers_the_mode_that_finds_most() -> None:
    images = [{"id": 1, "file_name": "a/000002.jpg"}, {"id": 2, "file_name": "b/000001.jpg"}]
    assert match_images([1, 2], images) == ("id", {1: 1, 2: 2})
    assert match_images(["000001", "000002"], images) == ("stem", {"000001": 2, "000002": 1})
    assert match_images(["b/000001.jpg"], images) == ("file name", {"b/000001.jpg": 2})
    assert match_images([1], images, modes=("stem number",)) == ("stem number", {1: 2})
    twins = [{"id": 1, "file_name": "a/x.jpg"}, {"id": 2, "file_name": "b/x.jpg"}]
    assert match_images(["x"], twins) == ("id", {"x": None})  # ambiguous stem matches nothing


# ---------------------------------------------------------------- semantic task


def test_confusion_matrix_by_hand() -> None:
    gt = np.array([[0, 0, 1, 1], [2, 2, 1, 255]])
    pred = np.array([[0, 1, 1, 1], [2, 0, 255, 2]])
    part = confusion(gt, pred, ignore_index=255)
    # rows GT 0..2, columns prediction 0..2; the GT-255 pixel is left out, the predicted-255 is a miss
    assert part.matrix.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert part.missed.tolist() == [0, 1, 0]

    scores = semantic_scores(part)
    # IoU: 0 → 1/(2+2-1)=1/3; 1 → 2/(3+3-2)=1/2; 2 → 1/(2+1-1)=1/2
    assert scores.iou == pytest.approx([1 / 3, 1 / 2, 1 / 2])
    assert scores.miou == pytest.approx((1 / 3 + 1 / 2 + 1 / 2) / 3)
    assert scores.pixel_accuracy == pytest.approx(4 / 7)
    assert scores.accuracy == pytest.approx([1 / 2, 2 / 3, 1 / 2])
    assert scores.mean_class_accuracy == pytest.approx((1 / 2 + 2 / 3 + 1 / 2) / 3)


def test_classes_absent_from_gt_and_prediction_are_left_out_of_the_means() -> None:
    part = confusion(np.array([[0, 3]]), np.array([[0, 3]]), ignore_index=None)
    scores = semantic_scores(part)
    assert scores.iou == [1.0, None, None, 1.0]
    assert scores.miou == 1.0 and scores.mean_class_accuracy == 1.0


def test_class_only_predicted_counts_in_miou_not_in_mean_accuracy() -> None:
    scores = semantic_scores(confusion(np.array([[0, 0]]), np.array([[0, 1]]), ignore_index=255))
    assert scores.iou == [0.5, 0.0]
    assert scores.miou == 0.25
    assert scores.accuracy == [0.5, None]
    assert scores.mean_class_accuracy == 0.5


def write_masks(folder: Path, masks: dict[str, np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, mask in masks.items():
        assert cv2.imwrite(str(folder / f"{stem}.png"), mask)
    return folder


def random_masks(seed: int, count: int, classes: int = 6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for n in range(count):
        mask = np.repeat(np.repeat(rng.integers(0, classes, (6, 8)), 5, axis=0), 5, axis=1).astype(np.uint8)
        mask[rng.random(mask.shape) < 0.03] = 255
        out[f"{n:04d}"] = mask
    return out


def independent_confusion(pairs: list[tuple[np.ndarray, np.ndarray]], classes: int) -> np.ndarray:
    """A pixel-by-pixel loop: the plainest possible confusion matrix (GT 255 left out)."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    for gt, pred in pairs:
        for g, p in zip(gt.ravel().tolist(), pred.ravel().tolist(), strict=True):
            if g != 255:
                matrix[g, p] += 1
    return matrix


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_semantic_numbers_equal_an_independent_confusion_matrix(tmp_path: Path, executor: str) -> None:
    gt = random_masks(1, 9)
    pred = {
        stem: np.where(np.random.default_rng(2).random(m.shape) < 0.25, (m + 1) % 6, m).astype(np.uint8)
        for stem, m in gt.items()
    }
    pred = {stem: np.where(m == 255, 0, m).astype(np.uint8) for stem, m in pred.items()}  # no predicted 255
    matrix = independent_confusion([(gt[s], pred[s]) for s in gt], 6)
    tp = np.diag(matrix)
    iou = tp / (matrix.sum(0) + matrix.sum(1) - tp)
    ctx = RunContext(executor=ProcessExecutor(2) if executor == "process" else RunContext().executor)

    report = api.evaluate(
        write_masks(tmp_path / "gt", gt), write_masks(tmp_path / "pred", pred), task="semantic", ctx=ctx
    )
    ctx.executor.close()

    result = report.data["evaluation"]
    assert result["confusion_matrix"] == matrix.tolist()
    assert result["metrics"]["mIoU"] == pytest.approx(float(iou.mean()), abs=1e-12)
    assert result["metrics"]["pixel_accuracy"] == pytest.approx(tp.sum() / matrix.sum(), abs=1e-12)
    assert result["metrics"]["mean_class_accuracy"] == pytest.approx(float((tp / matrix.sum(1)).mean()), abs=1e-12)
    assert result["masks"] == 9 and report.read["masks"] == 9


def test_semantic_prediction_identical_to_gt_scores_one(tmp_path: Path) -> None:
    gt = random_masks(3, 4)
    report = api.evaluate(write_masks(tmp_path / "gt", gt), write_masks(tmp_path / "pred", gt), task="semantic")
    assert report.data["evaluation"]["metrics"] == {"mIoU": 1.0, "pixel_accuracy": 1.0, "mean_class_accuracy": 1.0}
    assert all(row["IoU"] == 1.0 for row in report.data["evaluation"]["per_class"])


def test_semantic_missing_and_extra_predictions_are_reported(tmp_path: Path) -> None:
    gt = {"a": np.array([[1, 1], [0, 0]], np.uint8), "b": np.array([[1, 1], [1, 1]], np.uint8)}
    pred = {"a": np.array([[1, 1], [0, 0]], np.uint8), "zzz": np.zeros((2, 2), np.uint8)}
    report = api.evaluate(write_masks(tmp_path / "gt", gt), write_masks(tmp_path / "pred", pred), task="semantic")
    result = report.data["evaluation"]
    assert result["unpredicted_pixels"] == [0, 4]  # b's four pixels, unpredicted
    assert result["metrics"]["pixel_accuracy"] == pytest.approx(4 / 8)
    assert report.skipped == {"prediction mask has no GT mask": 1}
    assert "1 GT masks have no prediction: their pixels count as unpredicted (missed)" in report.notes


def test_semantic_size_mismatch_raises_or_is_skipped(tmp_path: Path) -> None:
    gt = write_masks(tmp_path / "gt", {"a": np.zeros((4, 4), np.uint8), "b": np.ones((2, 2), np.uint8)})
    pred = write_masks(tmp_path / "pred", {"a": np.zeros((4, 5), np.uint8), "b": np.ones((2, 2), np.uint8)})
    with pytest.raises(ParseError, match=r"a.png: prediction is 5x4, its GT mask 4x4"):
        api.evaluate(gt, pred, task="semantic")
    report = api.evaluate(gt, pred, task="semantic", ctx=RunContext(on_error="skip"))
    assert report.skipped == {"prediction is 5x4, its GT mask 4x4": 1}
    assert report.data["evaluation"]["metrics"]["mIoU"] == 1.0


def test_palette_png_is_read_as_indices(tmp_path: Path) -> None:
    from PIL import Image

    indices = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    image = Image.fromarray(indices, mode="P")
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 9))
    image.save(tmp_path / "m.png")
    assert read_index_mask(tmp_path / "m.png").tolist() == indices.tolist()


def test_colour_mask_is_refused(tmp_path: Path) -> None:
    mask = np.zeros((2, 2, 3), np.uint8)
    mask[0, 0] = (0, 0, 255)
    cv2.imwrite(str(tmp_path / "c.png"), mask)
    with pytest.raises(ParseError, match="a colour mask"):
        read_index_mask(tmp_path / "c.png")


def test_ignore_index_none_scores_every_value(tmp_path: Path) -> None:
    gt = {"a": np.array([[255, 1]], np.uint8)}
    report = api.evaluate(
        write_masks(tmp_path / "gt", gt), write_masks(tmp_path / "pred", gt), task="semantic", ignore_index=None
    )
    assert [row["index"] for row in report.data["evaluation"]["per_class"]] == [1, 255]


def test_gt_in_another_format_scores_as_the_coco_gt(tmp_path: Path) -> None:
    """The GT converted to Pascal VOC, predictions keyed by stem and by the VOC reader's ids."""
    gt = make_gt(41, images=10, one_per_category=True)
    gt_path = write_json(tmp_path / "gt.json", gt)
    results = perturbed_results(gt, 42)
    reference = cocoeval_reference(gt_path, write_json(tmp_path / "r.json", results), "bbox")
    api.convert(gt_path, tmp_path / "voc", dst_format="voc")
    voc_ids = {c.name: c.id for c in api.read(tmp_path / "voc").categories}
    name_of = {c["id"]: c["name"] for c in CATEGORIES}
    stems = {i["id"]: Path(i["file_name"]).stem for i in gt["images"]}
    keyed = [
        {**r, "image_id": stems[r["image_id"]], "category_id": voc_ids[name_of[r["category_id"]]]} for r in results
    ]

    report = api.evaluate(tmp_path / "voc", write_json(tmp_path / "keyed.json", keyed))

    for name, expected in zip(STAT_NAMES, reference.stats, strict=True):
        assert metrics_of(report)[name] == pytest.approx(expected, abs=1e-6), name
    assert "category ids are the GT's: 1 short sleeve top, 2 skirt, 3 trousers" in report.notes


def test_sixteen_bit_masks_with_ignore_65535(tmp_path: Path) -> None:
    gt = {"a": np.array([[0, 300], [300, 65535]], np.uint16)}
    pred = {"a": np.array([[0, 300], [0, 65535]], np.uint16)}
    report = api.evaluate(
        write_masks(tmp_path / "gt", gt), write_masks(tmp_path / "pred", pred), task="semantic", ignore_index=65535
    )
    rows = {row["index"]: row for row in report.data["evaluation"]["per_class"]}
    assert sorted(rows) == [0, 300]
    assert rows[300]["IoU"] == 0.5 and rows[0]["IoU"] == 0.5
    assert report.data["evaluation"]["metrics"]["pixel_accuracy"] == pytest.approx(2 / 3)


def test_class_index_over_the_limit_names_the_mask(tmp_path: Path) -> None:
    gt = write_masks(tmp_path / "gt", {"a": np.array([[0, 5000]], np.uint16)})
    pred = write_masks(tmp_path / "pred", {"a": np.array([[0, 1]], np.uint16)})
    with pytest.raises(ParseError, match=r"a.png: class index 5000 is over the limit of 2047"):
        api.evaluate(gt, pred, task="semantic")


def test_real_lvis_gt_is_scored_with_coco_rules_and_says_so(corpus: Path, tmp_path: Path) -> None:
    gt_path = corpus / "lvis_api" / "data" / "lvis_val_100.json"
    gt = json.loads(gt_path.read_bytes())
    own_boxes = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
        for a in gt["annotations"]
    ]

    report = api.evaluate(gt_path, write_json(tmp_path / "r.json", own_boxes))

    assert LVIS_NOTE in report.notes
    assert metrics_of(report)["AP"] == 1.0
    assert report.data["evaluation"]["gt_instances"] == 977


def test_masks_pair_by_stem_without_mask_suffixes(tmp_path: Path) -> None:
    mask = np.array([[0, 1]], np.uint8)
    gt = write_masks(tmp_path / "gt", {"WOMEN-Tees-id_01_segm": mask, "b_mask": mask})
    pred = write_masks(tmp_path / "pred", {"WOMEN-Tees-id_01": mask, "b": mask})
    report = api.evaluate(gt, pred, task="semantic")
    assert report.data["evaluation"]["masks"] == 2 and report.data["evaluation"]["unpaired_gt_masks"] == 0


def test_prediction_folder_without_txt_files_says_what_is_wrong(tmp_path: Path) -> None:
    gt_path = write_json(tmp_path / "gt.json", make_gt(27))
    masks = write_masks(tmp_path / "masks", {"000001": np.zeros((2, 2), np.uint8)})
    with pytest.raises(ValidationError, match="no Ultralytics prediction files .* use --task semantic"):
        api.evaluate(gt_path, masks)


def test_detectron2_rle_and_ultralytics_polygons_of_the_same_masks_score_the_same(tmp_path: Path) -> None:
    gt = make_gt(29)
    gt_path = write_json(tmp_path / "gt.json", gt)
    images = {i["id"]: i for i in gt["images"]}
    index_of = {c["id"]: i for i, c in enumerate(CATEGORIES)}
    rng = random.Random(30)
    detectron2, lines = [], {}
    for ann in gt["annotations"]:
        image = images[ann["image_id"]]
        W, H = image["width"], image["height"]
        ring = [v + rng.uniform(-6, 6) for v in ann["segmentation"][0]]
        score = round(rng.random(), 6)
        rle = mask_utils.merge(mask_utils.frPyObjects([ring], H, W))
        detectron2.append(
            {
                "image_id": ann["image_id"],
                "category_id": ann["category_id"],
                "score": score,
                "segmentation": {"size": rle["size"], "counts": rle["counts"].decode("ascii")},
            }
        )
        normalised = [v / (W if i % 2 == 0 else H) for i, v in enumerate(ring)]
        lines.setdefault(Path(image["file_name"]).stem, []).append(
            " ".join(map(repr, [index_of[ann["category_id"]], *normalised, score]))
        )
    labels = tmp_path / "labels"
    labels.mkdir()
    for stem, rows in lines.items():
        (labels / f"{stem}.txt").write_text("\n".join(rows))

    from_rle = api.evaluate(gt_path, write_json(tmp_path / "r.json", detectron2), task="segm")
    from_polygons = api.evaluate(gt_path, labels, task="segm")

    assert 0.2 < metrics_of(from_rle)["AP"] < 1
    assert metrics_of(from_polygons) == pytest.approx(metrics_of(from_rle), abs=1e-9)


def test_library_prints_nothing(tmp_path: Path, capsys) -> None:
    gt = make_gt(31)
    api.evaluate(write_json(tmp_path / "gt.json", gt), write_json(tmp_path / "r.json", perturbed_results(gt, 32)))
    assert capsys.readouterr() == ("", "")


def test_gt_without_ids_never_matches_by_assigned_ids(tmp_path: Path) -> None:
    """A VOC GT has no image ids; Detectron2-style integer ids are the stems' numbers, not 1..N."""
    gt = make_gt(43, images=8, one_per_category=True)
    for image in gt["images"]:
        image["file_name"] = f"val/{image['id'] * 7:06d}.jpg"  # stems 000007, 000014, …
    gt_path = write_json(tmp_path / "gt.json", gt)
    results = perturbed_results(gt, 44)
    reference = cocoeval_reference(gt_path, write_json(tmp_path / "r.json", results), "bbox")
    api.convert(gt_path, tmp_path / "voc", dst_format="voc")
    voc_ids = {c.name: c.id for c in api.read(tmp_path / "voc").categories}
    name_of = {c["id"]: c["name"] for c in CATEGORIES}
    numbered = [
        {**r, "image_id": r["image_id"] * 7, "category_id": voc_ids[name_of[r["category_id"]]]} for r in results
    ]

    report = api.evaluate(tmp_path / "voc", write_json(tmp_path / "numbered.json", numbered))

    assert report.data["evaluation"]["matched_by"] == "stem number"
    assert metrics_of(report)["AP"] == pytest.approx(reference.stats[0], abs=1e-6)


def test_malformed_predictions_are_skipped_and_counted_with_on_error_skip(tmp_path: Path) -> None:
    gt = make_gt(45)
    gt_path = write_json(tmp_path / "gt.json", gt)
    results = perturbed_results(gt, 46)
    reference = cocoeval_reference(gt_path, write_json(tmp_path / "r.json", results), "bbox")
    broken = [*results[:3], {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 0.5}, *results[3:]]
    broken_path = write_json(tmp_path / "broken.json", broken)
    with pytest.raises(ParseError, match=r"broken.json: /3/bbox: bbox must be"):
        api.evaluate(gt_path, broken_path)

    report = api.evaluate(gt_path, broken_path, ctx=RunContext(on_error="skip"))

    assert report.skipped == {"bbox must be [x, y, width, height]": 1}
    assert metrics_of(report)["AP"] == pytest.approx(reference.stats[0], abs=1e-6)


def test_ultralytics_file_that_is_not_utf8_is_a_parse_error(tmp_path: Path) -> None:
    gt_path = write_json(tmp_path / "gt.json", make_gt(47))
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "000001.txt").write_bytes(b"0 0.5 0.5 0.2 0.2 0.9\n\xff\n")
    with pytest.raises(ParseError, match=r"000001.txt: not UTF-8 text \(byte 22\)"):
        api.evaluate(gt_path, labels)


def test_class_names_come_from_the_masks_writers_classes_txt_above_a_split_folder(tmp_path: Path) -> None:
    mask = np.array([[0, 2]], np.uint8)
    gt = write_masks(tmp_path / "masks" / "val", {"a": mask})
    (tmp_path / "masks" / "classes.txt").write_text("background\n\npants\n")
    report = api.evaluate(gt, write_masks(tmp_path / "pred", {"a": mask}), task="semantic")
    assert [(row["index"], row["name"]) for row in report.data["evaluation"]["per_class"]] == [
        (0, "background"),
        (2, "pants"),
    ]


def test_yolo_gt_folder_scores_as_the_same_coco_gt(tmp_path: Path) -> None:
    """A hand-written Ultralytics dataset (data.yaml, images/, labels/) and the COCO file of the same
    polygons, against the same Ultralytics predictions."""
    gt = make_gt(49, images=8, one_per_category=True)
    for ann in gt["annotations"]:
        del ann["bbox"], ann["area"]  # both GTs derive them from the polygons
    results = perturbed_results(make_gt(49, images=8, one_per_category=True), 50)
    root = tmp_path / "yolo"
    (root / "images" / "val").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    (root / "data.yaml").write_text("val: images/val\nnames: ['short sleeve top', 'trousers', 'skirt']\n")
    index_of = {c["id"]: i for i, c in enumerate(CATEGORIES)}
    for image in gt["images"]:
        stem, W, H = Path(image["file_name"]).stem, image["width"], image["height"]
        cv2.imwrite(str(root / "images" / "val" / f"{stem}.png"), np.zeros((H, W), np.uint8))
        rows = [
            " ".join(
                map(
                    repr,
                    [
                        index_of[a["category_id"]],
                        *(v / (W if i % 2 == 0 else H) for i, v in enumerate(a["segmentation"][0])),
                    ],
                )
            )
            for a in gt["annotations"]
            if a["image_id"] == image["id"]
        ]
        (root / "labels" / "val" / f"{stem}.txt").write_text("\n".join(rows))
    predictions = ultralytics_folder(tmp_path / "runs", gt, results)

    from_yolo = api.evaluate(root, predictions)
    from_coco = api.evaluate(write_json(tmp_path / "gt.json", gt), predictions)

    assert from_yolo.data["evaluation"]["gt_instances"] == from_coco.data["evaluation"]["gt_instances"] == 21
    assert metrics_of(from_yolo) == pytest.approx(metrics_of(from_coco), abs=1e-9)
    assert 0.1 < metrics_of(from_yolo)["AP"] < 1
