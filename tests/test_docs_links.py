"""The docs hold together: relative links resolve, every format has a page linked from the index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fashiondata.registry import all_formats

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(page: Path) -> list[str]:
    """Link targets that are files of this repository (no URL, no bare anchor)."""
    return [t.split("#")[0] for t in LINK.findall(page.read_text(encoding="utf-8")) if not re.match(r"[a-z]+:|#", t)]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    missing = [t for t in relative_links(page) if not (page.parent / t).exists()]
    assert missing == [], f"{page.relative_to(ROOT)} links to missing files"


def test_format_index_links_a_page_for_every_format_and_every_page() -> None:
    index = ROOT / "docs" / "formats" / "index.md"
    linked = set(relative_links(index))
    pages = {p.name for p in index.parent.glob("*.md")} - {"index.md"}
    assert pages <= linked, "a format page is missing from docs/formats/index.md"
    text = index.read_text(encoding="utf-8")
    assert [s.name for s in all_formats() if f"| `{s.name}`" not in text] == []


def test_docs_index_links_every_recipe_and_guide() -> None:
    index = ROOT / "docs" / "index.md"
    linked = {(index.parent / t).resolve() for t in relative_links(index)}
    wanted = [*(ROOT / "docs" / "recipes").glob("*.md"), ROOT / "docs" / "api.md", ROOT / "docs" / "cli" / "index.md"]
    assert [str(p.relative_to(ROOT)) for p in wanted if p.resolve() not in linked] == []
