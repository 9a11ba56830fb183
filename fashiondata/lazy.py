"""Modules imported on first use.

Every format registers at start-up (its options become ``convert`` flags), but a run needs only
its reader's and writer's libraries: NumPy, OpenCV and pycocotools cost 0.1–0.2 s each to import,
more than a small conversion's own work. Modules that use them write::

    if TYPE_CHECKING:
        import cv2
    else:
        cv2 = LazyModule("cv2")

so type checkers see the real module and the import happens at the first attribute read.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands for the module ``name``: the first read of an attribute imports it; each attribute is
    then kept on the stand-in, so later reads cost what a module attribute read costs.

    >>> json = LazyModule("json")
    >>> json.dumps([1])
    '[1]'
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):  # copy, pickle and doctest probe dunders: not the module's
            raise AttributeError(attribute)
        value = getattr(importlib.import_module(self._name), attribute)
        setattr(self, attribute, value)
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
