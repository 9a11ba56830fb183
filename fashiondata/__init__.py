"""fashiondata: dataset engineering and format conversion for clothing and fashion segmentation data.

>>> import fashiondata
>>> isinstance(fashiondata.__version__, str)
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fashiondata")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+source"

from fashiondata.api import convert, info, read, write  # noqa: E402
from fashiondata.dataset import Dataset  # noqa: E402
from fashiondata.model import (  # noqa: E402
    Annotation,
    BBox,
    Category,
    CategoryTable,
    ImageRecord,
    Keypoints,
    Polygons,
    Rle,
)
from fashiondata.report import Report  # noqa: E402

__all__ = [
    "Annotation",
    "BBox",
    "Category",
    "CategoryTable",
    "Dataset",
    "ImageRecord",
    "Keypoints",
    "Polygons",
    "Report",
    "Rle",
    "__version__",
    "convert",
    "info",
    "read",
    "write",
]
