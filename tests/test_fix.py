"""fix: repairs into a new dataset, each change reported; the output validates clean."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools.coco import COCO

from fashiondata import raster
from fashiondata.api import fix, validate
from fashiondata.errors import OutputExistsError, ValidationError
from fashiondata.fix import clip_bbox, repair_annotation, repair_rings
from fashiondata.geometry import bridge_rings
from fashiondata.model import Annotation, BBox, Polygons, Rle
from fashiondata.validate import check_rings

SQUARE = [0, 0, 4, 0, 4, 4, 0, 4]


@pytest.mark.parametrize(
    "rings, expected_rings, expected_codes",
    [
        ([SQUARE], [SQUARE], []),  # clean: kept as is, same object values
        ([[0, 0, 4, 0]], [], ["dropped-ring"]),  # 4 numbers
        ([[0, 0, 1, 1, 2, 2]], [], ["dropped-ring"]),  # collinear
        ([SQUARE, [1, 1]], [SQUARE], ["dropped-ring"]),  # one degenerate ring among good ones
        (  # a bow tie becomes its two triangles
            [[0, 0, 4, 4, 4, 0, 0, 4]],
            [[0.0, 0.0, 2.0, 2.0, 0.0, 4.0], [2.0, 2.0, 4.0, 0.0, 4.0, 4.0]],
            ["made-valid"],
        ),
        ([[8, 8, 12, 8, 12, 12, 8, 12]], [[8.0, 8.0, 10.0, 8.0, 10.0, 10.0, 8.0, 10.0]], ["clipped-polygon"]),
        ([[20, 20, 30, 20, 30, 30]], [], ["clipped-polygon", "dropped-ring"]),  # wholly outside
    ],
)
def test_repair_rings(rings, expected_rings, expected_codes) -> None:
    repaired, changes = repair_rings(rings, 10, 10)
    assert repaired == expected_rings
    assert [code for code, _ in changes] == expected_codes


@pytest.mark.parametrize(
    "bbox, expected",
    [
        (BBox(1, 1, 2, 2), BBox(1, 1, 2, 2)),  # inside
        (BBox(-2, -1, 5, 5), BBox(0, 0, 3, 4)),  # over the top-left corner
        (BBox(8, 8, 5, 5), BBox(8, 8, 2, 2)),  # over the bottom-right corner
        (BBox(12, 0, 3, 3), BBox(10, 0, 0, 3)),  # wholly right of the image: zero width
    ],
)
def test_clip_bbox(bbox, expected) -> None:
    assert clip_bbox(bbox, 10, 10) == expected


@pytest.mark.parametrize(
    "annotation, expected, codes",
    [
        (Annotation(1, bbox=BBox(0, 0, 4, 4)), Annotation(1, bbox=BBox(0, 0, 4, 4)), []),
        (Annotation(1, bbox=BBox(8, 8, 4, 4), area=16), Annotation(1, bbox=BBox(8, 8, 2, 2)), ["clipped-bbox"]),
        (Annotation(1, bbox=BBox(12, 0, 3, 3)), None, ["clipped-bbox", "dropped-annotation"]),
        (Annotation(1, segmentation=Rle((5, 10), "x")), None, ["dropped-annotation"]),  # wrong size
        (
            Annotation(1, bbox=BBox(0, 0, 9, 9), segmentation=Polygons(([0, 0, 4, 0], SQUARE)), area=16),
            Annotation(1, bbox=BBox(0, 0, 4, 4), segmentation=Polygons((SQUARE,))),  # box from the rings
            ["dropped-ring"],
        ),
        (Annotation(1, segmentation=Polygons(([0, 0, 4, 0],))), None, ["dropped-ring", "dropped-annotation"]),
    ],
)
def test_repair_annotation(annotation, expected, codes) -> None:
    repaired, changes = repair_annotation(annotation, 10, 10)
    assert repaired == expected
    assert [code for code, _ in changes] == codes


@pytest.fixture
def broken_coco(tmp_path: Path) -> Path:
    def ann(i, **extra):
        return {"id": i, "image_id": 1, "category_id": 1, "iscrowd": 0, **extra}

    doc = {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 40, "height": 30},
            {"id": 1, "file_name": "b.jpg", "width": 40, "height": 30},  # duplicate id: dropped
        ],
        "annotations": [
            ann(1, bbox=[0, 0, 10, 10], segmentation=[SQUARE]),  # clean
            ann(1, bbox=[0, 0, 4, 4], segmentation=[[0, 0, 4, 4, 4, 0, 0, 4]]),  # repeated id, bow tie
            ann(0, bbox=[35, 25, 10, 10]),  # id 0, over the corner
            {**ann(4, bbox=[0, 0, 2, 2]), "category_id": 7},  # undeclared category
            ann(5, segmentation=[[0, 0, 4, 0]]),  # 4 numbers only
            ann(6, image_id=3, bbox=[0, 0, 1, 1]),  # orphan
        ],
        "categories": [{"id": 0, "name": "top"}, {"id": 1, "name": "pants"}],
    }
    path = tmp_path / "in" / "instances.json"
    path.parent.mkdir()
    path.write_text(json.dumps(doc))
    return path


def test_fix_writes_a_clean_new_dataset_and_reports_each_change(broken_coco: Path, tmp_path: Path) -> None:
    before = broken_coco.read_bytes()
    out = tmp_path / "out" / "fixed.json"
    report = fix(broken_coco, out)
    assert broken_coco.read_bytes() == before
    assert [(f.code, f.location) for f in report.findings] == [
        ("dropped-entry", "/images/1/id"),
        ("dropped-entry", "/annotations/5/image_id"),
        ("renumbered-categories", None),
        ("made-valid", "annotation 1"),
        ("clipped-bbox", "annotation 2"),
        ("dropped-annotation", "annotation 3"),
        ("dropped-ring", "annotation 4"),
        ("dropped-annotation", "annotation 4"),
        ("cleared-annotation-id", "annotation 1"),
        ("cleared-annotation-id", "annotation 2"),
    ]
    assert report.data["fix"]["dropped-annotation"] == 2
    assert validate(out).findings == []
    coco = COCO(str(out))  # the reference reader takes it
    assert sorted(coco.getCatIds()) == [1, 2]
    assert len(coco.getAnnIds()) == 3
    bow_tie = coco.loadAnns(coco.getAnnIds())[1]
    assert bow_tie["segmentation"] == [[0.0, 0.0, 2.0, 2.0, 0.0, 4.0], [2.0, 2.0, 4.0, 0.0, 4.0, 4.0]]


def test_fix_is_deterministic(broken_coco: Path, tmp_path: Path) -> None:
    fix(broken_coco, tmp_path / "1.json")
    fix(broken_coco, tmp_path / "2.json")
    assert (tmp_path / "1.json").read_bytes() == (tmp_path / "2.json").read_bytes()


def test_fix_refuses_to_write_over_its_source(broken_coco: Path) -> None:
    with pytest.raises(ValidationError, match="must not be"):
        fix(broken_coco, broken_coco, overwrite=True)
    with pytest.raises(ValidationError, match="must not be"):
        fix(broken_coco, broken_coco.parent, overwrite=True)


def test_fix_refuses_a_non_empty_destination(broken_coco: Path, tmp_path: Path) -> None:
    out = tmp_path / "taken.json"
    out.write_text("{}")
    with pytest.raises(OutputExistsError):
        fix(broken_coco, out)


def test_fix_cli_lists_changes(broken_coco: Path, run_cli, tmp_path: Path) -> None:
    result = run_cli("fix", broken_coco, tmp_path / "fixed.json")
    assert result.exit_code == 0
    assert "info made-valid annotation 1 [a.jpg #1]: ring 0: Self-intersection[2 2]" in result.stderr
    assert "findings: 10 info" in result.stderr


def test_a_ring_that_only_touches_itself_is_kept() -> None:
    donut = bridge_rings([[0, 0, 8, 0, 8, 8, 0, 8]], holes=[[2, 2, 4, 2, 4, 4, 2, 4]])  # zero-width cut
    assert repair_rings([donut], 10, 10) == ([donut], [])


@pytest.mark.parametrize(
    "outer, hole",
    [
        ([4, 4, 12, 4, 12, 12, 4, 12], [6, 6, 8, 6, 8, 8, 6, 8]),  # a donut over the bottom-right corner
        ([-3, 2, 6, 2, 6, 7, -3, 7], [-1, 3, 2, 3, 2, 5, -1, 5]),  # its hole crosses the left edge too
    ],
)
def test_clipping_keeps_every_pixel_inside_the_image(outer, hole) -> None:
    ring = bridge_rings([outer], holes=[hole])
    repaired, changes = repair_rings([ring], 10, 10)
    assert [code for code, _ in changes] == ["clipped-polygon"]
    before = raster.decode(Polygons((ring,)), 10, 10)
    assert np.array_equal(raster.decode(Polygons(tuple(repaired)), 10, 10), before)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(4, 40),
    st.integers(4, 40),
    st.lists(
        st.lists(st.tuples(st.integers(-20, 60), st.integers(-20, 60)), min_size=1, max_size=9), min_size=1, max_size=3
    ),
)
def test_repaired_rings_always_validate_clean(width, height, rings) -> None:
    """Whatever the rings (degenerate, crossing, outside), what fix keeps passes every ring check."""
    flat = [[float(v) for point in ring for v in point] for ring in rings]
    repaired, _changes = repair_rings(flat, width, height)
    assert check_rings(repaired, width, height) == []
