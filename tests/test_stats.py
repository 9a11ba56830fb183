"""Statistics: every number on a hand-built COCO file, both tally paths, merging, the HTML report."""

from __future__ import annotations

import base64
import re
import sys
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fashiondata
from fashiondata import stats as statistics
from fashiondata.context import RunContext
from fashiondata.errors import MissingDependencyError, ParseError, ValidationError
from fashiondata.executor import ProcessExecutor
from fashiondata.model import BBox, CategoryTable, ImageRecord, Polygons, Rle

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stats" / "instances_stats.json"

# Worked out by hand from fixtures/stats/instances_stats.json:
# images 1: 512x512 (262,144 px), 2: 600x400 (240,000), 3: 451x300 (135,300), 4: 512x512 with nothing.
# annotation  image  category  area (source)              mask ratio                 COCO class
#   1          1      person    10000 (given)              10000/262144 = 0.03814697  large
#   2          1      top        1200 (shoelace, closed)    1200/262144 = 0.00457764  medium
#   3          1      top         150 (given, 2 rings)       150/262144 = 0.00057220  small
#   8          1      person     1600 (given, no mask)      -                          medium
#   4          2      person      600 (bbox 20x30)          -                          small
#   5          2      pants      2400 (RLE runs, crowd)     2400/240000 = 0.01        medium
#   6          3      top      135300 (given)             135300/135300 = 1 (bin 19)  large
#   7          3      person    20000 (given)              20000/135300 = 0.14781966  large
# mask ratio mean = 1.20111647 / 6; person (0.03814697 + 0.14781966) / 2; top 1.00514984 / 3.
# rings: 4, 4 (5 points, last repeats the first), 3 + 4, 4, 4 → 23 vertices / 6 rings.
EXPECTED = {
    "images": 4,
    "annotations": 8,
    "categories": 4,
    "empty_images": 1,
    "crowd_annotations": 1,
    "instances_per_image": {"mean": 2.0, "histogram": {"0": 1, "2": 2, "4": 1}},
    "polygons": {"count": 6, "vertices_mean": 3.833333, "vertices_histogram": {"3": 1, "4": 5}},
    "image_size": {
        "megapixels_mean": 0.224897,  # (262144 + 240000 + 135300 + 262144) / 4 / 1e6
        "megapixels_histogram": {"0": 2, "0.25": 2},
        "width": {"min": 451, "max": 600},
        "height": {"min": 300, "max": 512},
    },
    "mask_area_ratio": {"masks": 6, "mean": 0.200186, "histogram": [4, 0, 1] + [0] * 16 + [1]},
    "area_classes": {"small": 2, "medium": 3, "large": 3},
    "per_category": [
        {"id": 1, "name": "person", "instances": 4, "images": 3, "share": 0.5, "mask_area_ratio": 0.092983},
        {"id": 2, "name": "top", "instances": 3, "images": 2, "share": 0.375, "mask_area_ratio": 0.33505},
        {"id": 3, "name": "pants", "instances": 1, "images": 1, "share": 0.125, "mask_area_ratio": 0.01},
        {"id": 5, "name": "dress", "instances": 0, "images": 0, "share": 0.0, "mask_area_ratio": None},
    ],
    "attributes": {
        "image": {"license": {"1": 4}, "people": {"none": 2, "one": 2}},
        "annotation": {"occlusion": {"1": 2, "2": 1}, "viewpoint": {"frontal": 1}},
        "not_counted": {},
    },
    "persons": {"source": "annotations", "0": 1, "1": 2, "many": 1, "shares": {"0": 0.25, "1": 0.5, "many": 0.25}},
}


def generic_stats(paths: list[Path], chunk: int = statistics.CHUNK) -> dict:
    """The record path (what every non-COCO format takes), with chunks of ``chunk`` records."""
    dataset = fashiondata.read([str(p) for p in paths], "coco")
    person_ids = statistics.person_category_ids(dataset.categories)
    step = statistics.TallyChunk(person_ids)
    tally = statistics.merge_all(step(c) for c in statistics.iter_chunks(dataset.records, chunk))
    return tally.to_dict(dataset.categories, persons_source="annotations")


def test_every_number_on_the_hand_built_file_is_exact() -> None:
    assert fashiondata.api.stats(FIXTURE).data["stats"] == EXPECTED


@pytest.mark.parametrize("chunk", [1, 2, 3, 512])
def test_record_path_in_any_chunking_gives_the_coco_fast_path_numbers(chunk: int) -> None:
    assert generic_stats([FIXTURE], chunk) == EXPECTED


