"""Small sample datasets shipped inside the package (so they work after a plain ``pip install .``).

>>> from fashiondata.samples import sample_path
>>> sample_path("coco/instances.json").name
'instances.json'
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fashiondata.errors import ValidationError


def sample_root() -> Path:
    """The folder of the bundled samples."""
    return Path(str(files("fashiondata") / "sample_data"))


def sample_path(relative: str) -> Path:
    """A bundled sample file or folder by its path under ``sample_data/``."""
    path = sample_root() / relative
    if not path.exists():
        raise ValidationError(f"no bundled sample {relative!r}")
    return path
