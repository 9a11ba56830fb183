"""Dataset statistics as map-reduce: a per-chunk :class:`Tally`, merged associatively, in one pass.

Every number is defined here once (``docs/stats.md`` shows them on a fixture):

* **instances per image**: annotations of an image (crowd ones included); mean and histogram
  ``{count: images}``; an image with none is an *empty image*.
* **vertices per polygon**: for every ring (part) of every polygon segmentation, its true vertex
  count: coordinate pairs, minus one when the ring repeats its first point at the end.
* **megapixels**: ``width × height / 1e6`` of each image; the mean, and a histogram in bins of
  :data:`MEGAPIXEL_BIN`.
* **mask area**: the annotation's ``area`` when it has a segmentation and the source gave one (COCO's
  ``area`` is the mask area), else the polygon's shoelace area, else the RLE's pixel count (counted
  from the runs: no pixels are decoded). Annotations without a segmentation have no mask area.
  **mask area ratio** = mask area / (width × height); per category its mean, overall a histogram of
  :data:`AREA_RATIO_BINS` equal bins over [0, 1] (a ratio above 1, from a part poking outside the
  image, falls in the last bin).
* **COCO area classes**: ``small`` area < 32², ``medium`` 32² ≤ area < 96², ``large`` ≥ 96², as in
  pycocotools' COCOeval ``areaRng``; the area is the annotation's ``area``, else its mask area, else its
  box area (what a COCO writer would store); annotations with none of the three are not classed.
* **per category**: instances, images holding at least one, share of all instances, mean mask area
  ratio (null when none of its instances has a mask).
* **attribute distributions**: for every image attribute (VIA file attributes such as ``people``,
  COCO's ``license``) and annotation attribute (DeepFashion2 ``occlusion``, ``scale``, ``zoom_in``,
  ``viewpoint``…), ``{value: count}``; each element of a list counts (VIA checkboxes: the options
  ticked) and a dict value is counted per key as ``name.key``. An attribute with nested lists or
  objects, or more than :data:`ATTRIBUTE_VALUE_LIMIT` distinct values (ids, URLs, dates), is listed
  under ``not_counted`` with the reason.
* **persons**: ``0``/``1``/``many`` per image, from the annotations when the dataset has a ``person``
  category, else from detected faces (``detect=True``).
* with ``detect=True``: images per colour kind (``color``, ``monochrome``, ``grayscale``, ``bw``, see
  :mod:`fashiondata.detectors.color`), the grayscale share (grayscale + bw), selfies.

Floats in the output are rounded to 6 decimals, so the numbers do not depend on the order partial
tallies were merged in. A COCO file is summarised straight from its parsed JSON (one pass over the
dicts, no model objects: the file is the cost, see ``docs/performance.md``); it falls back to the
reader, and its exact error, on anything unexpected.
"""

from __future__ import annotations

import dataclasses
import operator
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np

from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import FashionDataError
from fashiondata.formats import coco as coco_format
from fashiondata.io import MAX_IMAGE_PIXELS, safe_relative_path
from fashiondata.model import CategoryTable, ImageRecord, Polygons, Rle, normalize_name

SMALL_AREA = 32**2
LARGE_AREA = 96**2
AREA_RATIO_BINS = 20
MEGAPIXEL_BIN = 0.25
ATTRIBUTE_VALUE_LIMIT = 50
PERSON_NAMES = frozenset({"person", "people", "human"})
CHUNK = 512
_DIGITS = 6


@dataclasses.dataclass
class CategoryTally:
    """Counts of one category; merged by addition."""

    instances: int = 0
    images: int = 0
    masks: int = 0
    mask_area_ratio_sum: float = 0.0

    def merge(self, other: CategoryTally) -> None:
        self.instances += other.instances
        self.images += other.images
        self.masks += other.masks
        self.mask_area_ratio_sum += other.mask_area_ratio_sum


