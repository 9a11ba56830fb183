"""COCO instances (object detection, instance segmentation, keypoints) JSON.

Spec: https://cocodataset.org/#format-data ("Object Detection" and "Keypoint Detection"), with the
semantics of the reference code, pycocotools (https://github.com/cocodataset/cocoapi):

* ``bbox`` is ``[x, y, width, height]`` in absolute pixels; ``segmentation`` is a list of polygons
  (flat ``[x1, y1, x2, y2, ...]`` lists, several parts per instance) or an RLE dict
  ``{"size": [h, w], "counts": ...}`` whose counts are a compressed string or an uncompressed
  column-major list (used with ``iscrowd: 1``);
* ``area`` is the mask area (pycocotools' ``maskUtils.area``), derived here when missing — never the
  box area; a 4-number polygon is kept as a (degenerate) polygon, never read as a box;
* ``keypoints`` are ``[x, y, v] * K`` with ``num_keypoints`` the count of ``v > 0``; categories may carry
  ``keypoints`` names and a ``skeleton``.

On disk::

    annotations/
      instances_train2017.json   {"info", "licenses", "images", "annotations", "categories"}

Reading keeps every unknown key (top level, images, annotations, categories) so that a round trip
preserves it; it checks types, referential integrity and duplicate ids and raises
:class:`~fashiondata.errors.ParseError` with a JSON pointer. Writing is deterministic (fixed key
order, images and annotations sorted by id) and atomic; source ids are kept when they are positive
and unique, otherwise assigned from 1.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.formats import json_stream
from fashiondata.io import check_pixel_limit, open_atomic, safe_relative_path
from fashiondata.model import (
    Annotation,
    BBox,
    Category,
    CategoryTable,
    ImageRecord,
    Keypoints,
    Polygons,
    Rle,
)
from fashiondata.registry import FormatOption, FormatSpec, register_format
from fashiondata.report import Report

IMAGE_KEYS = ("id", "width", "height", "file_name")
ANNOTATION_KEYS = (
    "id",
    "image_id",
    "category_id",
    "segmentation",
    "area",
    "bbox",
    "iscrowd",
    "keypoints",
    "num_keypoints",
    "score",
)
_ANNOTATION_KEY_SET = frozenset(ANNOTATION_KEYS)
_NO_ATTRIBUTES: dict[str, Any] = {}
CATEGORY_KEYS = ("id", "name", "supercategory", "keypoints", "skeleton")
_SPLIT_PREFIX = re.compile(r"^(instances|person_keypoints|stuff|labels|image_info|lvis_v\d+(\.\d+)?)_")


# ---------------------------------------------------------------- parsing (pure functions)


def load_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file with orjson; syntax and encoding errors become ParseError with line/column."""
    data = Path(path).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark, as some Windows tools write
        data = data[3:]
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        location = f"line {error.lineno} column {error.colno}" if error.lineno else None
        if "UTF-8" in error.msg:  # orjson gives no position for encoding errors: find the byte
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as bad:
                line, column = data.count(b"\n", 0, bad.start) + 1, bad.start - data.rfind(b"\n", 0, bad.start)
                location = f"line {line} column {column}"
        raise ParseError(path, f"invalid JSON: {error.msg}", location) from error


def parse_category(obj: Any, path: object, pointer: str) -> Category:
    """One ``categories`` entry."""
    if not isinstance(obj, dict):
        raise ParseError(path, "a category must be an object", pointer)
    category_id = _int(obj.get("id"), path, f"{pointer}/id")
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        raise ParseError(path, "category name must be a non-empty string", f"{pointer}/name")
    keypoints = obj.get("keypoints")
    skeleton = obj.get("skeleton")
    if keypoints is not None and not (isinstance(keypoints, list) and all(isinstance(k, str) for k in keypoints)):
        raise ParseError(path, "keypoints must be a list of names", f"{pointer}/keypoints")
    if skeleton is not None and not (
        isinstance(skeleton, list)
        and all(isinstance(e, list) and len(e) == 2 and all(_is_int(v) for v in e) for e in skeleton)
    ):
        raise ParseError(path, "skeleton must be a list of [a, b] index pairs", f"{pointer}/skeleton")
    supercategory = obj.get("supercategory")
    if supercategory is not None and not isinstance(supercategory, str):
        raise ParseError(path, "supercategory must be a string", f"{pointer}/supercategory")
    return Category(
        id=category_id,
        name=name,
        supercategory=supercategory,
        keypoints=tuple(keypoints) if keypoints is not None else None,
        skeleton=tuple((a, b) for a, b in skeleton) if skeleton is not None else None,
        attributes={k: v for k, v in obj.items() if k not in CATEGORY_KEYS},
    )


