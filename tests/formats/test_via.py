"""VIA reader: every VIA export in the corpus, generated VIA 2/3 projects, shapes, images, CLI."""

from __future__ import annotations

import json
import math
import shutil
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

import fashiondata
from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.errors import ParseError, ValidationError
from fashiondata.executor import ProcessExecutor
from fashiondata.formats import via
from fashiondata.model import BBox, Polygons

VGG = Path("via_ox_vgg")
SHORTS = Path("via_shorts_detector")
UNIT_TEST = VGG / "via-1.x.y/tests/data/unit_test_annotation2.json"
SAMPLE5 = VGG / "testdata/sample_img5_region_data.json"
SHERLOCK = VGG / "via-2.x.y/data/face_track_annotation/sherlock_ep01_tracks_FRCNN.json"


def read(path: Path, *, on_error: str = "raise", **options):
    ctx = RunContext(on_error=on_error)  # type: ignore[arg-type]
    return via.read([str(path)], ctx, **options), ctx.report


def by_name(dataset):
    return {record.file_name: record for record in dataset.records}


def write_jpeg(path: Path, width: int, height: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))
    assert ok
    path.write_bytes(data.tobytes())


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    "shape, bbox, ring, lossy, skipped, error",
    [
        # rect: the box and its 4-point polygon, coordinates as VIA stored them
        (
            {"name": "rect", "x": 290, "y": 208, "width": 127, "height": 113},
            BBox(290, 208, 127, 113),
            [290, 208, 417, 208, 417, 321, 290, 321],
            None,
            None,
            does_not_raise(),
        ),
        # polygon: the points interleaved, unchanged
        (
            {"name": "polygon", "all_points_x": [1, 5, 3], "all_points_y": [2, 2, 6]},
            BBox(1, 2, 4, 4),
            [1, 2, 5, 2, 3, 6],
            None,
            None,
            does_not_raise(),
        ),
        # polyline of 3 points: closed into a polygon, counted as lossy
        (
            {"name": "polyline", "all_points_x": [1, 5, 3], "all_points_y": [2, 2, 6]},
            BBox(1, 2, 4, 4),
            [1, 2, 5, 2, 3, 6],
            "polyline region closed into a polygon",
            None,
            does_not_raise(),
        ),
        # polyline of 2 points: no area, skipped
        (
            {"name": "polyline", "all_points_x": [1, 5], "all_points_y": [2, 2]},
            None,
            None,
            None,
            "polyline region with fewer than 3 points",
            does_not_raise(),
        ),
        # point: skipped
        ({"name": "point", "cx": 51, "cy": 37}, None, None, None, "point region (no area)", does_not_raise()),
        # empty shape_attributes: skipped
        ({}, None, None, None, "region without a shape", does_not_raise()),
        # x and y lists of different lengths
        (
            {"name": "polygon", "all_points_x": [1, 5, 3], "all_points_y": [2, 2]},
            None,
            None,
            None,
            None,
            pytest.raises(ParseError, match="one length"),
        ),
        # a coordinate that is not a number
        (
            {"name": "rect", "x": "left", "y": 1, "width": 2, "height": 3},
            None,
            None,
            None,
            None,
            pytest.raises(ParseError, match="x must be a finite number"),
        ),
        # unknown shape name
        ({"name": "blob"}, None, None, None, None, pytest.raises(ParseError, match="unknown region shape")),
    ],
)
def test_parse_shape(shape, bbox, ring, lossy, skipped, error):
    with error:
        geometry = via.parse_shape(shape, "p.json", "/r")
        assert geometry.bbox == bbox
        assert (geometry.polygons.rings[0] if geometry.polygons else None) == ring
        assert geometry.lossy == lossy
        assert geometry.skipped == skipped


