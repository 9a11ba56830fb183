"""Every command of docs/recipes/*.md (and of pages that opt in) runs, in order, on the bundled fixtures.

A recipe names the folders and files its commands use as a user would have them
(``DeepFashion-MultiModal/segm``, ``Annotations/``…) and says in an HTML comment which bundled data
stands for each, and which outputs the commands must leave::

    <!-- recipe-inputs
    DeepFashion-MultiModal/segm = fashiondata/sample_data/segm     a path in this repository (copied)
    photos = @sample_photos                                        a pytest fixture (copied)
    -->
    <!-- recipe-outputs pants_split/data.yaml pants_grid.png -->

The inputs are copied into a temporary folder, and each line of every ```bash block (``\\``
continues a line, ``#`` starts a comment) runs there through the CLI, exactly as written. Every such
line must be a ``fashiondata`` command and exit 0; commands of other tools (``yolo``, TF) go in
``text`` blocks and Python snippets in ``python`` blocks, which are not run.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fashiondata_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
#: the recipes, and any other page that opts in with a recipe-inputs comment (format pages' "Try it")
RECIPES = sorted(
    {
        *(ROOT / "docs" / "recipes").glob("*.md"),
        *(p for p in (ROOT / "docs").rglob("*.md") if "<!-- recipe-inputs" in p.read_text(encoding="utf-8")),
    }
)
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)
INPUTS = re.compile(r"<!-- recipe-inputs\n(.*?)-->", re.DOTALL)
OUTPUTS = re.compile(r"<!-- recipe-outputs (.*?)-->", re.DOTALL)


def commands(markdown: str) -> list[list[str]]:
    """The argument lists of every command in the ```bash blocks, in order."""
    result = []
    for block in BASH_BLOCK.findall(markdown):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                result.append(words)
    return result


def inputs(markdown: str) -> dict[str, str]:
    """Recipe path → repository path or ``@fixture``."""
    found = INPUTS.search(markdown)
    if found is None:
        return {}
    pairs = (line.split("=", 1) for line in found.group(1).splitlines() if line.strip())
    return {name.strip(): source.split()[0] for name, source in pairs}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("```bash\nfashiondata info a.json  # count\n```\n", [["fashiondata", "info", "a.json"]]),  # comment stripped
        (
            "```bash\nfashiondata split a b \\\n    --seed 0\n```\n",
            [["fashiondata", "split", "a", "b", "--seed", "0"]],
        ),  # continuation
        ("```text\nyolo segment train data=x\n```\n", []),  # other tools are not run
        ("```bash\n# a comment only\n\n```\n", []),  # blank and comment lines
    ],
)
def test_commands_are_read_from_bash_blocks(text: str, expected: list[list[str]]) -> None:
    assert commands(text) == expected


def test_every_recipe_of_the_issue_exists() -> None:
    names = {p.stem for p in RECIPES if p.parent.name == "recipes"}
    assert {"what-is-pants", "thesis-via", "deepfashion2-detectron2", "labelimg-tfod", "pixel-labelling"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("recipe", RECIPES, ids=[str(p.relative_to(ROOT / "docs")) for p in RECIPES])
def test_recipe_commands_run_on_the_fixtures(
    recipe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    markdown = recipe.read_text(encoding="utf-8")
    for name, source in inputs(markdown).items():
        origin = request.getfixturevalue(source[1:]) if source.startswith("@") else ROOT / source
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if Path(origin).is_dir() else shutil.copyfile)(origin, target)
    monkeypatch.chdir(tmp_path)
    steps = commands(markdown)
    assert steps, f"{recipe.name}: no ```bash command"
    for words in steps:
        assert words[0] == "fashiondata", f"{recipe.name}: {shlex.join(words)} is not a fashiondata command"
        result = CliRunner().invoke(cli, words[1:], prog_name="fashiondata", catch_exceptions=False)
        assert result.exit_code == 0, f"{recipe.name}: {shlex.join(words)} exited {result.exit_code}: {result.stderr}"
    expected = OUTPUTS.search(markdown)
    for output in expected.group(1).split() if expected else []:
        assert (tmp_path / output).exists(), f"{recipe.name}: {output} was not written"
