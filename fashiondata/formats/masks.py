"""Label masks (semantic segmentation / human parsing maps) ↔ instances.

A label mask is an image whose pixel value is a class id. Read:

* index masks: grayscale 8- or 16-bit PNG, or palette ("P") PNG whose indices are the class ids
  (PNG spec, colour type 3: https://www.w3.org/TR/png-3/#6Colour-values);
* RGB colour masks: a colour table maps colours to classes (``--color-tolerance`` for JPEG damage);
* Clothing Co-Parsing MATLAB label maps (``groundtruth`` in ``*.mat``, https://github.com/bearpaw/clothing-co-parsing,
  scipy needed: ``pip install 'fashiondata[ccp]'``).

Class tables: :mod:`fashiondata.formats.masks_classes` (``--classes deepfashion-mm`` follows the
DeepFashion-MultiModal README, https://github.com/yumingj/DeepFashion-MultiModal#human-parsing-label).
Id 0 is background and never an instance. On disk (DeepFashion-MultiModal)::

    segm/                              images/                  (--images)
      MEN-Denim-id_00000080-01_7_additional_segm.png  ↔  MEN-Denim-id_00000080-01_7_additional.jpg
    classes.txt                        optional: one name per line, line number = pixel value

A mask pairs with the image of the same stem (``X_segm.png`` or ``X.png`` ↔ ``X.jpg``); the size
comes from the mask and must match the image's header when the image exists.

Instances: ``--instances per-class`` (default: one annotation per class present, every connected
part a polygon ring of it) or ``components`` (one per 8-connected region). Rings follow pixel edges
(:func:`fashiondata.tracing.trace_components`), so pycocotools fills them back to the same pixels;
``--tolerance`` simplifies them (Douglas-Peucker, scaled down for small and thin parts). Holes:
``bridge`` (a zero-width cut joins each hole to its outer ring), ``rle`` (an instance with a hole
becomes an exact RLE mask) or ``fill`` (lossy, counted). ``--min-area`` drops regions of fewer pixels
(counted). The report's ``fidelity`` gives mask → polygon → mask IoU per class.

Written (``coco2masks``, ``yolo2masks``)::

    OUT/
      classes.txt       background, then one name per class id (empty lines for unused ids)
      [split/]<stem>.png  palette PNG, pixel = category id; 16-bit grayscale above 255 classes
                        (--binary: 0 background, 1 any instance)

Instances are drawn largest first, so a small item lying on a larger one stays visible; boxes
without a mask cannot be drawn (counted).
"""

from __future__ import annotations

import dataclasses
import functools
import io as _io
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.formats.masks_classes import (
    ClassTable,
    _loadmat,
    find_beside,
    load_class_table,
    voc_palette,
)
from fashiondata.io import (
    image_size,
    join_inside,
    safe_relative_path,
    staged_dir,
    write_bytes_atomic,
)
from fashiondata.lazy import LazyModule
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord, Polygons, Rle
from fashiondata.registry import FormatOption, FormatSpec, register_format

if TYPE_CHECKING:
    import cv2
    import numpy as np
    from pycocotools import mask as mask_utils

    from fashiondata import tracing
else:
    cv2 = LazyModule("cv2")
    np = LazyModule("numpy")
    mask_utils = LazyModule("pycocotools.mask")
    tracing = LazyModule("fashiondata.tracing")

MASK_SUFFIXES = (".png", ".bmp", ".tif", ".tiff", ".jpg", ".jpeg", ".mat")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MASK_STEM_SUFFIXES = ("_segm", "_mask", "-mask", "_label", "_labels")
DEFAULT_TOLERANCE = 1.0
#: the simplification never exceeds this fraction of a region's size (twice its area over its outline)
RELATIVE_TOLERANCE = 0.025
UNKNOWN = 0xFFFF


# ---------------------------------------------------------------- instances from a label mask (pure)


@dataclasses.dataclass(frozen=True)
class InstanceSettings:
    """How label regions become annotations (the reader's --instances, --holes, --min-area,
    --tolerance)."""

    instances: str = "per-class"
    holes: str = "bridge"
    min_area: int = 0
    tolerance: float = DEFAULT_TOLERANCE

    def __post_init__(self) -> None:
        if self.instances not in ("per-class", "components"):
            raise ValidationError(f"--instances {self.instances!r}: use per-class or components")
        if self.holes not in ("bridge", "rle", "fill"):
            raise ValidationError(f"--holes {self.holes!r}: use bridge, rle or fill")
        if self.min_area < 0 or self.tolerance < 0:
            raise ValidationError("--min-area and --tolerance must not be negative")