def parse_segmentation(obj: Any, path: object, pointer: str) -> Polygons | Rle | None:
    """A ``segmentation`` value: polygon list, RLE dict, or ``[]`` (none)."""
    if isinstance(obj, list):
        if not obj:
            return None
        for index, ring in enumerate(obj):
            if not isinstance(ring, list):
                raise ParseError(path, "a polygon must be a list of numbers", f"{pointer}/{index}")
            if len(ring) % 2 or not ring:
                raise ParseError(
                    path, f"a polygon needs an even, non-zero count of numbers, got {len(ring)}", f"{pointer}/{index}"
                )
            _check_numbers(ring, path, f"{pointer}/{index}")
        return Polygons(tuple(obj))
    if isinstance(obj, dict):
        size, counts = obj.get("size"), obj.get("counts")
        if not (isinstance(size, list) and len(size) == 2 and all(_is_int(v) and v >= 0 for v in size)):
            raise ParseError(path, "RLE size must be [height, width]", f"{pointer}/size")
        check_pixel_limit(size[1], size[0], path, f"{pointer}/size")  # decoding allocates height × width
        if isinstance(counts, list):
            try:
                total = sum(counts)  # a float or a non-number anywhere makes this fail the checks below
            except TypeError:
                total = None
            if type(total) is not int or (counts and min(counts) < 0):
                raise ParseError(path, "uncompressed RLE counts must be non-negative ints", f"{pointer}/counts")
            if total != size[0] * size[1]:
                raise ParseError(
                    path, f"RLE counts sum to {total}, not height*width = {size[0] * size[1]}", f"{pointer}/counts"
                )
        elif not isinstance(counts, str):
            raise ParseError(path, "RLE counts must be a string or a list of ints", f"{pointer}/counts")
        else:
            try:
                total = sum(raster.compressed_counts(counts))
            except ValueError as error:
                raise ParseError(path, f"compressed RLE counts: {error}", f"{pointer}/counts") from error
            if total != size[0] * size[1]:
                raise ParseError(
                    path,
                    f"RLE counts cover {total} pixels, not height*width = {size[0] * size[1]}",
                    f"{pointer}/counts",
                )
        return Rle(size=(size[0], size[1]), counts=counts)
    if obj is None:
        return None
    raise ParseError(path, "segmentation must be a polygon list or an RLE object", pointer)


def parse_annotation(obj: Any, path: object, pointer: str) -> Annotation:
    """One ``annotations`` entry, without its ``image_id`` (the caller groups by image).

    This runs a million times on LVIS: the common case (a dict of known keys, polygon rings of numbers)
    is checked with C-level operations; the error path then finds the exact place.
    """
    if type(obj) is not dict:
        raise ParseError(path, "an annotation must be an object", pointer)
    get = obj.get
    bbox = None
    if (bbox_value := get("bbox")) is not None:
        if type(bbox_value) is not list or len(bbox_value) != 4:
            raise ParseError(path, "bbox must be [x, y, width, height]", f"{pointer}/bbox")
        x, y, w, h = bbox_value
        if type(w) is not float or type(h) is not float or type(x) is not float or type(y) is not float:
            _check_numbers(bbox_value, path, f"{pointer}/bbox")  # ints are fine too; this finds a bad one
        elif w - w + h - h + x - x + y - y != 0:  # NaN or infinity
            _check_numbers(bbox_value, path, f"{pointer}/bbox")
        if w < 0 or h < 0:
            raise ParseError(path, f"bbox has a negative size: {bbox_value}", f"{pointer}/bbox")
        bbox = BBox(x, y, w, h)
    keypoints = None
    if (values := get("keypoints")) is not None:
        if type(values) is not list or len(values) % 3:
            raise ParseError(path, "keypoints must be a list of [x, y, v] triples", f"{pointer}/keypoints")
        _check_numbers(values, path, f"{pointer}/keypoints")
        keypoints = Keypoints(values)
    area = get("area")
    if area is not None and (type(area) is not float or area - area != 0):
        _check_numbers([area], path, f"{pointer}/area")
    iscrowd = get("iscrowd", 0)
    if iscrowd not in (0, 1):  # True/False compare equal to 1/0
        raise ParseError(path, f"iscrowd must be 0 or 1, got {iscrowd!r}", f"{pointer}/iscrowd")
    score = get("score")
    if score is not None:
        _check_numbers([score], path, f"{pointer}/score")
    category_id = get("category_id")
    if type(category_id) is not int:
        _int(category_id, path, f"{pointer}/category_id")
    annotation_id = get("id")
    if annotation_id is not None and type(annotation_id) is not int:
        _int(annotation_id, path, f"{pointer}/id")
    extra = None if obj.keys() <= _ANNOTATION_KEY_SET else obj.keys() - _ANNOTATION_KEY_SET  # no set built
    return Annotation(
        category_id,
        bbox,
        _parse_rings_fast(seg, path, pointer)
        if type(seg := get("segmentation")) is list and seg
        else parse_segmentation(seg, path, f"{pointer}/segmentation"),
        bool(iscrowd),
        keypoints,
        area,
        annotation_id,
        {k: v for k, v in obj.items() if k in extra} if extra else _NO_ATTRIBUTES,
        score,
    )