def test_streaming_read_in_bounded_memory_gives_the_same_numbers() -> None:
    assert fashiondata.api.stats(FIXTURE, stream=True).data["stats"] == EXPECTED


def test_two_files_take_the_executor_path_and_process_pool_matches_serial() -> None:
    serial = fashiondata.api.stats([FIXTURE, FIXTURE], ctx=RunContext()).data["stats"]
    executor = ProcessExecutor(2)
    try:
        pooled = fashiondata.api.stats([FIXTURE, FIXTURE], ctx=RunContext(executor=executor)).data["stats"]
    finally:
        executor.close()
    assert serial == pooled
    assert (serial["images"], serial["annotations"], serial["empty_images"]) == (8, 16, 2)
    assert serial["per_category"][0]["mask_area_ratio"] == EXPECTED["per_category"][0]["mask_area_ratio"]


def test_read_counts_go_to_the_report() -> None:
    report = fashiondata.api.stats(FIXTURE)
    assert (report.read["images"], report.read["annotations"]) == (4, 8)


def test_bad_coco_raises_the_readers_parse_error_with_its_pointer(tmp_path: Path) -> None:
    doc = orjson.loads(FIXTURE.read_bytes())
    doc["annotations"][2]["image_id"] = 99
    path = tmp_path / "instances_bad.json"
    path.write_bytes(orjson.dumps(doc))
    with pytest.raises(ParseError) as caught:
        fashiondata.api.stats(path)
    assert caught.value.location == "/annotations/2/image_id"


BROKEN_COCO = sorted((FIXTURE.parents[1] / "broken").glob("coco_*.json"))


@pytest.mark.parametrize("path", BROKEN_COCO, ids=[p.name for p in BROKEN_COCO])
def test_the_fast_path_refuses_what_the_reader_refuses_with_its_error(path: Path) -> None:
    with pytest.raises(ParseError) as by_reader:
        fashiondata.info(path, "coco")
    with pytest.raises(ParseError) as by_stats:
        fashiondata.api.stats(path, "coco")
    assert str(by_stats.value) == str(by_reader.value)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["annotations"][0].update(area="10000"),  # a string is not a number
        lambda d: d["annotations"][1]["segmentation"][0].__setitem__(3, "4"),  # a string coordinate
        lambda d: d["annotations"][5]["segmentation"]["counts"].append(1),  # RLE runs exceed h*w
        lambda d: d["annotations"][0].update(bbox=[0, 0, -1, 4]),  # negative box
        lambda d: d["images"][0].update(file_name="../up.jpg"),  # leaves the folder
        lambda d: d["annotations"][0].update(category_id=True),  # bool is not an id
    ],
)
def test_the_fast_path_falls_back_to_the_readers_error(tmp_path: Path, change) -> None:
    doc = orjson.loads(FIXTURE.read_bytes())
    change(doc)
    path = tmp_path / "instances_changed.json"
    path.write_bytes(orjson.dumps(doc))
    with pytest.raises(ParseError) as by_reader:
        fashiondata.info(path, "coco")
    with pytest.raises(ParseError) as by_stats:
        fashiondata.api.stats(path)
    assert str(by_stats.value) == str(by_reader.value)


@pytest.mark.parametrize(
    "area, expected",
    [
        (0, "small"),
        (32 * 32 - 0.5, "small"),
        (32 * 32, "medium"),  # COCOeval's boundaries: [0, 32²), [32², 96²), [96², ∞)
        (96 * 96 - 1, "medium"),
        (96 * 96, "large"),
    ],
)
def test_area_class(area: float, expected: str) -> None:
    assert statistics.area_class(area) == expected


@pytest.mark.parametrize(
    "segmentation, expected",
    [
        (Polygons(([0, 0, 4, 0, 4, 3, 0, 3],)), 12.0),  # shoelace
        (Polygons(([0, 0, 2, 0, 0, 2], [10, 10, 12, 10, 10, 12])), 4.0),  # two parts add up
        (Rle((2, 3), [1, 2, 1, 2]), 4.0),  # uncompressed: the odd runs are foreground
        (Rle((2, 2), "04"), 4.0),  # compressed "04" = runs [0, 4]: all four pixels
    ],
)
def test_segmentation_area_without_pixels(segmentation: Polygons | Rle, expected: float) -> None:
    assert statistics.segmentation_area(segmentation) == expected