class Instances(NamedTuple):
    """What one label mask gives: annotations, per-class fidelity IoU, and the counts of dropped
    specks and filled holes."""

    annotations: tuple[Annotation, ...]
    fidelity: tuple[tuple[int, float], ...]
    specks: int
    holes_filled: int


def class_boxes(labels: np.ndarray) -> list[tuple[int, tuple[int, int, int, int]]]:
    """``(class id, (x, y, w, h))`` of every non-zero value, in id order, from one pass.

    The image is cut into runs of equal value along each row; a class's box spans its runs'
    rows and columns. One scan for all classes, instead of one comparison of the whole image per
    class.

    Examples:
        >>> labels = np.zeros((4, 6), np.uint8); labels[1:3, 1:3] = 5; labels[3, 4:6] = 2
        >>> class_boxes(labels)
        [(2, (4, 3, 2, 1)), (5, (1, 1, 2, 2))]
    """
    if labels.dtype == np.uint8:
        x0, y0, w0, h0 = cv2.boundingRect(labels)
    else:
        rows, columns = np.flatnonzero(labels.any(axis=1)), np.flatnonzero(labels.any(axis=0))
        x0, y0 = (int(columns[0]), int(rows[0])) if len(rows) else (0, 0)
        w0, h0 = (int(columns[-1]) - x0 + 1, int(rows[-1]) - y0 + 1) if len(rows) else (0, 0)
    if not (w0 and h0):
        return []
    person = labels[y0 : y0 + h0, x0 : x0 + w0]
    change = np.empty((h0, w0), dtype=bool)
    change[:, 0] = True
    np.not_equal(person[:, 1:], person[:, :-1], out=change[:, 1:])
    starts = np.flatnonzero(change)
    ends = np.empty_like(starts)  # one past each run's last pixel (flat index)
    ends[:-1] = starts[1:]
    ends[-1] = h0 * w0
    rows, columns = np.divmod(starts, w0)
    values = labels.ravel()[(rows + y0) * labels.shape[1] + columns + x0]  # each run's value (no copy of the crop)
    labelled = np.flatnonzero(values)
    order = labelled[np.argsort(values[labelled], kind="stable")]
    rows, columns, ends, values = rows[order], columns[order], ends[order] - 1, values[order]
    first = np.flatnonzero(np.diff(values, prepend=0))
    top = np.minimum.reduceat(rows, first)
    bottom = np.maximum.reduceat(rows, first)
    left = np.minimum.reduceat(columns, first)
    right = np.maximum.reduceat(ends % w0, first)
    return [
        (int(v), (x0 + int(x), y0 + int(y), int(x2 - x) + 1, int(y2 - y) + 1))
        for v, x, y, x2, y2 in zip(values[first], left, top, right, bottom)
    ]


def iter_class_crops(labels: np.ndarray) -> Iterator[tuple[int, tuple[int, int], np.ndarray]]:
    """``(class id, (x, y), 0/1 crop)`` for every class present, in id order: each crop is the
    class's own box (contiguous)."""
    for class_id, (x, y, w, h) in class_boxes(labels):
        yield class_id, (x, y), (labels[y : y + h, x : x + w] == class_id).view(np.uint8)