def _parse_rings_fast(rings: list, path: object, pointer: str) -> Polygons:
    for ring in rings:
        if type(ring) is not list or not ring or len(ring) & 1:
            break
        try:
            total = sum(ring)
        except TypeError:
            break
        if total - total != 0:  # NaN or infinity
            break
    else:
        return Polygons(tuple(rings))
    return parse_segmentation(rings, path, f"{pointer}/segmentation")  # type: ignore[return-value]  # raises


def parse_annotations(
    objs: Sequence[Any], positions: Iterable[int], category_ids: Container[int], seen_ids: set[int], path: object
) -> tuple[Annotation, ...]:
    """The entries at ``positions`` of an ``annotations`` list, each as :func:`parse_annotation` then
    :func:`check_references` make it (same objects, same errors).

    The common shape (known keys, float box and area, polygon rings of numbers, int ids) is checked
    and built inline with C-level operations: on LVIS this is the reader's hottest loop, run once per
    annotation. Anything else takes the full path, which also finds the exact place of an error.
    """
    new, box_type, polygons_type, annotation_type = tuple.__new__, BBox, Polygons, Annotation
    known, no_attributes = _ANNOTATION_KEY_SET, _NO_ATTRIBUTES
    parsed = []
    for position in positions:
        obj = objs[position]
        try:  # the common shape; anything else leaves for the full path (TypeError: a non-number summed)
            if type(obj) is not dict or not obj.keys() <= known:
                raise _Unusual
            get = obj.get
            seg = get("segmentation")
            if type(seg) is not list or not seg:
                raise _Unusual
            for ring in seg:
                if type(ring) is not list or not ring or len(ring) & 1:
                    raise _Unusual
                total = sum(ring)
                if total - total != 0:  # NaN or infinity
                    raise _Unusual
            bbox = get("bbox")
            if bbox is not None:
                if type(bbox) is not list or len(bbox) != 4:
                    raise _Unusual
                x, y, w, h = bbox
                if not (
                    type(x) is float
                    and type(y) is float
                    and type(w) is float
                    and type(h) is float
                    and w - w + h - h + x - x + y - y == 0
                    and w >= 0
                    and h >= 0
                ):
                    raise _Unusual
                bbox = new(box_type, bbox)
            area = get("area")
            category_id = get("category_id")
            annotation_id = get("id")
            iscrowd = get("iscrowd", 0)
            if not (
                (area is None or (type(area) is float and area - area == 0))
                and type(category_id) is int
                and category_id in category_ids
                and (annotation_id is None or (type(annotation_id) is int and annotation_id not in seen_ids))
                and iscrowd in (0, 1)
                and get("keypoints") is None
                and get("score") is None
            ):
                raise _Unusual
        except (_Unusual, TypeError):
            pointer = f"/annotations/{position}"
            annotation = parse_annotation(obj, path, pointer)
            check_references(annotation, category_ids, seen_ids, path, pointer)
            parsed.append(annotation)
            continue
        if annotation_id is not None:
            seen_ids.add(annotation_id)
        parsed.append(
            new(
                annotation_type,
                (
                    category_id,
                    bbox,
                    new(polygons_type, (tuple(seg),)),
                    bool(iscrowd),
                    None,
                    area,
                    annotation_id,
                    no_attributes,
                    None,
                ),
            )
        )
    return tuple(parsed)


