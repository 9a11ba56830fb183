"""The YOLO (Ultralytics) writer: segmentation lines, or detection lines with ``--boxes``.

Spec: https://docs.ultralytics.com/datasets/segment/ and https://docs.ultralytics.com/datasets/detect/,
with the semantics of Ultralytics' loader (``ultralytics/data/utils.py``: ``img2label_paths``,
``verify_image_label``, ``check_det_dataset``). The reader and the ``yolo`` format entry are in
:mod:`fashiondata.formats.yolo`.

On disk (with splits; records without one go straight into ``images/`` and ``labels/``)::

    OUT/
      data.yaml                        train: train.txt / val: val.txt / names: {0: pants}  (no path:)
      train.txt                        ./images/train2017/000000391895.jpg …  one list per source file
      val.txt                          (lvis_v1_val.json → val.txt, as Ultralytics names them)
      images/train2017/000000391895.jpg   symlink, hard link or copy of the --images file
      labels/train2017/000000391895.txt   "cls x1 y1 x2 y2 …" one instance per line

Rules:

* class = position of the category in the category table (0-based, contiguous): for LVIS without
  ``--categories`` that is ``category_id - 1``, as Ultralytics' ``convert_coco(lvis=True)`` writes;
* coordinates are divided by the image width/height, clipped to [0, 1] (instances counted), and
  written with six significant digits in fixed-point notation (the digits of Ultralytics' ``%g``; a
  value exactly halfway may round the other way in its last digit);
* a polygon of one ring is written as it is; an instance in several parts is merged into one ring by
  zero-width cuts so that its fill is the union of the parts (:func:`fashiondata.batch_geometry.bridge_many`,
  a batched :func:`fashiondata.geometry.bridge_rings`) or,
  with ``--multipart split``, written one line per part; an RLE mask (COCO crowd regions) becomes
  the rings traced on its pixel edges (:func:`fashiondata.tracing.trace_components`), holes joined by
  zero-width cuts; an annotation with a box only becomes its rectangle; every such change is counted;
* a ring with fewer than 3 points or no area (after clipping) is dropped and counted;
* negatives (images without a selected instance): ``--negatives verified`` writes an empty label
  file only for images whose LVIS ``neg_category_ids`` name a selected category (LVIS is federated:
  any other image may show the category unlabelled), ``all`` for every such image, ``none`` for no
  image. Without the option, images that carry ``neg_category_ids`` follow ``verified`` and the others
  ``all``. Images left out are counted; image lists name only the images that have a label file;
* the output folder is staged and swapped in whole (never appended to); bytes are deterministic.

Labels are formatted in batches on the executor: the driver turns records into flat coordinate
arrays, workers normalise, clip, format and write (numpy, then one ``orjson`` serialisation per batch:
formatting millions of coordinates with ``%g`` would cost seconds).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from fashiondata import geometry, raster
from fashiondata.batch_geometry import bridge_many, join_many
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import FashionDataError, LossyConversionError, ValidationError
from fashiondata.formats.coco import gc_paused, split_from_filename
from fashiondata.io import safe_relative_path, staged_dir
from fashiondata.lazy import LazyModule
from fashiondata.model import Annotation, BBox, ImageRecord, Polygons, Rle
from fashiondata.registry import FormatOption

if TYPE_CHECKING:
    import numpy as np

    from fashiondata import tracing
else:
    np = LazyModule("numpy")
    tracing = LazyModule("fashiondata.tracing")

LINK_MODES = ("symlink", "hardlink", "copy", "none")
MULTIPART_MODES = ("merge", "split")
NEGATIVE_POLICIES = ("verified", "all", "none")
BATCH_IMAGES = 1000
SIGNIFICANT_DIGITS = 6

WRITE_OPTIONS = (
    FormatOption("images", "Image root: images are linked from here into OUT/images/.", "path"),
    FormatOption("boxes", "Write detection lines (cls cx cy w h) instead of polygons.", bool, False),
    FormatOption(
        "link_mode",
        "How images are placed in OUT/images/ (default symlink; none writes labels only).",
        str,
        "symlink",
        LINK_MODES,
    ),
    FormatOption(
        "multipart",
        "An instance in several parts: merge (one line, zero-width bridges; default) or split.",
        str,
        "merge",
        MULTIPART_MODES,
    ),
    FormatOption(
        "negatives",
        "Images without a selected instance get an empty label file: verified (LVIS neg_category_ids; "
        "the default for LVIS), all (the default otherwise) or none.",
        str,
        None,
        NEGATIVE_POLICIES,
    ),
)

LOST_RLE = "RLE mask written as the polygon traced on its pixel edges"
LOST_MERGED = "multi-part instance merged into one line by zero-width bridges"
LOST_SPLIT = "multi-part instance split into one line per part"
LOST_BOX_AS_POLYGON = "instance with a box only written as its rectangle"
LOST_KEYPOINTS = "keypoints dropped (YOLO seg/detection lines hold none)"
LOST_CLIPPED = "instance with coordinates clipped to [0, 1]"
SKIP_DEGENERATE = "degenerate polygon dropped (fewer than 3 points or no area)"
SKIP_NO_GEOMETRY = "annotation without box or segmentation"
SKIP_ALL_DEGENERATE = "image left out: every instance was degenerate"
SKIP_UNKNOWN = "image left out: no selected instance and not a verified negative (LVIS is federated)"
SKIP_NEGATIVE_NONE = "image left out: no selected instance (--negatives none)"


# ---------------------------------------------------------------- naming (pure functions)


def image_list_name(source: str) -> str:
    """The image list of a source file, named as Ultralytics does (without ``.txt``).

    >>> image_list_name("lvis/lvis_v1_train.json"), image_list_name("instances_val2017.json")
    ('train', 'val2017')
    >>> image_list_name("lvis_val_100.json")
    'lvis_val_100'
    """
    return split_from_filename(source) or Path(source).stem


def yaml_key(list_name: str) -> str:
    """The data.yaml key of an image list: ``train``, ``val`` or ``test`` by its name (else train).

    >>> [yaml_key(n) for n in ("train2017", "lvis_val_100", "minival", "test-dev", "mine")]
    ['train', 'val', 'val', 'test', 'train']
    """
    lowered = list_name.lower()
    for key in ("test", "val", "train"):
        if key in lowered:
            return key
    return "train"


def relative_image_path(record: ImageRecord) -> str:
    """The image's path under ``images/`` and (with ``.txt``) its label's under ``labels/``:
    ``<split>/<file_name>``, the split folder not repeated when ``file_name`` starts with it.

    >>> relative_image_path(ImageRecord("a/b.jpg", 4, 4, split="train2017"))
    'train2017/a/b.jpg'
    >>> relative_image_path(ImageRecord("train2017/b.jpg", 4, 4, split="train2017"))
    'train2017/b.jpg'
    """
    name = safe_relative_path(record.file_name)
    if not record.split:
        return name
    split = _safe_folder(record.split)
    return name if name.startswith(split + "/") else f"{split}/{name}"


#: :func:`safe_relative_path` of split names, which repeat for every image.
_safe_folder = functools.lru_cache(maxsize=256)(safe_relative_path)


def label_relative_path(image_path: str) -> str:
    """``train2017/x.jpg`` → ``train2017/x.txt`` (Ultralytics swaps the suffix).

    >>> label_relative_path("val/a.b.png"), label_relative_path("noext")
    ('val/a.b.txt', 'noext.txt')
    """
    head, _, base = image_path.rpartition("/")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{head}/{stem}.txt" if head else f"{stem}.txt"


def negative_policy(record: ImageRecord, chosen: str | None) -> str:
    """The negatives policy for one record: the one chosen, else ``verified`` for records that carry
    LVIS ``neg_category_ids`` and ``all`` for the others."""
    if chosen:
        return chosen
    return "verified" if "neg_category_ids" in record.attributes else "all"


def is_verified_negative(record: ImageRecord, selected: frozenset[int]) -> bool:
    """Whether LVIS says a selected category is absent from the image (``neg_category_ids``).

    >>> is_verified_negative(ImageRecord("a.jpg", 4, 4, attributes={"neg_category_ids": [3, 7]}), frozenset({7}))
    True
    """
    return any(i in selected for i in record.attributes.get("neg_category_ids") or ())


def data_yaml(lists: Sequence[str], names: Sequence[str]) -> bytes:
    """data.yaml naming the image lists under train/val/test and the classes as a dict; no ``path``
    key, so that Ultralytics resolves the lists from the yaml's own folder.

    >>> print(data_yaml(["val", "train"], ["pants"]).decode())
    train: train.txt
    val: val.txt
    names:
      0: pants
    <BLANKLINE>
    """
    import yaml

    grouped: dict[str, list[str]] = defaultdict(list)
    for name in sorted(lists):
        grouped[yaml_key(name)].append(f"{name}.txt")
    doc: dict[str, Any] = {
        key: grouped[key][0] if len(grouped[key]) == 1 else grouped[key]
        for key in ("train", "val", "test")
        if key in grouped
    }
    doc["names"] = dict(enumerate(names))
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False, indent=2).encode()


# ---------------------------------------------------------------- formatting (pure functions)


@functools.cache
def _powers_of_ten() -> np.ndarray:
    return 10.0 ** np.arange(0, 23)


def round_significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """Values in [0, 1] rounded to ``digits`` significant digits (vectorised).

    The result's shortest decimal representation (what orjson prints) has at most ``digits``
    significant digits: it is the double nearest to ``round(v × 10^d) / 10^d``.

    >>> round_significant(np.array([0.1234564, 0.01234567, 0.0, 1.0])).tolist()
    [0.123456, 0.0123457, 0.0, 1.0]
    """
    pow10 = _powers_of_ten()
    scale = np.full(values.shape, pow10[digits])
    small = values < 0.1
    if small.any():
        with np.errstate(divide="ignore"):
            exponent = np.floor(np.log10(values[small]))
        scale[small] = pow10[np.clip(digits - 1 - exponent, digits, 22).astype(np.intp)]
    return np.rint(values * scale) / scale


_CLASS_PREFIXES: list[bytes] = []


def _class_prefix_table(count: int) -> list[bytes]:
    while len(_CLASS_PREFIXES) < count:
        _CLASS_PREFIXES.append(f"{len(_CLASS_PREFIXES)} ".encode())
    return _CLASS_PREFIXES


def format_lines(classes: np.ndarray, values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """YOLO label lines ``"cls v1 v2 …\\n"`` for many lines at once.

    ``classes`` holds one class index per line, ``values`` every line's numbers (in [0, 1]) one after
    the other, ``counts`` how many numbers each line has (≥ 1). Returns the text as a uint8 array and
    the start of each line in it, plus its end (``len(counts) + 1`` offsets), so that consecutive
    lines are one slice.

    Numbers get :data:`SIGNIFICANT_DIGITS` significant digits: ``orjson`` prints the rounded doubles
    (shortest round-trip form) in one call, then separators and class prefixes are set with numpy.

    Examples:
        >>> text, offsets = format_lines(np.array([0, 12]), np.array([0.5, 0.25, 1.0, 0.1234567]), np.array([2, 2]))
        >>> text.tobytes(), offsets.tolist()
        (b'0 0.5 0.25\\n12 1.0 0.123457\\n', [0, 11, 27])
    """
    if not len(counts):
        return np.zeros(0, np.uint8), np.zeros(1, np.int64)
    dumped = bytearray(orjson.dumps(round_significant(values), option=orjson.OPT_SERIALIZE_NUMPY))
    dumped[-1] = 10  # the closing bracket becomes the last line's newline
    body = np.frombuffer(dumped, np.uint8)[1:]
    commas = np.flatnonzero(body == 44)
    body[commas] = 32
    first_token = np.cumsum(counts) - counts
    body[commas[first_token[1:] - 1]] = 10
    line_starts = np.zeros(len(counts), np.int64)
    line_starts[1:] = commas[first_token[1:] - 1] + 1
    table = _class_prefix_table(int(classes.max()) + 1)
    prefixes = [table[c] for c in classes.tolist()]
    prefix_lengths = np.fromiter(map(len, prefixes), np.int64, len(prefixes))
    text = np.insert(body, np.repeat(line_starts, prefix_lengths), np.frombuffer(b"".join(prefixes), np.uint8))
    offsets = np.empty(len(counts) + 1, np.int64)
    offsets[:-1] = line_starts + np.cumsum(prefix_lengths) - prefix_lengths
    offsets[-1] = len(text)
    return text, offsets


def polygon_areas(points: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Shoelace area of each ring of ``counts`` points stored one after the other in ``points``.

    >>> polygon_areas(np.array([[0, 0], [2, 0], [2, 2], [0, 2], [0, 0], [1, 1], [2, 2]], float), np.array([4, 3])).tolist()
    [4.0, 0.0]
    """
    starts = np.cumsum(counts) - counts
    following = np.empty_like(points)
    following[:-1] = points[1:]
    following[starts + counts - 1] = points[starts]
    cross = points[:, 0] * following[:, 1] - following[:, 0] * points[:, 1]
    return np.abs(np.add.reduceat(cross, starts)) / 2