def label_instances(labels: np.ndarray, settings: InstanceSettings) -> Instances:
    """Annotations for every class present in a label mask, with the fidelity IoU per class.

    Examples:
        >>> labels = np.zeros((4, 6), np.uint8); labels[1:3, 1:3] = 5; labels[1:3, 4:6] = 5
        >>> result = label_instances(labels, InstanceSettings())
        >>> [(a.category_id, len(a.segmentation.rings)) for a in result.annotations], result.fidelity
        ([(5, 2)], ((5, 1.0),))
    """
    annotations: list[Annotation] = []
    fidelity: list[tuple[int, float]] = []
    specks = holes_filled = 0
    crops = list(iter_class_crops(labels))
    traced = tracing.trace_many([(crop, (0, 0)) for _, _, crop in crops])
    for (class_id, (x, y), crop), components in zip(crops, traced):
        kept = [c for c in components if c.area >= settings.min_area]
        specks += len(components) - len(kept)
        if not kept:
            fidelity.append((class_id, 0.0))
            continue
        if settings.holes == "fill":
            holes_filled += sum(len(c.holes) for c in kept)
        pieces = [_segmentation(c, crop.shape, settings) for c in kept]
        if settings.instances == "per-class":
            groups = [(pieces, kept)]
        else:
            groups = [([piece], [component]) for piece, component in zip(pieces, kept)]
        merged = [_merge([piece for piece, _ in group], crop.shape) for group, _ in groups]
        if all(exact for _, exact in pieces):  # traced rings fill back to exactly their pixels
            areas = [float(sum(c.area for c in members)) for _, members in groups]
            iou = sum(c.area for c in kept) / sum(c.area for c in components)  # only dropped specks miss
        else:
            iou, areas = _fidelity(merged, crop)
        annotations.extend(
            _placed(class_id, segmentation, area, x, y, labels.shape) for segmentation, area in zip(merged, areas)
        )
        fidelity.append((class_id, float(iou)))
    return Instances(tuple(annotations), tuple(fidelity), specks, holes_filled)


def _fidelity(segmentations: Sequence[tuple[np.ndarray, ...] | Rle], mask: np.ndarray) -> tuple[float, list[float]]:
    """IoU of the union of ``segmentations`` (rasterised by pycocotools) with a 0/1 ``mask``, and
    each segmentation's area; computed on run-length encodings, without decoding.

    >>> _fidelity([(np.array([(0, 0), (2, 0), (2, 1), (0, 1)]),)], np.ones((1, 4), np.uint8))
    (0.5, [2.0])
    """
    height, width = mask.shape
    encoded = [
        raster.to_coco_rle(segmentation, height, width)
        if isinstance(segmentation, Rle)
        else mask_utils.merge(
            mask_utils.frPyObjects([ring.ravel().astype(np.float64) for ring in segmentation], height, width)
        )
        for segmentation in segmentations
    ]
    union = encoded[0] if len(encoded) == 1 else mask_utils.merge(encoded)
    truth = mask_utils.encode(cv2.transpose(mask).T)  # column-major, as pycocotools wants (cv2 transposes fast)
    iou = float(mask_utils.iou([union], [truth], [0])[0][0])
    return iou, [float(a) for a in mask_utils.area(encoded)]


def _segmentation(
    component: tracing.Component, shape: tuple[int, int], settings: InstanceSettings
) -> tuple[tuple[np.ndarray, ...] | Rle, bool]:
    """One region as a single bridged ring (holes cut in or filled), or as RLE when it has holes
    and ``--holes rle``; coordinates relative to the crop. The flag says whether it fills back to
    exactly the region's pixels (neither simplified nor hole-filled)."""
    if settings.holes == "rle" and component.holes:
        return raster.encode_mask(_region_mask(component, shape)), True
    simple = tracing.simplify_component(component, tolerance=settings.tolerance, relative=RELATIVE_TOLERANCE)
    exact = simple is component and not (settings.holes == "fill" and component.holes)
    if settings.holes == "fill" or not simple.holes:
        return (simple.outer,), exact
    return (tracing.join_traced_rings([simple.outer, *simple.holes]),), exact


def _region_mask(component: tracing.Component, shape: tuple[int, int]) -> np.ndarray:
    return raster.decode(_polygons((tracing.join_traced_rings([component.outer, *component.holes]),)), *shape)


def _polygons(rings: Sequence[np.ndarray], x: int = 0, y: int = 0) -> Polygons:
    """Integer (N, 2) rings, moved by (x, y), as flat float rings."""
    return Polygons(tuple((ring + (x, y)).astype(np.float64).ravel().tolist() for ring in rings))


def _merge(pieces: Sequence[tuple[np.ndarray, ...] | Rle], shape: tuple[int, int]) -> tuple[np.ndarray, ...] | Rle:
    """Several regions of one instance: their rings side by side, or one RLE if any is RLE."""
    if not any(isinstance(p, Rle) for p in pieces):
        return tuple(ring for p in pieces for ring in p)
    union = np.zeros(shape, np.uint8)
    for piece in pieces:
        union |= raster.decode(piece if isinstance(piece, Rle) else _polygons(piece), *shape)
    return raster.encode_mask(union)


