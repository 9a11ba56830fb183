"""Shared test fixtures: the corpus of real files, the bundled fixtures, a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """../shared/corpus (real files by other people); CI always has it, a user's clone may not."""
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is absent ({CORPUS}): it sits beside the repo in CI")
    return CORPUS


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def run_cli():
    """Invoke the `fashiondata` CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    from click.testing import CliRunner
    from fashiondata_cli.main import cli

    def invoke(*args: str):
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def sample_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real photos shipped by scikit-image (test extra), written as files, with grayscale copies.

    astronaut.jpg (a portrait: one face), coffee.jpg (a cup: no face), chelsea.jpg (a cat),
    astronaut_gray.png (one channel), coffee_gray.jpg and chelsea_gray.jpg (gray stored as RGB).
    The names match fixtures/stats/instances_stats.json.
    """
    import cv2
    import numpy as np
    from skimage import data
    from skimage.color import rgb2gray

    folder = tmp_path_factory.mktemp("photos")
    for name in ("astronaut", "coffee", "chelsea"):
        rgb = getattr(data, name)()
        cv2.imwrite(str(folder / f"{name}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        gray = np.round(rgb2gray(rgb) * 255).astype(np.uint8)
        if name == "astronaut":
            cv2.imwrite(str(folder / f"{name}_gray.png"), gray)
        else:
            cv2.imwrite(str(folder / f"{name}_gray.jpg"), np.dstack([gray] * 3))
    return folder