@pytest.mark.parametrize(
    "shape, rx, ry",
    [
        ({"name": "circle", "cx": 148, "cy": 268, "r": 43}, 43, 43),  # unit_test_annotation2 circle
        ({"name": "ellipse", "cx": 554, "cy": 255, "rx": 33, "ry": 57}, 33, 57),  # its tall ellipse
        ({"name": "ellipse", "cx": 300, "cy": 300, "rx": 120, "ry": 40, "theta": 0.7}, 120, 40),  # rotated
        ({"name": "circle", "cx": 895, "cy": 1011, "r": 97}, 97, 97),  # sample_img5 circle
    ],
)
def test_circle_and_ellipse_polygons_keep_the_area_within_one_percent(shape, rx, ry):
    geometry = via.parse_shape(shape, "p.json", "/r")
    true_area = math.pi * rx * ry
    assert geometry.polygons.area() == pytest.approx(true_area, rel=0.01)
    height, width = 2000, 2000
    assert raster.mask_area(geometry.polygons, height, width) == pytest.approx(true_area, rel=0.01)


def test_rotated_ellipse_follows_theta_in_radians():
    ring = via.parse_shape(
        {"name": "ellipse", "cx": 0, "cy": 0, "rx": 10, "ry": 2, "theta": math.pi / 2}, "p", "/"
    ).polygons.rings[0]
    assert ring[:2] == [0.0, 10.0]  # the long axis turned to vertical
    assert max(ring[0::2]) == pytest.approx(2, abs=0.01)


@pytest.mark.parametrize(
    "xy, expected, error",
    [
        ([1, 5, 6], {"name": "point", "cx": 5, "cy": 6}, does_not_raise()),
        ([2, 10, 20, 50, 80], {"name": "rect", "x": 10, "y": 20, "width": 50, "height": 80}, does_not_raise()),
        ([3, 5, 6, 7], {"name": "circle", "cx": 5, "cy": 6, "r": 7}, does_not_raise()),
        ([4, 5, 6, 7, 8], {"name": "ellipse", "cx": 5, "cy": 6, "rx": 7, "ry": 8}, does_not_raise()),
        ([5, 0, 0, 4, 4], {"name": "polyline", "all_points_x": [0, 4], "all_points_y": [0, 4]}, does_not_raise()),
        (
            [7, 0, 0, 4, 0, 4, 4],
            {"name": "polygon", "all_points_x": [0, 4, 4], "all_points_y": [0, 0, 4]},
            does_not_raise(),
        ),
        (
            [9, 0, 1, 1, 0, -1, 0],
            {"name": "circle", "cx": 0.0, "cy": 0.0, "r": 1.0},
            does_not_raise(),
        ),  # extreme circle
        ([7, 0, 0, 4], None, pytest.raises(ParseError, match="odd coordinates")),
        ([2, 10, 20], None, pytest.raises(ParseError, match="too few")),
        ([42, 1, 2], None, pytest.raises(ParseError, match="unknown VIA 3 shape")),
    ],
)
def test_v3_shape(xy, expected, error):
    with error:
        assert via.v3_shape(xy, "p.json", "/metadata/m/xy") == expected


@pytest.mark.parametrize(
    "name, expected, error",
    [
        ("shorts1.jpeg", "shorts1.jpeg", does_not_raise()),
        ("./images/00011384.jpg", "images/00011384.jpg", does_not_raise()),  # sherlock's prefix
        ("images\\a.jpg", "images/a.jpg", does_not_raise()),
        ("http://example.org/x/y.jpg?token=1", "y.jpg", does_not_raise()),  # remote: by base name
        ("/etc/passwd", None, pytest.raises(ValidationError, match="absolute")),
        ("../../secret.jpg", None, pytest.raises(ValidationError, match="leaves its folder")),
    ],
)
def test_clean_filename(name, expected, error):
    with error:
        assert via.clean_filename(name) == expected