def _placed(
    class_id: int, segmentation: tuple[np.ndarray, ...] | Rle, area: float, x: int, y: int, shape: tuple[int, int]
) -> Annotation:
    """The annotation in image coordinates (crop moved to (x, y)). Polygons get their box here, in
    the worker, from the integer vertices: the same box writers would derive from the rings."""
    if isinstance(segmentation, Rle):
        full = np.zeros(shape, np.uint8)
        crop = raster.decode(segmentation, *segmentation.size)
        full[y : y + crop.shape[0], x : x + crop.shape[1]] = crop
        return Annotation(class_id, segmentation=raster.encode_mask(full), area=area)
    points = np.concatenate(segmentation) + (x, y)
    low, high = points.min(axis=0).tolist(), points.max(axis=0).tolist()
    flat = points.astype(np.float64).ravel().tolist()
    ends = np.cumsum([2 * len(ring) for ring in segmentation]).tolist()
    rings = tuple(flat[start:end] for start, end in zip([0, *ends], ends))
    box = BBox.from_xyxy(float(low[0]), float(low[1]), float(high[0]), float(high[1]))
    return Annotation(class_id, box, Polygons(rings), area=area)


# ---------------------------------------------------------------- decoding masks (file → labels)


_LOOKUPS: dict[tuple[Any, ...], np.ndarray] = {}


def _lookup(colors: Mapping[int, tuple[int, int, int]], tolerance: int) -> np.ndarray:
    """The colour lookup of a table's colours, built once per process (16M entries, 32 MB)."""
    key = (tuple(sorted(colors.items())), tolerance)
    if key not in _LOOKUPS:
        _LOOKUPS.clear()
        ids = list(colors)
        _LOOKUPS[key] = tracing.color_lookup([colors[i] for i in ids], ids, tolerance=tolerance, unknown=UNKNOWN)
    return _LOOKUPS[key]


@functools.lru_cache(maxsize=4)
def _color_hash(colors: tuple[tuple[int, tuple[int, int, int]], ...]) -> tracing.ColorHash | None:
    """The 256-slot hash of a table's exact colours (sorted ``(id, rgb)`` pairs), once per process."""
    return tracing.color_hash([rgb for _, rgb in colors], [i for i, _ in colors])


def _is_palette_png(path: str) -> bool:
    with open(path, "rb") as f:
        head = f.read(26)
    return head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and head[25] == 3


def read_labels(path: str, table: ClassTable, *, color_tolerance: int = 0) -> np.ndarray:
    """Decode one mask file into an H×W array of class ids (uint8 or uint16).

    Raises ParseError for an unreadable file, a colour not in the table (naming the colour and the
    first pixel that has it), or a pixel value that is not a class of the table.
    """
    suffix = Path(path).suffix.lower()
    if suffix != ".mat":
        image_size(path)  # refuse a cut header or a decompression bomb before decoding pixels
    if suffix == ".mat":
        labels = _read_mat(path)
    elif suffix == ".png" and _is_palette_png(path):
        from PIL import Image

        try:
            with Image.open(path) as image:
                labels = np.asarray(image)
        except (OSError, ValueError) as error:
            raise ParseError(path, f"not a readable palette PNG ({error})") from error
    else:
        decoded = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if decoded is None:
            raise ParseError(path, "not a readable image")
        labels = _labels_from_pixels(decoded, path, table, color_tolerance)
    if labels.ndim != 2 or labels.dtype not in (np.uint8, np.uint16):
        raise ParseError(path, f"a label mask must be one channel of 8 or 16 bits, got {labels.dtype} {labels.shape}")
    return labels


