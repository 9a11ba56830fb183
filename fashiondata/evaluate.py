"""Score instance predictions against a dataset: COCO box and mask AP through pycocotools' COCOeval.

The instance tasks (``bbox``, ``segm``) are scored by pycocotools' ``COCOeval``, the reference
implementation of COCO's detection metrics (https://cocodataset.org/#detection-eval,
https://github.com/cocodataset/cocoapi/blob/master/PythonAPI/pycocotools/cocoeval.py): the ground truth
(any readable format) is turned into a COCO document in memory by :mod:`fashiondata.formats.coco`, the
predictions into COCO results, and the 12 standard numbers (AP, AP50, AP75, APs/m/l, AR1/10/100,
ARs/m/l) and the per-category AP are COCOeval's own. Predictions may be:

* a COCO results JSON (https://cocodataset.org/#format-results): a list of ``{"image_id",
  "category_id", "bbox": [x, y, w, h] | "segmentation": RLE or polygons, "score"}``. Detectron2's
  ``COCOEvaluator`` writes ``coco_instances_results.json`` like this (category ids mapped back to the
  dataset's), and so does the TF Object Detection API's ``coco_tools.ExportDetectionsToCOCO`` (whose
  image ids may be strings: file names or stems);
* an Ultralytics prediction folder (``yolo predict save_txt=True save_conf=True``), one text file per
  image named by its stem, a line per instance: ``cls cx cy w h conf`` (detect) or
  ``cls x1 y1 … xn yn conf`` (segment), coordinates normalised by the image size, ``cls`` the 0-based
  index into the GT's category table (the order fashiondata's YOLO writer uses)::

      runs/segment/predict/labels/
        000001.txt       0 0.512 0.433 0.301 0.62 0.93
        000002.txt       3 0.1 0.2 0.3 0.2 0.35 0.6 0.88

Prediction images are matched to GT images by id, file name or stem, whichever matches most (the
summary says which); sizes for normalised predictions come from the GT. LVIS's federated evaluation
(negative and not-exhaustive categories) is not implemented: an LVIS GT is scored with plain COCO rules
and the report says so.

The semantic task (index masks, mIoU) is :mod:`fashiondata.evaluate_semantic`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.model import BBox, CategoryTable, Polygons, Rle

InstanceTask = Literal["bbox", "segm"]
ImageKey = int | str

#: COCOeval's ``stats`` in order, named as Detectron2 names them.
STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
MATCH_MODES = ("id", "file name", "stem", "stem number")
LVIS_NOTE = (
    "the GT is LVIS: LVIS's federated evaluation (negative and not-exhaustive categories) is out of "
    "scope; scored with standard COCO rules, so detections of unlabelled categories count as false "
    "positives and the numbers are not LVIS AP"
)


# ---------------------------------------------------------------- predictions (pure parsing)


@dataclasses.dataclass(frozen=True)
class Prediction:
    """One predicted instance, keyed by the image it names (an id, a file name or a stem).

    ``category`` is a GT category id (COCO results) or a 0-based index into the GT table (YOLO);
    ``normalized`` coordinates (YOLO) are scaled to pixels once the image is known.
    """

    image_key: ImageKey
    category: int
    score: float
    bbox: BBox | None = None
    segmentation: Polygons | Rle | None = None
    normalized: bool = False
    path: str = ""
    location: str = ""


def parse_coco_result(obj: Any, path: object, pointer: str) -> Prediction:
    """One entry of a COCO results list (Detectron2, TF OD API export)."""
    if not isinstance(obj, dict):
        raise ParseError(path, "a result must be an object", pointer)
    image_id = obj.get("image_id")
    if not isinstance(image_id, (int, str)) or isinstance(image_id, bool) or image_id == "":
        raise ParseError(path, f"image_id must be an integer or a name, got {image_id!r}", f"{pointer}/image_id")
    if "score" not in obj:
        raise ParseError(path, "a result needs a score", pointer)
    from fashiondata.formats.coco import parse_annotation  # see _coco_document

    annotation = parse_annotation(obj, path, pointer)
    if annotation.bbox is None and annotation.segmentation is None:
        raise ParseError(path, "a result needs a bbox or a segmentation", pointer)
    return Prediction(
        image_key=image_id,
        category=annotation.category_id,
        score=float(annotation.score),  # type: ignore[arg-type]
        bbox=annotation.bbox,
        segmentation=annotation.segmentation,
        path=str(path),
        location=pointer,
    )


def parse_coco_results(doc: Any, path: object, ctx: RunContext | None = None) -> list[Prediction]:
    """A COCO results document: a list of results (or a COCO file whose ``annotations`` have scores).

    A malformed entry raises, or is counted as skipped under ``ctx.on_error == "skip"``.
    """
    ctx = ctx or RunContext()
    entries, prefix = doc, ""
    if isinstance(doc, dict) and isinstance(doc.get("annotations"), list):
        entries, prefix = doc["annotations"], "/annotations"
    if not isinstance(entries, list):
        raise ParseError(path, "COCO results must be a list of {image_id, category_id, bbox|segmentation, score}", "/")
    predictions = []
    for index, obj in enumerate(entries):
        try:
            predictions.append(parse_coco_result(obj, path, f"{prefix}/{index}"))
        except ParseError as error:
            ctx.fail(error, f"{path}: {prefix}/{index}")
    return predictions


def parse_yolo_prediction_line(text: str, stem: str, path: object, location: str) -> Prediction:
    """One Ultralytics prediction line: ``cls cx cy w h conf`` or ``cls x1 y1 … xn yn conf``.

    >>> p = parse_yolo_prediction_line("2 0.5 0.5 0.2 0.4 0.9", "a", "a.txt", "line 1")
    >>> p.category, p.score, p.bbox
    (2, 0.9, BBox(x=0.4, y=0.3, w=0.2, h=0.4))
    """
    tokens = text.split()
    try:
        values = [float(v) for v in tokens[1:]]
        category = int(tokens[0])
    except ValueError as error:
        raise ParseError(path, f"not a number: {error}", location) from None
    if not all(math.isfinite(v) for v in values):
        raise ParseError(path, "coordinates and confidence must be finite numbers", location)
    if len(tokens) in (5,) or (len(tokens) >= 7 and len(tokens) % 2 == 1):
        raise ParseError(path, "no confidence at the end of the line: predict with save_conf=True", location)
    if len(tokens) == 6:
        cx, cy, w, h, score = values
        if w < 0 or h < 0:
            raise ParseError(path, "box width and height must not be negative", location)
        return Prediction(
            stem,
            category,
            score,
            bbox=BBox(cx - w / 2, cy - h / 2, w, h),
            normalized=True,
            path=str(path),
            location=location,
        )
    if len(tokens) >= 8:
        ring, score = values[:-1], values[-1]
        segmentation = Polygons((ring,))
        return Prediction(
            stem,
            category,
            score,
            bbox=segmentation.bbox(),
            segmentation=segmentation,
            normalized=True,
            path=str(path),
            location=location,
        )
    raise ParseError(path, f"{len(tokens)} values: expected 'cls cx cy w h conf' or 'cls x1 y1 … conf'", location)


def parse_yolo_prediction_file(text: str, stem: str, path: object, ctx: RunContext | None = None) -> list[Prediction]:
    """Every line of one Ultralytics prediction file (blank lines allowed); a bad line raises, or is
    counted as skipped under ``ctx.on_error == "skip"``."""
    ctx = ctx or RunContext()
    predictions = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            predictions.append(parse_yolo_prediction_line(line, stem, path, f"line {number}"))
        except ParseError as error:
            ctx.fail(error, f"{path}: line {number}")
    return predictions


def scaled(prediction: Prediction, width: int, height: int) -> Prediction:
    """A normalised prediction in absolute pixels of a ``width`` × ``height`` image."""
    if not prediction.normalized:
        return prediction
    bbox = prediction.bbox
    if bbox is not None:
        bbox = BBox(bbox.x * width, bbox.y * height, bbox.w * width, bbox.h * height)
    segmentation = prediction.segmentation
    if isinstance(segmentation, Polygons):
        segmentation = Polygons(
            tuple([v * (width if i % 2 == 0 else height) for i, v in enumerate(ring)] for ring in segmentation.rings)
        )
    return dataclasses.replace(prediction, bbox=bbox, segmentation=segmentation, normalized=False)


def read_predictions(path: str | os.PathLike[str], ctx: RunContext) -> tuple[list[Prediction], str]:
    """Predictions from a COCO results JSON or an Ultralytics ``labels/`` folder; returns the kind too."""
    location = Path(path)
    if location.is_dir():
        return read_yolo_predictions(location, ctx), "ultralytics txt"
    from fashiondata.formats.coco import load_json  # see _coco_document

    return parse_coco_results(load_json(location), location, ctx), "coco results"


def read_yolo_predictions(folder: Path, ctx: RunContext) -> list[Prediction]:
    """Every ``*.txt`` under ``folder`` (Ultralytics' ``labels/`` or the run folder holding it)."""
    files = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    if not files:
        raise ValidationError(f"{folder}: no Ultralytics prediction files (*.txt); for index masks use --task semantic")
    seen: dict[str, Path] = {}
    predictions: list[Prediction] = []
    for file in files:
        if file.stem in seen:
            raise ValidationError(f"{file}: stem {file.stem!r} also names {seen[file.stem]}: predictions pair by stem")
        seen[file.stem] = file
        try:
            text = file.read_bytes().decode("utf-8")
        except UnicodeDecodeError as error:
            raise ParseError(file, f"not UTF-8 text (byte {error.start})") from None
        predictions.extend(parse_yolo_prediction_file(text, file.stem, file, ctx))
    return predictions


# ---------------------------------------------------------------- matching predictions to GT images


def stem_of(name: str) -> str:
    """``images/val/000001.jpg`` → ``000001``.

    >>> stem_of("images/val/000001.jpg"), stem_of("a.b.png"), stem_of("c")
    ('000001', 'a.b', 'c')
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def image_keys(images: Sequence[Mapping[str, Any]], mode: str) -> dict[ImageKey, int | None]:
    """GT image id by key under a matching mode; a key two images share maps to None (ambiguous).

    ``stem number`` keys an image ``000123.jpg`` by the integer 123 (DeepFashion2's and many
    exporters' image ids), for a GT whose own ids are not those numbers.
    """
    keys: dict[ImageKey, int | None] = {}
    for image in images:
        stem = stem_of(image["file_name"])
        if mode == "id":
            key: ImageKey = image["id"]
        elif mode == "file name":
            key = image["file_name"]
        elif mode == "stem":
            key = stem
        elif stem.isdigit():
            key = int(stem)
        else:
            continue
        keys[key] = None if key in keys else image["id"]
    return keys


def match_images(
    keys: Iterable[ImageKey], images: Sequence[Mapping[str, Any]], *, modes: Sequence[str] = MATCH_MODES
) -> tuple[str, dict[ImageKey, int | None]]:
    """Pick the matching mode that finds the most prediction keys among the GT images.

    Returns the mode and the map key → GT image id (None: the key names no single GT image). Ties go
    to the earlier mode (id, file name, stem, stem number).
    """
    distinct = set(keys)
    best: tuple[int, str, dict[ImageKey, int | None]] | None = None
    for mode in modes:
        table = image_keys(images, mode)
        lookup = {key: table.get(_normal_key(key, mode)) for key in distinct}
        found = sum(1 for v in lookup.values() if v is not None)
        if best is None or found > best[0]:
            best = (found, mode, lookup)
    assert best is not None
    return best[1], best[2]


def _normal_key(key: ImageKey, mode: str) -> ImageKey:
    if mode in ("id", "stem number"):
        return key if isinstance(key, int) else ""
    if mode == "stem" and isinstance(key, str):
        return stem_of(key)
    return key if isinstance(key, str) else ""


# ---------------------------------------------------------------- instance evaluation


@dataclasses.dataclass(frozen=True)
class InstanceResult:
    """COCOeval's numbers for one task, plus what the HTML report draws.

    ``metrics`` and per-category values are fractions in [0, 1] (None where COCOeval has -1: no GT
    of that kind). ``precision`` is COCOeval's precision[T, R, K] at all areas and 100 detections.
    """

    task: str
    matched_by: str
    metrics: dict[str, float | None]
    per_category: list[dict[str, Any]]
    precision: np.ndarray
    iou_thresholds: np.ndarray
    recall_thresholds: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "matched_by": self.matched_by,
            "metrics": self.metrics,
            "per_category": self.per_category,
        }


def coco_gt_document(dataset: Dataset, *, task: InstanceTask) -> tuple[dict[str, Any], CategoryTable]:
    """The GT as a COCO dict for COCOeval, categories renumbered 1..K in table order.

    Renumbering lets any GT (YOLO's 0-based classes too) be scored; the returned table is the GT's,
    with its own ids, in the same order. For ``segm`` every GT mask is turned into compressed RLE here
    (as COCOeval would), so degenerate polygons cannot crash it.
    """
    table = dataset.categories
    renumbered, id_map = table.renumbered(1)
    records = [
        record.replace(annotations=tuple(a.replace(category_id=id_map[a.category_id]) for a in record.annotations))
        for record in dataset.records
    ]
    doc = _coco_document(dataset.replace(categories=renumbered, records=tuple(records)))
    if task == "segm":
        sizes = {image["id"]: (image["height"], image["width"]) for image in doc["images"]}
        missing = 0
        for ann in doc["annotations"]:
            segmentation = ann.get("segmentation")
            if not segmentation:
                missing += 1
                continue
            height, width = sizes[ann["image_id"]]
            ann["segmentation"] = raster.to_coco_rle(_model_segmentation(segmentation), height, width)
        if missing:
            raise ValidationError(f"--task segm needs masks: {missing} GT instances have only a box (use --task bbox)")
    return doc, table


def _coco_document(dataset: Dataset) -> dict[str, Any]:
    # formats are imported when used, not when fashiondata.api imports this module: importing the
    # formats package registers every format, and a format may import the api itself
    from fashiondata.formats.coco import iter_document_parts

    # its notes (ids assigned to an id-less GT) describe this in-memory copy, not the user's files
    return dict(iter_document_parts(dataset, RunContext()))


def _model_segmentation(value: Any) -> Polygons | Rle:
    if isinstance(value, dict):
        return Rle(size=tuple(value["size"]), counts=value["counts"])  # type: ignore[arg-type]
    return Polygons(tuple(value))


def coco_results(
    predictions: Iterable[Prediction],
    doc: Mapping[str, Any],
    table: CategoryTable,
    ctx: RunContext,
    *,
    task: InstanceTask,
    by_index: bool,
    matched: Mapping[ImageKey, int | None],
) -> list[dict[str, Any]]:
    """Predictions as COCO results on the GT's images and renumbered categories, in input order.

    A prediction whose image or category is not in the GT is counted as skipped with its reason.
    """
    sizes = {image["id"]: (image["width"], image["height"]) for image in doc["images"]}
    if by_index:
        category_of = {index: index + 1 for index in range(len(table))}
    else:
        category_of = {category.id: index + 1 for index, category in enumerate(table)}
    results: list[dict[str, Any]] = []
    for prediction in predictions:
        image_id = matched.get(prediction.image_key)
        if image_id is None:
            ctx.report.skip("prediction names no GT image (or several)", item=str(prediction.image_key))
            continue
        category_id = category_of.get(prediction.category)
        if category_id is None:
            what = "class index" if by_index else "category id"
            ctx.report.skip(
                f"prediction {what} not in the GT categories", item=f"{prediction.image_key}: {prediction.category}"
            )
            continue
        width, height = sizes[image_id]
        prediction = scaled(prediction, width, height)
        result = _result(prediction, image_id, category_id, width, height, task)
        if isinstance(result, str):
            ctx.fail(
                ParseError(prediction.path, result, prediction.location), f"{prediction.path}: {prediction.location}"
            )
            continue
        results.append(result)
    return results


def _result(
    prediction: Prediction, image_id: int, category_id: int, width: int, height: int, task: InstanceTask
) -> dict[str, Any] | str:
    """One COCO result dict, or why the prediction cannot be scored for this task."""
    out: dict[str, Any] = {"image_id": image_id, "category_id": category_id, "score": prediction.score}
    segmentation = prediction.segmentation
    if task == "bbox":
        bbox = prediction.bbox or raster.mask_bbox(segmentation, height, width)  # type: ignore[arg-type]
        out["bbox"] = list(bbox)
        return out
    if segmentation is None:
        return "a box-only prediction cannot be scored for segm"
    if isinstance(segmentation, Rle) and tuple(segmentation.size) != (height, width):
        return f"mask size {list(segmentation.size)} is not the GT image's [{height}, {width}]"
    out["segmentation"] = raster.to_coco_rle(segmentation, height, width)
    return out


def complete_results(results: list[dict[str, Any]], *, task: InstanceTask) -> None:
    """Add the fields ``COCO.loadRes`` adds to results (ids from 1 in input order, area, box or
    box polygon, iscrowd 0), in place: the same objects COCOeval would score."""
    for index, result in enumerate(results, 1):
        result["id"] = index
        result["iscrowd"] = 0
        if task == "bbox":
            x, y, w, h = result["bbox"]
            result["segmentation"] = [[x, y, x, y + h, x + w, y + h, x + w, y]]
            result["area"] = w * h
        else:
            result["area"] = mask_utils.area(result["segmentation"])
            result["bbox"] = mask_utils.toBbox(result["segmentation"])


#: The keys of COCOeval's per-image results that ``accumulate()`` reads.
ACCUMULATED_KEYS = ("dtScores", "dtMatches", "dtIgnore", "gtIgnore")
#: (images, GT annotations, results, categories) of a run of consecutive images.
ImageChunk = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


def iter_image_chunks(
    doc: Mapping[str, Any], results: Sequence[dict[str, Any]], categories: list[dict[str, Any]], size: int
) -> Iterator[ImageChunk]:
    """The GT and the results cut into runs of ``size`` images in id order (COCOeval's order)."""
    images = sorted(doc["images"], key=lambda image: image["id"])
    annotations: dict[int, list[dict[str, Any]]] = {}
    for ann in doc["annotations"]:
        annotations.setdefault(ann["image_id"], []).append(ann)
    detections: dict[int, list[dict[str, Any]]] = {}
    for result in results:
        detections.setdefault(result["image_id"], []).append(result)
    for start in range(0, len(images), size):
        chunk = images[start : start + size]
        ids = [image["id"] for image in chunk]
        yield (
            chunk,
            [a for i in ids for a in annotations.get(i, ())],
            [r for i in ids for r in detections.get(i, ())],
            categories,
        )


@dataclasses.dataclass(frozen=True)
class EvaluateImages:
    """The executor step: COCOeval's per-image matching (``evaluate()``) on one chunk of images.

    Matching is per (image, category), so chunks are independent; their ``evalImgs`` are stitched
    back in COCOeval's [category][area][image] order before ``accumulate()``.
    """

    task: InstanceTask

    def __call__(self, chunk: ImageChunk) -> list[dict[str, Any] | None]:
        images, annotations, results, categories = chunk
        with contextlib.redirect_stdout(io.StringIO()):
            gt, dt = COCO(), COCO()
            gt.dataset = {"images": images, "annotations": annotations, "categories": categories}
            dt.dataset = {"images": images, "annotations": results, "categories": categories}
            gt.createIndex()
            dt.createIndex()
            evaluator = COCOeval(gt, dt, iouType=self.task)
            evaluator.evaluate()
        # only what accumulate() reads travels back (a third of the pickle between processes)
        return [
            None if entry is None else {key: entry[key] for key in ACCUMULATED_KEYS} for entry in evaluator.evalImgs
        ]


def run_cocoeval(
    doc: dict[str, Any], results: list[dict[str, Any]], ctx: RunContext, *, task: InstanceTask, chunk_images: int = 200
) -> COCOeval:
    """COCOeval's numbers: per-image matching on the executor in chunks, then ``accumulate()`` and
    ``summarize()`` here, on the stitched ``evalImgs`` (its printing swallowed).

    Only categories with GT annotations are evaluated: COCOeval gives the others -1 (no precision
    or recall without GT) and leaves them out of every mean, so the numbers are the same, and an
    LVIS GT (1,203 categories, a few hundred used in a subset) is matched several times faster.
    """
    if not doc["images"]:
        raise ValidationError("the GT has no images: nothing to evaluate")
    complete_results(results, task=task)
    used = {ann["category_id"] for ann in doc["annotations"]}
    categories = [category for category in doc["categories"] if category["id"] in used]
    chunks = list(iter_image_chunks(doc, results, categories, chunk_images))
    evaluator = COCOeval(iouType=task)
    evaluator.params.imgIds = sorted(image["id"] for image in doc["images"])
    evaluator.params.catIds = sorted(used)
    areas = len(evaluator.params.areaRng)
    stitched: list[list[dict[str, Any] | None]] = [[] for _ in range(len(evaluator.params.catIds) * areas)]
    parts = ctx.map_items(EvaluateImages(task), chunks, desc=f"evaluate {task}", name_of=_first_file_name, chunksize=1)
    for part, (images, *_rest) in zip(parts, chunks, strict=True):
        size = len(images)
        for block in range(len(stitched)):
            stitched[block].extend(part[block * size : (block + 1) * size])
    evaluator.evalImgs = [entry for block in stitched for entry in block]
    evaluator._paramsEval = copy.deepcopy(evaluator.params)
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def _first_file_name(chunk: ImageChunk) -> str:
    return str(chunk[0][0]["file_name"])


def instance_result(
    evaluator: COCOeval, table: CategoryTable, *, task: str, matched_by: str, instances: Mapping[int, int]
) -> InstanceResult:
    """The 12 numbers and per-category AP/AP50/AP75 (Detectron2's per-category convention).

    The evaluator's category ids are 1..K in ``table`` order (:func:`coco_gt_document`); categories
    it did not evaluate (no GT) get COCOeval's -1 precision.
    """
    metrics = {name: _defined(value) for name, value in zip(STAT_NAMES, evaluator.stats, strict=True)}
    evaluated = evaluator.eval["precision"][:, :, :, 0, -1]  # all areas, maxDets 100
    precision = np.full((*evaluated.shape[:2], len(table)), -1.0)
    for k, category_id in enumerate(evaluator.params.catIds):
        precision[:, :, category_id - 1] = evaluated[:, :, k]
    thresholds = evaluator.params.iouThrs
    per_category = []
    for index, category in enumerate(table):
        per_iou = precision[:, :, index]
        per_category.append(
            {
                "id": category.id,
                "name": category.name,
                "instances": instances.get(index + 1, 0),
                "AP": _mean_defined(per_iou),
                "AP50": _mean_defined(per_iou[np.isclose(thresholds, 0.5)]),
                "AP75": _mean_defined(per_iou[np.isclose(thresholds, 0.75)]),
            }
        )
    return InstanceResult(task, matched_by, metrics, per_category, precision, thresholds, evaluator.params.recThrs)


def _defined(value: float) -> float | None:
    return None if value < 0 else float(value)


def _mean_defined(values: np.ndarray) -> float | None:
    kept = values[values > -1]
    return float(np.mean(kept)) if kept.size else None


def category_key_note(table: CategoryTable, *, by_index: bool) -> str:
    """Which category a prediction's class index (or category id) names, for a GT whose ids the
    predicting model may not share (10 listed).

    >>> category_key_note(CategoryTable.from_names(["top", "skirt"]), by_index=True)
    "class index i is the GT's i-th category: 0 top, 1 skirt"
    """
    keys = [(i if by_index else c.id, c.name) for i, c in enumerate(table)]
    listed = ", ".join(f"{key} {name}" for key, name in keys[:10]) + (" …" if len(keys) > 10 else "")
    what = "class index i is the GT's i-th category" if by_index else "category ids are the GT's"
    return f"{what}: {listed}"


def is_lvis(dataset: Dataset, format_name: str) -> bool:
    """True for an LVIS GT: read as ``lvis``, or categories carrying LVIS's ``frequency``/``synset``."""
    return format_name == "lvis" or any(
        "frequency" in c.attributes and "synset" in c.attributes for c in dataset.categories
    )


def evaluate_instances(
    dataset: Dataset,
    predictions_path: str | os.PathLike[str],
    ctx: RunContext,
    *,
    task: InstanceTask = "bbox",
    gt_format: str = "",
) -> InstanceResult:
    """Score predictions against a GT dataset with COCOeval; facts go to ``ctx.report``."""
    if task not in ("bbox", "segm"):
        raise ValidationError(f"unknown instance task {task!r}: use bbox or segm")
    dataset = dataset.materialize()
    if is_lvis(dataset, gt_format):
        ctx.report.note(LVIS_NOTE)
    doc, table = coco_gt_document(dataset, task=task)
    own_ids = [record.id for record in dataset.records]  # None from id-less formats (YOLO, VOC)
    has_own_ids = None not in own_ids and sorted(own_ids) == sorted(image["id"] for image in doc["images"])  # type: ignore[type-var]
    predictions, kind = read_predictions(predictions_path, ctx)
    by_index = kind == "ultralytics txt"
    modes = ("stem",) if by_index else MATCH_MODES if has_own_ids else tuple(m for m in MATCH_MODES if m != "id")
    matched_by, matched = match_images((p.image_key for p in predictions), doc["images"], modes=modes)
    results = coco_results(predictions, doc, table, ctx, task=task, by_index=by_index, matched=matched)
    ctx.report.read["predictions"] += len(predictions)
    ctx.report.note(f"predictions ({kind}) matched to GT images by {matched_by}")
    if by_index or gt_format not in ("coco", "lvis"):
        ctx.report.note(category_key_note(table, by_index=by_index))
    if not results:
        ctx.report.note("no prediction could be scored: every number is 0")
    evaluator = run_cocoeval(doc, results, ctx, task=task)
    instances: dict[int, int] = {}
    for ann in doc["annotations"]:
        if not ann.get("iscrowd"):
            instances[ann["category_id"]] = instances.get(ann["category_id"], 0) + 1
    result = instance_result(evaluator, table, task=task, matched_by=matched_by, instances=instances)
    ctx.report.data["evaluation"] = {
        **result.to_dict(),
        "images": len(doc["images"]),
        "gt_instances": sum(instances.values()),
        "predictions_scored": len(results),
    }
    return result
