"""The canonical in-memory model every format reads into and writes from.

Coordinates are absolute pixel floats with the origin at the top-left corner, in COCO's convention:
pixel *i* spans [i, i+1), so the polygon around the single pixel (i, j) is
(i, j) (i+1, j) (i+1, j+1) (i, j+1). Normalised coordinates exist only inside the YOLO and TFRecord
readers and writers.

The per-annotation types (:class:`BBox`, :class:`Polygons`, :class:`Rle`, :class:`Keypoints`,
:class:`Annotation`) are immutable named tuples rather than frozen dataclasses: a LVIS file holds over
a million of them and a named tuple is built twice as fast. Their invariants are checked by
``check()``, which readers call on untrusted input; the rarer types are frozen dataclasses that check
themselves on construction. Every broken invariant raises :class:`~fashiondata.errors.ValidationError`.

Examples:
    >>> ring = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]   # the one pixel (0, 0)
    >>> ann = Annotation(category_id=1, bbox=BBox(0, 0, 1, 1), segmentation=Polygons((ring,)))
    >>> ann.segmentation.area()
    1.0
    >>> table = CategoryTable.from_names(["top", "Short Pants"])
    >>> table.resolve("short_pants").id
    2
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from fashiondata import io as _io  # MAX_IMAGE_PIXELS, read at call time: it is configurable
from fashiondata.errors import ValidationError

_EMPTY: Mapping[str, Any] = {}


class BBox(NamedTuple):
    """An axis-aligned box in absolute pixels, ``x, y`` top-left, ``w, h`` size (COCO's xywh)."""

    x: float
    y: float
    w: float
    h: float

    @classmethod
    def from_xyxy(cls, x1: float, y1: float, x2: float, y2: float) -> BBox:
        """The box spanning corners (x1, y1) and (x2, y2)."""
        return cls(x1, y1, x2 - x1, y2 - y1)

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        """The box as (x_min, y_min, x_max, y_max)."""
        return (self.x, self.y, self.x + self.w, self.y + self.h)

    @property
    def area(self) -> float:
        return self.w * self.h

    def check(self) -> None:
        """Raise ValidationError unless every value is finite and the size is not negative."""
        for value in self:
            if not _is_finite_number(value):
                raise ValidationError(f"bbox value {value!r} is not a finite number")
        if self.w < 0 or self.h < 0:
            raise ValidationError(f"bbox has a negative size: {list(self)}")


class Polygons(NamedTuple):
    """One or more rings of one instance (a garment in several parts).

    Each ring is a flat sequence ``[x1, y1, x2, y2, ...]`` of absolute pixel coordinates, as in COCO's
    ``segmentation`` list. Rings are kept as read (no copy, no numpy) until a step needs pixels.
    """

    rings: tuple[Sequence[float], ...]

    def check(self) -> None:
        """Raise ValidationError for no ring, an odd coordinate count or a non-finite value.

        Degenerate rings (fewer than 3 points) are allowed in the model so that ``validate`` can
        report them; writers and transforms guarantee at least 3 points where a format needs them.
        """
        if not self.rings:
            raise ValidationError("a polygon segmentation needs at least one ring")
        for index, ring in enumerate(self.rings):
            if len(ring) % 2 or not ring:
                raise ValidationError(f"ring {index} has {len(ring)} coordinates: need an even count")
            for value in ring:
                if not _is_finite_number(value):
                    raise ValidationError(f"ring {index} holds {value!r}, not a finite number")

    def bbox(self) -> BBox:
        """The tight box around every ring."""
        xs = [v for ring in self.rings for v in ring[0::2]]
        ys = [v for ring in self.rings for v in ring[1::2]]
        return BBox.from_xyxy(min(xs), min(ys), max(xs), max(ys))

    def area(self) -> float:
        """Shoelace area summed over rings (a rasterised area comes from :mod:`fashiondata.raster`)."""
        total = 0.0
        for ring in self.rings:
            xs, ys = ring[0::2], ring[1::2]
            n = len(xs)
            total += abs(sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))) / 2
        return total

    @property
    def num_points(self) -> int:
        return sum(len(ring) // 2 for ring in self.rings)


class Rle(NamedTuple):
    """A run-length-encoded mask, kept as read: COCO compressed (``str``/``bytes`` counts) or
    uncompressed (``list[int]`` counts, column-major). ``size`` is (height, width) as in COCO."""

    size: tuple[int, int]
    counts: str | bytes | Sequence[int]

    @property
    def is_compressed(self) -> bool:
        return isinstance(self.counts, (str, bytes))

    def check(self) -> None:
        """Raise ValidationError for a bad size or counts that do not cover the mask."""
        if len(self.size) != 2 or not all(isinstance(v, int) and v >= 0 for v in self.size):
            raise ValidationError(f"RLE size must be [height, width] of non-negative ints: {self.size!r}")
        if not self.is_compressed:
            if not all(isinstance(v, int) and v >= 0 for v in self.counts):
                raise ValidationError("uncompressed RLE counts must be non-negative integers")
            if sum(self.counts) != self.size[0] * self.size[1]:
                raise ValidationError(
                    f"uncompressed RLE counts sum to {sum(self.counts)}, "
                    f"not height*width = {self.size[0] * self.size[1]}"
                )


Segmentation = Polygons | Rle


class Keypoints(NamedTuple):
    """Flat ``[x1, y1, v1, x2, y2, v2, ...]`` as in COCO; v = 0 not labelled, 1 hidden, 2 visible.
    Point names come from the category's ``keypoints``."""

    values: Sequence[float]

    @property
    def num_visible(self) -> int:
        """COCO's ``num_keypoints``: the points with v > 0."""
        return sum(1 for v in self.values[2::3] if v > 0)

    def check(self) -> None:
        if len(self.values) % 3:
            raise ValidationError(f"keypoints hold {len(self.values)} values: need a multiple of 3")
        for value in self.values:
            if not _is_finite_number(value):
                raise ValidationError(f"keypoint value {value!r} is not a finite number")


class Annotation(NamedTuple):
    """One instance.

    ``id`` and ``area`` are the source's when it had them (writers keep valid ids, derive a missing
    area from the segmentation); ``attributes`` holds every other key the source had (LVIS, DeepFashion2
    and VIA extras), so they survive a round trip.
    """

    category_id: int
    bbox: BBox | None = None
    segmentation: Polygons | Rle | None = None
    iscrowd: bool = False
    keypoints: Keypoints | None = None
    area: float | None = None
    id: int | None = None
    attributes: Mapping[str, Any] = _EMPTY
    score: float | None = None

    def check(self) -> None:
        """Raise ValidationError when any part breaks its invariant."""
        if not isinstance(self.category_id, int) or isinstance(self.category_id, bool):
            raise ValidationError(f"category_id must be an int, got {self.category_id!r}")
        for part in (self.bbox, self.segmentation, self.keypoints):
            if part is not None:
                part.check()
        if self.area is not None and (not _is_finite_number(self.area) or self.area < 0):
            raise ValidationError(f"area must be a non-negative number, got {self.area!r}")

    def replace(self, **changes: Any) -> Annotation:
        """A copy with some fields changed."""
        return self._replace(**changes)


@dataclasses.dataclass(frozen=True, slots=True)
class ImageRecord:
    """One image and its annotations.

    ``file_name`` is relative to the dataset's image root (``/`` separated). ``split`` names the
    subset folder (``train``, ``val2017``…) when the source has one. ``id`` is the source's id or None.
    ``source`` is the annotation file the record was read from, when a reader knows it (LVIS val holds
    ``train2017`` images: the YOLO writer names image lists after it); it takes no part in equality.
    """

    file_name: str
    width: int
    height: int
    annotations: tuple[Annotation, ...] = ()
    id: int | None = None
    split: str | None = None
    attributes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    source: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValidationError(f"image {self.file_name!r}: {name} must be a positive int, got {value!r}")
        if self.width * self.height > _io.MAX_IMAGE_PIXELS:  # steps that draw masks allocate H × W
            raise ValidationError(
                f"image {self.file_name!r}: {self.width}x{self.height} pixels exceed the limit of "
                f"{_io.MAX_IMAGE_PIXELS} (set FASHIONDATA_MAX_IMAGE_PIXELS to allow more)"
            )
        if not isinstance(self.annotations, tuple):
            object.__setattr__(self, "annotations", tuple(self.annotations))

    @property
    def stem(self) -> str:
        """The file name without folders and extension."""
        base = self.file_name.rsplit("/", 1)[-1]
        return base.rsplit(".", 1)[0] if "." in base else base

    def replace(self, **changes: Any) -> ImageRecord:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True, slots=True)
