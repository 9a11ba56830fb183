"""`fashiondata evaluate` on the bundled fixtures: tables, JSON, the HTML report, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def evaluate_fixtures(fixtures: Path) -> Path:
    return fixtures / "evaluate"


def test_table_like_detectron2(run_cli, evaluate_fixtures: Path) -> None:
    result = run_cli(
        "evaluate",
        evaluate_fixtures / "instances_val.json",
        evaluate_fixtures / "coco_instances_results.json",
        "--per-category",
        "-q",
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Evaluation results for bbox (6 images, 16 GT instances, 28 predictions, matched by id):"
    assert lines[1].split() == ["|", "AP", "|", "AP50", "|", "AP75", "|", "APs", "|", "APm", "|", "APl", "|"]
    assert lines[2].startswith("|:---") and lines[2].endswith(":|")
    assert lines[3].split("|")[1].strip() == "17.685"
    assert lines[7] == "Per-category bbox AP:"
    assert [cell.strip() for cell in lines[8].split("|")[1:-1]] == ["category", "AP"] * 3
    assert [cell.strip() for cell in lines[10].split("|")[1:-1:2]] == ["short_sleeved_shirt", "trousers", "skirt"]


def test_json_holds_the_twelve_numbers(run_cli, evaluate_fixtures: Path) -> None:
    result = run_cli(
        "evaluate",
        evaluate_fixtures / "instances_val.json",
        evaluate_fixtures / "coco_instances_results.json",
        "--json",
    )
    assert result.exit_code == 0
    evaluation = json.loads(result.stdout)["evaluation"]
    assert list(evaluation["metrics"]) == [
        "AP",
        "AP50",
        "AP75",
        "APs",
        "APm",
        "APl",
        "AR1",
        "AR10",
        "AR100",
        "ARs",
        "ARm",
        "ARl",
    ]
    assert evaluation["metrics"]["AP"] == pytest.approx(0.17685, abs=1e-5)
    assert [c["name"] for c in evaluation["per_category"]] == ["short_sleeved_shirt", "trousers", "skirt"]


def test_ultralytics_folder_scores_like_the_coco_results(run_cli, evaluate_fixtures: Path) -> None:
    gt = evaluate_fixtures / "instances_val.json"
    detectron2 = json.loads(run_cli("evaluate", gt, evaluate_fixtures / "coco_instances_results.json", "--json").stdout)
    ultralytics = json.loads(run_cli("evaluate", gt, evaluate_fixtures / "ultralytics_predict", "--json").stdout)
    assert ultralytics["evaluation"]["matched_by"] == "stem"
    # the txt files hold 6 significant digits, as Ultralytics writes them: the same AP here
    assert ultralytics["evaluation"]["metrics"] == pytest.approx(detectron2["evaluation"]["metrics"], abs=1e-9)


def test_semantic_table_prints_the_convention(run_cli, evaluate_fixtures: Path) -> None:
    semantic = evaluate_fixtures / "semantic"
    result = run_cli("evaluate", semantic / "gt", semantic / "pred", "--task", "semantic", "--per-category", "-q")
    assert result.exit_code == 0
    assert "Evaluation results for semantic (3 masks, ignore index 255):" in result.stdout
    assert "(mIoU averages per-class IoU over the classes present in the GT or the prediction;" in result.stdout
    assert "| 2     | pants      |" in result.stdout


def test_semantic_json_numbers(run_cli, evaluate_fixtures: Path) -> None:
    semantic = evaluate_fixtures / "semantic"
    evaluation = json.loads(
        run_cli("evaluate", semantic / "gt", semantic / "pred", "--task", "semantic", "--json").stdout
    )["evaluation"]
    matrix = evaluation["confusion_matrix"]
    tp = [matrix[i][i] for i in range(len(matrix))]
    assert evaluation["metrics"]["pixel_accuracy"] == pytest.approx(sum(tp) / sum(map(sum, matrix)))
    assert [row["name"] for row in evaluation["per_class"]] == ["background", "top", "pants", "hair"]
    assert evaluation["per_class"][3]["IoU"] == 1.0  # hair is never confused


def test_report_folder_with_pr_curves(run_cli, evaluate_fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run_cli(
        "evaluate",
        evaluate_fixtures / "instances_val.json",
        evaluate_fixtures / "coco_instances_results.json",
        "--report",
        out,
        "-q",
    )
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "evaluation.json",
        "index.html",
        "pr_curves.png",
        "pr_per_category.png",
    ]
    page = (out / "index.html").read_text()
    assert '<img alt="pr_curves" src="data:image/png;base64,' in page  # self-contained: opens alone
    assert '<td class="n">17.685</td>' in page and "<td>skirt</td>" in page
    assert (out / "pr_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = run_cli(
        "evaluate",
        evaluate_fixtures / "instances_val.json",
        evaluate_fixtures / "coco_instances_results.json",
        "--report",
        out,
        "-q",
    )
    assert again.exit_code == 2 and "exists and is not empty" in again.stderr


def test_semantic_report_draws_the_confusion_matrix(run_cli, evaluate_fixtures: Path, tmp_path: Path) -> None:
    semantic = evaluate_fixtures / "semantic"
    out = tmp_path / "report"
    assert (
        run_cli("evaluate", semantic / "gt", semantic / "pred", "--task", "semantic", "--report", out, "-q").exit_code
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "confusion.png",
        "evaluation.json",
        "index.html",
        "per_class_iou.png",
    ]


def test_bad_predictions_exit_2_with_one_line(run_cli, evaluate_fixtures: Path, tmp_path: Path) -> None:
    bad = tmp_path / "results.json"
    bad.write_text('[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]')
    result = run_cli("evaluate", evaluate_fixtures / "instances_val.json", bad)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == f"error: {bad}: /0: a result needs a score"