@pytest.mark.parametrize(
    "names, given, expected, error",
    [
        (["shorts"], None, "shorts", does_not_raise()),
        ([], None, None, does_not_raise()),  # no attribute: every region is 'unlabeled'
        (["shape", "size"], "size", "size", does_not_raise()),
        (["shape", "size"], None, None, pytest.raises(ValidationError, match="'shape', 'size'")),
        (["shape"], "kind", None, pytest.raises(ValidationError, match="no such region attribute")),
    ],
)
def test_choose_label_attribute(names, given, expected, error):
    with error:
        assert via.choose_label_attribute(names, given) == expected


@pytest.mark.parametrize(
    "value, expected, error",
    [
        ("shorts", "shorts", does_not_raise()),
        ("  short pants ", "short pants", does_not_raise()),  # stripped
        (320, "320", does_not_raise()),  # numbers are names (sherlock's track ids)
        (["dress"], "dress", does_not_raise()),  # one checked checkbox
        ([], None, does_not_raise()),  # nothing checked: unlabeled
        ("", None, does_not_raise()),
        (None, None, does_not_raise()),
        (["top", "dress"], None, pytest.raises(ParseError, match="several options are checked")),
    ],
)
def test_category_name(value, expected, error):
    with error:
        assert via.category_name(value, "p.json", "/r") == expected


@pytest.mark.parametrize(
    "attribute, raw, expected",
    [
        (via.ViaAttribute("g", "dropdown", {"ss": "short sleeve top"}), "ss", "short sleeve top"),
        (via.ViaAttribute("g", "dropdown", {"shorts": ""}), "shorts", "shorts"),  # empty label: the id
        (via.ViaAttribute("g", "dropdown", {"ss": "short sleeve top"}), "kimono", "kimono"),  # not an option
        (via.ViaAttribute("p", "checkbox", {"a": "adult", "c": "child"}), {"a": True, "c": False}, ["adult"]),
        (via.ViaAttribute("p", "checkbox", {"1": "adult", "2": "child"}), "1,2", ["adult", "child"]),  # VIA 3
        (via.ViaAttribute("t", "text"), "a 'rect' in \"blue\"", "a 'rect' in \"blue\""),
    ],
)
def test_attribute_values_read_as_labels(attribute, raw, expected):
    assert attribute.value(raw) == expected


# ---------------------------------------------------------------- corpus files


def test_shorts_project_names_the_first_missing_image(corpus):
    with pytest.raises(ParseError) as caught:
        read(corpus / SHORTS / "train/via_region_data.json")
    assert "shorts7.jpg" in str(caught.value)
    assert "image not found" in str(caught.value)


def test_shorts_project_skips_missing_images_and_keeps_the_rest(corpus):
    dataset, report = read(corpus / SHORTS / "train/via_region_data.json", on_error="skip")
    project = json.loads((corpus / SHORTS / "train/via_region_data.json").read_text())["_via_img_metadata"]
    records = by_name(dataset)
    present = sorted(p.name for p in (corpus / SHORTS / "train").iterdir() if p.suffix != ".json")
    assert sorted(records) == present  # shorts1.jpeg and shorts18.jpeg share a byte size: both found by name
    assert report.skipped["image not found"] == 10
    assert sorted(item for item, _ in report.skipped_items) == sorted(
        e["filename"] for e in project.values() if e["filename"] not in present
    )
    assert [c.name for c in dataset.categories] == ["shorts"]  # the dropdown option id, its label being empty
    for entry in project.values():
        record = records.get(entry["filename"])
        if record is None:
            continue
        image = cv2.imread(str(corpus / SHORTS / "train" / record.file_name))
        assert (record.width, record.height) == (image.shape[1], image.shape[0])
        (annotation,) = record.annotations
        shape = entry["regions"][0]["shape_attributes"]
        assert annotation.segmentation.rings[0] == [
            v for p in zip(shape["all_points_x"], shape["all_points_y"]) for v in p
        ]
        assert annotation.category_id == 1


