"""Face detection with what OpenCV ships: its Haar cascades (no download), or YuNet from a user's ONNX.

* Haar (default): ``haarcascade_frontalface_alt2.xml`` plus ``haarcascade_profileface.xml`` run on the
  image and on its mirror (the profile cascade only knows faces turned one way), from
  ``cv2.data.haarcascades`` (bundled with opencv-python 4.x; 5.x dropped them, hence the pin). Haar
  cascades were trained on **histogram-equalised grayscale**, so the BGR image OpenCV decodes is
  converted with ``COLOR_BGR2GRAY`` and equalised. Images are reduced to :data:`HAAR_SIDE` pixels on
  their long side first; faces smaller than :data:`MIN_FACE_SHARE` of the short side are ignored.
  Overlapping boxes from the three passes are merged (IoU above :data:`MERGE_IOU`, or one box's centre
  inside another).
* YuNet (``face_model="face_detection_yunet_2023mar.onnx"``, from opencv_zoo): through
  ``cv2.FaceDetectorYN``, fed the **BGR** image as ``cv2.imread`` returns it (as in OpenCV's own
  samples), faces scored at least :data:`YUNET_MIN_SCORE`.

Boxes come back in the original image's pixels (COCO's xywh). Detectors are built once per process
and cached (the cascades take a moment to parse).

Derived facts (:func:`persons_from_faces`, :func:`is_selfie`): ``persons`` is ``0``/``1``/``many`` by face
count; an image is a ``selfie`` when its largest face box covers at least :data:`SELFIE_MIN_FACE_SHARE`
of the image area (a face shot at arm's length spans about a third of the frame's width).
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import cv2
import numpy as np

from fashiondata.errors import FashionDataError, ParseError, ValidationError
from fashiondata.model import BBox

FRONTAL_CASCADE = "haarcascade_frontalface_alt2.xml"
PROFILE_CASCADE = "haarcascade_profileface.xml"
HAAR_SIDE = 480
HAAR_SCALE_FACTOR = 1.15
HAAR_MIN_NEIGHBORS = 5
MIN_FACE_SHARE = 0.05
MERGE_IOU = 0.3
YUNET_MIN_SCORE = 0.7
SELFIE_MIN_FACE_SHARE = 0.10

_CACHE: dict[tuple[str, str], Any] = {}


class Face(NamedTuple):
    """One detected face: its box in image pixels and the model's score (None for Haar)."""

    bbox: BBox
    score: float | None = None


def detect_faces(bgr: np.ndarray, *, face_model: str | None = None) -> tuple[Face, ...]:
    """Faces in an H×W×3 **BGR** uint8 image, largest first."""
    faces = _yunet_faces(bgr, face_model) if face_model else _haar_faces(bgr)
    return tuple(sorted(faces, key=lambda f: (-f.bbox.w * f.bbox.h, f.bbox.x, f.bbox.y)))


def persons_from_faces(faces: tuple[Face, ...]) -> str:
    """``0``, ``1`` or ``many``."""
    return "0" if not faces else "1" if len(faces) == 1 else "many"


def is_selfie(faces: tuple[Face, ...], width: int, height: int) -> bool:
    """True when the largest face covers at least :data:`SELFIE_MIN_FACE_SHARE` of the image."""
    if not faces:
        return False
    largest = max(f.bbox.w * f.bbox.h for f in faces)
    return largest / (width * height) >= SELFIE_MIN_FACE_SHARE


def _haar_faces(bgr: np.ndarray) -> list[Face]:
    frontal, profile = _cascade(FRONTAL_CASCADE), _cascade(PROFILE_CASCADE)
    height, width = bgr.shape[:2]
    scale = min(1.0, HAAR_SIDE / max(height, width))
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    if scale < 1:
        gray = cv2.resize(
            gray, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
        )
    gray = cv2.equalizeHist(gray)
    side = max(20, int(min(gray.shape) * MIN_FACE_SHARE))
    options = {"scaleFactor": HAAR_SCALE_FACTOR, "minNeighbors": HAAR_MIN_NEIGHBORS, "minSize": (side, side)}
    boxes = [tuple(map(float, b)) for b in frontal.detectMultiScale(gray, **options)]
    boxes += [tuple(map(float, b)) for b in profile.detectMultiScale(gray, **options)]
    mirrored_width = gray.shape[1]
    boxes += [
        (mirrored_width - x - w, y, w, h) for x, y, w, h in profile.detectMultiScale(cv2.flip(gray, 1), **options)
    ]
    merged = merge_boxes([BBox(*b) for b in boxes])
    return [Face(BBox(b.x / scale, b.y / scale, b.w / scale, b.h / scale)) for b in merged]


def merge_boxes(boxes: list[BBox]) -> list[BBox]:
    """Keep the larger of two boxes that overlap (IoU > :data:`MERGE_IOU` or a centre inside the other).

    >>> merge_boxes([BBox(0, 0, 10, 10), BBox(1, 1, 10, 10), BBox(50, 50, 5, 5)])
    [BBox(x=0, y=0, w=10, h=10), BBox(x=50, y=50, w=5, h=5)]
    """
    kept: list[BBox] = []
    for box in sorted(boxes, key=lambda b: -b.w * b.h):
        if not any(_overlaps(box, other) for other in kept):
            kept.append(box)
    return kept


def _overlaps(a: BBox, b: BBox) -> bool:
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    if union > 0 and inter / union > MERGE_IOU:
        return True
    cx, cy = a.x + a.w / 2, a.y + a.h / 2
    return b.x <= cx <= b.x + b.w and b.y <= cy <= b.y + b.h


def _cascade(name: str) -> Any:
    key = ("haar", name)
    if key not in _CACHE:
        if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
            raise FashionDataError(
                f"OpenCV {cv2.__version__} ships no Haar cascades: pip install 'opencv-python-headless<5'"
            )
        path = os.path.join(cv2.data.haarcascades, name)  # type: ignore[attr-defined]
        classifier = cv2.CascadeClassifier(path)
        if classifier.empty():
            raise ParseError(path, "OpenCV could not load this Haar cascade")
        _CACHE[key] = classifier
    return _CACHE[key]


def _yunet_faces(bgr: np.ndarray, model: str) -> list[Face]:
    height, width = bgr.shape[:2]
    detector = _yunet(model)
    detector.setInputSize((width, height))
    _, rows = detector.detect(bgr)
    if rows is None:
        return []
    return [
        Face(BBox(float(r[0]), float(r[1]), float(r[2]), float(r[3])), round(float(r[-1]), 4))
        for r in rows
        if float(r[-1]) >= YUNET_MIN_SCORE
    ]


def _yunet(model: str) -> Any:
    key = ("yunet", model)
    if key not in _CACHE:
        if not os.path.isfile(model):
            raise ValidationError(f"--face-model {model}: no such file (YuNet's ONNX, from opencv_zoo)")
        try:
            _CACHE[key] = cv2.FaceDetectorYN.create(model, "", (320, 320), YUNET_MIN_SCORE, 0.3, 5000)
        except cv2.error as error:
            raise ParseError(model, f"not a YuNet ONNX model OpenCV can load ({error.err})") from error
    return _CACHE[key]