@pytest.mark.parametrize(
    "ring, expected",
    [
        ([0, 0, 1, 0, 1, 1], 3),  # a triangle
        ([0, 0, 1, 0, 1, 1, 0, 0], 3),  # the same, closed by repeating the first point
        ([0, 0, 1, 0], 2),  # degenerate, counted as written
    ],
)
def test_true_vertex_count(ring: list[float], expected: int) -> None:
    tally = statistics.Tally()
    tally.add_record(ImageRecord("a.jpg", 10, 10, (fashiondata.Annotation(1, segmentation=Polygons((ring,))),)))
    assert dict(tally.vertices_per_polygon) == {expected: 1}


@pytest.mark.parametrize(
    "count, expected, error",
    [
        (0, "0", does_not_raise()),
        (1, "1", does_not_raise()),
        (2, "many", does_not_raise()),
        (7, "many", does_not_raise()),
    ],
)
def test_persons_bucket(count: int, expected: str, error) -> None:
    with error:
        assert statistics.persons_bucket(count) == expected


def test_attribute_with_too_many_values_is_listed_not_counted() -> None:
    records = [ImageRecord(f"{i}.jpg", 4, 4, attributes={"date": f"2020-01-{i}", "people": "one"}) for i in range(60)]
    stats = statistics.TallyChunk()(records).to_dict(CategoryTable())
    assert stats["attributes"]["image"] == {"people": {"one": 60}}
    assert stats["attributes"]["not_counted"] == {"image.date": "more than 50 distinct values"}


def test_via_checkbox_attributes_count_each_ticked_option(fixtures: Path) -> None:
    report = fashiondata.api.stats(fixtures / "via" / "shop" / "via_project.json", label_attribute="garment")
    attributes = report.data["stats"]["attributes"]
    assert attributes["image"] == {"people": {"adult": 2, "child": 1}}  # look1: adult; look2: adult, child
    assert attributes["annotation"] == {"occluded": {"not occluded": 3, "occluded": 1}}


def test_deepfashion2_item_attributes(fixtures: Path) -> None:
    attributes = fashiondata.api.stats(fixtures / "df2" / "train").data["stats"]["attributes"]["annotation"]
    assert {k: attributes[k] for k in ("occlusion", "scale", "viewpoint", "zoom_in")} == {
        "occlusion": {"1": 4, "3": 1},
        "scale": {"2": 3, "1": 1, "3": 1},
        "viewpoint": {"2": 4, "3": 1},
        "zoom_in": {"1": 4, "2": 1},
    }


def test_merging_attribute_tallies_is_associative() -> None:
    records = [
        ImageRecord(f"{i}.jpg", 4, 4, attributes={"n": i % 30, "tags": [{"a": 1}] if i == 5 else "x"})
        for i in range(60)
    ]
    whole = statistics.TallyChunk()(records).to_dict(CategoryTable())
    left = statistics.TallyChunk()(records[:20]).merge(statistics.TallyChunk()(records[20:40]))
    right = statistics.TallyChunk()(records[40:])
    assert left.merge(right).to_dict(CategoryTable()) == whole
    assert whole["attributes"]["not_counted"] == {"image.tags": "values are nested lists or objects"}
    assert whole["attributes"]["image"]["n"]["0"] == 2


@st.composite
def records(draw) -> list[ImageRecord]:
    """Random records whose mask ratios are exact binary fractions (64x64 images, integer areas), so
    any merge order gives the same floats bit for bit."""
    out = []
    for index in range(draw(st.integers(0, 12))):
        annotations = []
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(["polygon", "rle", "box"]))
            ring = [0, 0, draw(st.integers(1, 64)), 0, 0, draw(st.integers(1, 64))]
            segmentation = {
                "polygon": Polygons((ring + ([0, 0] if draw(st.booleans()) else []),)),
                "rle": Rle((64, 64), [4096 - 16, 16]),
                "box": None,
            }[kind]
            annotations.append(
                fashiondata.Annotation(
                    draw(st.integers(1, 3)),
                    BBox(0, 0, 4, 4),
                    segmentation,
                    area=float(draw(st.integers(0, 5000))) if draw(st.booleans()) else None,
                    attributes={"occlusion": draw(st.integers(1, 3))},
                )
            )
        out.append(
            ImageRecord(
                f"{index}.jpg",
                64,
                64,
                tuple(annotations),
                attributes={"people": draw(st.sampled_from(["one", "none"]))},
            )
        )
    return out