class Category:
    """A category. ``attributes`` keeps the source's other keys (LVIS ``synset``, ``synonyms``…)."""

    id: int
    name: str
    supercategory: str | None = None
    keypoints: tuple[str, ...] | None = None
    skeleton: tuple[tuple[int, int], ...] | None = None
    attributes: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, int) or isinstance(self.id, bool):
            raise ValidationError(f"category id must be an int, got {self.id!r}")
        if not isinstance(self.name, str) or not self.name:
            raise ValidationError(f"category {self.id}: name must be a non-empty string")

    def replace(self, **changes: Any) -> Category:
        return dataclasses.replace(self, **changes)


def normalize_name(name: str) -> str:
    """The key names are matched by: case-insensitive, with ``_``, ``-`` and space alike.

    >>> normalize_name("Short_Pants") == normalize_name("short pants") == normalize_name("SHORT-PANTS")
    True
    """
    return re.sub(r"[\s_\-]+", " ", name.strip().lower())


@dataclasses.dataclass(frozen=True)
class CategoryTable:
    """An ordered, immutable table of categories with unique ids and names.

    The order is the writers' order: YOLO class index i is ``table[i]``; ``label_map.pbtxt`` and COCO
    ``categories`` follow it too, so every writer agrees.
    """

    categories: tuple[Category, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        by_id: dict[int, Category] = {}
        for category in self.categories:
            if category.id in by_id:
                raise ValidationError(f"duplicate category id {category.id}")
            by_id[category.id] = category
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_index", {c.id: i for i, c in enumerate(self.categories)})

    @classmethod
    def from_names(cls, names: Iterable[str], *, start: int = 1) -> CategoryTable:
        """A table with ids from ``start`` in the order given."""
        return cls(tuple(Category(id=i, name=n) for i, n in enumerate(names, start)))

    def __len__(self) -> int:
        return len(self.categories)

    def __iter__(self) -> Iterator[Category]:
        return iter(self.categories)

    def __getitem__(self, index: int) -> Category:
        return self.categories[index]

    def __contains__(self, category_id: object) -> bool:
        return category_id in self._by_id  # type: ignore[attr-defined]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(c.id for c in self.categories)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    def get(self, category_id: int) -> Category:
        """The category with this id; ValidationError when there is none."""
        try:
            return self._by_id[category_id]  # type: ignore[attr-defined]
        except KeyError:
            raise ValidationError(f"category id {category_id} is not declared") from None

    def index_of(self, category_id: int) -> int:
        """The 0-based position of a category (YOLO's class index)."""
        try:
            return self._index[category_id]  # type: ignore[attr-defined]
        except KeyError:
            raise ValidationError(f"category id {category_id} is not declared") from None

    def resolve(self, token: str | int) -> Category:
        """Find a category by id, name or synonym (names matched by :func:`normalize_name`)."""
        if isinstance(token, int) or (isinstance(token, str) and token.strip().isdigit()):
            category_id = int(token)
            if category_id in self:
                return self.get(category_id)
        if isinstance(token, str):
            key = normalize_name(token)
            for category in self.categories:
                if normalize_name(category.name) == key:
                    return category
            for category in self.categories:
                synonyms = category.attributes.get("synonyms") or ()
                if isinstance(synonyms, (list, tuple)) and any(
                    isinstance(s, str) and normalize_name(s) == key for s in synonyms
                ):
                    return category
        known = ", ".join(self.names[:20]) + (" …" if len(self) > 20 else "")
        raise ValidationError(f"unknown category {token!r} (known: {known})")

    def select(self, tokens: Sequence[str | int]) -> tuple[CategoryTable, dict[int, int]]:
        """Keep the named categories, in the order given, with their ids.

        Returns the new table and the id map old id → new id (identity here).
        """
        chosen: list[Category] = []
        for token in tokens:
            category = self.resolve(token)
            if category not in chosen:
                chosen.append(category)
        return CategoryTable(tuple(chosen)), {c.id: c.id for c in chosen}

    def rename(self, mapping: Mapping[str, str]) -> tuple[CategoryTable, dict[int, int]]:
        """Rename categories; several old names may become one new name (they merge).

        ``mapping`` is old name (any spelling :meth:`resolve` takes) → new name. The merged category
        keeps the id of its first member; returns the new table and the id map old id → new id.
        """
        new_name = {self.resolve(old).id: new for old, new in mapping.items()}
        merged: dict[str, Category] = {}
        id_map: dict[int, int] = {}
        for category in self.categories:
            name = new_name.get(category.id, category.name)
            key = normalize_name(name)
            if key not in merged:
                merged[key] = category.replace(name=name) if name != category.name else category
            id_map[category.id] = merged[key].id
        return CategoryTable(tuple(merged.values())), id_map

    def renumbered(self, start: int = 1) -> tuple[CategoryTable, dict[int, int]]:
        """Ids made contiguous from ``start`` in table order; returns the table and the id map."""
        id_map = {c.id: i for i, c in enumerate(self.categories, start)}
        return CategoryTable(tuple(c.replace(id=id_map[c.id]) for c in self.categories)), id_map


def _is_finite_number(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and value not in (float("inf"), float("-inf"))
    )
