"""Score semantic segmentation: predicted index masks against GT index masks, mIoU and accuracy.

GT and predictions are two folders of index masks (pixel value = class index; grayscale 8/16-bit, or
palette PNG read as indices) paired by stem the way the masks reader pairs masks with images
(:func:`fashiondata.formats.masks.image_stem`). One confusion matrix ``cm[gt, pred]`` of pixel counts
is accumulated over the whole set from per-pair partials computed on the executor: each mask is read
once, and memory holds one pair per worker plus the small matrices, however many masks there are.

Conventions (the definitions of the semantic-segmentation literature, over the whole set rather than
per batch): pixels whose GT is ``ignore_index`` are left out; predicted pixels equal to
``ignore_index`` count as unpredicted (a miss for their GT class, a false positive for none); a GT mask
without a prediction counts as unpredicted entirely. Per class IoU = TP / (TP + FP + FN) and accuracy =
TP / GT pixels; mIoU averages IoU over the classes present in the GT or the prediction; pixel accuracy =
TP summed / labelled pixels; mean class accuracy averages accuracy over the classes present in the GT.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from fashiondata.context import RunContext
from fashiondata.errors import ParseError, ValidationError

MASK_SUFFIXES = frozenset({".png", ".bmp", ".tif", ".tiff", ".pgm"})
#: Class indices at or above this are refused (the confusion matrix is dense).
MAX_CLASS_INDEX = 2048
MIOU_CONVENTION = "mIoU averages per-class IoU over the classes present in the GT or the prediction"
ACCURACY_CONVENTION = "mean class accuracy averages over the classes present in the GT"


@dataclasses.dataclass(frozen=True)
class ConfusionPartial:
    """A confusion matrix ``matrix[gt, pred]`` of pixel counts, and ``missed[gt]``: GT pixels left
    unpredicted (prediction = ignore index, or no prediction mask). Partials merge by addition."""

    matrix: np.ndarray
    missed: np.ndarray

    @classmethod
    def empty(cls, size: int = 0) -> ConfusionPartial:
        return cls(np.zeros((size, size), dtype=np.int64), np.zeros(size, dtype=np.int64))

    @property
    def size(self) -> int:
        return len(self.missed)

    def resized(self, size: int) -> ConfusionPartial:
        if size == self.size:
            return self
        matrix = np.zeros((size, size), dtype=np.int64)
        matrix[: self.size, : self.size] = self.matrix
        missed = np.zeros(size, dtype=np.int64)
        missed[: self.size] = self.missed
        return ConfusionPartial(matrix, missed)

    def merge(self, other: ConfusionPartial) -> ConfusionPartial:
        size = max(self.size, other.size)
        a, b = self.resized(size), other.resized(size)
        return ConfusionPartial(a.matrix + b.matrix, a.missed + b.missed)


def confusion(gt: np.ndarray, pred: np.ndarray | None, *, ignore_index: int | None) -> ConfusionPartial:
    """The confusion partial of one GT mask and its prediction (None: nothing predicted).

    One joint histogram of (GT, prediction) values, then the ignore row dropped and the ignore
    column moved to ``missed``; class indices keep their places. Raises ValidationError for a class
    index of :data:`MAX_CLASS_INDEX` or more.

    >>> part = confusion(np.array([[0, 1], [1, 255]]), np.array([[0, 1], [0, 255]]), ignore_index=255)
    >>> part.matrix.tolist(), part.missed.tolist()
    ([[1, 0], [1, 1]], [0, 0])
    """
    gt = np.asarray(gt).reshape(-1)
    labels = gt if pred is None else np.asarray(pred).reshape(-1)
    if not gt.size:
        return ConfusionPartial.empty()
    ignore = -1 if ignore_index is None else ignore_index
    dim = 1 + max(int(gt.max()), int(labels.max()))
    if (
        dim > MAX_CLASS_INDEX and MAX_CLASS_INDEX <= ignore < dim
    ):  # a large ignore value (65535): make it the next index
        top = max(largest_class(gt, ignore), largest_class(labels, ignore))
        gt, labels = (np.where(a == ignore, top + 1, a) for a in (gt, labels))
        ignore, dim = top + 1, top + 2
    if dim > MAX_CLASS_INDEX + (0 <= ignore < dim):
        top = max(largest_class(gt, ignore), largest_class(labels, ignore))
        raise ValidationError(f"class index {top} is over the limit of {MAX_CLASS_INDEX - 1}")
    if pred is None:  # every labelled pixel unpredicted
        missed = np.bincount(gt, minlength=dim).astype(np.int64)
        joint = np.zeros((dim, dim), dtype=np.int64)
    else:
        joint = np.bincount(gt.astype(np.intp) * dim + labels, minlength=dim * dim).reshape(dim, dim).astype(np.int64)
        missed = np.zeros(dim, dtype=np.int64)
    if 0 <= ignore < dim:
        missed += joint[:, ignore]
        joint[:, ignore] = 0
        joint[ignore, :] = 0
        missed[ignore] = 0
    used = np.flatnonzero(joint.any(axis=0) | joint.any(axis=1) | (missed > 0))
    size = int(used[-1]) + 1 if used.size else 0
    return ConfusionPartial(joint[:size, :size].copy(), missed[:size].copy())


@dataclasses.dataclass(frozen=True)
class SemanticResult:
    """Per-class and mean numbers from the merged confusion matrix (None where undefined)."""

    matched_by: str
    pairs: int
    ignore_index: int | None
    matrix: np.ndarray
    missed: np.ndarray
    iou: list[float | None]
    accuracy: list[float | None]
    miou: float | None
    pixel_accuracy: float | None
    mean_class_accuracy: float | None
    names: Mapping[int, str] = dataclasses.field(default_factory=dict)

    def class_name(self, index: int) -> str:
        return self.names.get(index) or str(index)

    def to_dict(self) -> dict[str, Any]:
        gt_pixels = self.matrix.sum(axis=1) + self.missed
        pred_pixels = self.matrix.sum(axis=0)
        return {
            "task": "semantic",
            "matched_by": self.matched_by,
            "masks": self.pairs,
            "ignore_index": self.ignore_index,
            "convention": f"{MIOU_CONVENTION}; {ACCURACY_CONVENTION}",
            "metrics": {
                "mIoU": self.miou,
                "pixel_accuracy": self.pixel_accuracy,
                "mean_class_accuracy": self.mean_class_accuracy,
            },
            "per_class": [
                {
                    "index": index,
                    "name": self.class_name(index),
                    "IoU": self.iou[index],
                    "accuracy": self.accuracy[index],
                    "gt_pixels": int(gt_pixels[index]),
                    "pred_pixels": int(pred_pixels[index]),
                }
                for index in range(len(self.iou))
                if gt_pixels[index] or pred_pixels[index]
            ],
            "confusion_matrix": self.matrix.tolist(),
            "unpredicted_pixels": self.missed.tolist(),
        }


def semantic_scores(
    partial: ConfusionPartial,
    *,
    matched_by: str = "stem",
    pairs: int = 0,
    ignore_index: int | None = None,
    names: Mapping[int, str] | None = None,
) -> SemanticResult:
    """IoU, accuracy and their means from a merged confusion partial."""
    matrix, missed = partial.matrix, partial.missed
    true_positive = np.diag(matrix).astype(np.float64)
    gt_pixels = matrix.sum(axis=1) + missed
    pred_pixels = matrix.sum(axis=0)
    union = gt_pixels + pred_pixels - true_positive
    iou = [float(tp / u) if u else None for tp, u in zip(true_positive, union, strict=True)]
    accuracy = [float(tp / g) if g else None for tp, g in zip(true_positive, gt_pixels, strict=True)]
    present_iou = [v for v in iou if v is not None]
    present_accuracy = [v for v in accuracy if v is not None]
    labelled = int(gt_pixels.sum())
    return SemanticResult(
        matched_by=matched_by,
        pairs=pairs,
        ignore_index=ignore_index,
        matrix=matrix,
        missed=missed,
        iou=iou,
        accuracy=accuracy,
        miou=float(np.mean(present_iou)) if present_iou else None,
        pixel_accuracy=float(true_positive.sum() / labelled) if labelled else None,
        mean_class_accuracy=float(np.mean(present_accuracy)) if present_accuracy else None,
        names=dict(names or {}),
    )


def read_index_mask(path: str | os.PathLike[str]) -> np.ndarray:
    """An H×W array of class indices: grayscale (8/16-bit) or palette PNG (the palette's indices).

    OpenCV expands a palette PNG to colours, so those are read with Pillow.
    """
    with open(path, "rb") as f:
        head = f.read(26)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) == 26 and head[25] == 3:
        from PIL import Image

        try:
            with Image.open(path) as palette_png:
                return np.asarray(palette_png)
        except (OSError, ValueError) as error:
            raise ParseError(path, f"not a readable palette PNG ({error})") from None
    import cv2

    decoded = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise ParseError(path, "not a readable mask image")
    if decoded.ndim == 3:
        channels = decoded[..., :3]
        if np.array_equal(channels[..., 0], channels[..., 1]) and np.array_equal(channels[..., 0], channels[..., 2]):
            return decoded[..., 0]
        raise ParseError(path, "a colour mask: evaluate needs index masks (pixel value = class index)")
    return decoded


@dataclasses.dataclass(frozen=True)
class MaskPairConfusion:
    """The executor step: read one (GT, prediction) mask pair once, return its confusion partial."""

    ignore_index: int | None

    def __call__(self, pair: tuple[str, str | None]) -> ConfusionPartial:
        gt_path, pred_path = pair
        gt = read_index_mask(gt_path)
        pred = read_index_mask(pred_path) if pred_path is not None else None
        if pred is not None and pred.shape != gt.shape:
            raise ParseError(
                pred_path, f"prediction is {pred.shape[1]}x{pred.shape[0]}, its GT mask {gt.shape[1]}x{gt.shape[0]}"
            )
        try:
            return confusion(gt, pred, ignore_index=self.ignore_index)
        except ValidationError as error:
            raise ParseError(gt_path, f"{error} (in this mask or its prediction {pred_path})") from None


def largest_class(mask: np.ndarray, ignore_index: int | None) -> int:
    """The largest class index in a mask, the ignore index left out (-1 for none)."""
    values = mask[mask != ignore_index] if ignore_index is not None else mask
    return int(values.max()) if values.size else -1


def mask_files(folder: str | os.PathLike[str]) -> dict[str, str]:
    """Mask files under ``folder`` by pairing key: the stem without a mask suffix (``X_segm.png``,
    DeepFashion-MultiModal's naming, pairs with ``X.png``), as the masks reader pairs masks with images."""
    # formats are imported when used: importing fashiondata.api must not load every format
    from fashiondata.formats.masks import image_stem

    root = Path(folder)
    if not root.is_dir():
        raise ValidationError(f"{root}: the semantic task needs a folder of index masks")
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in MASK_SUFFIXES or not path.is_file() or path.name.startswith("."):
            continue
        key = image_stem(path)
        if key in found:
            raise ValidationError(f"{path}: pairs by stem {key!r} like {found[key]}: one mask per stem")
        found[key] = str(path)
    return found


def read_class_names(folder: str | os.PathLike[str]) -> dict[int, str]:
    """Class names from the ``classes.txt`` the masks writer puts beside its masks (line *i* names
    pixel value *i*), found in the GT folder or up to two parents; none when there is none."""
    from fashiondata.formats.masks_classes import find_beside, parse_classes_txt

    path = find_beside(Path(folder), ["classes.txt"])
    if path is None:
        return {}
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ParseError(path, f"not UTF-8 text (byte {error.start})") from None
    return dict(parse_classes_txt(text, path).names)


def evaluate_semantic(
    gt_folder: str | os.PathLike[str],
    pred_folder: str | os.PathLike[str],
    ctx: RunContext,
    *,
    ignore_index: int | None = 255,
) -> SemanticResult:
    """Score predicted index masks against GT index masks; facts go to ``ctx.report``."""
    gt_masks, pred_masks = mask_files(gt_folder), mask_files(pred_folder)
    if not gt_masks:
        raise ValidationError(f"{gt_folder}: no mask images ({', '.join(sorted(MASK_SUFFIXES))})")
    unpaired = sorted(set(gt_masks) - set(pred_masks))
    extra = sorted(set(pred_masks) - set(gt_masks))
    for key in extra:
        ctx.report.skip("prediction mask has no GT mask", item=pred_masks[key])
    if unpaired:
        ctx.report.note(f"{len(unpaired)} GT masks have no prediction: their pixels count as unpredicted (missed)")
    pairs = [(gt_masks[key], pred_masks.get(key)) for key in sorted(gt_masks)]
    total = ConfusionPartial.empty()
    scored = 0
    for partial in ctx.map_items(MaskPairConfusion(ignore_index), pairs, desc="evaluate masks", name_of=itemgetter(0)):
        total = total.merge(partial)
        scored += 1
    ctx.report.read["masks"] += scored
    ctx.report.note(f"GT and prediction masks matched by stem; {MIOU_CONVENTION}; {ACCURACY_CONVENTION}")
    result = semantic_scores(total, pairs=scored, ignore_index=ignore_index, names=read_class_names(gt_folder))
    ctx.report.data["evaluation"] = {**result.to_dict(), "unpaired_gt_masks": len(unpaired)}
    return result
