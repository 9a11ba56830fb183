"""fix: repair what :mod:`fashiondata.validate` finds, into a new dataset, reporting every change.

Repairs, each reported as an ``info`` :class:`~fashiondata.report.Finding` whose code says what was
done (counts by code in ``report.data["fix"]``):

* ``dropped-entry``: a COCO entry the strict reader refuses (bad type, orphan or duplicate image);
* ``dropped-ring``: a polygon ring of fewer than 3 points, of 4 numbers, or of zero area;
* ``made-valid``: a ring whose edges cross replaced by the outer rings of shapely's ``make_valid``
  (a ring that only touches itself, as traced masks and bridged holes do, is kept);
* ``clipped-polygon`` / ``clipped-bbox``: geometry cut to the image (COCO pixel-edge convention);
* ``dropped-annotation``: an undeclared category, no ring left, an empty box, an RLE of the wrong size;
* ``renumbered-categories``: category ids of 0 or less made 1..N in table order;
* ``cleared-annotation-id``: an annotation id of 0 or less, or a repeat (writers assign new ones).

Image-file defects (missing, truncated, EXIF-rotated) are left to the user: fixing them means
touching pixels, and the source is never modified.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ValidationError
from fashiondata.geometry import bridge_rings
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord, Polygons, Rle
from fashiondata.report import Finding
from fashiondata.validate import crosses_itself, encloses_nothing, ring_area

#: What :func:`~fashiondata.validate.read_coco_leniently` reports and leaves out of the records.
DROPPED_BY_LENIENT_READ = frozenset(
    {"parse-error", "category-duplicate-id", "image-duplicate-id", "annotation-orphan", "file-name-unsafe"}
)
DECIMALS = 3  # rings rebuilt by shapely are rounded to this many decimals (deterministic, compact)


def change(
    code: str,
    message: str,
    record: ImageRecord | None = None,
    ann: Annotation | None = None,
    location: str | None = None,
    file: str | None = None,
) -> Finding:
    """An ``info`` finding describing one repair."""
    return Finding(
        code,
        "info",
        message,
        file=file,
        image=record.file_name if record else None,
        annotation=ann.id if ann else None,
        location=location,
    )


def repair_rings(
    rings: Sequence[Sequence[float]], width: int, height: int
) -> tuple[list[list[float]], list[tuple[str, str]]]:
    """Valid rings inside the image from ``rings``, and (code, message) for each change.

    >>> repair_rings([[0, 0, 4, 0, 4, 4, 0, 4]], 10, 10)
    ([[0, 0, 4, 0, 4, 4, 0, 4]], [])
    >>> repair_rings([[0, 0, 4, 0], [5, 5, 20, 5, 20, 8]], 10, 10)[0]
    [[5.0, 5.0, 10.0, 5.0, 10.0, 6.0]]
    """
    frame = shapely.box(0, 0, width, height)
    kept: list[list[float]] = []
    changes: list[tuple[str, str]] = []
    for index, ring in enumerate(rings):
        points = np.asarray(ring, dtype=float).reshape(-1, 2)
        if len(ring) == 4 or len(points) < 3 or encloses_nothing(points):
            changes.append(("dropped-ring", f"ring {index}: {len(points)} point(s), no area"))
            continue
        geometry = shapely.Polygon(points)
        touched = False
        if not geometry.is_valid and crosses_itself(points):
            reason = shapely.is_valid_reason(geometry)
            geometry = shapely.make_valid(geometry)
            changes.append(("made-valid", f"ring {index}: {reason}"))
            touched = True
        if points.min() < 0 or points[:, 0].max() > width or points[:, 1].max() > height:
            geometry = shapely.make_valid(geometry) if not geometry.is_valid else geometry
            geometry = geometry.intersection(frame)
            changes.append(("clipped-polygon", f"ring {index} cut to the {width}x{height} image"))
            touched = True
        if not touched:
            kept.append(list(ring))
            continue
        parts = [_flat_polygon(p) for p in _polygons_in(geometry)]
        parts = [p for p in parts if len(p) >= 6 and ring_area(np.asarray(p).reshape(-1, 2)) > 0]
        if not parts:
            changes.append(("dropped-ring", f"ring {index}: nothing left inside the image"))
        kept.extend(parts)
    return kept, changes


def _polygons_in(geometry: Any) -> Iterator[Any]:
    if isinstance(geometry, shapely.Polygon):
        if not geometry.is_empty:
            yield geometry
    elif hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from _polygons_in(part)


def _flat_polygon(polygon: Any) -> list[float]:
    """One flat ring for a shapely polygon: its outer ring, counter-clockwise from its smallest (x, y)
    (the same whatever GEOS returns), with any holes joined in by zero-width cuts."""
    rings = [_canonical(polygon.exterior.coords, 1.0)] + [_canonical(hole.coords, -1.0) for hole in polygon.interiors]
    if len(rings) == 1:
        return rings[0]
    return [round(float(v), DECIMALS) + 0.0 for v in bridge_rings(rings[:1], holes=rings[1:])]


def _canonical(coords: Any, sign: float) -> list[float]:
    points = np.asarray(coords)[:-1]
    if sign * ring_area_signed(points) < 0:
        points = points[::-1]
    points = np.round(points, DECIMALS)
    points = np.roll(points, -int(np.lexsort((points[:, 1], points[:, 0]))[0]), axis=0)
    return [float(v) + 0.0 for v in points.ravel()]  # + 0.0 turns -0.0 into 0.0


def ring_area_signed(points: np.ndarray) -> float:
    """Shoelace area with its sign: positive counter-clockwise (x right, y up)."""
    x, y = points[:, 0], points[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2


def clip_bbox(bbox: BBox, width: int, height: int) -> BBox:
    """The part of ``bbox`` inside the image (possibly of zero size)."""
    x1, y1, x2, y2 = bbox.xyxy
    x1, x2 = min(max(x1, 0), width), min(max(x2, 0), width)
    y1, y2 = min(max(y1, 0), height), min(max(y2, 0), height)
    return BBox.from_xyxy(x1, y1, x2, y2)


def repair_annotation(ann: Annotation, width: int, height: int) -> tuple[Annotation | None, list[tuple[str, str]]]:
    """The repaired annotation (None when nothing usable is left) and (code, message) per change."""
    changes: list[tuple[str, str]] = []
    seg = ann.segmentation
    bbox = ann.bbox
    geometry_changed = False
    if isinstance(seg, Polygons):
        rings, ring_changes = repair_rings(seg.rings, width, height)
        if ring_changes:
            changes.extend(ring_changes)
            geometry_changed = True
            if not rings:
                return None, [*changes, ("dropped-annotation", "no valid polygon ring left")]
            seg = Polygons(tuple(rings))
            if bbox is not None:
                bbox = seg.bbox()
    elif isinstance(seg, Rle) and tuple(seg.size) != (height, width):
        return None, [("dropped-annotation", f"RLE size {list(seg.size)} is not the image's [{height}, {width}]")]
    if bbox is not None and not geometry_changed:
        clipped = clip_bbox(bbox, width, height)
        if clipped != bbox:
            changes.append(("clipped-bbox", f"box {list(bbox)} cut to {list(clipped)}"))
            bbox, geometry_changed = clipped, True
    if bbox is not None and (bbox.w == 0 or bbox.h == 0):
        if seg is None:
            return None, [*changes, ("dropped-annotation", f"box {list(bbox)} has no area")]
        bbox = seg.bbox() if isinstance(seg, Polygons) else None
        changes.append(("clipped-bbox", "empty box replaced by the segmentation's"))
        geometry_changed = True
    if not geometry_changed:
        return ann, changes
    return ann.replace(segmentation=seg, bbox=bbox, area=None), changes


@dataclasses.dataclass(frozen=True)
class RepairRecord:
    """The per-record step: drop undeclared categories, repair geometry, map category ids."""

    category_ids: frozenset[int]
    id_map: tuple[tuple[int, int], ...] = ()

    def __call__(self, record: ImageRecord) -> tuple[ImageRecord, tuple[Finding, ...]]:
        id_map = dict(self.id_map)
        found: list[Finding] = []
        kept: list[Annotation] = []
        for index, ann in enumerate(record.annotations):
            location = f"annotation {index}"
            if ann.category_id not in self.category_ids:
                found.append(
                    change(
                        "dropped-annotation", f"category id {ann.category_id} is not declared", record, ann, location
                    )
                )
                continue
            repaired, changes = repair_annotation(ann, record.width, record.height)
            found.extend(change(code, message, record, ann, location) for code, message in changes)
            if repaired is not None:
                if repaired.category_id in id_map:
                    repaired = repaired.replace(category_id=id_map[repaired.category_id])
                kept.append(repaired)
        if found or id_map:
            record = record.replace(annotations=tuple(kept))
        return record, tuple(found)


def repair_dataset(dataset: Dataset, ctx: RunContext) -> tuple[Dataset, list[Finding]]:
    """Repair every record (map) and the ids across records (driver); returns the new dataset."""
    found: list[Finding] = []
    categories, id_map = dataset.categories, dict[int, int]()
    if any(c.id <= 0 for c in categories):
        categories, id_map = CategoryTable(tuple(dataset.categories)).renumbered(1)
        moved = ", ".join(f"{old}→{new}" for old, new in id_map.items() if old != new)
        found.append(change("renumbered-categories", f"category ids of 0 or less: renumbered {moved}"))
    step = RepairRecord(frozenset(dataset.categories.ids), tuple(sorted(id_map.items())))
    records: list[ImageRecord] = []
    seen: set[int] = set()
    for record, changes in ctx.map_items(step, dataset.records, desc="fix", name_of=lambda r: r.file_name):
        found.extend(changes)
        annotations = list(record.annotations)
        for index, ann in enumerate(annotations):
            if ann.id is not None and (ann.id <= 0 or ann.id in seen):
                found.append(
                    change(
                        "cleared-annotation-id",
                        f"annotation id {ann.id} is 0 or less or repeated",
                        record,
                        ann,
                        f"annotation {index}",
                    )
                )
                annotations[index] = ann.replace(id=None)
            elif ann.id is not None:
                seen.add(ann.id)
        records.append(
            record.replace(annotations=tuple(annotations)) if annotations != list(record.annotations) else record
        )
    return dataset.replace(categories=categories, records=tuple(records)), found


def check_not_source(sources: Sequence[str], destination: str) -> None:
    """Refuse a destination that is a source or holds one: fix writes a new dataset."""
    target = Path(destination).resolve()
    for source in sources:
        origin = Path(source).resolve()
        if origin == target or target in origin.parents:
            raise ValidationError(
                f"{destination}: fix writes a new dataset, it must not be (or hold) the source {source}"
            )


def summarize(findings: Sequence[Finding]) -> dict[str, int]:
    return dict(sorted(Counter(f.code for f in findings).items()))