class _Unusual(Exception):
    """An annotation :func:`parse_annotations` leaves to the full path."""


def check_references(
    annotation: Annotation, category_ids: Container[int], seen_ids: set[int], path: object, pointer: str
) -> None:
    """Raise ParseError for an undeclared category or an annotation id seen before (then remember it)."""
    if annotation.category_id not in category_ids:
        raise ParseError(path, f"category_id {annotation.category_id} is not declared", f"{pointer}/category_id")
    if annotation.id is not None:
        if annotation.id in seen_ids:
            raise ParseError(path, f"duplicate annotation id {annotation.id}", f"{pointer}/id")
        seen_ids.add(annotation.id)


def parse_document(doc: Any, path: str | os.PathLike[str]) -> Dataset:
    """A parsed COCO document into a materialised :class:`Dataset` (one pass over annotations)."""
    if not isinstance(doc, dict):
        raise ParseError(path, "a COCO file must hold a JSON object", "/")
    for key in ("images", "annotations", "categories"):
        if key in doc and not isinstance(doc[key], list):
            raise ParseError(path, f"{key} must be a list", f"/{key}")
    if "images" not in doc:
        raise ParseError(path, "not a COCO file: no 'images' list", "/")

    categories: list[Category] = []
    seen_categories: set[int] = set()
    for index, obj in enumerate(doc.get("categories", ())):
        category = parse_category(obj, path, f"/categories/{index}")
        if category.id in seen_categories:
            raise ParseError(path, f"duplicate category id {category.id}", f"/categories/{index}/id")
        seen_categories.add(category.id)
        categories.append(category)

    images: dict[int, tuple[int, dict]] = {}
    for index, obj in enumerate(doc["images"]):
        pointer = f"/images/{index}"
        if not isinstance(obj, dict):
            raise ParseError(path, "an image must be an object", pointer)
        image_id = _int(obj.get("id"), path, f"{pointer}/id")
        if image_id in images:
            raise ParseError(path, f"duplicate image id {image_id}", f"{pointer}/id")
        images[image_id] = (index, obj)

    annotations = doc.get("annotations") or []
    first = annotations[0] if annotations else None
    if isinstance(first, dict) and ("segments_info" in first or "caption" in first):
        kind = "panoptic" if "segments_info" in first else "captions"
        raise ParseError(path, f"a COCO {kind} file, not instances: not supported", "/annotations/0")
    grouped: dict[int, list[Annotation]] = {image_id: [] for image_id in images}
    seen_annotations: set[int] = set()
    for index, obj in enumerate(annotations):
        pointer = f"/annotations/{index}"
        annotation = parse_annotation(obj, path, pointer)
        image_id = obj.get("image_id")
        if type(image_id) is not int or image_id not in grouped:
            raise ParseError(path, f"image_id {image_id!r} names no image", f"{pointer}/image_id")
        check_references(annotation, seen_categories, seen_annotations, path, pointer)
        grouped[image_id].append(annotation)

    split = split_from_filename(path)
    records = tuple(
        parse_image(obj, path, f"/images/{index}", tuple(grouped[image_id]), split)
        for image_id, (index, obj) in images.items()
    )
    info = {k: v for k, v in doc.items() if k not in ("images", "annotations", "categories")}
    return Dataset(CategoryTable(tuple(categories)), records, info, (str(path),))


