"""The CLI shell: version, formats, info, convert; one-line errors, exit codes, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def test_version_and_formats(run_cli) -> None:
    import fashiondata

    assert run_cli("--version").stdout.strip() == f"fashiondata, version {fashiondata.__version__}"
    result = run_cli("formats", "--json")
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["coco"]["read"] and rows["coco"]["write"] and "rle" in rows["coco"]["capabilities"]


def test_info_json_counts(run_cli, fixtures: Path) -> None:
    result = run_cli("info", fixtures / "coco" / "datumaro_instances_val.json", "--json")
    assert result.exit_code == 0
    facts = json.loads(result.stdout)["info"]
    assert facts == {"images": 1, "annotations": 2, "categories": 3, "per_category": {"a": 1, "b": 1, "c": 0}}


def test_convert_coco2coco_writes_and_summarises(run_cli, fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = run_cli("convert", "coco2coco", fixtures / "coco" / "datumaro_instances_val.json", out)
    assert result.exit_code == 0, result.stderr
    assert "written: 2 annotations, 1 images" in result.stderr
    assert json.loads(out.read_text())["annotations"][1]["segmentation"]["counts"] == [0, 20, 30]


def test_bad_input_is_one_line_exit_2_and_nothing_written(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"images": [{"id": 1, "width": 2, "height": 2, "file_name": "a.jpg"}], '
        '"annotations": [{"id": 1, "image_id": 2, "category_id": 1}], "categories": []}'
    )
    out = tmp_path / "out" / "out.json"
    result = run_cli("convert", "coco2coco", bad, out, "--quiet")
    assert result.exit_code == 2
    assert result.stderr == f"error: {bad}: /annotations/0/image_id: image_id 2 names no image\n"
    assert "Traceback" not in result.stderr and not out.exists()


def test_second_run_without_overwrite_fails_and_keeps_the_first_output(run_cli, fixtures: Path, tmp_path: Path) -> None:
    source, out = fixtures / "coco" / "datumaro_instances_val.json", tmp_path / "out.json"
    assert run_cli("convert", "coco2coco", source, out, "-q").exit_code == 0
    first = out.read_bytes()
    result = run_cli("convert", "coco2coco", source, out, "-q")
    assert result.exit_code == 2 and "--overwrite" in result.stderr
    assert out.read_bytes() == first
    assert run_cli("convert", "coco2coco", source, out, "-q", "--overwrite").exit_code == 0
    assert out.read_bytes() == first  # deterministic bytes


def test_missing_file_is_an_os_error_on_one_line(run_cli, tmp_path: Path) -> None:
    result = run_cli("convert", "coco2coco", tmp_path / "nope.json", tmp_path / "out.json", "-q")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_option_no_format_takes_is_a_clear_error(run_cli, fixtures: Path, tmp_path: Path) -> None:
    result = run_cli(
        "convert",
        "coco2coco",
        fixtures / "coco" / "datumaro_instances_val.json",
        tmp_path / "o.json",
        "--images",
        tmp_path,
        "-q",
    )
    assert result.exit_code == 2 and "--images" in result.stderr


@pytest.mark.parametrize("args", [("-j", "2", "--executor", "serial"), ("--executor", "process:0")])
def test_conflicting_executor_options_are_a_usage_error(run_cli, fixtures: Path, tmp_path: Path, args) -> None:
    result = run_cli("info", fixtures / "coco" / "datumaro_instances_val.json", *args)
    assert result.exit_code == 2 and result.stderr.startswith("error: ")


def test_verbose_shows_the_traceback(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = run_cli("info", bad, "-v")
    assert result.exit_code == 2 and "Traceback" in result.stderr


def test_console_script_is_installed() -> None:
    result = subprocess.run([sys.executable, "-m", "fashiondata_cli", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("fashiondata, version")
