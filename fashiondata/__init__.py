"""fashiondata: dataset engineering and format conversion for clothing and fashion segmentation data.

The names below are imported on first use (PEP 562), so ``import fashiondata`` and the command
line start without loading every format's libraries.

>>> import fashiondata
>>> isinstance(fashiondata.__version__, str)
True
>>> fashiondata.BBox(0, 0, 2, 3).area
6
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and IDEs see
    from fashiondata.api import convert, info, read, write  # noqa: F401
    from fashiondata.dataset import Dataset  # noqa: F401
    from fashiondata.model import (  # noqa: F401
        Annotation,
        BBox,
        Category,
        CategoryTable,
        ImageRecord,
        Keypoints,
        Polygons,
        Rle,
    )
    from fashiondata.report import Report  # noqa: F401

_HOMES = {
    "convert": "fashiondata.api",
    "info": "fashiondata.api",
    "read": "fashiondata.api",
    "write": "fashiondata.api",
    "Dataset": "fashiondata.dataset",
    "Annotation": "fashiondata.model",
    "BBox": "fashiondata.model",
    "Category": "fashiondata.model",
    "CategoryTable": "fashiondata.model",
    "ImageRecord": "fashiondata.model",
    "Keypoints": "fashiondata.model",
    "Polygons": "fashiondata.model",
    "Rle": "fashiondata.model",
    "Report": "fashiondata.report",
}

__all__ = sorted([*_HOMES, "__version__"])


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("fashiondata")
        except PackageNotFoundError:  # running from a source tree
            value = "0.0.0+source"
    elif name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'fashiondata' has no attribute {name!r}")
    globals()[name] = value
    return value