def stream_document(
    path: str, prepare_image: Callable[[Any, int], str | None] | None = None, source: str | None = None
) -> Dataset:
    """Like :func:`parse_document` on a file, through a byte-offset index: records are parsed one image
    at a time as they are iterated, so the whole document never sits in memory.

    ``prepare_image(obj, position)`` lets a superset format (LVIS) complete each image object before it
    is parsed and name its split; ``source`` is set on every record.
    """
    index = json_stream.build_index(path)
    if "images" not in index.present:
        raise ParseError(path, "not a COCO file: no 'images' list", "/")
    categories = [
        parse_category(obj, path, f"/categories/{i}")
        for i, obj in enumerate(json_stream.iter_elements(index, "categories"))
    ]
    table = CategoryTable(tuple(categories))
    split = split_from_filename(path)

    def iter_records() -> Iterator[ImageRecord]:
        seen_annotations: set[int] = set()
        for image_position, obj, members in json_stream.iter_images(index):
            pointer = f"/images/{image_position}"
            if not isinstance(obj, dict):
                raise ParseError(path, "an image must be an object", pointer)
            _int(obj.get("id"), path, f"{pointer}/id")
            annotations = []
            for position, ann_obj in members:
                ann_pointer = f"/annotations/{position}"
                annotation = parse_annotation(ann_obj, path, ann_pointer)
                check_references(annotation, table, seen_annotations, path, ann_pointer)
                annotations.append(annotation)
            image_split = prepare_image(obj, image_position) if prepare_image else None
            record = parse_image(obj, path, pointer, tuple(annotations), image_split or split)
            yield record.replace(source=source) if source else record

    return Dataset(table, iter_records(), index.skeleton, (str(path),))


def parse_image(
    obj: Mapping[str, Any],
    path: object,
    pointer: str,
    annotations: tuple[Annotation, ...],
    split: str | None,
    source: str | None = None,
) -> ImageRecord:
    """One ``images`` entry with its annotations (``source``: the file it was read from, when kept)."""
    file_name = obj.get("file_name")
    if not isinstance(file_name, str) or not file_name:
        raise ParseError(path, "file_name must be a non-empty string", f"{pointer}/file_name")
    try:
        safe_relative_path(file_name)  # never let a name lead a writer outside its output
    except ValidationError as error:
        raise ParseError(path, str(error), f"{pointer}/file_name") from error
    width = _int(obj.get("width"), path, f"{pointer}/width")
    height = _int(obj.get("height"), path, f"{pointer}/height")
    if width <= 0 or height <= 0:
        raise ParseError(path, f"image size must be positive, got {width}x{height}", pointer)
    check_pixel_limit(width, height, path, pointer)
    return ImageRecord(
        file_name=file_name,
        width=width,
        height=height,
        annotations=annotations,
        id=obj["id"],
        split=split,
        attributes={k: v for k, v in obj.items() if k not in IMAGE_KEYS},
        source=source,
    )


def split_from_filename(path: str | os.PathLike[str]) -> str | None:
    """``instances_train2017.json`` → ``train2017``; None for a name without a known prefix.

    >>> split_from_filename("annotations/person_keypoints_val.json")
    'val'
    >>> split_from_filename("my_coco.json") is None
    True
    """
    stem = Path(path).stem
    match = _SPLIT_PREFIX.match(stem)
    split = stem[match.end() :] or None if match else None
    return None if split in (".", "..") else split  # a split is a folder name writers use


# ---------------------------------------------------------------- formatting (pure functions)


def format_annotation(
    ann: Annotation, ann_id: int, image_id: int, record: ImageRecord, report: Report | None = None
) -> dict[str, Any]:
    """One annotation in COCO's key order, with area/bbox derived from the segmentation if missing.

    Rings of fewer than 3 points are dropped (counted as lossy): pycocotools would read a 4-number
    ring as a box.
    """
    out: dict[str, Any] = {"id": ann_id, "image_id": image_id, "category_id": ann.category_id}
    seg = ann.segmentation
    if isinstance(seg, Polygons):
        rings = [list(ring) for ring in seg.rings if len(ring) >= 6]
        if len(rings) < len(seg.rings):
            if report is not None:
                report.lose("polygon ring of fewer than 3 points dropped", len(seg.rings) - len(rings))
            seg = Polygons(tuple(rings)) if rings else None
        out["segmentation"] = rings
    elif isinstance(seg, Rle):
        counts = seg.counts
        out["segmentation"] = {
            "size": list(seg.size),
            "counts": counts.decode("ascii")
            if isinstance(counts, bytes)
            else counts
            if isinstance(counts, str)
            else list(counts),
        }
    elif ann.bbox is not None:
        out["segmentation"] = []
    area = ann.area
    if area is None:
        if seg is not None:
            area = raster.mask_area(seg, record.height, record.width)
        elif ann.segmentation is not None:
            area = 0.0  # only degenerate rings: no pixel
        elif ann.bbox is not None:
            area = ann.bbox.area
    if area is not None:
        out["area"] = area
    bbox = ann.bbox
    if bbox is None and seg is not None:
        bbox = raster.mask_bbox(seg, record.height, record.width)
    if bbox is not None:
        out["bbox"] = list(bbox)
    out["iscrowd"] = int(ann.iscrowd)
    if ann.keypoints is not None:
        out["keypoints"] = list(ann.keypoints.values)
        out["num_keypoints"] = ann.keypoints.num_visible
    if ann.score is not None:
        out["score"] = ann.score
    for key in sorted(ann.attributes):
        if key not in out:
            out[key] = ann.attributes[key]
    return out


