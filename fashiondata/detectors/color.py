"""Colour kind of an image from a real chroma measure: ``color``, ``monochrome``, ``grayscale``, ``bw``.

The image is reduced to at most :data:`ANALYSIS_SIDE` pixels on its long side (area averaging, which
also smooths JPEG noise) and converted to CIELAB (D65) by OpenCV from its true channel order. Chroma is
``C* = sqrt(a*² + b*²)``, hue ``h = atan2(b*, a*)``; a chroma difference of ~2.3 is one just-noticeable
difference, so:

* ``grayscale``: fewer than :data:`MIN_CHROMATIC_SHARE` of the pixels have ``C* >`` :data:`CHROMA_TOLERANCE`
  (channels equal within JPEG noise: one-channel files and gray stored as RGB alike);
* ``bw``: grayscale with two levels: Otsu's threshold splits the gray levels into two classes whose means
  are at least :data:`BW_MIN_SEPARATION` apart (of 255), and at least :data:`BW_MIN_SHARE` of the pixels
  lie within :data:`BW_TOLERANCE` of their class mean (scans of line art, text, binary masks);
* ``monochrome``: not grayscale, and the chromatic pixels share one hue: the chroma-weighted circular
  standard deviation of their hue is at most :data:`MONOCHROME_MAX_HUE_STD` degrees (sepia, duotone,
  tinted photos);
* ``color``: everything else.

The seed's test (spread of the channel variances) called a flat red image gray and a noisy gray scan
colourful; chroma does neither.

Examples:
    >>> import numpy as np
    >>> classify_color(np.full((8, 8, 3), 128, np.uint8)).kind
    'grayscale'
    >>> classify_color(np.dstack([np.full((8, 8), 200, np.uint8), np.zeros((8, 8), np.uint8),
    ...                           np.tile(np.arange(0, 256, 32, dtype=np.uint8), (8, 1))])).kind
    'color'
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

ANALYSIS_SIDE = 256
CHROMA_TOLERANCE = 3.0
MIN_CHROMATIC_SHARE = 0.01
MONOCHROME_MAX_HUE_STD = 6.0
BW_MIN_SEPARATION = 96
BW_TOLERANCE = 32
BW_MIN_SHARE = 0.9

KINDS = ("color", "monochrome", "grayscale", "bw")
GRAYSCALE_KINDS = frozenset({"grayscale", "bw"})


class ColorResult(NamedTuple):
    """The colour kind and the measures it was decided from."""

    kind: str
    chromatic_share: float
    hue_std: float | None

    @property
    def grayscale(self) -> bool:
        return self.kind in GRAYSCALE_KINDS


def classify_color(image: np.ndarray, *, order: str = "RGB") -> ColorResult:
    """Classify an H×W (gray) or H×W×3 uint8 image given in ``order`` (``RGB`` or ``BGR``)."""
    small = _reduce(image)
    if small.ndim == 2 or small.shape[2] == 1:
        return ColorResult(_gray_kind(small.reshape(small.shape[:2])), 0.0, None)
    code = cv2.COLOR_RGB2Lab if order == "RGB" else cv2.COLOR_BGR2Lab
    lab = cv2.cvtColor(small[:, :, :3].astype(np.float32) / 255.0, code)
    a, b = lab[:, :, 1], lab[:, :, 2]
    chroma = np.hypot(a, b)
    chromatic = chroma > CHROMA_TOLERANCE
    share = float(chromatic.mean())
    if share < MIN_CHROMATIC_SHARE:
        gray_code = cv2.COLOR_RGB2GRAY if order == "RGB" else cv2.COLOR_BGR2GRAY
        return ColorResult(_gray_kind(cv2.cvtColor(small[:, :, :3], gray_code)), round(share, 6), None)
    hue_std = hue_spread(a[chromatic], b[chromatic])
    kind = "monochrome" if hue_std <= MONOCHROME_MAX_HUE_STD else "color"
    return ColorResult(kind, round(share, 6), round(hue_std, 3))


def hue_spread(a: np.ndarray, b: np.ndarray) -> float:
    """Chroma-weighted circular standard deviation of the hue of (a*, b*) pairs, in degrees.

    The weighted mean of the unit hue vectors, weighted by chroma, is simply ``(Σa, Σb) / ΣC``; its
    length R gives the circular standard deviation ``sqrt(-2 ln R)``.
    """
    chroma_sum = float(np.hypot(a, b).sum())
    if chroma_sum == 0:
        return 0.0
    length = min(1.0, math.hypot(float(a.sum()), float(b.sum())) / chroma_sum)
    return math.degrees(math.sqrt(-2.0 * math.log(length))) if length > 0 else 180.0


def _gray_kind(gray: np.ndarray) -> str:
    """``bw`` when the gray levels form two tight, distant classes, else ``grayscale``."""
    threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    levels = gray.astype(np.float32)
    low = levels <= threshold
    if low.all() or not low.any():
        return "grayscale"
    low_mean, high_mean = float(levels[low].mean()), float(levels[~low].mean())
    distance = np.where(low, np.abs(levels - low_mean), np.abs(levels - high_mean))
    two_levels = high_mean - low_mean >= BW_MIN_SEPARATION and float((distance <= BW_TOLERANCE).mean()) >= BW_MIN_SHARE
    return "bw" if two_levels else "grayscale"


def _reduce(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    height, width = image.shape[:2]
    scale = ANALYSIS_SIDE / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