@dataclasses.dataclass
class Tally:
    """The partial statistics of some images: every field merges associatively (see :meth:`merge`)."""

    images: int = 0
    annotations: int = 0
    crowd: int = 0
    pixels: int = 0
    width_min: int | None = None
    width_max: int | None = None
    height_min: int | None = None
    height_max: int | None = None
    instances_per_image: Counter[int] = dataclasses.field(default_factory=Counter)
    vertices_per_polygon: Counter[int] = dataclasses.field(default_factory=Counter)
    megapixel_bins: Counter[int] = dataclasses.field(default_factory=Counter)
    area_ratio_bins: Counter[int] = dataclasses.field(default_factory=Counter)
    area_classes: Counter[str] = dataclasses.field(default_factory=Counter)
    categories: dict[int, CategoryTally] = dataclasses.field(default_factory=dict)
    image_attributes: dict[str, Counter[str] | None] = dataclasses.field(default_factory=dict)
    annotation_attributes: dict[str, Counter[str] | None] = dataclasses.field(default_factory=dict)
    not_counted: dict[str, str] = dataclasses.field(default_factory=dict)
    persons: Counter[str] = dataclasses.field(default_factory=Counter)
    color_kinds: Counter[str] = dataclasses.field(default_factory=Counter)
    faces_checked: int = 0
    selfies: int = 0

    # ------------------------------------------------------------------ adding

    def _add_image(self, width: int, height: int, instances: int, attributes: Mapping[str, Any]) -> None:
        """One image's size, instance count and attributes."""
        self.images += 1
        self.pixels += width * height
        self.width_min = width if self.width_min is None else min(self.width_min, width)
        self.width_max = width if self.width_max is None else max(self.width_max, width)
        self.height_min = height if self.height_min is None else min(self.height_min, height)
        self.height_max = height if self.height_max is None else max(self.height_max, height)
        self.instances_per_image[instances] += 1
        self.megapixel_bins[int(width * height / 1e6 / MEGAPIXEL_BIN)] += 1
        if attributes:
            self._count_attributes(self.image_attributes, attributes, "image")

    def _add_annotation(
        self,
        category: CategoryTally,
        segmentation: Polygons | Rle | None,
        area: float | None,
        bbox_area: float | None,
        image_pixels: int,
        crowd: bool,
    ) -> None:
        """One annotation of an image of ``image_pixels`` pixels (its category counted by the caller)."""
        self.annotations += 1
        category.instances += 1
        if crowd:
            self.crowd += 1
        mask_area = None
        if segmentation is not None:
            if isinstance(segmentation, Polygons):
                self._count_vertices(segmentation.rings)
            mask_area = area if area is not None else segmentation_area(segmentation)
            ratio = mask_area / image_pixels
            category.masks += 1
            category.mask_area_ratio_sum += ratio
            self.area_ratio_bins[min(int(ratio * AREA_RATIO_BINS), AREA_RATIO_BINS - 1)] += 1
        size_area = area if area is not None else mask_area if mask_area is not None else bbox_area
        if size_area is not None:
            self.area_classes[area_class(size_area)] += 1

    def add_record(self, record: ImageRecord, person_ids: frozenset[int] = frozenset()) -> None:
        """One image record with its annotations."""
        pixels = record.width * record.height
        categories = self.categories
        persons = 0
        for ann in record.annotations:
            category = categories.get(ann.category_id)
            if category is None:
                category = categories[ann.category_id] = CategoryTally()
            bbox = ann.bbox
            self._add_annotation(
                category,
                ann.segmentation,
                ann.area,
                bbox.w * bbox.h if bbox is not None else None,
                pixels,
                ann.iscrowd,
            )
            if ann.category_id in person_ids:
                persons += 1
            if ann.attributes:
                self._count_attributes(self.annotation_attributes, ann.attributes, "annotation")
        for category_id in {a.category_id for a in record.annotations}:
            categories[category_id].images += 1
        self._add_image(record.width, record.height, len(record.annotations), record.attributes)
        if person_ids:
            self.persons[persons_bucket(persons)] += 1

    def add_detection(self, detection: Any, *, count_persons: bool) -> None:
        """One image's :class:`~fashiondata.detectors.ImageDetection`."""
        if detection.color is not None:
            self.color_kinds[detection.color.kind] += 1
        if detection.faces is not None:
            self.faces_checked += 1
            self.selfies += int(bool(detection.selfie))
            if count_persons:
                self.persons[detection.persons] += 1

    def _count_vertices(self, rings: Sequence[Sequence[float]]) -> None:
        histogram = self.vertices_per_polygon
        for ring in rings:
            n = len(ring) >> 1
            if n > 2 and ring[0] == ring[-2] and ring[1] == ring[-1]:
                n -= 1
            histogram[n] += 1

    def _count_attributes(
        self, table: dict[str, Counter[str] | None], attributes: Mapping[str, Any], level: str
    ) -> None:
        for name, value in attributes.items():
            if isinstance(value, dict):
                for key, inner in value.items():
                    self._count_value(table, f"{name}.{key}", inner, level)
            else:
                self._count_value(table, name, value, level)

    def _count_value(self, table: dict[str, Counter[str] | None], name: str, value: Any, level: str) -> None:
        counter = table.get(name, _ABSENT)
        if counter is None:
            return
        values = value if isinstance(value, list) else (value,)  # a list: VIA's checkbox choices
        if any(isinstance(v, (list, dict)) for v in values):
            table[name] = None
            self.not_counted[f"{level}.{name}"] = "values are nested lists or objects"
            return
        if counter is _ABSENT:
            counter = table[name] = Counter()
        counter.update(attribute_key(v) for v in values)  # type: ignore[union-attr]
        if len(counter) > ATTRIBUTE_VALUE_LIMIT:  # type: ignore[arg-type]
            table[name] = None
            self.not_counted[f"{level}.{name}"] = f"more than {ATTRIBUTE_VALUE_LIMIT} distinct values"

    # ------------------------------------------------------------------ merging

    def merge(self, other: Tally) -> Tally:
        """Add ``other`` into this tally (associative and, up to float rounding, commutative)."""
        for name in ("images", "annotations", "crowd", "pixels", "faces_checked", "selfies"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name, pick in (("width_min", min), ("width_max", max), ("height_min", min), ("height_max", max)):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, theirs if mine is None else mine if theirs is None else pick(mine, theirs))
        for name in (
            "instances_per_image",
            "vertices_per_polygon",
            "megapixel_bins",
            "area_ratio_bins",
            "area_classes",
            "persons",
            "color_kinds",
        ):
            getattr(self, name).update(getattr(other, name))
        for category_id, tally in other.categories.items():
            self.categories.setdefault(category_id, CategoryTally()).merge(tally)
        for mine, theirs in (
            (self.image_attributes, other.image_attributes),
            (self.annotation_attributes, other.annotation_attributes),
        ):
            for name, counter in theirs.items():
                known = mine.get(name, _ABSENT)
                if known is None:
                    continue
                if counter is None:
                    mine[name] = None
                    continue
                merged = Counter(counter) if known is _ABSENT else known
                if known is not _ABSENT:
                    merged.update(counter)  # type: ignore[union-attr]
                mine[name] = merged
                if len(merged) > ATTRIBUTE_VALUE_LIMIT:  # type: ignore[arg-type]
                    mine[name] = None
                    level = "image" if mine is self.image_attributes else "annotation"
                    self.not_counted[f"{level}.{name}"] = f"more than {ATTRIBUTE_VALUE_LIMIT} distinct values"
        self.not_counted.update(other.not_counted)
        return self

    # ------------------------------------------------------------------ output

    def to_dict(
        self, categories: CategoryTable, *, persons_source: str | None = None, detected: bool = False
    ) -> dict[str, Any]:
        """The JSON-ready statistics (fixed key order, floats rounded to 6 decimals).

        ``persons_source`` (``annotations`` or ``faces``) adds the persons section, ``detected`` the
        detection section.
        """
        images, annotations = self.images, self.annotations
        rows = []
        known = list(categories.ids) + sorted(set(self.categories) - set(categories.ids))
        for category_id in known:
            tally = self.categories.get(category_id, CategoryTally())
            name = categories.get(category_id).name if category_id in categories else f"id {category_id}"
            rows.append(
                {
                    "id": category_id,
                    "name": name,
                    "instances": tally.instances,
                    "images": tally.images,
                    "share": _round(tally.instances / annotations) if annotations else 0.0,
                    "mask_area_ratio": _round(tally.mask_area_ratio_sum / tally.masks) if tally.masks else None,
                }
            )
        polygons = sum(self.vertices_per_polygon.values())
        vertices = sum(n * count for n, count in self.vertices_per_polygon.items())
        masks = sum(self.area_ratio_bins.values())
        ratio_sum = sum(t.mask_area_ratio_sum for t in self.categories.values())
        out: dict[str, Any] = {
            "images": images,
            "annotations": annotations,
            "categories": len(categories),
            "empty_images": self.instances_per_image.get(0, 0),
            "crowd_annotations": self.crowd,
            "instances_per_image": {
                "mean": _round(annotations / images) if images else 0.0,
                "histogram": _histogram(self.instances_per_image),
            },
            "polygons": {
                "count": polygons,
                "vertices_mean": _round(vertices / polygons) if polygons else 0.0,
                "vertices_histogram": _histogram(self.vertices_per_polygon),
            },
            "image_size": {
                "megapixels_mean": _round(self.pixels / images / 1e6) if images else 0.0,
                "megapixels_histogram": {f"{b * MEGAPIXEL_BIN:g}": n for b, n in sorted(self.megapixel_bins.items())},
                "width": {"min": self.width_min, "max": self.width_max},
                "height": {"min": self.height_min, "max": self.height_max},
            },
            "mask_area_ratio": {
                "masks": masks,
                "mean": _round(ratio_sum / masks) if masks else None,
                "histogram": [self.area_ratio_bins.get(b, 0) for b in range(AREA_RATIO_BINS)],
            },
            "area_classes": {k: self.area_classes.get(k, 0) for k in ("small", "medium", "large")},
            "per_category": rows,
            "attributes": {
                "image": _distributions(self.image_attributes),
                "annotation": _distributions(self.annotation_attributes),
                "not_counted": dict(sorted(self.not_counted.items())),
            },
        }
        if persons_source is not None:
            total = sum(self.persons.values())
            out["persons"] = {
                "source": persons_source,
                **{k: self.persons.get(k, 0) for k in ("0", "1", "many")},
                "shares": {k: _round(self.persons.get(k, 0) / total) if total else 0.0 for k in ("0", "1", "many")},
            }
        if detected:
            colored = sum(self.color_kinds.values())
            gray = self.color_kinds.get("grayscale", 0) + self.color_kinds.get("bw", 0)
            out["detect"] = {
                "color_checked": colored,
                "color": {k: self.color_kinds.get(k, 0) for k in ("color", "monochrome", "grayscale", "bw")},
                "grayscale_share": _round(gray / colored) if colored else None,
                "faces_checked": self.faces_checked,
                "selfies": self.selfies,
                "selfie_share": _round(self.selfies / self.faces_checked) if self.faces_checked else None,
            }
        return out


