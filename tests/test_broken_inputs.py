"""Every broken or hostile file in fixtures/broken/ is refused through the CLI: exit 2, one line naming
the file and the place, no traceback, nothing written, the input untouched.

The rows come from the table in fixtures/broken/README.md, so a new broken file is one table row.
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path
from typing import NamedTuple

import pytest

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"


class Row(NamedTuple):
    file: str
    format: str
    options: str
    defect: str
    location: str


def read_table(readme: Path) -> list[Row]:
    """The rows of the markdown table under the ``| file | format | …`` header."""
    rows: list[Row] = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("file", "---") and line.startswith("|"):
            rows.append(Row(*cells))
    return rows


ROWS = read_table(BROKEN / "README.md")


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_table_covers_every_broken_file() -> None:
    listed = {row.file.split("/")[0] for row in ROWS}
    present = {path.name for path in BROKEN.iterdir() if path.name != "README.md"}
    assert present == listed
    assert len(ROWS) >= 40


@pytest.mark.parametrize("row", ROWS, ids=[row.file for row in ROWS])
def test_broken_input_is_refused_with_one_line(row: Row, run_cli, tmp_path: Path) -> None:
    source = BROKEN / row.file
    top = BROKEN / row.file.split("/")[0]
    before = tree_digest(top) if top.is_dir() else top.read_bytes()
    out = tmp_path / "out"
    options = shlex.split(row.options.replace("{dir}", str(top)))

    result = run_cli("convert", f"{row.format}2coco", source, *options, out / "out.json", "-q")

    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    message = lines[0]
    assert message.startswith("error: ")
    assert row.file.split("/")[0] in message  # names the file (or the file inside the folder)
    if row.location != "-":
        assert f": {row.location}: " in message
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())
    assert (tree_digest(top) if top.is_dir() else top.read_bytes()) == before