def test_two_exports_make_one_dataset_with_paths_under_their_common_folder(corpus):
    ctx = RunContext(on_error="skip")
    sources = [str(corpus / SHORTS / split / "via_region_data.json") for split in ("train", "val")]
    dataset = via.read(sources, ctx)
    names = sorted(r.file_name for r in dataset.records)
    assert names[:2] == ["train/shorts1.jpeg", "train/shorts10.jpg"]
    assert "val/shorts25.jpg" in names and len(names) == 13
    assert ctx.report.skipped["image not found"] == 12


def test_via1_images_are_matched_by_byte_size_when_the_names_differ(corpus):
    dataset, report = read(corpus / UNIT_TEST, on_error="raise")
    records = by_name(dataset)
    assert sorted(records) == ["unit_test_img1.jpg", "unit_test_img2.jpg", "unit_test_img3.jpg"]
    assert records["unit_test_img1.jpg"].attributes["via_filename"] == "test_pattern_qbist.jpg"
    assert [(r.width, r.height) for r in records.values()] == [(640, 480), (640, 480), (640, 427)]
    assert report.skipped["point region (no area)"] == 5
    assert report.lossy[via._LOSSY_ELLIPSE] == 4
    assert sum(len(r.annotations) for r in dataset.records) == 7  # one per rect/circle/ellipse/polygon


def test_via1_regions_as_objects_keep_text_labels_and_file_attributes(corpus):
    dataset, _ = read(corpus / UNIT_TEST)
    records = by_name(dataset)
    names = {c.id: c.name for c in dataset.categories}
    swan = records["unit_test_img2.jpg"]
    assert swan.attributes["caption"] == 'a swan in geneve lake"'
    (polygon,) = swan.annotations
    assert names[polygon.category_id] == 'a "white" swan, good fortune'
    assert polygon.segmentation.rings[0][:4] == [121, 172, 105, 212] and len(polygon.segmentation.rings[0]) == 24
    rect = records["unit_test_img3.jpg"].annotations[1]
    assert names[rect.category_id] == "a 'rect' in \"blue\", background"
    assert rect.bbox == BBox(79, 310, 66, 62)
    unlabeled = [a for a in records["unit_test_img1.jpg"].annotations if names[a.category_id] == "unlabeled"]
    assert len(unlabeled) == 2  # the circle and the ellipse have no 'name'


def test_images_renamed_to_the_json_names_are_found_by_name_before_size(corpus, tmp_path):
    data = corpus / UNIT_TEST.parent
    for index, name in enumerate(
        ["test_pattern_qbist.jpg", "sinus_test_pattern.jpg", "a_swan_swimming_in_geneve_lake.jpg"], 1
    ):
        shutil.copy(data / f"unit_test_img{index}.jpg", tmp_path / name)
    shutil.copy(data / "unit_test_img1.jpg", tmp_path / "decoy_same_size.jpg")  # same bytes, another name
    dataset, report = read(corpus / UNIT_TEST, images=str(tmp_path))
    assert sorted(by_name(dataset)) == [
        "a_swan_swimming_in_geneve_lake.jpg",
        "sinus_test_pattern.jpg",
        "test_pattern_qbist.jpg",
    ]
    assert not report.notes or "byte size" not in " ".join(report.notes)
    assert all("via_filename" not in r.attributes for r in dataset.records)


def test_an_images_folder_that_does_not_exist_is_an_error(corpus, tmp_path):
    with pytest.raises(ValidationError, match="not a folder"):
        read(corpus / UNIT_TEST, images=str(tmp_path / "nowhere"))


def test_two_unclaimed_images_of_the_entry_size_are_ambiguous(corpus, tmp_path):
    data = corpus / UNIT_TEST.parent
    shutil.copy(data / "unit_test_img1.jpg", tmp_path / "one.jpg")
    shutil.copy(data / "unit_test_img1.jpg", tmp_path / "two.jpg")
    with pytest.raises(ParseError, match="cannot tell which"):
        read(corpus / UNIT_TEST, images=str(tmp_path))