_ABSENT: Any = object()


# ---------------------------------------------------------------- pure helpers


def area_class(area: float) -> str:
    """COCO's size class of an area in pixels: ``small`` < 32², ``medium`` < 96², else ``large``.

    >>> area_class(1023), area_class(1024), area_class(9216)
    ('small', 'medium', 'large')
    """
    return "small" if area < SMALL_AREA else "medium" if area < LARGE_AREA else "large"


def persons_bucket(count: int) -> str:
    """``0``, ``1`` or ``many``."""
    return "0" if count == 0 else "1" if count == 1 else "many"


def segmentation_area(segmentation: Polygons | Rle) -> float:
    """Mask area without pixels: polygon shoelace area, or the RLE's foreground run lengths."""
    if isinstance(segmentation, Polygons):
        return segmentation.area()
    counts = segmentation.counts
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    runs = raster.compressed_counts(counts) if isinstance(counts, str) else counts
    return float(sum(runs[1::2]))


def attribute_key(value: Any) -> str:
    """How an attribute value is named in a distribution: JSON's spelling of scalars.

    >>> attribute_key(True), attribute_key(None), attribute_key(2), attribute_key("front")
    ('true', 'null', '2', 'front')
    """
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def _round(value: float) -> float:
    return round(value, _DIGITS)


