"""RunContext: what every reader, writer and step is given instead of deciding for itself.

The executor, the progress factory, the error policy and the report travel together, with null
defaults, so the library never prints and never chooses skip-or-raise on its own.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, TypeVar

from fashiondata.errors import FashionDataError
from fashiondata.executor import Executor, Guarded, SerialExecutor
from fashiondata.progress import NULL_PROGRESS, Progress
from fashiondata.report import Report

T = TypeVar("T")
OnError = Literal["raise", "skip"]


@dataclasses.dataclass
class RunContext:
    """Executor, progress, ``on_error`` policy, report, and the ``overwrite``/``strict`` switches."""

    executor: Executor = dataclasses.field(default_factory=SerialExecutor)
    progress: Progress = NULL_PROGRESS
    on_error: OnError = "raise"
    report: Report = dataclasses.field(default_factory=Report)
    overwrite: bool = False
    strict: bool = False

    def fail(self, error: FashionDataError | OSError, item: str) -> None:
        """Apply the error policy to one failed item: raise, or count it as skipped."""
        if self.on_error == "raise":
            raise error
        self.report.skip(_reason(error), item=item)

    def map_items(
        self,
        fn: Callable[[T], Any],
        items: Iterable[T],
        *,
        desc: str,
        total: int | None = None,
        name_of: Callable[[T], str] = str,
        chunksize: int | None = None,
    ) -> Iterator[Any]:
        """Run ``fn`` over items on the executor, in order, with progress and the error policy.

        Yields each successful result; a failed item raises (``on_error="raise"``) or is counted in
        the report and left out (``"skip"``).
        """
        pending = list(items) if total is None and isinstance(items, (list, tuple)) else items
        count = total if total is not None else (len(pending) if isinstance(pending, (list, tuple)) else None)
        in_flight: deque[T] = deque()

        def remember(source: Iterable[T]) -> Iterator[T]:
            for item in source:
                in_flight.append(item)
                yield item

        results = self.executor.map(Guarded(fn), remember(pending), chunksize=chunksize)
        for ok, value in self.progress(results, total=count, desc=desc):
            item = in_flight.popleft()  # results come back in input order
            if ok:
                yield value
            else:
                self.fail(value, name_of(item))


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error)
    return getattr(error, "reason", None) or text