def test_early_via1_with_two_region_attributes_needs_a_label_attribute(corpus):
    with pytest.raises(ValidationError, match="'shape', 'size'"):
        read(corpus / SAMPLE5)
    dataset, _ = read(corpus / SAMPLE5, label_attribute="shape")
    records = by_name(dataset)
    assert [c.name for c in dataset.categories] == ["circular", "elliptical", "rectangle", "triangle", "pentagon"]
    assert records["sample_img5a.png"].annotations == ()  # regions: {} → a negative image
    shapes = records["sample_img5b.jpg"].annotations
    assert [a.attributes for a in shapes] == [{"size": str(i)} for i in range(1, 6)]
    assert shapes[3].segmentation.rings[0] == [211, 679, 222, 1096, 582, 872, 211, 679]  # closed, as stored
    image = cv2.imread(str(corpus / SAMPLE5.parent / "sample_img5b.jpg"))
    assert (records["sample_img5b.jpg"].width, records["sample_img5b.jpg"].height) == (image.shape[1], image.shape[0])


def test_annotation_only_export_without_images_is_an_error_or_skipped(corpus):
    with pytest.raises(ParseError, match="00011384.jpg"):
        read(corpus / SHERLOCK)
    dataset, report = read(corpus / SHERLOCK, on_error="skip")
    assert dataset.records == () and report.skipped["image not found"] == 266


def test_annotation_only_export_with_prefixed_names_and_string_sizes(corpus, tmp_path):
    entries = json.loads((corpus / SHERLOCK).read_text())
    for entry in entries.values():
        write_jpeg(tmp_path / entry["filename"], 64, 48)
    dataset, _ = read(corpus / SHERLOCK, images=str(tmp_path))
    records = by_name(dataset)
    assert len(records) == 266
    first = records["images/00011384.jpg"]
    assert (first.width, first.height, dict(first.attributes)) == (64, 48, {"shot": 123})
    (box,) = first.annotations
    assert box.bbox == BBox(325, 113, 103, 132)
    assert dataset.categories.get(box.category_id).name == "320"  # numeric track ids are names


@pytest.mark.parametrize(
    "path",
    [
        VGG / "via-2.x.y/data/face_track_annotation/sherlock_attributes.json",
        VGG / "via-2.x.y/data/coco/coco_2017_snippet.json",
    ],
)
def test_non_via_json_is_refused(corpus, path):
    with pytest.raises(ParseError, match="not a VIA export"):
        read(corpus / path)


# ---------------------------------------------------------------- generated projects


def via2_project(tmp_path: Path) -> Path:
    write_jpeg(tmp_path / "look1.jpg", 320, 240)
    write_jpeg(tmp_path / "look2.png", 100, 100)
    project = {
        "_via_settings": {"core": {"default_filepath": ""}},
        "_via_img_metadata": {
            "look1.jpg123": {
                "filename": "look1.jpg",
                "size": 123,
                "file_attributes": {"people": {"a": True, "c": True}},
                "regions": [
                    {
                        "shape_attributes": {
                            "name": "polygon",
                            "all_points_x": [10, 60, 60],
                            "all_points_y": [10, 10, 80],
                        },
                        "region_attributes": {"garment": "ss", "quality": "g"},
                    },
                    {
                        "shape_attributes": {"name": "ellipse", "cx": 200, "cy": 120, "rx": 40, "ry": 20, "theta": 0.5},
                        "region_attributes": {"garment": "tr"},
                    },
                    {
                        "shape_attributes": {"name": "polyline", "all_points_x": [1, 9, 5], "all_points_y": [1, 1, 9]},
                        "region_attributes": {"garment": "a fur stole"},
                    },
                ],
            },
            "look2.png-1": {"filename": "look2.png", "size": -1, "file_attributes": {}, "regions": []},
        },
        "_via_attributes": {
            "region": {
                "garment": {"type": "dropdown", "options": {"ss": "short sleeve top", "tr": "trousers", "dr": ""}},
                "quality": {"type": "radio", "options": {"g": "good", "b": "bad"}},
            },
            "file": {"people": {"type": "checkbox", "options": {"a": "adult", "c": "child"}}},
        },
        "_via_data_format_version": "2.0.10",
        "_via_image_id_list": ["look2.png-1", "look1.jpg123"],
    }
    path = tmp_path / "project.json"
    path.write_text(json.dumps(project))
    return path


