"""Image filters built on the detectors: ``--drop-grayscale`` and ``--require-faces``.

Two forms, for the two ways a pipeline runs:

* record steps (:class:`DropGrayscale`, :class:`RequireFaces`): picklable ``ImageRecord -> ImageRecord |
  None`` callables, for any code that maps steps itself;
* :func:`filter_by_detection`: a dataset step for the ``filter`` verb: it checks every image on
  ``ctx``'s executor (one decode per image, both checks at once), drops what fails and counts each drop
  in the report with its reason; an unreadable image follows ``ctx.on_error`` (raise, or skipped).

``--drop-grayscale`` drops the kinds ``grayscale`` and ``bw`` (see :mod:`.color`); ``monochrome``
(sepia, tinted) images stay. ``--require-faces`` keeps images where at least one face is found.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.detectors import DetectImage, ImageDetection, iter_detected
from fashiondata.model import ImageRecord

GRAYSCALE_REASON = "grayscale image (--drop-grayscale)"
NO_FACE_REASON = "no face found (--require-faces)"


def rejection(detection: ImageDetection, *, drop_grayscale: bool, require_faces: bool) -> str | None:
    """Why a detection fails the filters, or None when the image is kept."""
    if drop_grayscale and detection.color is not None and detection.color.grayscale:
        return GRAYSCALE_REASON
    if require_faces and not detection.faces:
        return NO_FACE_REASON
    return None


@dataclasses.dataclass(frozen=True)
class DropGrayscale:
    """Record step: None for an image whose colour kind is grayscale or bw."""

    image_root: str

    def __call__(self, record: ImageRecord) -> ImageRecord | None:
        detection = DetectImage(("color",), None, self.image_root)(record.file_name)
        return None if rejection(detection, drop_grayscale=True, require_faces=False) else record


@dataclasses.dataclass(frozen=True)
class RequireFaces:
    """Record step: None for an image where no face is found."""

    image_root: str
    face_model: str | None = None

    def __call__(self, record: ImageRecord) -> ImageRecord | None:
        detection = DetectImage(("faces",), self.face_model, self.image_root)(record.file_name)
        return None if rejection(detection, drop_grayscale=False, require_faces=True) else record


def filter_by_detection(
    dataset: Dataset,
    ctx: RunContext,
    *,
    image_root: str,
    drop_grayscale: bool = False,
    require_faces: bool = False,
    face_model: str | None = None,
) -> Dataset:
    """The dataset without grayscale images and/or images without a face, lazily; drops are counted."""
    if not drop_grayscale and not require_faces:
        return dataset
    checks = (("color",) if drop_grayscale else ()) + (("faces",) if require_faces else ())
    detector = DetectImage(checks, face_model, image_root)

    def iter_kept() -> Iterator[ImageRecord]:
        for record, detection in iter_detected(dataset.records, ctx, detector=detector):
            if detection is None:
                continue  # unreadable and skipped: already counted by ctx.fail
            reason = rejection(detection, drop_grayscale=drop_grayscale, require_faces=require_faces)
            if reason is None:
                yield record
            else:
                ctx.report.skip(reason, item=record.file_name)

    return dataset.replace(records=iter_kept())