def _labels_from_pixels(decoded: np.ndarray, path: str, table: ClassTable, tolerance: int) -> np.ndarray:
    if decoded.ndim == 2:
        return decoded
    bgr = decoded[..., :3]
    if table.colors is None:
        if np.array_equal(bgr[..., 0], bgr[..., 1]) and np.array_equal(bgr[..., 1], bgr[..., 2]):
            return np.ascontiguousarray(bgr[..., 0])  # grayscale stored as RGB
        raise ParseError(path, f"an RGB colour mask needs a class table with colours; {table.source} has none")
    hashed = _color_hash(tuple(sorted(table.colors.items()))) if tolerance == 0 and bgr.dtype == np.uint8 else None
    if hashed is not None:
        labels = tracing.hashed_colors_to_labels(bgr, hashed, unknown=UNKNOWN)
    else:
        labels = tracing.colors_to_labels(bgr[..., ::-1], _lookup(table.colors, tolerance))
    unknown = labels == UNKNOWN if labels.dtype == np.uint16 else None  # uint8 labels: every colour known
    if unknown is not None and unknown.any():
        y, x = np.unravel_index(int(np.argmax(unknown)), unknown.shape)
        b, g, r = (int(v) for v in bgr[y, x])
        raise ParseError(
            path,
            f"colour ({r},{g},{b}) is not in the class table {table.source}"
            + (f" (within --color-tolerance {tolerance})" if tolerance else ""),
            f"pixel x={x} y={y}",
        )
    return labels.astype(np.uint8 if table.max_id <= 255 else np.uint16, copy=False)


def check_values(labels: np.ndarray, classes: Iterable[int], path: str, table: ClassTable) -> None:
    """Raise ParseError (naming the first pixel) for a value of ``classes`` the table lacks."""
    unknown = [v for v in classes if v not in table.names and v != 0]
    if unknown:
        y, x = np.argwhere(labels == unknown[0])[0]
        raise ParseError(
            path,
            f"pixel value {unknown[0]} is not a class of {table.source or 'the class table'}",
            f"pixel x={x} y={y}",
        )


def _read_mat(path: str) -> np.ndarray:
    loadmat = _loadmat()
    try:
        data = loadmat(path)
    except (ValueError, OSError, NotImplementedError) as error:
        raise ParseError(path, f"not a readable MATLAB file ({error})") from error
    if "groundtruth" not in data:
        raise ParseError(path, "no 'groundtruth' label matrix (a CCP image-level file has only 'tags')")
    labels = np.asarray(data["groundtruth"])
    if (
        labels.ndim != 2
        or labels.dtype.kind not in "ui"
        or (labels.size and labels.min() < 0)
        or (labels.size and labels.max() > 65535)
    ):
        raise ParseError(path, "groundtruth must be a 2-D matrix of class ids")
    return np.ascontiguousarray(labels.astype(np.uint8 if labels.size and labels.max() <= 255 else np.uint16))


# ---------------------------------------------------------------- pairing masks and images


class MaskJob(NamedTuple):
    """One mask to read: its path, the paired image's path (or None) and the record's file name."""

    mask: str
    image: str | None
    file_name: str


def image_stem(mask_path: str | os.PathLike[str]) -> str:
    """The stem of the image a mask belongs to.

    >>> image_stem("segm/WOMEN-Tees-id_00000001-01_4_full_segm.png"), image_stem("masks/0001.png")
    ('WOMEN-Tees-id_00000001-01_4_full', '0001')
    """
    stem = Path(mask_path).stem
    for suffix in MASK_STEM_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def list_masks(path: str | os.PathLike[str]) -> list[Path]:
    """The mask files of a folder (recursively, sorted), or the file itself.

    When some files are named as masks (``X_segm.png``, ``X_mask.png``…) only those are masks, so
    images kept beside their masks are not read as masks.
    """
    root = Path(path)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ValidationError(f"{root}: no such mask folder or file")
    found = sorted(
        p for p in root.rglob("*") if p.suffix.lower() in MASK_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )
    named = [p for p in found if image_stem(p) != p.stem]
    if not (named or found):
        raise ValidationError(f"{root}: no mask file ({', '.join(MASK_SUFFIXES)})")
    return named or found


