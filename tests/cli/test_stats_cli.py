"""The stats, detect and preview verbs from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import orjson

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "stats" / "instances_stats.json"


def test_stats_json_holds_the_numbers(run_cli) -> None:
    result = run_cli("stats", FIXTURE, "--json", "--quiet")
    assert result.exit_code == 0
    stats = json.loads(result.stdout)["stats"]
    assert (stats["images"], stats["annotations"], stats["empty_images"]) == (4, 8, 1)
    assert stats["instances_per_image"]["histogram"] == {"0": 1, "2": 2, "4": 1}
    assert stats["mask_area_ratio"]["mean"] == 0.200186


def test_stats_prints_the_category_table(run_cli) -> None:
    result = run_cli("stats", FIXTURE)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "images: 4 (1 empty), annotations: 8, instances per image: 2.0, megapixels: 0.224897"
    assert lines[1] == "| category | #instances | #images |  share  | mask/image |"
    assert lines[-1] == "|  total   | 8          | 4       | 100.00% | 0.2002     |"
    assert "read: 8 annotations, 4 images" in result.stderr


def test_stats_report_folder(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run_cli("stats", FIXTURE, "--report", out, "--quiet")
    assert result.exit_code == 0
    assert (out / "index.html").read_text().count("data:image/png;base64,") == 5
    assert orjson.loads((out / "stats.json").read_bytes())["annotations"] == 8


def test_stats_of_a_broken_file_is_one_line_and_exit_2(run_cli, tmp_path: Path) -> None:
    broken = tmp_path / "instances_broken.json"
    broken.write_text('{"images": [{"id": 1, "width": 4, "height": 4, "file_name": "a.jpg"}], "annotations": [')
    result = run_cli("stats", broken, "--format", "coco")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {broken}: line 1")


def test_detect_csv_and_json(run_cli, sample_photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.csv"
    result = run_cli("detect", sample_photos, "--checks", "color", "--csv", out, "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)["summary"]
    assert summary == {"images": 6, "color": {"color": 3, "monochrome": 0, "grayscale": 3, "bw": 0}}
    assert out.read_text().splitlines()[0] == "file,width,height,color,chromatic_share,hue_std,faces,persons,selfie"


def test_preview_writes_a_png_of_the_grid(run_cli, sample_photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    result = run_cli(
        "preview", FIXTURE, "-o", out, "--grid", "3x1", "--tile-size", "50", "--images", sample_photos, "--quiet"
    )
    assert result.exit_code == 0
    assert cv2.imread(str(out)).shape == (50, 150, 3)


def test_filter_drops_grayscale_and_faceless_images(run_cli, sample_photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "kept.json"
    result = run_cli("filter", FIXTURE, out, "--drop-grayscale", "--require-faces", "--images", sample_photos, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["skipped"] == {"grayscale image (--drop-grayscale)": 1, "no face found (--require-faces)": 2}
    kept = orjson.loads(out.read_bytes())
    assert [image["file_name"] for image in kept["images"]] == ["astronaut.jpg"]
    assert len(kept["annotations"]) == 4