def test_via2_project_maps_option_ids_to_labels(tmp_path):
    dataset, report = read(via2_project(tmp_path), label_attribute="garment")
    assert [c.name for c in dataset.categories] == ["short sleeve top", "trousers", "dr", "a fur stole"]
    look = by_name(dataset)["look1.jpg"]
    assert look.attributes == {"people": ["adult", "child"]}
    top, trousers, stole = look.annotations
    assert (top.category_id, top.attributes) == (1, {"quality": "good"})
    assert trousers.category_id == 2 and len(trousers.segmentation.rings[0]) == 2 * via.ELLIPSE_VERTICES
    assert stole.category_id == 4 and report.lossy["polyline region closed into a polygon"] == 1
    assert by_name(dataset)["look2.png"].annotations == ()


def via3_project(tmp_path: Path) -> Path:
    write_jpeg(tmp_path / "a.jpg", 200, 100)
    project = {
        "project": {"pid": "__VIA_PROJECT_ID__", "pname": "demo", "vid_list": ["1", "2"]},
        "config": {"file": {"loc_prefix": {"1": "", "2": "", "3": "", "4": ""}}},
        "attribute": {
            "1": {"aname": "garment", "anchor_id": "FILE1_Z0_XY1", "type": 4, "options": {"0": "dress", "1": "skirt"}},
            "2": {"aname": "lighting", "anchor_id": "FILE1_Z0_XY0", "type": 3, "options": {"d": "daylight"}},
        },
        "file": {
            "1": {"fid": 1, "fname": "a.jpg", "type": 2, "loc": 1, "src": ""},
            "2": {"fid": 2, "fname": "clip.mp4", "type": 4, "loc": 1, "src": ""},
        },
        "view": {"1": {"fid_list": [1]}, "2": {"fid_list": [2]}},
        "metadata": {
            "1_a": {"vid": "1", "flg": 0, "z": [], "xy": [2, 10, 20, 50, 30], "av": {"1": "0"}},
            "1_b": {"vid": "1", "flg": 0, "z": [], "xy": [7, 0, 0, 40, 0, 40, 40], "av": {"1": "1"}},
            "1_c": {"vid": "1", "flg": 0, "z": [], "xy": [8, 100, 50, 120, 30, 140, 50, 120, 90], "av": {"1": "1"}},
            "1_d": {"vid": "1", "flg": 0, "z": [], "xy": [1, 5, 5], "av": {"1": "0"}},
            "1_e": {"vid": "1", "flg": 0, "z": [], "xy": [], "av": {"2": "d"}},
            "2_a": {"vid": "2", "flg": 0, "z": [1.5], "xy": [2, 1, 1, 5, 5], "av": {"1": "0"}},
        },
    }
    path = tmp_path / "via3.json"
    path.write_text(json.dumps(project))
    return path


def test_via3_project(tmp_path):
    dataset, report = read(via3_project(tmp_path))
    (record,) = dataset.records  # the video file and its temporal metadata are not images
    assert [c.name for c in dataset.categories] == ["dress", "skirt"]
    assert record.attributes == {"lighting": "daylight"}
    rect, polygon, extreme = record.annotations
    assert rect.bbox == BBox(10, 20, 50, 30) and rect.category_id == 1
    assert polygon.segmentation == Polygons(([0, 0, 40, 0, 40, 40],)) and polygon.category_id == 2
    assert extreme.bbox == BBox(100, 30, 40, 60)
    assert report.skipped["point region (no area)"] == 1


