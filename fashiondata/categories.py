"""Choosing and renaming categories: ``--categories pants,leggings`` and ``--rename …``.

``--categories`` keeps the named categories (ids, names or synonyms, matched case-insensitively with
``_``, ``-`` and space alike) in the order given, which is the YOLO class order; ids are kept.
``--rename NAME`` merges every kept category into one; ``--rename old=new,old2=new2`` renames each
(categories renamed to the same name merge). Annotations of other categories are dropped and counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence

from fashiondata.dataset import Dataset
from fashiondata.errors import ValidationError
from fashiondata.model import ImageRecord
from fashiondata.report import Report


def parse_list(text: str | Sequence[str] | None) -> list[str] | None:
    """``"a,b , c"`` → ``["a", "b", "c"]``; lists pass through; None stays None."""
    if text is None:
        return None
    items = text.split(",") if isinstance(text, str) else list(text)
    return [item.strip() for item in items if item.strip()]


def parse_rename(text: str | Mapping[str, str] | None) -> str | dict[str, str] | None:
    """``"pants"`` (merge all into one) or ``"a=b,c=d"`` (rename each) as given to ``--rename``.

    >>> parse_rename("pants"), parse_rename("trousers=pants, shorts = short pants")
    ('pants', {'trousers': 'pants', 'shorts': 'short pants'})
    """
    if text is None or isinstance(text, Mapping):
        return dict(text) if text is not None else None
    if "=" not in text:
        if "," in text or not text.strip():
            raise ValidationError(f"--rename {text!r}: give one name, or old=new pairs separated by commas")
        return text.strip()
    pairs: dict[str, str] = {}
    for item in text.split(","):
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValidationError(f"--rename: {item!r} is not old=new")
        pairs[old.strip()] = new.strip()
    return pairs


#: Image attributes that list category ids (LVIS): remapped with the annotations.
CATEGORY_ID_ATTRIBUTES = ("neg_category_ids", "not_exhaustive_category_ids")


@dataclasses.dataclass(frozen=True)
class RemapCategories:
    """Record step: keep annotations whose category is in ``id_map``, with their new ids.

    Category-id lists among the image attributes (:data:`CATEGORY_ID_ATTRIBUTES`) follow: ids of
    categories not kept leave them, the others are mapped (merged categories appear once).
    """

    id_map: Mapping[int, int]

    def __call__(self, record: ImageRecord) -> ImageRecord:
        kept = tuple(
            a if a.category_id == self.id_map[a.category_id] else a._replace(category_id=self.id_map[a.category_id])
            for a in record.annotations
            if a.category_id in self.id_map
        )
        attributes = self._remap_attributes(record.attributes)
        if (
            attributes is record.attributes
            and len(kept) == len(record.annotations)
            and all(a is b for a, b in zip(kept, record.annotations))
        ):
            return record
        return record.replace(annotations=kept, attributes=attributes)

    def _remap_attributes(self, attributes: Mapping[str, object]) -> Mapping[str, object]:
        lists = [key for key in CATEGORY_ID_ATTRIBUTES if isinstance(attributes.get(key), list)]
        if not lists:
            return attributes
        remapped = dict(attributes)
        for key in lists:
            ids = [self.id_map[i] for i in attributes[key] if i in self.id_map]  # type: ignore[union-attr]
            remapped[key] = list(dict.fromkeys(ids))
        return remapped


def select_categories(
    dataset: Dataset,
    categories: str | Sequence[str] | None = None,
    rename: str | Mapping[str, str] | None = None,
    *,
    report: Report | None = None,
) -> Dataset:
    """Apply ``--categories`` then ``--rename`` to a dataset (lazily over its records)."""
    tokens = parse_list(categories)
    renaming = parse_rename(rename)
    if not tokens and not renaming:
        return dataset
    table = dataset.categories
    id_map = {c.id: c.id for c in table}
    if tokens:
        table, id_map = table.select(tokens)
    if renaming:
        pairs = {c.name: renaming for c in table} if isinstance(renaming, str) else renaming
        table, renamed = table.rename(pairs)
        id_map = {old: renamed[new] for old, new in id_map.items()}
    step = RemapCategories(id_map)
    counts = report if report is not None else Report()

    def iter_selected() -> Iterator[ImageRecord]:
        for record in dataset.records:
            result = step(record)
            dropped = len(record.annotations) - len(result.annotations)
            if dropped:
                counts.skip("annotation of a category not selected", count=dropped)
            yield result

    return dataset.replace(categories=table, records=iter_selected())
