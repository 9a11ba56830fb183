"""docs/cli/<verb>.md match the current `--help` (regenerate with `python scripts/gen_cli_docs.py`)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fashiondata_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "cli"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _help(args: list[str], width: int) -> str:
    result = CliRunner().invoke(
        cli, [*args, "--help"], prog_name="fashiondata", terminal_width=width, max_content_width=width
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("verb", sorted(cli.all_commands()))
def test_verb_page_shows_the_current_help(verb: str) -> None:
    page = DOCS / f"{verb}.md"
    assert page.is_file(), f"{page} missing: run python scripts/gen_cli_docs.py"
    block = re.search(r"```text\n(.*?)```\n", page.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    assert block.group(1) == _help([verb], _generator().WIDTH), f"{page} is stale: run python scripts/gen_cli_docs.py"


def test_index_lists_every_verb_and_no_stale_page_remains() -> None:
    assert _generator().stale_pages(DOCS) == [], "run python scripts/gen_cli_docs.py"
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert all(f"]({verb}.md)" in index for verb in cli.all_commands())


def test_a_changed_help_is_caught(tmp_path: Path) -> None:
    generator = _generator()
    for name, text in generator.pages().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    page = tmp_path / "split.md"
    page.write_text(page.read_text(encoding="utf-8").replace("--seed", "--sed"), encoding="utf-8")
    (tmp_path / "gone.md").write_text("a verb that no longer exists", encoding="utf-8")
    assert generator.stale_pages(tmp_path) == ["gone.md", "split.md"]