# ---------------------------------------------------------------- outputs and CLI


def test_coco_output_loads_in_pycocotools(corpus, tmp_path):
    out = tmp_path / "out.json"
    report = fashiondata.convert(str(corpus / UNIT_TEST), out, dst_format="coco", src_format="via")
    assert report.written["annotations"] == 7
    api = COCO(str(out))
    assert len(api.getImgIds()) == 3 and len(api.getAnnIds()) == 7
    rect = next(a for a in api.loadAnns(api.getAnnIds()) if a["bbox"] == [290, 208, 127, 113])
    assert rect["segmentation"] == [[290, 208, 417, 208, 417, 321, 290, 321]]
    assert min(api.getImgIds()) == 1 and min(api.getAnnIds()) == 1


def test_serial_and_process_executors_write_the_same_bytes(corpus, tmp_path):
    outputs = []
    for name, executor in (("serial.json", None), ("process.json", ProcessExecutor(2))):
        ctx = RunContext(executor=executor) if executor else RunContext()
        fashiondata.convert(str(corpus / UNIT_TEST), tmp_path / name, dst_format="coco", src_format="via", ctx=ctx)
        outputs.append((tmp_path / name).read_bytes())
        if executor:
            executor.close()
    assert outputs[0] == outputs[1]


def test_cli_via2coco(run_cli, corpus, tmp_path):
    out = tmp_path / "shorts.json"
    project = corpus / SHORTS / "val/via_region_data.json"
    result = run_cli("convert", "via2coco", project, out, "--images", project.parent, "--on-error", "skip", "--quiet")
    assert result.exit_code == 0, result.output
    assert len(COCO(str(out)).getImgIds()) == 3


def test_cli_via2coco_missing_image_is_one_line_and_writes_nothing(run_cli, corpus, tmp_path):
    out = tmp_path / "shorts.json"
    project = corpus / SHORTS / "val/via_region_data.json"
    result = run_cli("convert", "via2coco", project, out, "--images", project.parent, "--quiet")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "shorts22.png" in line and "image not found" in line
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_refuses_an_attribute_definition_file(run_cli, corpus, tmp_path):
    out = tmp_path / "x.json"
    result = run_cli(
        "convert", "via2coco", corpus / VGG / "via-2.x.y/data/face_track_annotation/sherlock_attributes.json", out
    )
    assert result.exit_code == 2 and "not a VIA export" in result.stderr and not out.exists()


def test_cli_label_attribute_flag(run_cli, corpus, tmp_path):
    out = tmp_path / "x.json"
    result = run_cli("convert", "via2coco", corpus / SAMPLE5, out, "--label-attribute", "size", "--quiet")
    assert result.exit_code == 0, result.output
    assert [c["name"] for c in json.loads(out.read_text())["categories"]] == ["1", "2", "3", "4", "5"]


# ---------------------------------------------------------------- bundled fixtures


@pytest.mark.parametrize("name", ["via_project.json", "via_export.json", "via3_project.json"])
def test_the_shop_fixture_reads_alike_in_vgg2_project_export_and_via3(fixtures, name):
    dataset, _ = read(fixtures / "via/shop" / name, label_attribute="garment")
    assert [c.name for c in dataset.categories] == ["top", "trousers", "skirt", "dress"]
    records = by_name(dataset)
    assert [(r.width, r.height) for r in records.values()] == [(160, 120), (120, 160)]
    assert records["look2.jpg"].attributes["people"] == ["adult", "child"]
    summary = [
        (dataset.categories.get(a.category_id).name, a.bbox) for record in records.values() for a in record.annotations
    ]
    assert [name for name, _ in summary] == ["top", "trousers", "skirt", "dress"]
    assert summary[1][1] == BBox(50, 72, 60, 40)
    assert summary[3][1] == BBox(40.0, 15.0, 40.0, 40.0)  # the circle's 64-gon touches its extremes


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("missing_image.json", {"label_attribute": "garment"}, "missing.jpg"),
        ("traversal.json", {}, "leaves its folder"),
        ("sherlock_attributes.json", {}, "not a VIA export"),
    ],
)
def test_broken_fixtures(fixtures, name, options, message):
    with pytest.raises(ParseError, match=message):
        via.read([str(fixtures / "via/broken" / name)], RunContext(), images=str(fixtures / "via/shop"), **options)