def _histogram(counter: Counter[int]) -> dict[str, int]:
    return {str(k): counter[k] for k in sorted(counter)}


def _distributions(table: Mapping[str, Counter[str] | None]) -> dict[str, dict[str, int]]:
    return {
        name: dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
        for name, counter in sorted(table.items())
        if counter is not None
    }


def person_category_ids(categories: CategoryTable) -> frozenset[int]:
    """Ids of categories named person/people/human (any spelling :func:`normalize_name` matches)."""
    return frozenset(c.id for c in categories if normalize_name(c.name) in PERSON_NAMES)


# ---------------------------------------------------------------- map step


@dataclasses.dataclass(frozen=True)
class TallyChunk:
    """Map step: a list of records → their :class:`Tally` (picklable, runs on any executor)."""

    person_ids: frozenset[int] = frozenset()

    def __call__(self, records: Sequence[ImageRecord]) -> Tally:
        tally = Tally()
        for record in records:
            tally.add_record(record, self.person_ids)
        return tally


def merge_all(tallies: Iterable[Tally]) -> Tally:
    """Reduce: merge tallies in order into one."""
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


# ---------------------------------------------------------------- COCO JSON, straight from the dicts


class NotPlainCoco(Exception):
    """The document is not what the fast path expects: the caller reads it properly instead."""


