"""The registry: conversions are looked up by name, never split on '2'; sniffing."""

from __future__ import annotations

from pathlib import Path

import pytest

from fashiondata.errors import UnknownFormatError
from fashiondata.registry import get_format, parse_conversion, sniff_format


@pytest.mark.parametrize(
    "verb, reader, writer",
    [
        ("coco2coco", "coco", "coco"),
        ("COCO2COCO", "coco", "coco"),  # case-insensitive
    ],
)
def test_parse_conversion_finds_registered_names(verb: str, reader: str, writer: str) -> None:
    assert tuple(s.name for s in parse_conversion(verb)) == (reader, writer)


def test_parse_conversion_uses_names_that_contain_a_two() -> None:
    """`df2coco` is df2 + coco, not d + f2coco or df + coco."""
    reader, writer = parse_conversion("df2coco")
    assert (reader.name, writer.name) == ("df2", "coco")
    assert parse_conversion("deepfashion2coco")[0].name == "df2"  # the alias
    assert parse_conversion("df22coco")[0].name == "df2"  # an explicit separator after the name


@pytest.mark.parametrize("verb", ["coco2nothing", "cocococo", "2coco", "via"])
def test_unknown_conversions_name_the_known_formats(verb: str) -> None:
    with pytest.raises(UnknownFormatError, match="coco"):
        parse_conversion(verb)


def test_get_format_by_alias_and_unknown_name() -> None:
    assert get_format("deepfashion2") is get_format("df2")
    with pytest.raises(UnknownFormatError, match="unknown format 'pascal'"):
        get_format("pascal")


def test_sniff_recognises_a_coco_file(fixtures: Path) -> None:
    assert sniff_format(fixtures / "coco" / "datumaro_instances_val.json").name == "coco"


def test_sniff_refuses_what_no_format_knows(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(UnknownFormatError):
        sniff_format(path)