@settings(max_examples=60, deadline=None)
@given(records(), st.integers(0, 12), st.integers(0, 12))
def test_tally_merge_is_associative_in_any_split(items: list[ImageRecord], i: int, j: int) -> None:
    i, j = sorted((min(i, len(items)), min(j, len(items))))
    step = statistics.TallyChunk(frozenset({1}))
    table = CategoryTable.from_names(["person", "top", "pants"])
    whole = step(items).to_dict(table, persons_source="annotations")
    left = step(items[:i]).merge(step(items[i:j])).merge(step(items[j:]))
    right = step(items[:i]).merge(step(items[i:j]).merge(step(items[j:])))
    assert left.to_dict(table, persons_source="annotations") == whole
    assert right.to_dict(table, persons_source="annotations") == whole


def test_category_table_in_detectron2_style() -> None:
    lines = statistics.format_category_table(EXPECTED)
    assert lines == [
        "| category | #instances | #images |  share  | mask/image |",
        "|:--------:|:-----------|:--------|:--------|:-----------|",
        "|  person  | 4          | 3       | 50.00%  | 0.0930     |",
        "|   top    | 3          | 2       | 37.50%  | 0.3351     |",
        "|  pants   | 1          | 1       | 12.50%  | 0.0100     |",
        "|  dress   | 0          | 0       | 0.00%   | -          |",
        "|  total   | 8          | 4       | 100.00% | 0.2002     |",
    ]


def test_detect_adds_colour_and_face_shares(sample_photos: Path) -> None:
    stats = fashiondata.api.stats(FIXTURE, detect=True, images=sample_photos).data["stats"]
    assert stats["detect"] == {
        "color_checked": 4,
        "color": {"color": 3, "monochrome": 0, "grayscale": 1, "bw": 0},
        "grayscale_share": 0.25,
        "faces_checked": 4,
        "selfies": 0,
        "selfie_share": 0.0,
    }
    assert stats["persons"]["source"] == "annotations"  # the dataset has a person category
    assert {k: v for k, v in stats.items() if k != "detect"} == EXPECTED


def test_without_a_person_category_persons_come_from_faces(tmp_path: Path, sample_photos: Path) -> None:
    doc = orjson.loads(FIXTURE.read_bytes())
    doc["categories"][0]["name"] = "model"  # no person category any more
    path = tmp_path / "instances_no_person.json"
    path.write_bytes(orjson.dumps(doc))
    assert "persons" not in fashiondata.api.stats(path).data["stats"]
    stats = fashiondata.api.stats(path, detect=True, images=sample_photos).data["stats"]
    # faces: astronaut.jpg 1, astronaut_gray.png 1, coffee.jpg 0, chelsea.jpg 0
    assert stats["persons"] == {
        "source": "faces",
        "0": 2,
        "1": 2,
        "many": 0,
        "shares": {"0": 0.5, "1": 0.5, "many": 0.0},
    }


def test_detect_with_a_missing_image_follows_on_error(tmp_path: Path, sample_photos: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fashiondata.api.stats(FIXTURE, detect=True, checks="color", images=tmp_path)
    ctx = RunContext(on_error="skip")
    report = fashiondata.api.stats(FIXTURE, detect=True, checks="color", images=tmp_path, ctx=ctx)
    assert sum(report.skipped.values()) == 4
    assert report.data["stats"]["images"] == 4  # the annotations are still counted
    assert report.data["stats"]["detect"]["color_checked"] == 0


def test_detection_options_without_detect_are_refused() -> None:
    with pytest.raises(ValidationError, match="--detect"):
        fashiondata.api.stats(FIXTURE, checks="color")


def test_html_report_is_self_contained_with_its_plots(tmp_path: Path) -> None:
    out = tmp_path / "report"
    report = fashiondata.api.stats(FIXTURE, report_dir=out)
    assert sorted(p.name for p in out.iterdir()) == [
        "categories.png",
        "image_sizes.png",
        "index.html",
        "instances_per_image.png",
        "mask_area_ratio.png",
        "stats.json",
        "vertices_per_polygon.png",
    ]
    assert orjson.loads((out / "stats.json").read_bytes()) == EXPECTED
    page = (out / "index.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(embedded) == 5
    assert all(base64.b64decode(e).startswith(b"\x89PNG") for e in embedded)
    assert base64.b64decode(embedded[0]) == (out / "categories.png").read_bytes()
    assert "http" not in page.replace("http-equiv", "")  # nothing to fetch: opens offline
    assert "<td>person</td>" in page
    assert report.outputs == [str(out)]


def test_report_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(fashiondata.errors.OutputExistsError):
        fashiondata.api.stats(FIXTURE, report_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_report_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(MissingDependencyError, match=r"fashiondata\[report\]"):
        fashiondata.api.stats(FIXTURE, report_dir=tmp_path / "r")
    assert not (tmp_path / "r").exists()