def tally_coco_document(doc: Mapping[str, Any], person_ids: frozenset[int]) -> Tally:
    """One pass over a parsed COCO document's dicts, with the same numbers as :meth:`Tally.add_record`.

    Raises NotPlainCoco on any type, reference or id it does not expect; the reader then reports it.
    """
    try:
        return _tally_coco(doc, person_ids)
    except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError, IndexError, FashionDataError) as error:
        raise NotPlainCoco(str(error)) from error


_IMAGE_KEYS = frozenset(coco_format.IMAGE_KEYS)
_ANNOTATION_KEYS = frozenset(coco_format.ANNOTATION_KEYS)


def _tally_coco(doc: Mapping[str, Any], person_ids: frozenset[int]) -> Tally:
    """Column-wise: one list comprehension per field, then numpy counts (5× a per-object loop)."""
    images = doc["images"]
    annotations = doc.get("annotations") or []
    declared = doc.get("categories") or []
    if type(images) is not list or type(annotations) is not list or type(declared) is not list:
        raise NotPlainCoco("not lists")
    if not _types(images) <= {dict} or not _types(annotations) <= {dict}:
        raise NotPlainCoco("not objects")
    image_ids = _column(images, "id")
    widths = _column(images, "width")
    heights = _column(images, "height")
    file_names = _column(images, "file_name")
    if not _types(image_ids) | _types(widths) | _types(heights) <= {int} or not _types(file_names) <= {str}:
        raise NotPlainCoco("image fields")
    for name in file_names:
        safe_relative_path(name)  # the reader refuses names that would leave a folder
    index_of = {image_id: i for i, image_id in enumerate(image_ids)}
    category_ids = [c["id"] for c in declared]
    column_of = {category_id: i for i, category_id in enumerate(category_ids)}
    if len(index_of) != len(images) or len(column_of) != len(declared):
        raise NotPlainCoco("duplicate image or category id")
    pixels = np.asarray(widths, dtype=np.int64) * np.asarray(heights, dtype=np.int64)
    if len(images) and (min(widths) <= 0 or min(heights) <= 0 or int(pixels.max()) > MAX_IMAGE_PIXELS):
        raise NotPlainCoco("image size")

    ann_ids = _present(annotations, "id")
    if len(set(ann_ids)) != len(ann_ids) or not _types(ann_ids) <= {int}:
        raise NotPlainCoco("annotation ids")
    image_of = _column(annotations, "image_id")
    category_of = _column(annotations, "category_id")
    if not _types(image_of) | _types(category_of) <= {int}:
        raise NotPlainCoco("image_id or category_id")
    image_index = np.fromiter(map(index_of.__getitem__, image_of), np.int64, len(image_of))
    column = np.fromiter(map(column_of.__getitem__, category_of), np.int64, len(category_of))
    crowd = list(map(dict.get, annotations, repeat("iscrowd"), repeat(0)))
    if not set(crowd) <= {0, 1}:
        raise NotPlainCoco("iscrowd")
    segmentations: list[Any] = list(map(dict.get, annotations, repeat("segmentation")))
    kinds = list(map(type, segmentations))
    if not set(kinds) <= {list, dict, type(None)}:
        raise NotPlainCoco("segmentation")
    rings = [ring for seg, kind in zip(segmentations, kinds) if kind is list for ring in seg]
    if not _types(rings) <= {list}:
        raise NotPlainCoco("ring type")
    lengths = np.fromiter(map(len, rings), np.int64, len(rings))
    if len(rings) and (lengths.min() == 0 or (lengths % 2).any()):
        raise NotPlainCoco("ring length")
    _check_numbers(rings)
    for seg, kind in zip(segmentations, kinds):
        if kind is dict:
            _check_rle(seg)
    bboxes = _present(annotations, "bbox")
    if not _types(bboxes) <= {list} or not set(map(len, bboxes)) <= {4}:
        raise NotPlainCoco("bbox")
    _check_numbers(bboxes)
    if bboxes and min(min(map(itemgetter(2), bboxes)), min(map(itemgetter(3), bboxes))) < 0:
        raise NotPlainCoco("negative bbox")
    keypoints = _present(annotations, "keypoints")
    if not _types(keypoints) <= {list} or any(len(k) % 3 for k in keypoints):
        raise NotPlainCoco("keypoints")
    _check_numbers(keypoints)
    areas = list(map(dict.get, annotations, repeat("area")))
    scores = _present(annotations, "score")
    _check_numbers([[a for a in areas if a is not None], scores])
    if bool in _types(areas) | _types(scores):  # the reader checks each of these on its own
        raise NotPlainCoco("boolean area or score")
    closed = _closed_rings(rings, lengths)
    has_mask = np.asarray(
        [kind is dict or (kind is list and len(seg) > 0) for seg, kind in zip(segmentations, kinds)], dtype=np.bool_
    )
    mask_area = np.full(len(annotations), np.nan)
    size_area = np.full(len(annotations), np.nan)
    given = np.asarray([area is not None for area in areas], dtype=np.bool_)
    if given.any():
        size_area[given] = np.asarray([area for area in areas if area is not None], dtype=np.float64)
    mask_area[has_mask & given] = size_area[has_mask & given]
    for i in np.flatnonzero(~given).tolist():  # rare: compute what the file did not give
        seg, kind = segmentations[i], kinds[i]
        if has_mask[i]:
            model = Polygons(seg) if kind is list else Rle(tuple(seg["size"]), seg["counts"])
            size_area[i] = mask_area[i] = segmentation_area(model)
        elif (bbox := annotations[i].get("bbox")) is not None:
            size_area[i] = bbox[2] * bbox[3]

    tally = Tally()
    n_images, n_columns = len(images), len(category_ids)
    tally.images, tally.annotations, tally.crowd = n_images, len(annotations), sum(crowd)
    tally.pixels = int(pixels.sum())
    if n_images:
        tally.width_min, tally.width_max = min(widths), max(widths)
        tally.height_min, tally.height_max = min(heights), max(heights)
    per_image = np.bincount(image_index, minlength=n_images)
    tally.instances_per_image = _counter(per_image)
    tally.megapixel_bins = _counter((pixels / 1e6 / MEGAPIXEL_BIN).astype(np.int64))
    tally.vertices_per_polygon = _counter(lengths // 2 - closed)
    ratio = mask_area[has_mask] / pixels[image_index[has_mask]]
    tally.area_ratio_bins = _counter(np.minimum((ratio * AREA_RATIO_BINS).astype(np.int64), AREA_RATIO_BINS - 1))
    classed = size_area[~np.isnan(size_area)]
    tally.area_classes = Counter(
        {
            "small": int((classed < SMALL_AREA).sum()),
            "medium": int(((classed >= SMALL_AREA) & (classed < LARGE_AREA)).sum()),
            "large": int((classed >= LARGE_AREA).sum()),
        }
    )
    instances = np.bincount(column, minlength=n_columns)
    masks = np.bincount(column[has_mask], minlength=n_columns)
    ratio_sums = np.bincount(column[has_mask], weights=ratio, minlength=n_columns)
    pairs = np.sort(image_index * max(n_columns, 1) + column)
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if len(pairs) else pairs
    with_images = np.bincount(pairs % max(n_columns, 1), minlength=n_columns)
    tally.categories = {
        category_id: CategoryTally(int(instances[i]), int(with_images[i]), int(masks[i]), float(ratio_sums[i]))
        for i, category_id in enumerate(category_ids)
    }
    if person_ids:
        is_person = np.isin(column, [column_of[c] for c in person_ids])
        persons = np.bincount(image_index[is_person], minlength=n_images)
        tally.persons = Counter(
            {"0": int((persons == 0).sum()), "1": int((persons == 1).sum()), "many": int((persons > 1).sum())}
        )
    for annotation in annotations:
        if not annotation.keys() <= _ANNOTATION_KEYS:
            extra = {k: v for k, v in annotation.items() if k not in _ANNOTATION_KEYS}
            tally._count_attributes(tally.annotation_attributes, extra, "annotation")
    for image in images:
        if not image.keys() <= _IMAGE_KEYS:
            extra = {k: v for k, v in image.items() if k not in _IMAGE_KEYS}
            tally._count_attributes(tally.image_attributes, extra, "image")
    return tally


def _column(objects: list[dict], key: str) -> list[Any]:
    """``[o[key] for o in objects]`` in C (a KeyError when one lacks it)."""
    return list(map(itemgetter(key), objects))


def _present(objects: list[dict], key: str) -> list[Any]:
    """The values of ``key`` that are there and not null."""
    return [v for v in map(dict.get, objects, repeat(key)) if v is not None]


def _types(values: Iterable[Any]) -> set[type]:
    return set(map(type, values))


def _check_numbers(lists: Sequence[Sequence[Any]]) -> None:
    """Every value a finite int or float, as the reader demands (one C-level sum per list)."""
    try:
        total = sum(map(sum, lists))
    except TypeError:
        raise NotPlainCoco("not a number") from None
    if total - total != 0 or bool in _types(map(itemgetter(0), filter(None, lists))):
        raise NotPlainCoco("NaN, infinity or a boolean")


def _check_rle(rle: Mapping[str, Any]) -> None:
    size, counts = rle["size"], rle["counts"]
    if type(size) is not list or len(size) != 2 or not _types(size) <= {int} or min(size) < 0:
        raise NotPlainCoco("RLE size")
    if size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise NotPlainCoco("RLE larger than the pixel limit")
    if type(counts) is list:
        if not _types(counts) <= {int} or (counts and min(counts) < 0) or sum(counts) != size[0] * size[1]:
            raise NotPlainCoco("RLE counts")
    elif type(counts) is str:
        try:
            runs = raster.compressed_counts(counts)
        except ValueError:
            raise NotPlainCoco("compressed RLE counts") from None
        if sum(runs) != size[0] * size[1]:
            raise NotPlainCoco("compressed RLE total")
    else:
        raise NotPlainCoco("RLE counts type")


def _counter(values: np.ndarray) -> Counter[int]:
    """``{value: count}`` of non-negative integers."""
    counts = np.bincount(values) if len(values) else np.zeros(0, dtype=np.int64)
    keys = np.flatnonzero(counts)
    return Counter(dict(zip(keys.tolist(), counts[keys].tolist())))


def _closed_rings(rings: Sequence[Sequence[float]], lengths: np.ndarray) -> np.ndarray:
    """Which rings repeat their first point at the end (x compared in C first, y only for those)."""
    same_x = np.fromiter(map(operator.eq, map(itemgetter(0), rings), map(itemgetter(-2), rings)), bool, len(rings))
    closed = same_x & (lengths > 4)
    for i in np.flatnonzero(closed).tolist():
        closed[i] = rings[i][1] == rings[i][-1]
    return closed


def iter_chunks(records: Iterable[ImageRecord], size: int = CHUNK) -> Iterator[list[ImageRecord]]:
    """Consecutive lists of ``size`` records."""
    chunk: list[ImageRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ---------------------------------------------------------------- terminal table


def format_category_table(stats: Mapping[str, Any]) -> list[str]:
    """The per-category table in Detectron2's style (a Markdown pipe table with a total row).

    Columns: category, instances, images, share of instances, mean mask area / image area.
    """
    header = ("category", "#instances", "#images", "share", "mask/image")
    rows = [
        (
            r["name"],
            str(r["instances"]),
            str(r["images"]),
            f"{r['share'] * 100:.2f}%",
            "-" if r["mask_area_ratio"] is None else f"{r['mask_area_ratio']:.4f}",
        )
        for r in stats["per_category"]
    ]
    ratio = stats["mask_area_ratio"]["mean"]
    rows.append(
        (
            "total",
            str(stats["annotations"]),
            str(stats["images"]),
            "100.00%" if stats["annotations"] else "0.00%",
            "-" if ratio is None else f"{ratio:.4f}",
        )
    )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.center(w) for h, w in zip(header, widths)) + " |"]
    lines.append(
        "|" + "|".join(":" + "-" * w + ":" if i == 0 else ":" + "-" * (w + 1) for i, w in enumerate(widths)) + "|"
    )
    for row in rows:
        cells = [row[0].center(widths[0])] + [cell.ljust(w) for cell, w in zip(row[1:], widths[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# ---------------------------------------------------------------- the whole computation


def compute(
    paths: Sequence[str],
    ctx: RunContext,
    *,
    format_name: str,
    read_dataset: Callable[[], Dataset],
    detector: Any = None,
    stream: bool | None = None,
) -> dict[str, Any]:
    """The statistics of a dataset as a JSON-ready dict.

    A single COCO file without ``detector`` is tallied straight from its JSON; anything else is read
    with ``read_dataset()`` and tallied in chunks of :data:`CHUNK` records on ``ctx``'s executor. With a
    ``detector`` (a :class:`~fashiondata.detectors.DetectImage` whose ``root`` is the image folder) every
    image is also checked, on the executor, and an image that cannot be read follows ``ctx.on_error``.
    A file the COCO reader would stream (``stream``, or above its threshold) is streamed, in bounded
    memory, rather than loaded whole.
    """
    if format_name == "coco" and detector is None and len(paths) == 1 and not _streamed(paths[0], stream):
        fast = _coco_file_stats(paths[0], ctx)
        if fast is not None:
            return fast
    dataset = read_dataset()
    person_ids = person_category_ids(dataset.categories)
    if detector is None:
        chunks = iter_chunks(dataset.records)
        tally = merge_all(ctx.map_items(TallyChunk(person_ids), chunks, desc="stats", name_of=_chunk_name))
    else:
        from fashiondata.detectors import (
            iter_detected,  # OpenCV is imported only when pixels are needed
        )

        tally = Tally()
        for record, detection in iter_detected(dataset.records, ctx, detector=detector):
            tally.add_record(record, person_ids)
            if detection is not None:
                tally.add_detection(detection, count_persons=not person_ids)
    faces = detector is not None and "faces" in detector.checks
    source = "annotations" if person_ids else "faces" if faces else None
    return tally.to_dict(dataset.categories, persons_source=source, detected=detector is not None)


def _coco_file_stats(path: str, ctx: RunContext) -> dict[str, Any] | None:
    from fashiondata.formats.coco import gc_paused

    # Nothing here makes reference cycles: with the collector running, every allocation batch would
    # walk the millions of objects of the parsed document (that alone cost 40% over the parse).
    with gc_paused():
        tallied = _tally_coco_file(path)  # the document is freed when this returns, still paused
    if tallied is None:
        return None
    table, tally = tallied
    ctx.report.read["images"] += tally.images
    ctx.report.read["annotations"] += tally.annotations
    person_ids = person_category_ids(table)
    return tally.to_dict(table, persons_source="annotations" if person_ids else None)


def _tally_coco_file(path: str) -> tuple[CategoryTable, Tally] | None:
    from fashiondata.formats.coco import load_json, parse_category

    doc = load_json(path)
    try:
        if not isinstance(doc, dict) or not isinstance(doc.get("categories", []), list):
            raise NotPlainCoco("not an object")
        table = CategoryTable(
            tuple(parse_category(obj, path, f"/categories/{i}") for i, obj in enumerate(doc.get("categories") or []))
        )
        return table, tally_coco_document(doc, person_category_ids(table))
    except (NotPlainCoco, FashionDataError):  # the reader will raise the precise error
        return None


def _streamed(path: str, stream: bool | None) -> bool:
    return bool(stream) or (stream is None and os.path.getsize(path) > coco_format.STREAM_THRESHOLD)


def _chunk_name(chunk: Sequence[ImageRecord]) -> str:
    return f"{chunk[0].file_name} … {chunk[-1].file_name}" if chunk else "(empty chunk)"