def pair_with_images(masks: Sequence[Path], root: Path, images: str | None) -> list[MaskJob]:
    """A job per mask, with its image found by stem under ``images`` (same sub-folder first).

    Without an image folder, an image beside the mask with the image stem is used when present;
    otherwise ``file_name`` is ``<sub-folder>/<stem>.jpg``.
    """
    by_stem: dict[str, list[Path]] = {}
    image_root = Path(images) if images else None
    if image_root is not None:
        if not image_root.is_dir():
            raise ValidationError(f"--images {images}: no such folder")
        for found in sorted(image_root.rglob("*")):
            if found.suffix.lower() in IMAGE_SUFFIXES and found.is_file():
                by_stem.setdefault(found.stem, []).append(found)
    jobs = []
    listed: dict[Path, set[str]] = {}  # folder → its names in lower case: one listing, not a stat per suffix
    for mask in masks:
        stem = image_stem(mask)
        sub = mask.parent.relative_to(root) if mask.is_relative_to(root) else Path()
        image: Path | None = None
        if image_root is not None:
            candidates = by_stem.get(stem, [])
            same_folder = [c for c in candidates if c.parent.relative_to(image_root) == sub]
            image = next(iter(same_folder or candidates), None)
            file_name = image.relative_to(image_root).as_posix() if image else (sub / f"{stem}.jpg").as_posix()
        else:
            if mask.parent not in listed:
                listed[mask.parent] = {name.lower() for name in os.listdir(mask.parent)}
            beside = [mask.with_name(stem + s) for s in IMAGE_SUFFIXES if (stem + s).lower() in listed[mask.parent]]
            image = next((b for b in beside if b != mask and b.is_file()), None)
            file_name = (sub / (image.name if image else f"{stem}.jpg")).as_posix()
        jobs.append(MaskJob(str(mask), str(image) if image else None, safe_relative_path(file_name)))
    return jobs


@dataclasses.dataclass(frozen=True)
class MaskToRecord:
    """Picklable per-mask step: decode, check the image size, trace instances."""

    table: ClassTable
    settings: InstanceSettings
    color_tolerance: int = 0

    def __call__(self, job: MaskJob) -> tuple[ImageRecord, Instances]:
        labels = read_labels(job.mask, self.table, color_tolerance=self.color_tolerance)
        height, width = labels.shape
        if job.image is not None:
            image_width, image_height = image_size(job.image)
            if (image_width, image_height) != (width, height):
                raise ParseError(
                    job.mask, f"mask is {width}x{height} but its image {job.image} is {image_width}x{image_height}"
                )
        instances = label_instances(labels, self.settings)
        check_values(labels, (class_id for class_id, _ in instances.fidelity), job.mask, self.table)
        record = ImageRecord(file_name=job.file_name, width=width, height=height, annotations=instances.annotations)
        return record, instances


class FidelityTally:
    """Mask → polygon → mask IoU per class, accumulated over images."""

    def __init__(self) -> None:
        self.values: dict[int, list[float]] = {}

    def add(self, fidelity: Iterable[tuple[int, float]]) -> None:
        for class_id, iou in fidelity:
            self.values.setdefault(class_id, []).append(iou)

    def summary(self, categories: CategoryTable) -> dict[str, Any]:
        """``{"mean": …, "pairs": n, "per_class": {name: {"mean", "worst", "images"}}}``."""
        every = [v for values in self.values.values() for v in values]
        per_class = {
            categories.get(class_id).name if class_id in categories else str(class_id): {
                "mean": round(float(np.mean(values)), 6),
                "worst": round(float(np.min(values)), 6),
                "images": len(values),
            }
            for class_id, values in sorted(self.values.items())
        }
        return {"mean": round(float(np.mean(every)), 6) if every else None, "pairs": len(every), "per_class": per_class}


# ---------------------------------------------------------------- reader


def resolve_table(classes: str | None, root: Path, masks: Sequence[Path]) -> ClassTable:
    """``--classes``, else a ``classes.txt`` (or CCP ``label_list.mat`` for .mat masks) beside."""
    if classes:
        return load_class_table(classes)
    folder = root if root.is_dir() else root.parent
    names = ["classes.txt"]
    if any(m.suffix.lower() == ".mat" for m in masks):
        names.append("label_list.mat")
    found = find_beside(folder, names)
    if found is None:
        raise ValidationError(
            f"{root}: which class is which pixel value? give --classes NAME or FILE "
            "(built in: deepfashion-mm, fashionista, ccp), or put a classes.txt beside the masks"
        )
    return load_class_table(found)