def format_image(record: ImageRecord, image_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": image_id,
        "width": record.width,
        "height": record.height,
        "file_name": record.file_name,
    }
    for key in sorted(record.attributes):
        if key not in out:
            out[key] = record.attributes[key]
    return out


def format_category(category: Category) -> dict[str, Any]:
    out: dict[str, Any] = {"id": category.id, "name": category.name}
    if category.supercategory is not None:
        out["supercategory"] = category.supercategory
    if category.keypoints is not None:
        out["keypoints"] = list(category.keypoints)
    if category.skeleton is not None:
        out["skeleton"] = [list(edge) for edge in category.skeleton]
    for key in sorted(category.attributes):
        if key not in out:
            out[key] = category.attributes[key]
    return out


def assign_ids(current: Sequence[int | None]) -> list[int]:
    """Keep ids when all are positive and unique, else number from 1 in the order given.

    >>> assign_ids([5, 3]), assign_ids([0, 1]), assign_ids([2, None])
    ([5, 3], [1, 2], [1, 2])
    """
    valid = all(_is_int(i) and i > 0 for i in current) and len(set(current)) == len(current)
    return list(current) if valid else list(range(1, len(current) + 1))  # type: ignore[arg-type]


def iter_document_parts(dataset: Dataset, ctx: RunContext) -> Iterator[tuple[str, Any]]:
    """The top-level (key, value) pairs of the COCO document for ``dataset``, in COCO's order."""
    records = sorted(dataset.records, key=lambda r: (r.split or "", r.file_name))
    image_ids = assign_ids([r.id for r in records])
    if image_ids != [r.id for r in records]:
        ctx.report.note("image ids were missing, invalid or not unique: assigned from 1")
    order = sorted(range(len(records)), key=lambda i: image_ids[i])
    annotation_ids = assign_ids([a.id for r in records for a in r.annotations])
    if annotation_ids != [a.id for r in records for a in r.annotations]:
        ctx.report.note("annotation ids were missing, invalid or not unique: assigned from 1")
    first_annotation = [0]
    for record in records:
        first_annotation.append(first_annotation[-1] + len(record.annotations))
    categories = sorted(dataset.categories, key=lambda c: c.id)
    if any(c.id <= 0 for c in categories):
        raise ValidationError("COCO category ids must be positive (0 breaks COCOeval): remap first")

    yield from ((k, v) for k, v in dataset.info.items() if k in ("info", "licenses"))
    yield "images", [format_image(records[i], image_ids[i]) for i in order]
    annotations = []
    for i in order:
        record = records[i]
        for offset, ann in enumerate(record.annotations):
            annotations.append(
                format_annotation(ann, annotation_ids[first_annotation[i] + offset], image_ids[i], record, ctx.report)
            )
    annotations.sort(key=lambda a: a["id"])
    yield "annotations", annotations
    yield "categories", [format_category(c) for c in categories]
    yield from ((k, v) for k, v in dataset.info.items() if k not in ("info", "licenses"))


def dumps(dataset: Dataset, ctx: RunContext | None = None) -> bytes:
    """The COCO JSON bytes of a dataset (compact, deterministic)."""
    ctx = ctx or RunContext()
    try:
        return orjson.dumps(dict(iter_document_parts(dataset.materialize(), ctx)))
    except TypeError as error:  # an integer beyond 64 bits (a derived area of huge numbers)
        raise ValidationError(f"cannot write COCO JSON: {error}") from error


