"""DeepFashion2 per-image annotation folders → the canonical model (read only).

Spec: the dataset's README, "Data Organization" (https://github.com/switchablenorms/DeepFashion2#data-organization),
and the official COCO converter ``evaluation/deepfashion2_to_coco.py`` in the same repository, whose
semantics are kept:

* 13 categories with the converter's names (``short_sleeved_shirt`` … ``sling_dress``), supercategory
  ``clothes``, keypoint names ``"1"`` … ``"294"`` and an empty skeleton; the dataset's own
  ``category_name`` spelling ("short sleeve top") is kept as a synonym, so ``--categories`` takes it;
* each item's landmarks fill its category's slots of the 294 (cat 1: 0–25, 2: 25–58, 3: 58–89,
  4: 89–128, 5: 128–143, 6: 143–158, 7: 158–168, 8: 168–182, 9: 182–190, 10: 190–219,
  11: 219–256, 12: 256–275, 13: 275–294), the others are 0; ``num_keypoints`` counts v > 0;
* ``bbox`` is ``bounding_box`` [x1, y1, x2, y2] as [x1, y1, x2 − x1, y2 − y1]; ``segmentation`` is the
  item's polygons as given (empty parts dropped); ``style`` and ``pair_id`` go on the annotation;
* the image id is the file's number (``000001.jpg`` → 1), as the README says for evaluation.

Where the official converter falls short (it does not run: ``num_images`` is undefined; its area is the
box area), this reader gives ``area`` as the mask area (``area="bbox"`` gives the official value), keeps
``scale``, ``occlusion``, ``zoom_in`` and ``viewpoint`` as annotation attributes and ``source`` and
``pair_id`` as image attributes, and reads the per-image files in parallel on the executor.

On disk (a split folder, or a folder holding split folders)::

    DeepFashion2/               or      train/
      train/                              annos/000001.json
        annos/000001.json                 image/000001.jpg
        image/000001.jpg
      validation/
        annos/ image/

Item filters (the DeepFashion2 seed's): ``max_occlusion``, ``scale`` (a list), ``max_zoom_in`` and
``viewpoint`` (a list) drop items, counted; an image left without items stays as a negative unless
``drop_empty``.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.formats.coco import gc_paused, load_json
from fashiondata.io import image_size
from fashiondata.model import (
    Annotation,
    BBox,
    Category,
    CategoryTable,
    ImageRecord,
    Keypoints,
    Polygons,
)
from fashiondata.registry import FormatOption, FormatSpec, register_format

#: (official name, the dataset's category_name, first landmark slot, slot count) by category id.
CATEGORIES: Mapping[int, tuple[str, str, int, int]] = {
    1: ("short_sleeved_shirt", "short sleeve top", 0, 25),
    2: ("long_sleeved_shirt", "long sleeve top", 25, 33),
    3: ("short_sleeved_outwear", "short sleeve outwear", 58, 31),
    4: ("long_sleeved_outwear", "long sleeve outwear", 89, 39),
    5: ("vest", "vest", 128, 15),
    6: ("sling", "sling", 143, 15),
    7: ("shorts", "shorts", 158, 10),
    8: ("trousers", "trousers", 168, 14),
    9: ("skirt", "skirt", 182, 8),
    10: ("short_sleeved_dress", "short sleeve dress", 190, 29),
    11: ("long_sleeved_dress", "long sleeve dress", 219, 37),
    12: ("vest_dress", "vest dress", 256, 19),
    13: ("sling_dress", "sling dress", 275, 19),
}
NUM_KEYPOINTS = 294
KEYPOINT_NAMES = tuple(str(i) for i in range(1, NUM_KEYPOINTS + 1))
ITEM_KEYS = ("category_id", "category_name", "bounding_box", "landmarks", "segmentation")
IMAGE_LEVEL_KEYS = ("source", "pair_id")


def category_table() -> CategoryTable:
    """The 13 categories as the official converter writes them (plus the dataset's own spelling)."""
    return CategoryTable(
        tuple(
            Category(
                id=category_id,
                name=name,
                supercategory="clothes",
                keypoints=KEYPOINT_NAMES,
                skeleton=(),
                attributes={"synonyms": [spelling]} if spelling != name else {},
            )
            for category_id, (name, spelling, _first, _count) in CATEGORIES.items()
        )
    )


# ---------------------------------------------------------------- filters


def parse_int_list(text: str | int | Sequence[int] | None, option: str) -> frozenset[int] | None:
    """``"2,3"`` → {2, 3} for ``--viewpoint``/``--scale`` (an int or a list of ints too); None stays None.

    >>> sorted(parse_int_list("2, 3", "--viewpoint")), sorted(parse_int_list(2, "--scale"))
    ([2, 3], [2])
    """
    if text is None:
        return None
    if isinstance(text, int):
        text = [text]
    items = text.split(",") if isinstance(text, str) else list(text)
    try:
        values = frozenset(int(str(item).strip()) for item in items if str(item).strip())
    except ValueError:
        raise ValidationError(f"{option} {text!r}: give whole numbers separated by commas") from None
    if not values:
        raise ValidationError(f"{option}: give at least one value")
    return values


@dataclasses.dataclass(frozen=True)
class ItemFilter:
    """Which items to keep, by DeepFashion2's per-item difficulty labels (None: no condition)."""

    max_occlusion: int | None = None
    scale: frozenset[int] | None = None
    max_zoom_in: int | None = None
    viewpoint: frozenset[int] | None = None

    def rejects(self, item: Mapping[str, Any]) -> str | None:
        """The option that drops this item, or None to keep it."""
        if self.max_occlusion is not None and not _at_most(item.get("occlusion"), self.max_occlusion):
            return "--max-occlusion"
        if self.scale is not None and item.get("scale") not in self.scale:
            return "--scale"
        if self.max_zoom_in is not None and not _at_most(item.get("zoom_in"), self.max_zoom_in):
            return "--max-zoom-in"
        if self.viewpoint is not None and item.get("viewpoint") not in self.viewpoint:
            return "--viewpoint"
        return None


def _at_most(value: Any, limit: int) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value <= limit


# ---------------------------------------------------------------- parsing (pure functions)


@dataclasses.dataclass(frozen=True)
class SlottedLandmarks(Sequence):
    """The 294 × 3 keypoint values of one item, storing only its category's slots (the rest are 0).

    A full DeepFashion2 split has ~300k items: 882 numbers each would take gigabytes; this keeps the
    item's own landmarks and reads as the full sequence (``list(...)``, indexing, slicing).

    >>> values = SlottedLandmarks(1, [7, 8, 2])
    >>> len(values), values[3:6], values[0], list(values)[:6]
    (882, [7, 8, 2], 0, [0, 0, 0, 7, 8, 2])
    """

    first: int
    landmarks: Sequence[float]

    def __len__(self) -> int:
        return 3 * NUM_KEYPOINTS

    def __iter__(self) -> Iterator[float]:
        start = 3 * self.first
        tail = 3 * NUM_KEYPOINTS - start - len(self.landmarks)
        return itertools.chain(itertools.repeat(0, start), self.landmarks, itertools.repeat(0, tail))

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return self.expanded()[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        offset = index - 3 * self.first
        return self.landmarks[offset] if 0 <= offset < len(self.landmarks) else 0

    def expanded(self) -> list[float]:
        """The 882 values as a new list (three C-level list operations)."""
        start = 3 * self.first
        return [0] * start + list(self.landmarks) + [0] * (3 * NUM_KEYPOINTS - start - len(self.landmarks))


class SlottedKeypoints(Keypoints):
    """Keypoints over :class:`SlottedLandmarks`: the visible count looks at the item's own slots only.

    >>> SlottedKeypoints(SlottedLandmarks(1, [7, 8, 2, 0, 0, 0])).num_visible
    1
    """

    __slots__ = ()

    @property
    def num_visible(self) -> int:
        values = self.values
        own = values.landmarks if isinstance(values, SlottedLandmarks) else values
        return sum(1 for v in own[2::3] if v > 0)


def item_keypoints(category_id: int, landmarks: Any, path: object, pointer: str) -> Keypoints:
    """An item's landmarks placed in its category's slots of the 294 keypoints.

    >>> kp = item_keypoints(9, [1, 2, 2] * 8, "a.json", "/item1/landmarks")
    >>> kp.values[3 * 182: 3 * 182 + 3], len(kp.values), kp.num_visible
    ([1, 2, 2], 882, 8)
    """
    _name, _spelling, first, count = CATEGORIES[category_id]
    if not isinstance(landmarks, list) or len(landmarks) != 3 * count:
        size = len(landmarks) if isinstance(landmarks, list) else type(landmarks).__name__
        raise ParseError(
            path, f"category {category_id} needs {count} landmarks ({3 * count} numbers), got {size}", pointer
        )
    _check_numbers(landmarks, path, pointer)
    return SlottedKeypoints(SlottedLandmarks(first, landmarks))


def parse_item(item: Any, path: object, pointer: str) -> tuple[Annotation, int]:
    """One ``itemN`` object as an annotation without area, and the number of empty parts dropped."""
    if not isinstance(item, dict):
        raise ParseError(path, "an item must be an object", pointer)
    category_id = item.get("category_id")
    if not isinstance(category_id, int) or isinstance(category_id, bool) or category_id not in CATEGORIES:
        raise ParseError(path, f"category_id must be 1..13, got {category_id!r}", pointer + "/category_id")
    box = item.get("bounding_box")
    if not isinstance(box, list) or len(box) != 4:
        raise ParseError(path, "bounding_box must be [x1, y1, x2, y2]", pointer + "/bounding_box")
    _check_numbers(box, path, pointer + "/bounding_box")
    x1, y1, x2, y2 = box
    if x2 < x1 or y2 < y1:
        raise ParseError(path, f"bounding_box {box} has x2 < x1 or y2 < y1", pointer + "/bounding_box")
    segmentation = item.get("segmentation")
    if not isinstance(segmentation, list):
        raise ParseError(path, "segmentation must be a list of polygons", pointer + "/segmentation")
    rings = []
    for index, ring in enumerate(segmentation):
        ring_pointer = f"{pointer}/segmentation/{index}"
        if not isinstance(ring, list) or len(ring) % 2:
            raise ParseError(path, "a polygon must be a list of x, y numbers", ring_pointer)
        _check_numbers(ring, path, ring_pointer)
        if ring:
            rings.append(ring)
    keypoints = item_keypoints(category_id, item.get("landmarks"), path, pointer + "/landmarks")
    attributes = {k: v for k, v in item.items() if k not in ITEM_KEYS}
    annotation = Annotation(
        category_id=category_id,
        bbox=BBox.from_xyxy(x1, y1, x2, y2),
        segmentation=Polygons(tuple(rings)) if rings else None,
        keypoints=keypoints,
        attributes=attributes,
    )
    return annotation, len(segmentation) - len(rings)


def iter_items(doc: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """The ``itemN`` entries in item order (item1, item2, …, item10), whatever order the file has."""
    keys = [k for k in doc if k not in IMAGE_LEVEL_KEYS]
    for key in sorted(keys, key=lambda k: (len(k), k)):
        yield key, doc[key]


def image_id_of(stem: str) -> int | None:
    """The image id: the file's number (``000001`` → 1), None for other names."""
    return int(stem) if stem.isdigit() and int(stem) > 0 else None


@dataclasses.dataclass(frozen=True)
class ParseImage:
    """Executor task: one ``(annotation file, image file, file_name, split)`` → record and counts.

    Returns ``(record or None, Counter of skip reasons)``; the record is None when ``drop_empty``
    removed it.
    """

    item_filter: ItemFilter = ItemFilter()
    area: str = "mask"
    drop_empty: bool = False

    def __call__(self, task: tuple[str, str, str, str | None]) -> tuple[ImageRecord | None, Counter[str]]:
        anno_path, image_path, file_name, split = task
        doc = _load_json(anno_path)
        if not isinstance(doc, dict):
            raise ParseError(anno_path, "a DeepFashion2 annotation must be a JSON object", "/")
        width, height = image_size(image_path)
        counts: Counter[str] = Counter()
        annotations = []
        pair_id = {"pair_id": doc["pair_id"]} if "pair_id" in doc else {}
        for key, item in iter_items(doc):
            pointer = "/" + key
            annotation, empty_parts = parse_item(item, anno_path, pointer)
            if empty_parts:
                counts["empty polygon part dropped"] += empty_parts
            rejected_by = self.item_filter.rejects(item)
            if rejected_by:
                counts[f"item dropped by {rejected_by}"] += 1
                continue
            area = self._area(annotation, height, width)
            annotations.append(
                Annotation(  # built anew: NamedTuple._replace is several times slower
                    annotation.category_id,
                    annotation.bbox,
                    annotation.segmentation,
                    keypoints=annotation.keypoints,
                    area=area,
                    attributes={**annotation.attributes, **pair_id},
                )
            )
        if not annotations and self.drop_empty:
            counts["image without items dropped by --drop-empty"] += 1
            return None, counts
        attributes = {k: doc[k] for k in IMAGE_LEVEL_KEYS if k in doc}
        record = ImageRecord(
            file_name=file_name,
            width=width,
            height=height,
            annotations=tuple(annotations),
            id=image_id_of(os.path.basename(anno_path)[: -len(".json")]),
            split=split,
            attributes=attributes,
        )
        return record, counts

    def _area(self, annotation: Annotation, height: int, width: int) -> float:
        if self.area == "bbox" or annotation.segmentation is None:
            return annotation.bbox.area  # type: ignore[union-attr]
        return raster.mask_area(annotation.segmentation, height, width)


def _load_json(path: str) -> Any:
    """:func:`~fashiondata.formats.coco.load_json` without its path object on the common path; a
    byte-order mark or a syntax error goes to it (it reports the line and column)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return load_json(path)


# ---------------------------------------------------------------- finding the files


def iter_tasks(source: str) -> Iterator[tuple[str, str, str, str | None]]:
    """``(annotation file, image file, file_name, split)`` for every ``annos/*.json`` under ``source``.

    ``source`` is a split folder (``annos/``, ``image/``) or a folder of split folders; file names
    are relative to the image root (``image/`` of a split folder; ``source`` for several splits).
    """
    root = Path(source)
    if not root.is_dir():
        raise ParseError(source, "a DeepFashion2 source is a folder holding annos/ and image/")
    splits: list[tuple[Path, str | None, str]]
    if (root / "annos").is_dir():
        splits = [(root, None, "")]
    else:
        splits = [(root / d.name, d.name, f"{d.name}/image/") for d in sorted(root.iterdir()) if (d / "annos").is_dir()]
        if not splits:
            raise ParseError(source, "no annos/ folder here or in its split folders (train, validation, …)")
    for folder, split, prefix in splits:
        annos, images = os.path.join(folder, "annos"), os.path.join(folder, "image")
        for name in sorted(n for n in os.listdir(annos) if n.lower().endswith(".json")):
            image_name = name[: -len(".json")] + ".jpg"
            yield os.path.join(annos, name), os.path.join(images, image_name), prefix + image_name, split


# ---------------------------------------------------------------- read


def read(
    sources: Sequence[str],
    ctx: RunContext,
    *,
    area: str = "mask",
    max_occlusion: int | None = None,
    scale: str | None = None,
    max_zoom_in: int | None = None,
    viewpoint: str | None = None,
    drop_empty: bool = False,
) -> Dataset:
    """Read DeepFashion2 folders; records stream from the executor (one task per annotation file)."""
    if area not in ("mask", "bbox"):
        raise ValidationError(f"--area {area!r}: use mask or bbox")
    task = ParseImage(
        ItemFilter(
            max_occlusion, parse_int_list(scale, "--scale"), max_zoom_in, parse_int_list(viewpoint, "--viewpoint")
        ),
        area,
        bool(drop_empty),
    )
    tasks = [t for source in sources for t in iter_tasks(source)]

    def iter_records() -> Iterator[ImageRecord]:
        with gc_paused():  # ~15 acyclic objects an item: no collector walks over the records read so far
            for record, counts in ctx.map_items(task, tasks, desc="read deepfashion2", name_of=lambda t: t[0]):
                for reason, count in counts.items():
                    ctx.report.skip(reason, count=count)
                if record is not None:
                    yield record

    return Dataset(category_table(), iter_records(), {}, tuple(sources))


def sniff(path: str) -> bool:
    """A folder with ``annos/`` (a split) or split folders holding ``annos/``."""
    root = Path(path)
    if not root.is_dir():
        return False
    with os.scandir(root) as entries:  # d_type, no stat per entry: cheap on a folder of images
        return (root / "annos").is_dir() or any(
            e.is_dir() and os.path.isdir(os.path.join(e.path, "annos")) for e in entries
        )


def _check_numbers(values: list, path: object, pointer: str) -> None:
    """Every value a number: one C-level sum catches strings and None; NaN fails ``t - t == 0``."""
    try:
        total = sum(values)
    except TypeError:
        total = None
    if total is not None and total - total == 0 and not isinstance(values[0] if values else 0, bool):
        return
    for index, value in enumerate(values):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value - value != 0:
            raise ParseError(path, f"expected a number, got {value!r}", f"{pointer}/{index}")
    raise ParseError(path, "expected finite numbers", pointer)


SPEC = register_format(
    FormatSpec(
        name="df2",
        aliases=("deepfashion2",),
        description="DeepFashion2 folders (annos/*.json + image/*.jpg), official COCO semantics; read only",
        capabilities=frozenset({"boxes", "polygons", "keypoints", "splits", "negatives", "attributes"}),
        sniff=sniff,
        read=read,
        read_options=(
            FormatOption(
                "area",
                "DeepFashion2 area: mask (pixel count) or bbox (the official converter's).",
                str,
                "mask",
                ("mask", "bbox"),
            ),
            FormatOption(
                "max_occlusion", "DeepFashion2: keep items with occlusion ≤ N (1 slight, 2 medium, 3 heavy).", int
            ),
            FormatOption(
                "scale", "DeepFashion2: keep items of these scales, e.g. 2 or 2,3 (1 small, 2 modest, 3 large).", str
            ),
            FormatOption("max_zoom_in", "DeepFashion2: keep items with zoom_in ≤ N (1 none, 2 medium, 3 large).", int),
            FormatOption(
                "viewpoint",
                "DeepFashion2: keep items of these viewpoints, e.g. 2,3 (1 no wear, 2 frontal, 3 side/back).",
                str,
            ),
            FormatOption("drop_empty", "DeepFashion2: drop images left without items by the filters.", bool),
        ),
        spec_url="https://github.com/switchablenorms/DeepFashion2#data-organization",
    )
)