def read(
    sources: list[str],
    ctx: RunContext,
    *,
    classes: str | None = None,
    color_tolerance: int = 0,
    instances: str = "per-class",
    holes: str = "bridge",
    min_area: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    images: str | None = None,
) -> Dataset:
    """Read mask folders (or files) into a dataset whose records stream off the executor."""
    if color_tolerance < 0 or color_tolerance > 127:
        raise ValidationError(f"--color-tolerance {color_tolerance}: use 0..127")
    settings = InstanceSettings(instances, holes, min_area, tolerance)
    jobs: list[MaskJob] = []
    tables = []
    for source in sources:
        root = Path(source)
        masks = list_masks(root)
        tables.append(resolve_table(classes, root, masks))
        jobs.extend(pair_with_images(masks, root if root.is_dir() else root.parent, images))
    if any(t != tables[0] for t in tables[1:]):
        raise ValidationError("the mask folders have different class tables: give --classes")
    table = tables[0]
    categories = table.categories()
    step = MaskToRecord(table, settings, color_tolerance)

    def iter_records() -> Iterator[ImageRecord]:
        tally = FidelityTally()
        paired = sum(1 for j in jobs if j.image)
        if paired < len(jobs):
            ctx.report.note(f"{len(jobs) - paired} masks have no image: file_name is the mask's stem + .jpg")
        for record, found in ctx.map_items(step, jobs, desc="read masks", name_of=lambda j: j.mask):
            tally.add(found.fidelity)
            if found.specks:
                ctx.report.skip(f"region smaller than --min-area {min_area} px", count=found.specks)
            if found.holes_filled:
                ctx.report.lose("hole filled (--holes fill)", found.holes_filled)
            yield record
        summary = tally.summary(categories)
        ctx.report.data["fidelity"] = summary
        if summary["mean"] is not None:
            worst = min(summary["per_class"].items(), key=lambda kv: kv[1]["mean"])
            ctx.report.note(
                f"fidelity (mask → polygon → mask IoU): mean {summary['mean']:.4f} over {summary['pairs']} "
                f"(image, class) pairs; lowest class mean {worst[0]} {worst[1]['mean']:.4f}"
            )

    return Dataset(categories, iter_records(), {}, tuple(sources))


# ---------------------------------------------------------------- writer


def format_classes_txt(categories: CategoryTable, *, binary: bool = False) -> str:
    """``classes.txt``: line number = pixel value, ``background`` first, empty lines for gaps.

    >>> format_classes_txt(CategoryTable.from_names(["top", "pants"]))
    'background\\ntop\\npants\\n'
    """
    if binary:
        return "background\n" + (categories[0].name if len(categories) == 1 else "foreground") + "\n"
    names = {c.id: c.name for c in categories}
    return "".join((names.get(i, "background" if i == 0 else "")) + "\n" for i in range(max(names, default=0) + 1))


def palette_for(categories: CategoryTable, *, binary: bool = False) -> list[int]:
    """The 256-colour palette: each category's ``color`` attribute, else the PASCAL VOC colour."""
    colors = voc_palette(256)
    if binary:
        colors[1] = (255, 255, 255)
    else:
        for category in categories:
            color = category.attributes.get("color")
            if 0 <= category.id < 256 and isinstance(color, (list, tuple)) and len(color) == 3:
                colors[category.id] = tuple(int(v) for v in color)  # type: ignore[assignment]
    return [v for color in colors for v in color]


def render_labels(record: ImageRecord, *, binary: bool, dtype: Any) -> tuple[np.ndarray, int]:
    """The label image of a record (largest instance drawn first), and how many annotations had
    no mask to draw."""
    canvas = np.zeros((record.height, record.width), dtype=dtype)
    sized: list[tuple[int, int, np.ndarray, int]] = []
    for ann in record.annotations:
        if ann.segmentation is not None:
            mask = raster.decode(ann.segmentation, record.height, record.width)
            sized.append((-int(np.count_nonzero(mask)), len(sized), mask, ann.category_id))
    for _, _, mask, category_id in sorted(sized, key=lambda item: item[:2]):
        canvas[mask > 0] = 1 if binary else category_id
    return canvas, len(record.annotations) - len(sized)


def encode_png(labels: np.ndarray, palette: list[int] | None) -> bytes:
    """A palette PNG (8-bit with ``palette``) or a grayscale PNG (16-bit labels)."""
    if palette is None:
        ok, data = cv2.imencode(".png", labels)
        if not ok:
            raise ValidationError("PNG encoding failed")
        return data.tobytes()
    from PIL import Image

    image = Image.frombytes("P", (labels.shape[1], labels.shape[0]), labels.tobytes())
    image.putpalette(palette)
    buffer = _io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def mask_name(record: ImageRecord) -> str:
    """``[split/]images/a.jpg`` → ``[split/]images/a.png`` (a safe relative path).

    >>> mask_name(ImageRecord("a.jpg", 4, 4, split="val2017"))
    'val2017/a.png'
    """
    name = safe_relative_path(record.file_name)
    head, _, base = name.rpartition("/")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    path = f"{head}/{stem}.png" if head else f"{stem}.png"
    return f"{safe_relative_path(record.split)}/{path}" if record.split else path