# ---------------------------------------------------------------- read / write


#: Files larger than this are read by the streaming path unless ``stream=False`` is given.
STREAM_THRESHOLD = 1 << 30


def read(sources: Sequence[str], ctx: RunContext, stream: bool | None = None) -> Dataset:
    """Read one or more COCO files into one dataset (categories must agree across files).

    ``stream`` reads through a byte-offset index, one image at a time, in bounded memory (see
    :mod:`fashiondata.formats.json_stream`); by default files above :data:`STREAM_THRESHOLD` stream.
    """
    parts = []
    with gc_paused():
        for path in ctx.progress(sources, total=len(sources), desc="read coco"):
            try:
                if stream or (stream is None and os.path.getsize(path) > STREAM_THRESHOLD):
                    parts.append(stream_document(path))
                    continue
                parts.append(parse_document(load_json(path), path))
            except (ParseError, OSError) as error:
                ctx.fail(error, str(path))  # raise, or skip this file with on_error="skip"
    if not parts:
        raise ValidationError("no source could be read: every one was skipped")
    return combine(parts)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic objects are built.

    Parsing creates no reference cycles, but each allocation batch would trigger a collection that
    walks every object built so far: pausing it makes a LVIS-sized read markedly faster.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def combine(parts: Sequence[Dataset]) -> Dataset:
    """One dataset from several (train and val files): categories united by id, which must agree."""
    if len(parts) == 1:
        return parts[0]
    categories: dict[int, Category] = {}
    for part in parts:
        for category in part.categories:
            known = categories.setdefault(category.id, category)
            if known.name != category.name:
                raise ValidationError(
                    f"category id {category.id} is {known.name!r} in one source and {category.name!r} in "
                    f"{part.sources[0]}: merge them with `fashiondata merge` instead"
                )
    records = (
        tuple(r for part in parts for r in part.records)
        if all(part.is_materialized for part in parts)
        else itertools.chain.from_iterable(part.records for part in parts)
    )
    info = dict(parts[0].info)
    table = CategoryTable(tuple(sorted(categories.values(), key=lambda c: c.id)))
    return Dataset(table, records, info, tuple(s for part in parts for s in part.sources))


def write(dataset: Dataset, destination: str, ctx: RunContext) -> None:
    """Write ``dataset`` as one COCO JSON file, atomically."""
    dataset = dataset.materialize()
    data = dumps(dataset, ctx)
    with open_atomic(destination, "wb", overwrite=ctx.overwrite) as f:
        f.write(data)
    ctx.report.written["images"] += len(dataset.records)  # type: ignore[arg-type]
    ctx.report.written["annotations"] += sum(len(r.annotations) for r in dataset.records)
    ctx.report.outputs.append(str(destination))


def sniff(path: str) -> bool:
    """A ``.json`` file whose top level starts like COCO (an ``images`` key, not a VIA project)."""
    if not path.lower().endswith(".json") or not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    return b'"images"' in head and b"_via_" not in head


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(value: Any, path: object, pointer: str) -> int:
    if not _is_int(value):
        raise ParseError(path, f"expected an integer, got {value!r}", pointer)
    return value


def _check_numbers(values: list, path: object, pointer: str) -> None:
    """Every value a finite number (one C-level sum catches strings, None, NaN and infinity)."""
    try:
        total = sum(values)
        if total - total == 0:
            return
    except TypeError:
        pass
    bad = next(
        (i for i, v in enumerate(values) if not isinstance(v, (int, float)) or isinstance(v, bool) or v - v != 0),
        0,
    )
    raise ParseError(path, f"expected a finite number, got {values[bad]!r}", f"{pointer}/{bad}")


SPEC = register_format(
    FormatSpec(
        name="coco",
        description="COCO instances JSON (boxes, polygons, RLE, keypoints)",
        capabilities=frozenset({"boxes", "polygons", "holes", "rle", "keypoints", "negatives", "attributes"}),
        sniff=sniff,
        read=read,
        write=write,
        read_options=(
            FormatOption(
                "stream",
                "Read huge COCO/LVIS files one image at a time, in bounded memory (automatic above 1 GiB).",
                bool,
            ),
        ),
        output="file",
        spec_url="https://cocodataset.org/#format-data",
    )
)
