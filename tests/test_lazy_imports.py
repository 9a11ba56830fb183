"""Start-up stays light: a verb imports only what its reader and writer use (fashiondata.lazy)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fashiondata.lazy import LazyModule

HEAVY = ("numpy", "cv2", "pycocotools", "shapely", "PIL", "yaml", "tqdm", "lxml", "scipy", "matplotlib", "dask")


def _imported_after(code: str) -> set[str]:
    """Top-level packages of the heavy list imported by a fresh interpreter running ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(output.split()) & set(HEAVY)


@pytest.mark.parametrize(
    ("code", "allowed"),
    [
        ("import fashiondata", set()),
        ("import fashiondata.api", set()),
        ("import fashiondata.formats", set()),
        # every registered format's options become flags of convert and info
        (
            "from fashiondata_cli.main import cli\nimport click\n"
            "cli.get_command(click.Context(cli), 'convert'); cli.get_command(click.Context(cli), 'info')",
            set(),
        ),
        # a VOC reader parses XML; its writer for TFRecord needs neither NumPy nor OpenCV (no --masks)
        ("from fashiondata.formats import voc; voc._parser()", {"lxml"}),
        # exact DeepFashion2 mask areas come from pycocotools (which brings NumPy), never OpenCV
        (
            "from fashiondata import raster\nfrom fashiondata.model import Polygons\n"
            "raster.mask_area(Polygons(([0, 0, 4, 0, 4, 4],)), 5, 5)",
            {"numpy", "pycocotools"},
        ),
    ],
)
def test_only_what_is_used_is_imported(code: str, allowed: set[str]) -> None:
    assert _imported_after(code) == allowed


def test_lazy_module_imports_on_first_attribute_and_keeps_it() -> None:
    json = LazyModule("json")
    assert "dumps" not in vars(json)
    assert json.dumps({"a": 1}) == '{"a": 1}'
    assert vars(json)["dumps"] is __import__("json").dumps
    with pytest.raises(AttributeError):
        json.__wrapped__  # noqa: B018  (dunders are not forwarded: copy/pickle/doctest probe them)
