"""Dataset: a category table, image records and the source's top-level extras.

Records are either a one-shot iterator (a reader streaming per-image work off the executor) or a
materialised tuple; :meth:`Dataset.materialize` turns the first into the second when a step needs the
whole dataset (balance, split, merge) or when a writer needs two passes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from fashiondata.model import CategoryTable, ImageRecord

RecordStep = Callable[[ImageRecord], "ImageRecord | None"]


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Categories + records + info.

    ``info`` keeps top-level keys a writer of the same family can put back (COCO ``info``,
    ``licenses``, LVIS extras); ``sources`` names the files or folders the dataset was read from.
    """

    categories: CategoryTable
    records: Iterable[ImageRecord]
    info: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[ImageRecord]:
        return iter(self.records)

    @property
    def is_materialized(self) -> bool:
        return isinstance(self.records, (tuple, list))

    def materialize(self) -> Dataset:
        """The same dataset with its records held in a tuple (iterating it twice is then safe)."""
        if isinstance(self.records, tuple):
            return self
        return dataclasses.replace(self, records=tuple(self.records))

    def replace(self, **changes: Any) -> Dataset:
        return dataclasses.replace(self, **changes)

    def map(self, step: RecordStep) -> Dataset:
        """Apply a record step lazily; records for which it returns None are dropped."""

        def iter_mapped() -> Iterator[ImageRecord]:
            for record in self.records:
                result = step(record)
                if result is not None:
                    yield result

        return dataclasses.replace(self, records=iter_mapped())