@dataclasses.dataclass(frozen=True)
class RecordToMask:
    """Picklable per-record step of the writer: render, encode and write one mask PNG."""

    folder: str
    binary: bool
    sixteen_bit: bool
    palette: tuple[int, ...] | None

    def __call__(self, record: ImageRecord) -> int:
        labels, undrawable = render_labels(
            record, binary=self.binary, dtype=np.uint16 if self.sixteen_bit else np.uint8
        )
        data = encode_png(labels, list(self.palette) if self.palette else None)
        write_bytes_atomic(join_inside(self.folder, mask_name(record)), data)
        return undrawable


def write(dataset: Dataset, destination: str, ctx: RunContext, *, binary: bool = False) -> None:
    """Write one label PNG per image and ``classes.txt`` into the folder ``destination``."""
    categories = dataset.categories
    if any(c.id < 0 for c in categories):
        raise ValidationError("mask values are category ids: negative ids cannot be written")
    sixteen_bit = not binary and max(categories.ids, default=0) > 255
    if sixteen_bit and max(categories.ids) > 65535:
        raise ValidationError("category ids above 65535 do not fit a 16-bit mask")
    palette = None if sixteen_bit else tuple(palette_for(categories, binary=binary))
    with staged_dir(destination, overwrite=ctx.overwrite) as stage:
        (stage / "classes.txt").write_text(format_classes_txt(categories, binary=binary), encoding="utf-8")
        step = RecordToMask(str(stage), bool(binary), sixteen_bit, palette)
        seen: set[str] = set()

        def iter_unique() -> Iterator[ImageRecord]:
            for record in dataset.records:
                name = mask_name(record)
                if name in seen:
                    raise ValidationError(f"two images would write the same mask {name}")
                seen.add(name)
                yield record

        undrawable = written = 0
        for missing in ctx.map_items(step, iter_unique(), desc="write masks", name_of=lambda r: r.file_name):
            written += 1
            undrawable += missing
        if undrawable:
            ctx.report.lose("annotation without a mask (box only): not drawn", undrawable)
        ctx.report.written["masks"] += written
    ctx.report.outputs.append(str(destination))


def sniff(path: str) -> bool:
    """A folder with a ``classes.txt`` and PNG masks, or of ``*_segm.png`` files."""
    root = Path(path)
    if not root.is_dir():
        return False
    if (root / "classes.txt").is_file() and any(root.glob("*.png")):
        return True
    return any(root.glob("*_segm.png"))


SPEC = register_format(
    FormatSpec(
        name="masks",
        description="Label masks: index/palette/RGB PNG or CCP .mat, one class per pixel (semantic segmentation)",
        capabilities=frozenset({"polygons", "holes", "rle"}),
        sniff=sniff,
        read=read,
        write=write,
        read_options=(
            FormatOption(
                "classes",
                "Class table: deepfashion-mm, fashionista, ccp, or a JSON/YAML/classes.txt/label_list.mat file.",
            ),
            FormatOption(
                "color_tolerance", "RGB masks: map colours within N per channel to the nearest class colour.", int, 0
            ),
            FormatOption(
                "instances",
                "masks: one annotation per class present, or per connected region.",
                str,
                "per-class",
                ("per-class", "components"),
            ),
            FormatOption(
                "holes",
                "masks: holes as zero-width cuts, as RLE (COCO only), or filled (lossy).",
                str,
                "bridge",
                ("bridge", "rle", "fill"),
            ),
            FormatOption("min_area", "masks: drop regions of fewer pixels (counted).", int, 0),
            FormatOption(
                "tolerance",
                "masks: polygon simplification in pixels (scaled down for small parts).",
                float,
                DEFAULT_TOLERANCE,
            ),
            FormatOption("images", "Image folder: masks pair with images by stem.", "path"),
        ),
        write_options=(FormatOption("binary", "masks: write 0 background / 1 any instance.", bool, False),),
        output="dir",
        spec_url="https://github.com/yumingj/DeepFashion-MultiModal#human-parsing-label",
    )
)
