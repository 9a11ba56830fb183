"""The canonical model: invariants, category lookups, selection and renaming."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise

import pytest

from fashiondata.errors import ValidationError
from fashiondata.model import (
    Annotation,
    BBox,
    Category,
    CategoryTable,
    ImageRecord,
    Keypoints,
    Polygons,
    Rle,
    normalize_name,
)

PIXEL = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]  # the single pixel (0, 0) in COCO's convention


@pytest.mark.parametrize(
    "part, expectation",
    [
        (BBox(0, 0, 1, 1), does_not_raise()),  # unit box
        (BBox(0, 0, -1, 1), pytest.raises(ValidationError)),  # negative width
        (BBox(0, float("nan"), 1, 1), pytest.raises(ValidationError)),  # NaN
        (Polygons((PIXEL,)), does_not_raise()),  # one pixel
        (Polygons(([0, 0, 1, 1],)), does_not_raise()),  # degenerate but representable: validate reports it
        (Polygons(([0, 0, 1],)), pytest.raises(ValidationError)),  # odd coordinate count
        (Polygons(()), pytest.raises(ValidationError)),  # no ring
        (Polygons(([0, 0, 1, 0, "x", 1],)), pytest.raises(ValidationError)),  # not a number
        (Rle((2, 2), [1, 3]), does_not_raise()),  # uncompressed, covers 4 pixels
        (Rle((2, 2), [1, 2]), pytest.raises(ValidationError)),  # counts do not cover the mask
        (Rle((2, 2), "04"), does_not_raise()),  # compressed counts are checked by pycocotools
        (Keypoints([1, 2, 2, 0, 0, 0]), does_not_raise()),  # two triples
        (Keypoints([1, 2]), pytest.raises(ValidationError)),  # not triples
        (Annotation(category_id="1"), pytest.raises(ValidationError)),  # type: ignore[arg-type]  # id as text
        (Annotation(category_id=1, area=-1.0), pytest.raises(ValidationError)),  # negative area
    ],
)
def test_check_raises_validation_error_for_broken_invariants(part, expectation) -> None:
    with expectation:
        part.check()


def test_polygon_around_one_pixel_has_area_one_and_its_box() -> None:
    polygons = Polygons((PIXEL, [2, 2, 4, 2, 4, 4, 2, 4]))
    assert polygons.area() == 5.0
    assert polygons.bbox() == BBox(0, 0, 4, 4)
    assert polygons.num_points == 8


def test_keypoints_count_visible_and_hidden_points_as_coco_does() -> None:
    assert Keypoints([0, 0, 0, 4, 2, 1, 4, 1, 2]).num_visible == 2


@pytest.mark.parametrize("width, height", [(0, 5), (5, -1), (2.5, 3)])
def test_image_record_refuses_bad_sizes(width, height) -> None:
    with pytest.raises(ValidationError):
        ImageRecord(file_name="a.jpg", width=width, height=height)


def test_image_record_stem_drops_folders_and_extension() -> None:
    assert ImageRecord(file_name="train2017/000001.jpg", width=1, height=1).stem == "000001"


def _table() -> CategoryTable:
    return CategoryTable(
        (
            Category(1, "trousers", attributes={"synonyms": ["trousers", "pants_(trousers)"]}),
            Category(2, "short_pants", attributes={"synonyms": ["shorts"]}),
            Category(7, "Sweat Pants"),
            Category(9, "top"),
        )
    )


@pytest.mark.parametrize(
    "token, expected",
    [
        ("trousers", 1),  # exact name
        ("SHORT PANTS", 2),  # case, space for underscore
        ("sweat_pants", 7),  # underscore for space
        ("shorts", 2),  # synonym
        ("pants (trousers)", 1),  # synonym with punctuation kept
        (9, 9),  # id
        ("7", 7),  # id as text
    ],
)
def test_resolve_finds_by_id_name_or_synonym(token, expected) -> None:
    assert _table().resolve(token).id == expected


def test_resolve_names_the_unknown_category() -> None:
    with pytest.raises(ValidationError, match="'jeans'"):
        _table().resolve("jeans")


def test_select_keeps_the_order_given_and_the_ids() -> None:
    table, id_map = _table().select(["sweat pants", "trousers"])
    assert table.ids == (7, 1) and id_map == {7: 7, 1: 1}
    assert table.index_of(1) == 1


def test_rename_to_one_name_merges_into_the_first_id() -> None:
    selected, _ = _table().select(["trousers", "short_pants", "sweat_pants"])
    table, id_map = selected.rename({"trousers": "pants", "short_pants": "pants", "sweat_pants": "pants"})
    assert table.names == ("pants",) and table.ids == (1,)
    assert id_map == {1: 1, 2: 1, 7: 1}


def test_renumbered_makes_ids_contiguous_from_one() -> None:
    table, id_map = _table().renumbered()
    assert table.ids == (1, 2, 3, 4) and id_map == {1: 1, 2: 2, 7: 3, 9: 4}


def test_duplicate_category_ids_are_refused() -> None:
    with pytest.raises(ValidationError):
        CategoryTable((Category(1, "a"), Category(1, "b")))


def test_normalize_name_treats_case_underscore_dash_and_space_alike() -> None:
    assert normalize_name(" Short_Pants ") == normalize_name("short-pants") == "short pants"
