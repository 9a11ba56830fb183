"""fsspec URLs: memory:// through the library API, file:// through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import pytest

import fashiondata
from fashiondata.errors import OutputExistsError


@pytest.fixture
def memory_fs():
    fs = fsspec.filesystem("memory")
    yield fs
    fs.rm("/", recursive=True) if fs.ls("/") else None


def test_memory_round_trip_through_the_library(memory_fs, fixtures: Path) -> None:
    source = fixtures / "coco" / "datumaro_instances_val.json"
    memory_fs.pipe("/in/instances.json", source.read_bytes())
    report = fashiondata.convert("memory://in/instances.json", "memory://out/copy.json", dst_format="coco")
    written = json.loads(memory_fs.cat("/out/copy.json"))
    assert report.outputs == ["memory://out/copy.json"]
    assert [a["id"] for a in written["annotations"]] == [1, 2]
    again = fashiondata.read("memory://out/copy.json").materialize()
    assert len(again.records[0].annotations) == 2


def test_memory_folder_output_is_uploaded_file_by_file(memory_fs, fixtures: Path) -> None:
    memory_fs.pipe("/in/instances.json", (fixtures / "coco" / "datumaro_instances_val.json").read_bytes())
    fashiondata.convert("memory://in/instances.json", "memory://out/voc", dst_format="voc")
    names = sorted(p.rsplit("/", 1)[-1] for p in memory_fs.find("/out/voc"))
    assert names == ["b.xml"]


def test_existing_remote_output_is_refused_without_overwrite(memory_fs, fixtures: Path) -> None:
    memory_fs.pipe("/in/instances.json", (fixtures / "coco" / "datumaro_instances_val.json").read_bytes())
    memory_fs.pipe("/out/copy.json", b"first")
    with pytest.raises(OutputExistsError):
        fashiondata.convert("memory://in/instances.json", "memory://out/copy.json", dst_format="coco")
    assert memory_fs.cat("/out/copy.json") == b"first"


def test_missing_remote_input_is_a_file_not_found(memory_fs) -> None:
    with pytest.raises(FileNotFoundError):
        fashiondata.read("memory://nowhere/x.json", "coco")


def test_file_urls_work_from_the_cli(run_cli, fixtures: Path, tmp_path: Path) -> None:
    source = fixtures / "coco" / "datumaro_instances_val.json"
    out = tmp_path / "out.json"
    result = run_cli("convert", "coco2coco", f"file://{source}", f"file://{out}", "-q")
    assert result.exit_code == 0, result.stderr
    assert json.loads(out.read_text())["images"][0]["file_name"] == "b.jpg"
