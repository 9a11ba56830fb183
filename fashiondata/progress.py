"""Progress reporting, injected: the library never prints.

A :class:`Progress` factory is passed to library functions; the CLI passes one that draws tqdm bars on
stderr, tests and library users get :data:`NULL_PROGRESS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")


class Progress(Protocol):
    """Wraps an iterable to report progress over it."""

    def __call__(self, items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]: ...


class NullProgress:
    """Reports nothing."""

    def __call__(self, items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
        return iter(items)


NULL_PROGRESS = NullProgress()
