"""validate: find what breaks training before training, as :class:`~fashiondata.report.Finding` s.

Training code fails late and quietly on bad labels: Detectron2's ``load_coco_json`` drops polygons of
fewer than 6 numbers, refuses an ``ignore`` key and trains without crowd instances; pycocotools'
``frPyObjects`` reads a 4-number polygon as a box; COCOeval matches through annotation ids, so an id of
0 turns a true positive into a false one; Ultralytics' ``verify_image_label`` rejects a whole label file
for one coordinate outside [0, 1] or a class index past ``nc``, drops duplicate rows and rewrites
corrupt JPEGs in place; the TF OD API's ``create_coco_tf_record`` skips boxes that leave the image and
keeps class 0 for the background. Each rule here names the code it emits (:data:`CHECKS`).

Three routes, one set of record checks:

* COCO files are read leniently (:func:`read_coco_leniently`): every entry the strict reader would
  refuse (undeclared category, duplicate or orphan ids) becomes a finding with its JSON pointer and the
  rest is still checked;
* YOLO folders (``data.yaml``) are linted from the raw label lines (:func:`lint_yolo`), because the
  defects Ultralytics trips on (out-of-range coordinates, class indices, token counts) never reach a
  model;
* any other registered format is read by its reader and its records are checked.

Per-record work is a picklable step run through ``ctx.map_items`` (map), dataset-wide checks (duplicate
ids, mixed YOLO label kinds) merge the per-record partial results in the driver (reduce).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml

from fashiondata import io
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.formats import coco
from fashiondata.io import (
    exif_orientation,
    image_header_size,
    image_truncation,
    join_inside,
    safe_relative_path,
)
from fashiondata.model import Annotation, Category, CategoryTable, ImageRecord, Polygons, Rle
from fashiondata.report import SEVERITIES, Finding, Severity

BACKENDS = ("yolo", "detectron2", "tfod")

#: code → (default severity, what it means). Backend rules override severities in BACKEND_SEVERITY.
CHECKS: dict[str, tuple[Severity, str]] = {
    "parse-error": ("error", "an entry the reader refuses: wrong type, missing key, bad value"),
    "category-undeclared": ("error", "an annotation's category id is not in the category table"),
    "category-duplicate-id": ("error", "two categories share an id"),
    "image-duplicate-id": ("error", "two images share an id"),
    "annotation-duplicate-id": ("error", "two annotations share an id"),
    "annotation-orphan": ("error", "an annotation's image_id names no image"),
    "category-id-zero": ("warning", "a category id of 0 or less (TF OD API: 0 is the background)"),
    "image-id-zero": ("warning", "an image id of 0 or less"),
    "annotation-id-zero": ("error", "an annotation id of 0 or less: COCOeval counts its matches as misses"),
    "polygon-too-few-points": ("error", "a polygon ring of fewer than 3 points (Detectron2 drops it)"),
    "polygon-four-numbers": ("error", "a 4-number polygon, which pycocotools reads as a box"),
    "polygon-zero-area": ("error", "a polygon ring enclosing no area"),
    "polygon-self-intersecting": ("warning", "a polygon ring whose edges cross (shapely)"),
    "polygon-outside-image": ("warning", "polygon points outside the image"),
    "bbox-zero-size": ("warning", "a box of zero width or height"),
    "bbox-outside-image": ("warning", "a box leaving the image"),
    "rle-size-mismatch": ("error", "an RLE mask whose size is not the image's"),
    "file-name-unsafe": ("error", "an image file name that is absolute or leaves its folder"),
    "file-name-duplicate": ("warning", "two records name the same image file"),
    "image-missing": ("error", "the image file does not exist"),
    "image-unreadable": ("error", "the image header cannot be read"),
    "image-truncated": ("error", "the image file is cut short"),
    "image-too-large": ("error", "the image has more pixels than io.MAX_IMAGE_PIXELS"),
    "image-size-mismatch": ("error", "the image's header size differs from the record's"),
    "image-exif-rotated": ("warning", "an EXIF orientation that swaps width and height"),
    "image-too-small": ("error", "an image under 10 pixels a side (Ultralytics rejects it)"),
    "image-format-unsupported": ("error", "an image type the backend cannot decode"),
    "label-file-empty": ("info", "an empty YOLO label file (a negative image)"),
    "label-orphan": ("warning", "a YOLO label file with no image"),
    "yolo-line-format": ("error", "a YOLO label line with a wrong token count or a non-number"),
    "yolo-coordinate-range": ("error", "a YOLO coordinate outside [0, 1]"),
    "yolo-class-index": ("error", "a YOLO class index not below the number of names"),
    "yolo-duplicate-line": ("warning", "a repeated YOLO label line (Ultralytics drops it)"),
    "yolo-mixed-boxes-segments": ("warning", "box and polygon lines mixed (Ultralytics drops the polygons)"),
    "crowd-ignored": ("warning", "a crowd annotation the backend ignores in training"),
    "rle-in-polygon-set": ("error", "an RLE mask among Detectron2 polygon instances"),
    "annotation-ignore-key": ("error", "an 'ignore' key, which Detectron2's load_coco_json refuses"),
}

BACKEND_SEVERITY: dict[str, dict[str, Severity]] = {
    "tfod": {"category-id-zero": "error"},
    "detectron2": {"category-id-zero": "warning"},
    "yolo": {"bbox-outside-image": "warning"},
}

#: Image suffixes each backend decodes (Ultralytics' IMG_FORMATS; TF OD API decodes JPEG and PNG).
BACKEND_IMAGE_SUFFIXES: dict[str, frozenset[str]] = {
    "yolo": frozenset({".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic"}),
    "tfod": frozenset({".jpeg", ".jpg", ".png"}),
}

_CROWD_NOTE = {
    "yolo": "YOLO labels have no crowd flag: converters drop it or train it as an instance",
    "detectron2": "Detectron2's dataset mapper removes iscrowd instances before training",
    "tfod": "the TF OD API trains on it as an ordinary box unless is_crowd is filtered",
}


def severity_of(code: str, backend: str | None) -> Severity:
    """The severity of ``code`` under ``backend`` (its default when the backend has no override)."""
    return BACKEND_SEVERITY.get(backend or "", {}).get(code, CHECKS[code][0])


def make_finding(code: str, message: str, backend: str | None = None, **where: Any) -> Finding:
    """A Finding with the severity the rules give ``code``."""
    return Finding(code, severity_of(code, backend), message, **where)


def reaches(findings: Iterable[Finding], level: Severity) -> bool:
    """Whether any finding is at least as severe as ``level`` (``warning`` counts errors too)."""
    threshold = SEVERITIES.index(level)
    return any(SEVERITIES.index(f.severity) >= threshold for f in findings)


def finding_from_error(error: ParseError, *, image: str | None = None) -> Finding:
    return Finding("parse-error", "error", error.reason, file=error.path, image=image, location=error.location)


# ---------------------------------------------------------------- geometry checks (pure)


def check_annotation(
    ann: Annotation, width: int, height: int, backend: str | None = None, reasons: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """(code, message) for each defect of one annotation on a ``width`` × ``height`` image
    (``reasons``: the rings' :func:`validity_reasons` when the caller computed them in a batch)."""
    issues: list[tuple[str, str]] = []
    seg = ann.segmentation
    if isinstance(seg, Polygons):
        issues.extend(check_rings(seg.rings, width, height, backend, reasons))
    elif isinstance(seg, Rle):
        if tuple(seg.size) != (height, width):
            issues.append(("rle-size-mismatch", f"RLE size {list(seg.size)} is not the image's [{height}, {width}]"))
        if backend == "detectron2" and not ann.iscrowd:
            issues.append(
                (
                    "rle-in-polygon-set",
                    (
                        "RLE mask on a non-crowd instance: Detectron2's default INPUT.MASK_FORMAT=polygon fails on it "
                        "(convert to polygons, or train with MASK_FORMAT=bitmask)"
                    ),
                )
            )
    if ann.bbox is not None:
        x, y, w, h = ann.bbox
        if w == 0 or h == 0:
            issues.append(("bbox-zero-size", f"box {list(ann.bbox)} has zero width or height"))
        if x < 0 or y < 0 or x + w > width or y + h > height:
            issues.append(("bbox-outside-image", f"box {list(ann.bbox)} leaves the {width}x{height} image"))
    if backend and ann.iscrowd:
        issues.append(("crowd-ignored", f"crowd annotation: {_CROWD_NOTE[backend]}"))
    if backend == "detectron2" and "ignore" in ann.attributes:
        issues.append(("annotation-ignore-key", "'ignore' key: Detectron2's load_coco_json asserts it is absent"))
    return issues


def validity_reasons(rings: Sequence[Sequence[float]]) -> list[str]:
    """shapely's ``is_valid_reason`` of each ring of 3 points or more ("" for shorter ones), in one
    vectorised call: rings differ in length, so they go in as one ragged coordinate array."""
    points = [np.asarray(ring, dtype=float).reshape(-1, 2) for ring in rings]
    kept = [i for i, p in enumerate(points) if len(p) >= 3]
    reasons = [""] * len(points)
    if kept:
        ring_ids = np.repeat(np.arange(len(kept)), [len(points[i]) for i in kept])
        shapes = shapely.polygons(shapely.linearrings(np.concatenate([points[i] for i in kept]), indices=ring_ids))
        for i, reason in zip(kept, shapely.is_valid_reason(shapes)):
            reasons[i] = reason
    return reasons


def check_rings(
    rings: Sequence[Sequence[float]],
    width: int,
    height: int,
    backend: str | None = None,
    reasons: Sequence[str] | None = None,
) -> list[tuple[str, str]]:
    """(code, message) for each degenerate, self-intersecting or out-of-image polygon ring.

    >>> check_rings([[0, 0, 10, 0, 10, 10, 0, 10], [20, 20, 30, 20, 25, 30]], 100, 100)  # two parts
    []
    """
    issues: list[tuple[str, str]] = []
    candidates: list[tuple[int, np.ndarray]] = []
    outside = False
    for index, ring in enumerate(rings):
        points = np.asarray(ring, dtype=float).reshape(-1, 2)
        if len(ring) == 4:
            issues.append(("polygon-four-numbers", f"ring {index} has 4 numbers: pycocotools reads it as a box"))
        elif len(points) < 3:
            dropped = " (Detectron2 drops it)" if backend == "detectron2" else ""
            issues.append(("polygon-too-few-points", f"ring {index} has {len(points)} point(s){dropped}"))
        elif encloses_nothing(points):
            issues.append(("polygon-zero-area", f"ring {index} encloses no area"))
        else:
            candidates.append((index, points))
        if len(points) and (points.min() < 0 or points[:, 0].max() > width or points[:, 1].max() > height):
            outside = True
    if candidates:
        reasons = reasons if reasons is not None else validity_reasons(rings)
        for index, points in candidates:
            if reasons[index] != "Valid Geometry" and crosses_itself(points):
                issues.append(("polygon-self-intersecting", f"ring {index} crosses itself: {reasons[index]}"))
    if outside:
        issues.append(("polygon-outside-image", f"polygon points leave the {width}x{height} image"))
    return issues


def crosses_itself(points: np.ndarray) -> bool:
    """Whether a ring's edges cross (a bow tie, a loop winding twice), where even-odd and non-zero
    fills differ and its shoelace area is wrong: the shoelace area then differs from the area of the
    ring made valid. A ring that only touches or retraces itself (pixel-edge tracing of diagonal
    pixels, zero-width cuts to holes: shapely calls both invalid) fills the same either way.
    """
    area = shapely.area(shapely.make_valid(shapely.Polygon(points)))
    return abs(ring_area(points) - area) > 1e-9 * max(area, 1.0)


def ring_area(points: np.ndarray) -> float:
    """Shoelace area of an N×2 ring (0 for a symmetric bow tie too: see :func:`encloses_nothing`)."""
    x, y = points[:, 0], points[:, 1]
    return abs(float(x[:-1] @ y[1:] - x[1:] @ y[:-1] + x[-1] * y[0] - x[0] * y[-1])) / 2


def encloses_nothing(points: np.ndarray) -> bool:
    """Whether a ring of at least 3 points covers no area, even once made valid (collinear points)."""
    return ring_area(points) == 0 and shapely.area(shapely.make_valid(shapely.Polygon(points))) == 0


# ---------------------------------------------------------------- image checks


def check_image_file(
    path: Path, width: int | None, height: int | None, backend: str | None
) -> tuple[list[tuple[str, str]], tuple[int, int] | None]:
    """(code, message) for each defect of an image file, and its (width, height) when readable."""
    if not path.is_file():
        return [("image-missing", f"{path} does not exist")], None
    issues: list[tuple[str, str]] = []
    suffixes = BACKEND_IMAGE_SUFFIXES.get(backend or "")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        issues.append(("image-format-unsupported", f"{backend} does not read {path.suffix or 'suffix-less'} images"))
    try:
        size = image_header_size(path)
    except ParseError as error:
        return [*issues, ("image-unreadable", error.reason)], None
    if size[0] * size[1] > io.MAX_IMAGE_PIXELS:
        return [
            *issues,
            ("image-too-large", f"{size[0]}x{size[1]} pixels exceed the limit of {io.MAX_IMAGE_PIXELS}"),
        ], None
    if reason := image_truncation(path):
        issues.append(("image-truncated", reason))
    orientation = exif_orientation(path)
    rotated = (size[1], size[0]) if orientation >= 5 else size
    if orientation >= 5:
        stored, shown = f"{size[0]}x{size[1]}", f"{rotated[0]}x{rotated[1]}"
        if width is not None and (width, height) == rotated:
            issues.append(
                (
                    "image-exif-rotated",
                    (
                        f"EXIF orientation {orientation}: the record has the shown size "
                        f"{shown}; tools that ignore EXIF see {stored} pixels"
                    ),
                )
            )
        else:
            issues.append(
                (
                    "image-exif-rotated",
                    (
                        f"EXIF orientation {orientation}: stored {stored}, shown {shown} by "
                        "viewers, OpenCV, Pillow's exif_transpose and Ultralytics"
                    ),
                )
            )
    if width is not None and (width, height) not in (size, rotated):
        issues.append(("image-size-mismatch", f"the record says {width}x{height}, the header {size[0]}x{size[1]}"))
    if backend == "yolo" and min(size) < 10:
        issues.append(("image-too-small", f"{size[0]}x{size[1]}: Ultralytics needs at least 10 pixels a side"))
    return issues, size


# ---------------------------------------------------------------- record checks (map)


@dataclasses.dataclass(frozen=True)
class RecordItem:
    """One record to check, with the file it came from and each annotation's place in it."""

    record: ImageRecord
    file: str | None = None
    locations: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class RecordResult:
    """What one record contributes: its findings and what the dataset-wide checks need (its ids, and
    its file name under its split folder)."""

    findings: tuple[Finding, ...]
    image_id: int | None
    annotation_ids: tuple[int, ...]
    file_name: str


@dataclasses.dataclass(frozen=True)
class CheckRecord:
    """The per-record step: category, geometry and (with an image root) image-file checks."""

    category_ids: frozenset[int]
    backend: str | None = None
    images: str | None = None

    def __call__(self, item: RecordItem) -> RecordResult:
        record = item.record
        found: list[Finding] = []

        def add(code: str, message: str, location: str | None = None, annotation: int | None = None) -> None:
            found.append(
                make_finding(
                    code,
                    message,
                    self.backend,
                    file=item.file,
                    image=record.file_name,
                    annotation=annotation,
                    location=location,
                )
            )

        if self.images is not None:
            try:
                path = join_inside(self.images, record.file_name)
                if not path.exists() and record.split:  # a root holding split folders (train2017/…)
                    in_split = join_inside(self.images, f"{record.split}/{record.file_name}")
                    path = in_split if in_split.exists() else path
            except ValidationError as error:
                add("file-name-unsafe", str(error))
            else:
                for code, message in check_image_file(path, record.width, record.height, self.backend)[0]:
                    add(code, message)
        reasons = iter(
            validity_reasons(  # one shapely call for every ring of the image
                [
                    ring
                    for a in record.annotations
                    if isinstance(a.segmentation, Polygons)
                    for ring in a.segmentation.rings
                ]
            )
        )
        for index, ann in enumerate(record.annotations):
            location = item.locations[index] if item.locations else f"annotation {index}"
            if ann.category_id not in self.category_ids:
                add("category-undeclared", f"category id {ann.category_id} is not declared", location, ann.id)
            own = [next(reasons) for _ in ann.segmentation.rings] if isinstance(ann.segmentation, Polygons) else None
            for code, message in check_annotation(ann, record.width, record.height, self.backend, own):
                add(code, message, location, ann.id)
        return RecordResult(
            tuple(found),
            record.id,
            tuple(a.id for a in record.annotations if a.id is not None),
            f"{record.split}/{record.file_name}" if record.split else record.file_name,
        )


def check_records(
    items: Iterable[RecordItem],
    categories: CategoryTable,
    ctx: RunContext,
    *,
    backend: str | None = None,
    images: str | None = None,
    check_ids: bool = True,
) -> list[Finding]:
    """Run :class:`CheckRecord` over records (map), then the dataset-wide checks (reduce).

    ``check_ids=False`` leaves out the id and category checks, for readers that made them already
    (:func:`read_coco_leniently` reports them with their JSON pointers).
    """
    step = CheckRecord(frozenset(categories.ids), backend, images)
    found: list[Finding] = []
    image_ids: Counter[int] = Counter()
    annotation_ids: Counter[int] = Counter()
    file_names: Counter[str] = Counter()
    for result in ctx.map_items(step, items, desc="validate", name_of=lambda item: item.record.file_name):
        found.extend(result.findings)
        if result.image_id is not None:
            image_ids[result.image_id] += 1
        annotation_ids.update(result.annotation_ids)
        file_names[result.file_name] += 1
    if check_ids:
        found.extend(check_categories(categories, backend))
        found.extend(_repeated("image-duplicate-id", "image id", image_ids, backend))
        found.extend(_repeated("annotation-duplicate-id", "annotation id", annotation_ids, backend))
        found.extend(make_finding("image-id-zero", f"image id {i}", backend) for i in sorted(image_ids) if i <= 0)
        found.extend(
            make_finding(
                "annotation-id-zero", f"annotation id {i}: COCOeval counts its matches as misses", backend, annotation=i
            )
            for i in sorted(annotation_ids)
            if i <= 0
        )
    found.extend(
        make_finding("file-name-duplicate", f"{n} records name this file", backend, image=name)
        for name, n in sorted(file_names.items())
        if n > 1
    )
    return found


def check_categories(categories: CategoryTable, backend: str | None) -> list[Finding]:
    """Category ids of 0 or less (TF OD API keeps 0 for the background; Detectron2 warns)."""
    return [
        make_finding("category-id-zero", f"category {c.name!r} has id {c.id}", backend, location=f"category {c.id}")
        for c in categories
        if c.id <= 0
    ]


def _repeated(code: str, what: str, counts: Counter[int], backend: str | None) -> Iterator[Finding]:
    for value, n in sorted(counts.items()):
        if n > 1:
            yield make_finding(code, f"{what} {value} is used {n} times", backend)


# ---------------------------------------------------------------- COCO, read leniently


@dataclasses.dataclass(frozen=True)
class LenientCoco:
    """A COCO file read despite its defects: the categories, records to check, and the findings."""

    categories: CategoryTable
    items: tuple[RecordItem, ...]
    findings: tuple[Finding, ...]
    info: dict[str, Any]


def read_coco_leniently(path: str, backend: str | None = None) -> LenientCoco:
    """Parse a COCO file, turning every entry the strict reader refuses into a finding.

    Entries that cannot be parsed at all are left out; duplicate ids, orphan annotations and ids of 0
    are reported with their JSON pointer. A file that is not JSON, or not a COCO object, still raises
    ParseError: there is nothing to check.
    """
    doc = coco.load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise ParseError(path, "not a COCO file: no 'images' list", "/")
    found: list[Finding] = []

    def add(code: str, message: str, location: str, **where: Any) -> None:
        found.append(make_finding(code, message, backend, file=path, location=location, **where))

    def entries(key: str) -> list[Any]:
        value = doc.get(key, [])
        if isinstance(value, list):
            return value
        add("parse-error", f"{key} must be a list", f"/{key}")
        return []

    categories: dict[int, Category] = {}
    for index, obj in enumerate(entries("categories")):
        try:
            category = coco.parse_category(obj, path, f"/categories/{index}")
        except ParseError as error:
            found.append(finding_from_error(error))
            continue
        if category.id in categories:
            add("category-duplicate-id", f"category id {category.id} is declared twice", f"/categories/{index}/id")
            continue
        categories[category.id] = category
        if category.id <= 0:
            add("category-id-zero", f"category {category.name!r} has id {category.id}", f"/categories/{index}/id")

    split = coco.split_from_filename(path)
    images: dict[int, ImageRecord] = {}
    refused: set[int] = set()  # images left out whole: their annotations are not orphans
    for index, obj in enumerate(doc["images"]):
        pointer = f"/images/{index}"
        try:
            if not isinstance(obj, dict):
                raise ParseError(path, "an image must be an object", pointer)
            image_id = coco._int(obj.get("id"), path, f"{pointer}/id")
            if isinstance(obj.get("file_name"), str) and obj["file_name"]:
                _check_file_name(obj["file_name"], path, f"{pointer}/file_name")
            record = coco.parse_image(obj, path, pointer, (), split)
        except UnsafeFileName as error:
            add("file-name-unsafe", error.reason, error.location or pointer, image=obj["file_name"])
            refused.add(image_id)
            continue
        except ParseError as error:
            found.append(finding_from_error(error))
            continue
        if image_id in images:
            add("image-duplicate-id", f"image id {image_id} is used twice", f"{pointer}/id", image=obj.get("file_name"))
            continue
        images[image_id] = record
        if image_id <= 0:
            add("image-id-zero", f"image id {image_id}", f"{pointer}/id", image=obj["file_name"])

    grouped: dict[int, list[tuple[Annotation, str]]] = {image_id: [] for image_id in images}
    seen: set[int] = set()
    for index, obj in enumerate(entries("annotations")):
        pointer = f"/annotations/{index}"
        try:
            ann = coco.parse_annotation(obj, path, pointer)
        except ParseError as error:
            found.append(finding_from_error(error))
            continue
        image_id = obj.get("image_id")
        if image_id in refused and image_id not in grouped:
            continue
        if not coco._is_int(image_id) or image_id not in grouped:
            add("annotation-orphan", f"image_id {image_id!r} names no image", f"{pointer}/image_id", annotation=ann.id)
            continue
        if ann.id is not None:
            if ann.id in seen:
                add(
                    "annotation-duplicate-id",
                    f"annotation id {ann.id} is used twice",
                    f"{pointer}/id",
                    annotation=ann.id,
                )
            elif ann.id <= 0:
                add(
                    "annotation-id-zero",
                    f"annotation id {ann.id}: COCOeval counts its matches as misses",
                    f"{pointer}/id",
                    annotation=ann.id,
                )
            seen.add(ann.id)
        grouped[image_id].append((ann, pointer))

    items = tuple(
        RecordItem(
            record.replace(annotations=tuple(a for a, _ in grouped[image_id])),
            path,
            tuple(p for _, p in grouped[image_id]),
        )
        for image_id, record in images.items()
    )
    info = {k: v for k, v in doc.items() if k not in ("images", "annotations", "categories")}
    return LenientCoco(CategoryTable(tuple(categories.values())), items, tuple(found), info)


class UnsafeFileName(ParseError):
    """A file name that is absolute or leaves its folder."""


def _check_file_name(name: str, path: str, pointer: str) -> None:
    try:
        safe_relative_path(name)
    except ValidationError as error:
        raise UnsafeFileName(path, f"{error} (its annotations are not checked)", pointer) from error


def validate_coco(paths: Sequence[str], ctx: RunContext, *, backend: str | None, images: str | None) -> list[Finding]:
    """Findings of one or more COCO files, read leniently."""
    found: list[Finding] = []
    for path in paths:
        lenient = read_coco_leniently(path, backend)
        ctx.report.read["images"] += len(lenient.items)
        ctx.report.read["annotations"] += sum(len(i.record.annotations) for i in lenient.items)
        found.extend(lenient.findings)
        found.extend(
            check_records(lenient.items, lenient.categories, ctx, backend=backend, images=images, check_ids=False)
        )
    return found


def validate_dataset(dataset: Dataset, ctx: RunContext, *, backend: str | None, images: str | None) -> list[Finding]:
    """Findings of a dataset read by any registered reader."""
    items = (RecordItem(record) for record in dataset.records)
    return check_records(items, dataset.categories, ctx, backend=backend, images=images)


# ---------------------------------------------------------------- YOLO, linted from the label lines

YOLO_IMAGE_SUFFIXES = BACKEND_IMAGE_SUFFIXES["yolo"] | {".gif"}


@dataclasses.dataclass(frozen=True)
class YoloLayout:
    """A YOLO dataset on disk: its yaml (if any), names count, keypoint shape and image/label pairs."""

    yaml_path: str | None
    class_count: int | None
    kpt_shape: tuple[int, int] | None
    pairs: tuple[tuple[str, str], ...]  # (image path, label path)
    orphan_labels: tuple[str, ...]


def find_yolo_yaml(path: str) -> str | None:
    """The dataset yaml: ``path`` itself, or the one ``*.yaml`` in a folder that holds ``names``."""
    p = Path(path)
    if p.is_file():
        return str(p) if p.suffix.lower() in (".yaml", ".yml") else None
    if p.is_dir():
        for candidate in sorted([*p.glob("*.yaml"), *p.glob("*.yml")]):
            if b"names" in candidate.read_bytes()[: 1 << 16]:
                return str(candidate)
    return None


def looks_like_yolo(path: str) -> bool:
    """A ``.yaml`` file or a folder with a dataset yaml, or with ``images/`` and ``labels/`` folders."""
    p = Path(path)
    return find_yolo_yaml(path) is not None or (p.is_dir() and (p / "images").is_dir() and (p / "labels").is_dir())


def label_path_of(image: str) -> str:
    """Ultralytics' rule: the last ``/images/`` becomes ``/labels/`` and the suffix ``.txt``."""
    marker, replacement = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return os.path.splitext(replacement.join(image.rsplit(marker, 1)))[0] + ".txt"


def load_yolo_layout(path: str) -> YoloLayout:
    """Find the images and labels of a YOLO dataset from its yaml (``path``, ``train``/``val``/``test``,
    ``names``, ``kpt_shape``) or, without one, under ``images/``."""
    yaml_path = find_yolo_yaml(path)
    config: dict[str, Any] = {}
    root = Path(path)
    if yaml_path is not None:
        try:
            config = yaml.safe_load(Path(yaml_path).read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            mark = getattr(error, "problem_mark", None)
            raise ParseError(
                yaml_path, f"invalid YAML: {error}".splitlines()[0], f"line {mark.line + 1}" if mark else None
            ) from error
        if not isinstance(config, dict):
            raise ParseError(yaml_path, "a dataset yaml must hold a mapping", "/")
        root = Path(yaml_path).parent
        if isinstance(config.get("path"), str) and (root / config["path"]).is_dir():
            root = root / config["path"]
    names = config.get("names")
    if names is None and yaml_path is None:
        names = _names_file(root)
    if names is not None and not isinstance(names, (list, dict)):
        raise ParseError(yaml_path or path, "names must be a list or a mapping", "names")
    class_count = None
    if isinstance(names, list):
        if not all(isinstance(name, (str, int)) for name in names):  # also stops YAML alias bombs
            raise ParseError(yaml_path or path, "names must be a list of names", "names")
        class_count = len(names)
    elif isinstance(names, dict):
        if not all(isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in names):
            raise ParseError(yaml_path or path, "names keys must be class indices", "names")
        class_count = max(names, default=-1) + 1
    kpt = config.get("kpt_shape")
    kpt_shape = (
        (int(kpt[0]), int(kpt[1]))
        if isinstance(kpt, list) and len(kpt) == 2 and all(isinstance(v, int) for v in kpt)
        else None
    )
    for key in ("train", "val", "test", "minival"):
        value = config.get(key)
        if value is not None and not (
            isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        ):
            raise ParseError(yaml_path or path, f"{key} must be a path or a list of paths", key)
    images = _yolo_images(root, config)
    pairs = tuple((image, label_path_of(image)) for image in images)
    labels = {label for _, label in pairs}
    label_dirs = {str(Path(label).parent) for label in labels if f"{os.sep}labels{os.sep}" in label}
    orphans = sorted(
        str(f) for d in sorted(label_dirs) if Path(d).is_dir() for f in Path(d).glob("*.txt") if str(f) not in labels
    )
    return YoloLayout(yaml_path, class_count, kpt_shape, pairs, tuple(orphans))


def _names_file(root: Path) -> list[str] | None:
    """Class names from ``classes.txt`` or a ``*.names`` file (Darknet, LabelImg), one a line."""
    for candidate in [root / "classes.txt", *sorted(root.glob("*.names"))]:
        if candidate.is_file():
            return [
                line.strip()
                for line in candidate.read_text(encoding="utf-8", errors="replace").splitlines()
                if line.strip()
            ]
    return None


def _yolo_images(root: Path, config: dict[str, Any]) -> list[str]:
    entries: list[Any] = []
    for split in ("train", "val", "test", "minival"):
        value = config.get(split)
        entries.extend(value if isinstance(value, list) else [value] if isinstance(value, str) else [])
    if not entries:
        entries = ["images"]
    found: list[str] = []
    for entry in entries:
        target = root / str(entry)
        if target.is_dir():
            found.extend(str(f) for f in sorted(target.rglob("*")) if f.suffix.lower() in YOLO_IMAGE_SUFFIXES)
        elif target.is_file() and target.suffix == ".txt":
            for line in target.read_text(encoding="utf-8", errors="replace").splitlines():
                line = line.strip()
                if line:
                    found.append(
                        str(target.parent / line[2:])
                        if line.startswith("./")
                        else str(root / line)
                        if not os.path.isabs(line)
                        else line
                    )
    return sorted(dict.fromkeys(found))


@dataclasses.dataclass(frozen=True)
class YoloPairResult:
    findings: tuple[Finding, ...]
    boxes: int
    segments: int


@dataclasses.dataclass(frozen=True)
class CheckYoloPair:
    """The per-image YOLO step: the image file, then each label line as Ultralytics would read it."""

    class_count: int | None
    kpt_shape: tuple[int, int] | None
    backend: str | None
    root: str

    def __call__(self, pair: tuple[str, str]) -> YoloPairResult:
        image_path, label_path = pair
        image = os.path.relpath(image_path, self.root)
        found: list[Finding] = []

        def add(code: str, message: str, location: str | None = None, file: str | None = label_path) -> None:
            found.append(make_finding(code, message, self.backend, file=file, image=image, location=location))

        issues, size = check_image_file(Path(image_path), None, None, self.backend)
        for code, message in issues:
            add(code, message, file=image_path)
        if not os.path.isfile(label_path):
            return YoloPairResult(tuple(found), 0, 0)
        raw = Path(label_path).read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            add("yolo-line-format", f"not UTF-8 text (byte {error.start})", f"line {line}")
            return YoloPairResult(tuple(found), 0, 0)
        lines = [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if not lines:
            add("label-file-empty", "empty label file: the image is a negative")
        boxes = segments = 0
        seen: dict[tuple[str, ...], int] = {}
        for number, tokens in lines:
            kind = self.check_line(tokens, size, lambda code, msg, n=number: add(code, msg, f"line {n}"))
            boxes += kind == "box"
            segments += kind == "segment"
            key = tuple(tokens)
            if key in seen:
                add("yolo-duplicate-line", f"repeats line {seen[key]}", f"line {number}")
            seen.setdefault(key, number)
        return YoloPairResult(tuple(found), boxes, segments)

    def check_line(self, tokens: list[str], size: tuple[int, int] | None, add: Any) -> str | None:
        """Check one label line; returns ``box``, ``segment``, ``pose`` or None when malformed."""
        try:
            values = [float(t) for t in tokens]
        except ValueError:
            word = next(t for t in tokens if not _is_float(t))
            add("yolo-line-format", f"{word!r} is not a number")
            return None
        if not all(math.isfinite(v) for v in values):
            add("yolo-line-format", "holds a non-finite number")
            return None
        count = len(values) - 1
        pose_count = 4 + self.kpt_shape[0] * self.kpt_shape[1] if self.kpt_shape else None
        if count == pose_count:
            kind = "pose"
        elif count == 4:
            kind = "box"
        elif count >= 6 and count % 2 == 0:
            kind = "segment"
        else:
            need = f"4 (box){f', {pose_count} (pose)' if pose_count else ''} or an even count of at least 6 (polygon)"
            add("yolo-line-format", f"has {count} values after the class: need {need}")
            return None
        cls = values[0]
        if cls < 0 or not cls.is_integer():
            add("yolo-line-format", f"class {tokens[0]!r} is not a non-negative integer")
            return None
        if self.class_count is not None and cls >= self.class_count:
            add("yolo-class-index", f"class {int(cls)} is not below the {self.class_count} names")
        coords = values[1:5] if kind == "pose" else values[1:]
        bad = [v for v in coords if v < 0 or v > 1]
        if bad:
            add("yolo-coordinate-range", f"coordinate {bad[0]:g} is outside [0, 1]")
        width, height = size or (1, 1)
        if kind in ("box", "pose"):
            cx, cy, w, h = values[1:5]
            if w == 0 or h == 0:
                add("bbox-zero-size", f"box {tokens[1:5]} has zero width or height")
            elif not bad and (cx - w / 2 < 0 or cy - h / 2 < 0 or cx + w / 2 > 1 or cy + h / 2 > 1):
                add("bbox-outside-image", f"box {tokens[1:5]} leaves the image")
        else:
            polygon = [v * (width if i % 2 == 0 else height) for i, v in enumerate(values[1:])]
            for code, message in check_rings([polygon], width, height, self.backend):
                if code != "polygon-outside-image" or not bad:
                    add(code, message.replace("ring 0", "polygon"))
        return kind


def lint_yolo(path: str, ctx: RunContext, *, backend: str | None) -> list[Finding]:
    """Findings of a YOLO dataset, from its image files and raw label lines."""
    layout = load_yolo_layout(path)
    root = str(Path(layout.yaml_path).parent if layout.yaml_path else Path(path))
    step = CheckYoloPair(layout.class_count, layout.kpt_shape, backend, root)
    found: list[Finding] = []
    boxes = segments = 0
    for result in ctx.map_items(step, layout.pairs, desc="validate", name_of=lambda pair: pair[0]):
        found.extend(result.findings)
        boxes += result.boxes
        segments += result.segments
    ctx.report.read["images"] += len(layout.pairs)
    ctx.report.read["annotations"] += boxes + segments
    found.extend(
        make_finding("label-orphan", "label file with no image", backend, file=label) for label in layout.orphan_labels
    )
    if boxes and segments:
        found.append(
            make_finding(
                "yolo-mixed-boxes-segments",
                f"{boxes} box lines and {segments} polygon lines: Ultralytics then trains boxes only",
                backend,
                file=layout.yaml_path,
            )
        )
    if layout.class_count is None:
        ctx.report.note("no dataset yaml with names: class indices were not checked")
    return found


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def summarize(findings: Sequence[Finding]) -> dict[str, Any]:
    """Counts by severity and by code, for ``report.data["validate"]``."""
    return {
        "findings": dict(sorted(Counter(f.severity for f in findings).items())),
        "codes": dict(sorted(Counter(f.code for f in findings).items())),
    }
