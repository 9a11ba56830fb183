"""The docs hold together: relative links resolve, every format has a page linked from the index."""

from __future__ import annotations

import re
import shlex
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


def test_docs_index_links_every_recipe_guide_and_reference() -> None:
    index = ROOT / "docs" / "index.md"
    linked = {(index.parent / t).resolve() for t in relative_links(index)}
    guides = [p for p in (ROOT / "docs").glob("*.md") if p.name != "index.md"]
    wanted = [
        *(ROOT / "docs" / "recipes").glob("*.md"),
        *guides,
        ROOT / "docs" / "cli" / "index.md",
        ROOT / "docs" / "formats" / "index.md",
    ]
    assert [str(p.relative_to(ROOT)) for p in wanted if p.resolve() not in linked] == []


def _tour_commands() -> tuple[int, list[list[str]]]:
    """The README tour's line count and commands (``&&`` separates two), comments stripped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## A tour of the verbs\n\n```bash\n(.*?)```", text, re.DOTALL)
    assert block is not None
    lines = [shlex.split(line, comments=True) for line in block.group(1).splitlines()]
    return len(lines), [part for words in lines for part in _split_and(words) if part]


def _split_and(words: list[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for word in words:
        parts.append([]) if word == "&&" else parts[-1].append(word)
    return parts


def test_readme_tour_has_ten_lines_using_only_real_verbs_and_flags() -> None:
    from click.testing import CliRunner
    from fashiondata_cli.main import cli

    lines, commands = _tour_commands()
    assert lines == 10
    for words in commands:
        assert words[0] == "fashiondata" and words[1] in cli.all_commands(), words
        help_text = CliRunner().invoke(cli, [words[1], "--help"], terminal_width=200).output
        flags = [w.split("=")[0] for w in words[2:] if w.startswith("-")]
        unknown = [f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", help_text)]
        assert unknown == [], f"{' '.join(words)}: not in `fashiondata {words[1]} --help`"