# ---------------------------------------------------------------- geometry of complex instances


def rle_crop(rle: Rle) -> tuple[np.ndarray, int, int]:
    """The smallest 0/1 crop holding an RLE mask's pixels, and its (x, y) origin.

    Uncompressed (column-major) counts are expanded only over the columns the mask spans.

    >>> crop, x, y = rle_crop(Rle((3, 3), [4, 2, 3]))   # pixels (1, 1) and (1, 2): column 1, rows 1-2
    >>> crop.tolist(), x, y
    ([[1], [1]], 1, 1)
    """
    height, width = rle.size
    if rle.is_compressed:
        band, first_col = raster.decode(rle, height, width), 0
    else:
        counts = np.asarray(rle.counts, dtype=np.int64)
        ends = np.cumsum(counts)
        starts = ends - counts
        filled = np.flatnonzero((np.arange(len(counts)) & 1).astype(bool) & (counts > 0))
        if not len(filled):
            return np.zeros((0, 0), np.uint8), 0, 0
        first_col, last_col = int(starts[filled[0]] // height), int((ends[filled[-1]] - 1) // height)
        low, high = first_col * height, (last_col + 1) * height
        lengths = np.clip(ends, low, high) - np.clip(starts, low, high)
        band = np.repeat((np.arange(len(counts)) & 1).astype(np.uint8), lengths).reshape(-1, height).T
    rows, cols = np.flatnonzero(band.any(axis=1)), np.flatnonzero(band.any(axis=0))
    if not len(rows):
        return np.zeros((0, 0), np.uint8), 0, 0
    crop = band[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return np.ascontiguousarray(crop), first_col + int(cols[0]), int(rows[0])


def column_outlines(rles: Sequence[Rle]) -> list[np.ndarray | None]:
    """For each RLE mask, its pixel-edge outline when the mask is uncompressed and each of its columns
    holds one run of pixels overlapping the next column's (one region without holes: boxes, ellipses);
    None for any other mask. All masks are done at once, with numpy over their runs.

    The ring runs along the tops of the columns, then back along their bottoms, without repeated
    vertices or vertices in the middle of a straight edge. Filling it in COCO's convention gives the
    mask back.

    >>> [o if o is None else o.tolist() for o in column_outlines([Rle((4, 3), [1, 2, 1, 2, 6]), Rle((2, 2), [1, 2, 1])])]
    [[[0, 1], [1, 1], [1, 0], [2, 0], [2, 2], [1, 2], [1, 3], [0, 3]], None]
    """
    outlines: list[np.ndarray | None] = [None] * len(rles)
    listed = [i for i, rle in enumerate(rles) if not rle.is_compressed]
    if not listed:
        return outlines
    lengths = np.array([len(rles[i].counts) for i in listed], dtype=np.int64)
    counts = np.fromiter(chain.from_iterable(rles[i].counts for i in listed), np.int64, int(lengths.sum()))
    run_mask = np.repeat(np.arange(len(listed)), lengths)
    first_run = np.cumsum(lengths) - lengths
    ends = np.cumsum(counts)
    ends -= np.repeat(ends[first_run] - counts[first_run], lengths)  # pixel offsets within each mask
    filled = np.flatnonzero(((np.arange(len(counts)) - first_run[run_mask]) & 1).astype(bool) & (counts > 0))
    mask = run_mask[filled]
    height = np.array([rles[i].size[0] for i in listed], dtype=np.int64)[mask]
    starts, stops = ends[filled] - counts[filled], ends[filled]
    columns = starts // height
    top, bottom = starts - columns * height, stops - columns * height
    bad = np.zeros(len(listed), dtype=bool)
    bad[mask[(stops - 1) // height != columns]] = True  # a run crosses into the next column
    same = mask[1:] == mask[:-1]
    apart = (np.diff(columns) != 1) | (top[1:] >= bottom[:-1]) | (top[:-1] >= bottom[1:])
    bad[mask[1:][same & apart]] = True  # two runs share a column, a column is empty, or neighbours do not meet
    good = ~bad[mask]
    mask, columns, top, bottom = mask[good], columns[good], top[good], bottom[good]
    if not len(mask):
        return outlines
    # The staircase of tops left to right, then of bottoms right to left. A column boundary adds two
    # vertices only where the height changes (else they would be a repeat and a vertex in the middle of
    # a straight edge); the first and last columns add the corners.
    first = np.r_[True, mask[1:] != mask[:-1]]
    last = np.r_[mask[1:] != mask[:-1], True]
    top_step = ~first & (top != np.r_[0, top[:-1]])
    bottom_step = ~first & (bottom != np.r_[0, bottom[:-1]])
    previous_top, previous_bottom = np.r_[0, top[:-1]], np.r_[0, bottom[:-1]]
    upper_x = np.stack([columns, columns, columns + 1], axis=1)
    upper_y = np.stack([previous_top, top, top], axis=1)
    upper_keep = np.stack([top_step, first | top_step, last], axis=1)
    lower_x = np.stack([columns + 1, columns, columns], axis=1)
    lower_y = np.stack([bottom, bottom, previous_bottom], axis=1)
    lower_keep = np.stack([last, first | bottom_step, bottom_step], axis=1)
    runs = np.bincount(mask, minlength=len(listed))
    run_start = np.cumsum(runs) - runs
    reverse = 2 * run_start[mask] + runs[mask] - 1 - np.arange(len(mask))  # each mask's runs, last first
    lower_x, lower_y, lower_keep = lower_x[reverse], lower_y[reverse], lower_keep[reverse]
    xs = np.concatenate([upper_x[upper_keep], lower_x[lower_keep]])
    ys = np.concatenate([upper_y[upper_keep], lower_y[lower_keep]])
    owner = np.concatenate([np.repeat(mask, upper_keep.sum(axis=1)), np.repeat(mask, lower_keep.sum(axis=1))])
    order = np.argsort(owner, kind="stable")
    ring = np.stack([xs[order], ys[order]], axis=1)
    sizes = np.bincount(owner, minlength=len(listed))
    for index, part in zip(listed, np.split(ring, np.cumsum(sizes)[:-1])):
        if len(part):
            outlines[index] = part
    return outlines


def traced_rings(rle: Rle, *, split: bool) -> list[np.ndarray]:
    """The lines of an RLE mask traced on its pixel edges, holes joined by zero-width cuts; one line
    for the whole mask, or one per region with ``split``."""
    crop, x0, y0 = rle_crop(rle)
    if not crop.size:
        return []
    components = tracing.trace_components(crop, origin=(x0, y0))
    groups = [[c] for c in components] if split else [components]
    return join_many([[ring for c in group for ring in (c.outer, *c.holes) if len(ring) >= 3] for group in groups])


def complex_lines(items: Sequence[tuple[str, Any]], *, split: bool) -> list[list[np.ndarray]]:
    """The lines of each multi-part polygon (``("rings", rings)``) or RLE mask (``("rle", rle)``):
    parts merged by :func:`~fashiondata.batch_geometry.bridge_many` (all of a batch at once), or one
    line per part with ``split``; masks outlined from their runs (:func:`column_outlines`, all at
    once) or else traced (:func:`traced_rings`)."""
    lines: list[list[np.ndarray]] = [[] for _ in items]
    merging: list[int] = []
    masks = [i for i, (kind, _) in enumerate(items) if kind == "rle"]
    for index, outline in zip(masks, column_outlines([items[i][1] for i in masks])):
        rle = items[index][1]
        lines[index] = [outline.astype(np.float64).ravel()] if outline is not None else traced_rings(rle, split=split)
    for index, (kind, payload) in enumerate(items):
        if kind == "rle":
            continue
        if split:
            lines[index] = [np.asarray(ring, dtype=np.float64) for ring in payload]
        else:
            merging.append(index)
    if merging:
        merged = bridge_many([[geometry.ring_points(ring) for ring in items[i][1]] for i in merging])
        for index, ring in zip(merging, merged):
            lines[index] = [ring]
    return lines


# ---------------------------------------------------------------- batches (driver → workers)


@dataclasses.dataclass
class LabelBatch:
    """The labels of a run of images as plain arrays (cheap to send to a worker).

    Line ``k`` belongs to image ``line_image[k]`` with class ``line_class[k]``. When ``line_points[k]``
    is positive, its points are the next that many pairs of ``coords``; when it is ``-n``, it is a
    polygon in ``n`` parts whose rings are the next ``n`` runs of pairs of ``coords``, of the next ``n``
    sizes in ``part_points``; when it is 0, it is the next entry of ``complex`` (an RLE mask, or a
    multi-part polygon with a ring of an odd count of numbers). The worker turns parts and masks into
    lines. With ``boxes`` each line is two corner points (x1, y1), (x2, y2).
    """

    number: int
    label_paths: list[str]
    image_links: list[tuple[str, str] | None]
    sizes: np.ndarray
    expect_lines: np.ndarray
    line_image: np.ndarray
    line_class: np.ndarray
    line_points: np.ndarray
    coords: np.ndarray
    part_points: np.ndarray
    complex: list[tuple[str, Any]]


def _starts_and_complex_items(batch: LabelBatch) -> tuple[np.ndarray, list[tuple[str, Any]]]:
    """Where each line's points start in ``coords`` (a polygon in parts: its rings one after the
    other), and the polygons in parts and ``complex`` entries in line order, rings as flat views."""
    counts, ring_sizes = batch.line_points, batch.part_points
    multi = np.flatnonzero(counts < 0)
    rings_of = -counts[multi]
    first_ring = np.cumsum(rings_of) - rings_of
    spans = np.maximum(counts, 0)
    if len(multi):
        spans[multi] = np.add.reduceat(ring_sizes, first_ring)
    starts = np.cumsum(spans) - spans
    ring_offsets = np.cumsum(ring_sizes) - ring_sizes
    ring_starts = np.repeat(starts[multi], rings_of) + ring_offsets - np.repeat(ring_offsets[first_ring], rings_of)
    bounds = zip((2 * ring_starts).tolist(), (2 * (ring_starts + ring_sizes)).tolist())
    rings = [batch.coords[a:b] for a, b in bounds]
    others = iter(batch.complex)
    items: list[tuple[str, Any]] = []
    taken = 0
    for count in counts[counts <= 0].tolist():
        if count:  # the next -count rings
            items.append(("rings", rings[taken : taken - count]))
            taken -= count
        else:
            items.append(next(others))
    return starts, items


@dataclasses.dataclass
class BatchResult:
    """What a worker did with a batch: counts, and the images it left out with the reason."""

    number: int
    written: Counter[str] = dataclasses.field(default_factory=Counter)
    lossy: Counter[str] = dataclasses.field(default_factory=Counter)
    skipped: Counter[str] = dataclasses.field(default_factory=Counter)
    left_out: dict[int, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class WriteLabelBatch:
    """Worker step: make the lines of a batch, then write its label files and place its images."""

    root: str
    boxes: bool
    split_parts: bool
    link_mode: str
    on_error: str

    def __call__(self, batch: LabelBatch) -> BatchResult:
        result = BatchResult(batch.number)
        image, classes, counts, points = self._lines(batch, result)
        if len(counts):
            image, classes, counts, values = self._normalised(batch, image, classes, counts, points, result)
            text, offsets = format_lines(classes, values.ravel(), counts)
        else:
            text, offsets = np.zeros(0, np.uint8), np.zeros(1, np.int64)
        self._write_files(batch, image, text, offsets, result)
        return result

    def _normalised(
        self,
        batch: LabelBatch,
        image: np.ndarray,
        classes: np.ndarray,
        counts: np.ndarray,
        points: np.ndarray,
        result: BatchResult,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Normalise, clip (counted), drop degenerate lines (counted); returns the lines' image,
        class, value count and values (points, or cx cy w h rows)."""
        points /= np.repeat(batch.sizes[image], counts, axis=0)
        numbers = points.ravel()
        outside = np.flatnonzero((numbers < 0) | (numbers > 1))  # few: find their lines by position
        if len(outside):
            line_ends = 2 * np.cumsum(counts)
            result.lossy[LOST_CLIPPED] += len(np.unique(np.searchsorted(line_ends, outside, side="right")))
            np.clip(points, 0.0, 1.0, out=points)
        if self.boxes:
            corners = points.reshape(-1, 4)
            size = corners[:, 2:] - corners[:, :2]
            values = np.concatenate([corners[:, :2] + size / 2, size], axis=1)
            keep = (size[:, 0] > 0) & (size[:, 1] > 0)
            kept_values = values[keep]
            value_counts = np.full(int(np.count_nonzero(keep)), 4)
        else:
            keep = counts >= 3
            if keep.all():  # the usual case: no copy of the points
                keep = polygon_areas(points, counts) > 1e-12
            else:
                keep[keep] = polygon_areas(points[np.repeat(keep, counts)], counts[keep]) > 1e-12
            kept_values = points[np.repeat(keep, counts)] if not keep.all() else points
            value_counts = 2 * counts[keep]
        if not keep.all():
            result.skipped[SKIP_DEGENERATE] += int(np.count_nonzero(~keep))
        return image[keep], classes[keep], value_counts, kept_values

    def _lines(self, batch: LabelBatch, result: BatchResult) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per line: image, class and point count; and all points as an (N, 2) array."""
        counts = batch.line_points
        points = batch.coords.reshape(-1, 2)
        if not len(counts) or counts.min() > 0:
            return batch.line_image, batch.line_class, counts, points
        starts, items = _starts_and_complex_items(batch)
        made_lines = [
            [line for line in made if len(line) >= 2] for made in complex_lines(items, split=self.split_parts)
        ]
        made_count = np.array([len(made) for made in made_lines], dtype=np.int64)
        if not made_count.all():
            result.skipped[SKIP_DEGENERATE] += int(np.count_nonzero(made_count == 0))
        made = [line[: len(line) // 2 * 2] for lines in made_lines for line in lines]
        made_sizes = np.array([len(line) // 2 for line in made], dtype=np.int64)
        complex_at = np.flatnonzero(counts <= 0)
        simple = np.flatnonzero(counts > 0)
        # simple lines and made lines, ordered by the line they stand for (made lines in their order)
        owner = np.concatenate([simple, np.repeat(complex_at, made_count)])
        order = np.argsort(owner, kind="stable")
        line_sizes = np.concatenate([counts[simple], made_sizes])[order]
        block_starts = np.concatenate([starts[simple], len(points) + np.cumsum(made_sizes) - made_sizes])[order]
        gather = np.repeat(block_starts - (np.cumsum(line_sizes) - line_sizes), line_sizes) + np.arange(
            int(line_sizes.sum())
        )
        all_points = np.concatenate([points, *(line.reshape(-1, 2) for line in made)]) if made else points
        owner = owner[order]
        return batch.line_image[owner], batch.line_class[owner], line_sizes, all_points[gather]

    def _write_files(
        self, batch: LabelBatch, image: np.ndarray, text: np.ndarray, offsets: np.ndarray, result: BatchResult
    ) -> None:
        first = np.searchsorted(image, np.arange(len(batch.label_paths) + 1))
        data = memoryview(text)
        bounds = offsets.tolist()
        labels = os.path.join(self.root, "labels")
        folders: set[str] = set()
        for index, label in enumerate(batch.label_paths):
            lo, hi = int(first[index]), int(first[index + 1])
            if batch.expect_lines[index] and lo == hi:
                result.left_out[index] = SKIP_ALL_DEGENERATE
                continue
            try:
                self._place_image(batch.image_links[index], folders)
            except (FashionDataError, OSError) as error:
                if self.on_error == "raise":
                    raise
                result.left_out[index] = getattr(error, "strerror", None) or str(error)
                continue
            target = os.path.join(labels, label)
            folder = os.path.dirname(target)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # never appends
            try:
                os.write(handle, data[bounds[lo] : bounds[hi]])
            finally:
                os.close(handle)
            result.written["images"] += 1
            result.written["instances"] += hi - lo
            if lo == hi:
                result.written["negatives (empty label files)"] += 1

    def _place_image(self, link: tuple[str, str] | None, folders: set[str]) -> None:
        if link is None or self.link_mode == "none":
            return
        source, relative = link
        target = os.path.join(self.root, "images", relative)
        folder = os.path.dirname(target)
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        if self.link_mode == "symlink":
            os.symlink(source, target)
        elif self.link_mode == "hardlink":
            os.link(source, target)
        else:
            shutil.copyfile(source, target)


# ---------------------------------------------------------------- driver


class _BatchBuilder:
    """Turns records into :class:`LabelBatch` objects: the only per-annotation Python loop, kept to
    collecting references (the numbers are copied once, by ``np.fromiter``)."""

    def __init__(
        self,
        dataset: Dataset,
        ctx: RunContext,
        *,
        boxes: bool,
        split_parts: bool,
        images: str | None,
        link_mode: str,
        negatives: str | None,
    ) -> None:
        self.ctx = ctx
        self.boxes = boxes
        self.split_parts = split_parts
        self.images = Path(images).resolve() if images else None
        self.link_mode = link_mode if images else "none"
        self.negatives = negatives
        self.index_of = {c.id: i for i, c in enumerate(dataset.categories)}
        self.selected = frozenset(self.index_of)
        self.default_list = image_list_name(dataset.sources[0]) if len(dataset.sources) == 1 else "train"
        self.label_paths: set[str] = set()
        self.pending: dict[int, list[tuple[ImageRecord, str]]] = {}
        self.list_names: dict[str, str] = {}

    def list_name(self, record: ImageRecord) -> str:
        """The image list a record goes to: its source file's, else its split's."""
        if record.source:
            name = self.list_names.get(record.source)
            if name is None:
                name = self.list_names[record.source] = image_list_name(record.source)
            return name
        return record.split or self.default_list

    def iter_batches(self, records: Iterable[ImageRecord]) -> Iterator[LabelBatch]:
        chunk: list[tuple[ImageRecord, str, str]] = []
        for record in records:
            entry = self._admit(record)
            if entry is not None:
                chunk.append(entry)
            if len(chunk) >= BATCH_IMAGES:
                yield self._batch(chunk)
                chunk = []
        if chunk:
            yield self._batch(chunk)

    def _admit(self, record: ImageRecord) -> tuple[ImageRecord, str, str] | None:
        """An image's (record, image path, label path), or None when it is left out (counted)."""
        if not record.annotations:
            policy = negative_policy(record, self.negatives)
            if policy == "none":
                self.ctx.report.skip(SKIP_NEGATIVE_NONE)
                return None
            if policy == "verified" and not is_verified_negative(record, self.selected):
                self.ctx.report.skip(SKIP_UNKNOWN)
                return None
        try:
            image_path = relative_image_path(record)
            label = label_relative_path(image_path)
            if label in self.label_paths:
                raise ValidationError(f"two images would write labels/{label}")
        except ValidationError as error:
            self.ctx.fail(error, record.file_name)
            return None
        self.label_paths.add(label)
        return record, image_path, label

    def _image_link(self, record: ImageRecord, image_path: str) -> tuple[str, str] | None:
        if self.images is None or self.link_mode == "none":
            return None
        candidates = [self.images / safe_relative_path(record.file_name), self.images / image_path]
        source = next((c for c in candidates if c.is_file()), None)
        if source is None:
            raise FileNotFoundError(2, "image not found under --images", str(candidates[0]))
        return str(source), image_path

    def _batch(self, chunk: list[tuple[ImageRecord, str, str]]) -> LabelBatch:
        report = self.ctx.report
        boxes, index_of = self.boxes, self.index_of
        label_paths: list[str] = []
        links: list[tuple[str, str] | None] = []
        sizes: list[tuple[int, int]] = []
        expect: list[bool] = []
        kept: list[tuple[ImageRecord, str]] = []
        line_image: list[int] = []
        line_class: list[int] = []
        line_points: list[int] = []
        flat: list[Sequence[float]] = []
        part_points: list[int] = []
        complex_items: list[tuple[str, Any]] = []
        for record, image_path, label in chunk:
            try:
                link = self._image_link(record, image_path)
            except OSError as error:
                self.ctx.fail(error, record.file_name)
                continue
            number = len(label_paths)
            label_paths.append(label)
            links.append(link)
            sizes.append((record.width, record.height))
            expect.append(bool(record.annotations))
            kept.append((record, image_path))
            lines_before = len(line_points)
            for ann in record.annotations:
                seg = ann.segmentation
                if ann.keypoints is not None:
                    report.lose(LOST_KEYPOINTS)
                if not boxes and type(seg) is Polygons and len(rings := seg.rings) == 1:  # the common case
                    ring = rings[0]
                    points = len(ring) >> 1
                    flat.append(ring if not len(ring) & 1 else ring[:-1])  # a point needs two numbers
                    line_points.append(points)
                elif not self._add_other(ann, record, flat, line_points, part_points, complex_items):
                    continue
                line_class.append(index_of[ann.category_id])
            line_image.extend([number] * (len(line_points) - lines_before))
        number = len(self.pending)
        while number in self.pending:
            number += 1
        self.pending[number] = kept
        total = 2 * (sum(n for n in line_points if n > 0) + sum(part_points))
        return LabelBatch(
            number=number,
            label_paths=label_paths,
            image_links=links,
            sizes=np.array(sizes, dtype=np.float64).reshape(-1, 2),
            expect_lines=np.array(expect, dtype=bool),
            line_image=np.array(line_image, dtype=np.int64),
            line_class=np.array(line_class, dtype=np.int64),
            line_points=np.array(line_points, dtype=np.int64),
            coords=np.fromiter(chain.from_iterable(flat), np.float64, total),
            part_points=np.array(part_points, dtype=np.int64),
            complex=complex_items,
        )

    def _add_other(
        self,
        ann: Annotation,
        record: ImageRecord,
        flat: list[Sequence[float]],
        line_points: list[int],
        part_points: list[int],
        complex_items: list[tuple[str, Any]],
    ) -> bool:
        """Add the line of an annotation that :meth:`_batch` does not take inline (a box with ``boxes``,
        a multi-part polygon, an RLE mask or a box only); False when it has no geometry (counted)."""
        report, seg = self.ctx.report, ann.segmentation
        if self.boxes:
            box = ann.bbox or _segmentation_box(seg, record)
            if box is None:
                report.skip(SKIP_NO_GEOMETRY)
                return False
            flat.append((box.x, box.y, box.x + box.w, box.y + box.h))
            line_points.append(2)
        elif type(seg) is Polygons:
            if any(len(ring) & 1 for ring in seg.rings):  # the worker reports the ring as invalid
                complex_items.append(("rings", seg.rings))
                line_points.append(0)
            else:
                flat.extend(seg.rings)
                part_points.extend([len(ring) >> 1 for ring in seg.rings])
                line_points.append(-len(seg.rings))
            report.lose(LOST_SPLIT if self.split_parts else LOST_MERGED)
        elif type(seg) is Rle:
            complex_items.append(("rle", seg))
            line_points.append(0)
            report.lose(LOST_RLE)
        elif ann.bbox is not None:
            x, y, w, h = ann.bbox
            flat.append((x, y, x + w, y, x + w, y + h, x, y + h))
            line_points.append(4)
            report.lose(LOST_BOX_AS_POLYGON)
        else:
            report.skip(SKIP_NO_GEOMETRY)
            return False
        return True

    def finish(self, result: BatchResult, lists: dict[str, list[str]]) -> None:
        """Take a worker's result: counts into the report, written images into their lists."""
        report = self.ctx.report
        report.written.update(result.written)
        report.lossy.update(result.lossy)
        report.skipped.update(result.skipped)
        for index, (record, image_path) in enumerate(self.pending.pop(result.number)):
            reason = result.left_out.get(index)
            if reason is None:
                lists[self.list_name(record)].append(image_path)
            else:
                report.skip(reason, item=record.file_name)


def _segmentation_box(seg: Polygons | Rle | None, record: ImageRecord) -> BBox | None:
    if seg is None:
        return None
    return raster.mask_bbox(seg, record.height, record.width)


def write(
    dataset: Dataset,
    destination: str,
    ctx: RunContext,
    *,
    images: str | None = None,
    boxes: bool = False,
    link_mode: str = "symlink",
    multipart: str = "merge",
    negatives: str | None = None,
) -> None:
    """Write ``dataset`` as a YOLO dataset folder (the layout and rules are in the module docstring)."""
    for name, value, allowed in (
        ("link_mode", link_mode, LINK_MODES),
        ("multipart", multipart, MULTIPART_MODES),
        ("negatives", negatives or "all", NEGATIVE_POLICIES),
    ):
        if value not in allowed:
            raise ValidationError(f"--{name.replace('_', '-')} {value!r}: use one of {', '.join(allowed)}")
    if link_mode != "none" and not images:
        ctx.report.note("no --images given: labels and image lists only (images/ is not filled)")
    builder = _BatchBuilder(
        dataset,
        ctx,
        boxes=boxes,
        split_parts=multipart == "split",
        images=images,
        link_mode=link_mode,
        negatives=negatives,
    )
    lossy_before = sum(ctx.report.lossy.values())
    lists: dict[str, list[str]] = defaultdict(list)
    # no reference cycles are made here: pausing the collector spares walks over the whole dataset
    with gc_paused(), staged_dir(destination, overwrite=ctx.overwrite) as root:
        step = WriteLabelBatch(str(root.resolve()), boxes, multipart == "split", builder.link_mode, ctx.on_error)
        results = ctx.map_items(
            step,
            builder.iter_batches(dataset.records),
            desc="write yolo",
            chunksize=1,
            name_of=lambda batch: f"{len(batch.label_paths)} label files from labels/{batch.label_paths[0]}",
        )
        for result in results:
            builder.finish(result, lists)
        for name, entries in sorted(lists.items()):
            (root / f"{name}.txt").write_bytes("".join(f"./images/{e}\n" for e in sorted(entries)).encode())
        (root / "data.yaml").write_bytes(data_yaml(list(lists), [c.name for c in dataset.categories]))
        if lists and not any(yaml_key(name) == "val" for name in lists):
            ctx.report.note("data.yaml has no val list (no val source): add one before training")
        if ctx.strict and sum(ctx.report.lossy.values()) > lossy_before:
            raise LossyConversionError(
                "YOLO cannot hold everything as read (--strict): "
                + "; ".join(f"{n} × {r}" for r, n in sorted(ctx.report.lossy.items()))
            )
    ctx.report.outputs.append(str(destination))
