"""The LVIS reader on the real LVIS v0.5 sample (shared corpus) and on the generated v1 fixture."""

from __future__ import annotations

import gc
import json
from collections import Counter
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import pytest

import fashiondata
from fashiondata.categories import select_categories
from fashiondata.context import RunContext
from fashiondata.errors import ParseError
from fashiondata.formats import lvis
from fashiondata.registry import sniff_format

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lvis"


@pytest.fixture(scope="module")
def sample(corpus: Path) -> Path:
    return corpus / "lvis_api" / "data" / "lvis_val_100.json"


def test_reads_the_real_v05_sample(sample):
    dataset = lvis.read([str(sample)], RunContext()).materialize()
    assert (len(dataset.records), sum(len(r.annotations) for r in dataset.records)) == (100, 977)
    assert len(dataset.categories) == 1230
    record = dataset.records[0]
    assert record.file_name.startswith("COCO_val2014_")  # v0.5 keeps its file_name
    assert record.split == "val2017"  # the split comes from coco_url
    assert record.source == str(sample)
    assert "neg_category_ids" in record.attributes and "not_exhaustive_category_ids" in record.attributes
    trousers = dataset.categories.get(1143)
    assert trousers.attributes["synset"] == "trouser.n.01" and trousers.attributes["frequency"] in "rcf"
    assert all(not a.iscrowd for r in dataset.records for a in r.annotations)  # no iscrowd key: 0


def test_counts_per_category_equal_a_direct_count(sample):
    report = fashiondata.info(sample)
    doc = json.loads(sample.read_text())
    names = {c["id"]: c["name"] for c in doc["categories"]}
    direct = Counter(names[a["category_id"]] for a in doc["annotations"])
    assert {k: v for k, v in report.data["info"]["per_category"].items() if v} == dict(direct)


@pytest.mark.parametrize(
    "token, name",
    [
        ("trousers", "trousers"),  # name
        ("pants_(clothing)", "trousers"),  # synonym
        ("Shorts (clothing)", "short_pants"),  # synonym, any spelling
        (1060, "sweat_pants"),  # id (LVIS v0.5 numbering)
        ("1060", "sweat_pants"),
    ],
)
def test_category_lookup_by_name_synonym_or_id(sample, token, name):
    dataset = lvis.read([str(sample)], RunContext())
    assert dataset.categories.resolve(token).name == name


def test_v1_file_name_and_split_come_from_coco_url():
    dataset = lvis.read([str(FIXTURE / "lvis_v1_val.json")], RunContext()).materialize()
    assert {(r.file_name, r.split) for r in dataset.records} >= {
        ("000000000101.jpg", "val2017"),
        ("000000000104.jpg", "train2017"),  # LVIS val holds train2017 images
    }


def test_sniffed_as_lvis_not_coco(sample):
    assert sniff_format(sample).name == "lvis"
    assert sniff_format(FIXTURE / "lvis_v1_train.json").name == "lvis"


def test_category_id_lists_follow_subset_and_rename():
    dataset = lvis.read([str(FIXTURE / "lvis_v1_train.json")], RunContext())
    chosen = select_categories(dataset, "trousers,short_pants", "pants").materialize()
    by_name = {r.file_name: r for r in chosen.records}
    assert by_name["000000000006.jpg"].attributes["neg_category_ids"] == [1122]  # trousers is pants' id
    assert by_name["000000000007.jpg"].attributes["neg_category_ids"] == []  # dress: not selected
    assert by_name["000000000010.jpg"].attributes["not_exhaustive_category_ids"] == [1122]  # short_pants merged


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://images.cocodataset.org/train2017/000000391895.jpg", ("train2017", "000000391895.jpg")),
        ("http://images.cocodataset.org/000000391895.jpg", (None, "000000391895.jpg")),  # host, no folder
        ("val2017/a.jpg", ("val2017", "a.jpg")),
        ("a.jpg", (None, "a.jpg")),
    ],
)
def test_split_file_name(url, expected):
    assert lvis.split_file_name(url) == expected


@pytest.mark.parametrize(
    "image, error",
    [
        ({"id": 1, "width": 4, "height": 4, "coco_url": "http://x.org/train2017/a.jpg"}, does_not_raise()),
        ({"id": 1, "width": 4, "height": 4}, pytest.raises(ParseError, match="file_name or a coco_url")),
        (
            {"id": 1, "width": 4, "height": 4, "file_name": "a.jpg", "neg_category_ids": [1, "x"]},
            pytest.raises(ParseError, match="neg_category_ids"),
        ),
    ],
)
def test_image_errors_name_the_place(tmp_path, image, error):
    path = tmp_path / "lvis_v1_val.json"
    path.write_text(json.dumps({"images": [image], "annotations": [], "categories": []}))
    with error as caught:
        lvis.read([str(path)], RunContext())
    if caught is not None:
        assert caught.value.location.startswith("/images/0")


def test_the_parsed_document_is_frozen_for_the_collector_until_its_records_are_taken(sample):
    assert gc.get_freeze_count() == 0
    dataset = fashiondata.read(sample, "lvis")
    assert gc.get_freeze_count() > 0  # the collector's next pass does not walk the document
    dataset.materialize()
    assert gc.get_freeze_count() == 0
    unread = fashiondata.read(sample, "lvis")
    assert gc.get_freeze_count() > 0
    del unread  # records never taken: unfrozen when dropped
    assert gc.get_freeze_count() == 0


def test_objects_the_caller_froze_stay_frozen(sample):
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        fashiondata.read(sample, "lvis").materialize()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
