"""The streaming COCO path reads exactly what the in-memory path reads, and fails in the same places."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import fashiondata
from fashiondata.errors import ParseError
from fashiondata.formats import coco

TRICKY = {
    "info": {"note": 'quotes " and brackets ]}[{ and a backslash \\', "nested": {"image_id": 99}},
    "images": [
        {"id": 2, "width": 10, "height": 10, "file_name": 'we"ird]{.jpg'},
        {"id": 1, "width": 8, "height": 6, "file_name": "a.jpg", "extra": [1, {"k": "}"}]},
        {"id": 3, "width": 8, "height": 6, "file_name": "negative.jpg"},
    ],
    "annotations": [
        {"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "attributes": {"image_id": 2}},
        {"id": 8, "image_id": 2, "category_id": 2, "segmentation": [[0, 0, 4, 0, 4, 4]], "note": '\\\\"'},
        {"id": 9, "image_id": 1, "category_id": 1, "segmentation": {"size": [6, 8], "counts": [5, 43]}, "iscrowd": 1},
    ],
    "categories": [{"id": 1, "name": "top"}, {"id": 2, "name": "pants"}],
    "licenses": [],
}


def _records(dataset):
    return sorted(dataset.records, key=lambda r: r.file_name)


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "pretty"])
def test_stream_reads_what_the_in_memory_path_reads(tmp_path: Path, indent: int | None) -> None:
    path = tmp_path / "tricky.json"
    path.write_text(json.dumps(TRICKY, indent=indent))
    streamed = fashiondata.read(path, "coco", stream=True)
    loaded = fashiondata.read(path, "coco", stream=False).materialize()
    assert not streamed.is_materialized
    assert streamed.categories == loaded.categories and dict(streamed.info) == dict(loaded.info)
    assert _records(streamed) == _records(loaded)


def test_stream_writes_the_same_bytes(fixtures: Path, tmp_path: Path) -> None:
    source = fixtures / "coco" / "datumaro_instances_val.json"
    fashiondata.convert(source, tmp_path / "a.json", dst_format="coco", stream=True)
    fashiondata.convert(source, tmp_path / "b.json", dst_format="coco")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def _broken(**changes: object) -> dict:
    doc = json.loads(json.dumps(TRICKY))
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    "document, location",
    [
        (_broken(annotations=[{"id": 1, "image_id": 5, "category_id": 1}]), "/annotations/0/image_id"),
        (_broken(annotations=[{"id": 1, "image_id": 1, "category_id": 4}]), "/annotations/0/category_id"),
        (_broken(images=[{"id": 1, "width": 1, "height": 1, "file_name": "a"}, 7]), "/images"),
        (
            _broken(
                images=[
                    {"id": 1, "width": 1, "height": 1, "file_name": "a"},
                    {"id": 1, "width": 1, "height": 1, "file_name": "b"},
                ]
            ),
            "/images/1/id",
        ),
        (_broken(annotations=[{"id": 1, "image_id": 1, "category_id": 1, "bbox": "x"}]), "/annotations/0/bbox"),
        (_broken(images={"id": 1}), "/images"),
    ],
)
def test_stream_errors_name_the_same_place(tmp_path: Path, document: dict, location: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ParseError) as raised:
        list(fashiondata.read(path, "coco", stream=True).records)
    assert raised.value.location.startswith(location)


def test_truncated_file_is_refused_before_any_record(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(TRICKY)[:-40])
    with pytest.raises(ParseError, match="truncated"):
        coco.stream_document(str(path))


def test_corpus_lvis_sample_streams_identically(corpus: Path) -> None:
    path = corpus / "lvis_api" / "data" / "lvis_val_100.json"
    streamed = _records(coco.stream_document(str(path)))
    loaded = _records(coco.parse_document(coco.load_json(path), path))
    assert streamed == loaded and len(streamed) == 100


def test_lvis_streams_with_file_names_and_splits_from_coco_url(corpus: Path) -> None:
    path = corpus / "lvis_api" / "data" / "lvis_val_100.json"
    streamed = _records(fashiondata.read(path, "lvis", stream=True))
    loaded = _records(fashiondata.read(path, "lvis", stream=False).materialize())
    assert streamed == loaded
    assert {r.split for r in streamed} == {"val2017"} and all(r.source == str(path) for r in streamed)