def test_documented_command_on_the_fixture(run_cli, fixtures, tmp_path):
    out = tmp_path / "shop_coco.json"
    result = run_cli(
        "convert", "via2coco", fixtures / "via/shop/via_project.json", out, "--label-attribute", "garment", "--quiet"
    )
    assert result.exit_code == 0, result.output
    api = COCO(str(out))
    assert len(api.getAnnIds()) == 4
    assert [api.imgs[i]["people"] for i in sorted(api.imgs)] == [["adult"], ["adult", "child"]]
    assert [a["occluded"] for a in api.loadAnns(sorted(api.getAnnIds()))] == [
        "not occluded",
        "occluded",
        "not occluded",
        "not occluded",
    ]


@pytest.mark.parametrize(
    "path, options, images, annotations",
    [
        (SHORTS / "train/via_region_data.json", {}, 10, 10),
        (SHORTS / "val/via_region_data.json", {}, 3, 3),
        (UNIT_TEST, {}, 3, 7),
        (SAMPLE5, {"label_attribute": "shape"}, 2, 5),
        (SHERLOCK, {}, 0, 0),  # no images at all: an empty but valid COCO file
    ],
)
def test_every_corpus_export_converts_to_coco_that_pycocotools_loads(
    corpus, tmp_path, path, options, images, annotations
):
    out = tmp_path / "out.json"
    ctx = RunContext(on_error="skip")
    fashiondata.convert(str(corpus / path), out, src_format="via", dst_format="coco", ctx=ctx, **options)
    api = COCO(str(out))
    assert (len(api.getImgIds()), len(api.getAnnIds())) == (images, annotations)
    for annotation in api.loadAnns(api.getAnnIds()):
        image = api.imgs[annotation["image_id"]]
        assert api.annToMask(annotation).shape == (image["height"], image["width"])


def test_an_unreadable_image_is_an_error_or_skipped(tmp_path):
    project = via2_project(tmp_path)
    (tmp_path / "look2.png").write_bytes(b"not an image at all")
    with pytest.raises(ParseError, match="look2.png"):
        read(project, label_attribute="garment")
    dataset, report = read(project, label_attribute="garment", on_error="skip")
    assert [r.file_name for r in dataset.records] == ["look1.jpg"]
    assert [item for item, _ in report.skipped_items] == [str(tmp_path / "look2.png")]


def test_coco_written_from_via_reads_back_the_same(fixtures, tmp_path):
    source = fixtures / "via/shop/via_project.json"
    dataset, _ = read(source, label_attribute="garment")
    out = tmp_path / "shop.json"
    fashiondata.convert(str(source), out, src_format="via", dst_format="coco", label_attribute="garment")
    back = fashiondata.read(str(out), "coco").materialize()
    assert [(c.id, c.name) for c in back.categories] == [(c.id, c.name) for c in dataset.categories]
    for mine, theirs in zip(
        sorted(dataset.records, key=lambda r: r.file_name), sorted(back.records, key=lambda r: r.file_name)
    ):
        assert (mine.file_name, mine.width, mine.height) == (theirs.file_name, theirs.width, theirs.height)
        assert [(a.category_id, list(a.bbox), [list(r) for r in a.segmentation.rings]) for a in mine.annotations] == [
            (a.category_id, list(a.bbox), [list(r) for r in a.segmentation.rings]) for a in theirs.annotations
        ]
        assert theirs.attributes["people"] == mine.attributes["people"]
