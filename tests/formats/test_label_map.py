"""label_map.pbtxt: tolerant reading of real files, the OD API layout on writing, label lookup."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise

import pytest

from fashiondata.errors import ParseError, ValidationError
from fashiondata.formats.label_map import (
    format_label_map,
    labels_for,
    parse_label_map,
    read_label_map,
    table_for_names,
)
from fashiondata.model import Category, CategoryTable


@pytest.mark.parametrize(
    "text, expected, error",
    [
        ("item {\n  id: 1\n  name: 'Tops'\n}\n", [(1, "Tops")], does_not_raise()),  # the OD API layout
        (
            'item { name: "b" id: 2 } item { name: "a" id: 1 }',
            [(2, "b"), (1, "a")],
            does_not_raise(),
        ),  # one line, double quotes, file order kept
        (
            "{ id: 4 name: 'qw1' }\n{name:'qw2' id:5}",
            [(4, "qw1"), (5, "qw2")],
            does_not_raise(),
        ),  # no `item` keyword (Datumaro accepts it)
        ("# classes\nitem { id: 1 name: 'a' # first\n }", [(1, "a")], does_not_raise()),  # comments
        ("item { id: 1 name: 'it\\'s' }", [(1, "it's")], does_not_raise()),  # escaped quote
        (
            "item { id: 1 name: 'p' keypoints { id: 0 label: 'nose' } frequency: FREQUENT }",
            [(1, "p")],
            does_not_raise(),
        ),  # nested and enum fields ignored
        (
            "item { id: 1 display_name: 'only display' }",
            [(1, "only display")],
            does_not_raise(),
        ),  # display_name stands in for a missing name
        ("item { name: 'a' }", None, pytest.raises(ParseError, match="integer id")),  # no id
        ("item { id: 0 name: 'background' }", None, pytest.raises(ParseError, match="background")),  # 0 is reserved
        (
            "item { id: 1 name: 'a' } item { id: 1 name: 'b' }",
            None,
            pytest.raises(ParseError, match="id 1 is used twice"),
        ),
        ("item { id: 1 name: 'a' } item { id: 2 name: 'a' }", None, pytest.raises(ParseError, match="used twice")),
        ("item { id: 1 name: 'a'", None, pytest.raises(ParseError, match="missing '}'")),  # unclosed
        ("", None, pytest.raises(ParseError, match="no item")),  # empty
        ("item { id: 1 name: 'a' } @", None, pytest.raises(ParseError, match="line 1")),  # stray character
    ],
)
def test_parse_label_map(text, expected, error):
    with error:
        table = parse_label_map(text, "lm.pbtxt")
        assert [(c.id, c.name) for c in table] == expected


def test_display_name_kept_as_attribute():
    table = parse_label_map("item { name: '/m/01g317' id: 1 display_name: 'person' }")
    assert table[0].attributes == {"display_name": "person"}


def test_reads_the_seed_label_map(corpus):
    table = read_label_map(corpus / "weizh888_productimageseg" / "data" / "apparel_label_map.pbtxt")
    assert [(c.id, c.name) for c in table] == [
        (1, "Pants_Leggings"),
        (2, "Dresses"),
        (3, "Skirts"),
        (4, "Tops"),
        (5, "Shorts"),
        (6, "Lingerie"),
    ]


@pytest.mark.parametrize(
    "relative, count",
    [
        ("datumaro/tf_detection_api_dataset/label_map.pbtxt", 10),  # id before name, blank lines
        ("datumaro/roboflow_dataset/tfrecord/train/label_map.pbtxt", 2),  # name first, display_name
    ],
)
def test_reads_real_label_maps(corpus, relative, count):
    table = read_label_map(corpus / relative)
    assert [(c.id, c.name) for c in table] == [(i, f"label_{i - 1}") for i in range(1, count + 1)]


def test_format_matches_the_seed_layout(corpus):
    seed = (corpus / "weizh888_productimageseg" / "data" / "apparel_label_map.pbtxt").read_text()
    table = parse_label_map(seed)
    assert format_label_map(table).strip() == seed.strip()


def test_format_round_trips_awkward_names():
    table = CategoryTable(
        (
            Category(1, "it's"),
            Category(2, "back\\slash"),
            Category(3, "p", attributes={"display_name": "Person"}),
        )
    )
    assert parse_label_map(format_label_map(table)) == table


def test_labels_without_a_label_map_follow_table_order():
    table = CategoryTable((Category(7, "b"), Category(3, "a")))
    assert labels_for(table, None) == {7: 1, 3: 2}


def test_labels_from_a_label_map_by_name():
    table = CategoryTable((Category(7, "b"), Category(3, "a")))
    fixed = parse_label_map("item { id: 5 name: 'a' } item { id: 9 name: 'b' }")
    assert labels_for(table, fixed) == {7: 9, 3: 5}


def test_a_class_missing_from_the_label_map_is_named():
    table = CategoryTable.from_names(["Tops", "Skirts"])
    fixed = parse_label_map("item { id: 1 name: 'Tops' }")
    with pytest.raises(ValidationError, match="class 'Skirts' is not in the label map"):
        labels_for(table, fixed)


def test_table_for_names_sorts_names_or_takes_the_label_map():
    assert table_for_names(["b", "a", "b"], None).names == ("a", "b")
    fixed = parse_label_map("item { id: 2 name: 'b' } item { id: 1 name: 'a' } item { id: 3 name: 'c' }")
    assert table_for_names(["a"], fixed) is fixed
    with pytest.raises(ValidationError, match="'z'"):
        table_for_names(["z"], fixed)
