"""Image detectors: colour kind (:mod:`.color`), faces (:mod:`.faces`), and what follows from them.

A detection decodes the image once with OpenCV (BGR, EXIF orientation applied) and hands each model
the channel order it expects: the colour check converts from BGR to CIELAB, Haar cascades get
equalised grayscale, YuNet gets BGR. :class:`DetectImage` is a picklable per-image step, so
:func:`detect` runs it over a folder through ``ctx.map_items`` on any executor, and ``stats
--detect`` and the filter steps (:mod:`.filters`) reuse it.

Examples:
    >>> parse_checks("color, faces")
    ('color', 'faces')
"""

from __future__ import annotations

import csv
import dataclasses
import io as _io
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np

from fashiondata.context import RunContext
from fashiondata.detectors.color import KINDS, ColorResult, classify_color
from fashiondata.detectors.faces import Face, detect_faces, is_selfie, persons_from_faces
from fashiondata.errors import ParseError, ValidationError
from fashiondata.executor import Guarded
from fashiondata.io import check_destination, image_size, join_inside, write_bytes_atomic
from fashiondata.model import ImageRecord
from fashiondata.report import Report

CHECKS = ("color", "faces")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
CSV_COLUMNS = ("file", "width", "height", "color", "chromatic_share", "hue_std", "faces", "persons", "selfie")


class ImageDetection(NamedTuple):
    """What the checks found in one image (a field is None when its check did not run)."""

    file: str
    width: int
    height: int
    color: ColorResult | None = None
    faces: tuple[Face, ...] | None = None

    @property
    def persons(self) -> str | None:
        return None if self.faces is None else persons_from_faces(self.faces)

    @property
    def selfie(self) -> bool | None:
        return None if self.faces is None else is_selfie(self.faces, self.width, self.height)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "width": self.width, "height": self.height}
        if self.color is not None:
            out["color"] = self.color.kind
            out["chromatic_share"] = self.color.chromatic_share
            out["hue_std"] = self.color.hue_std
        if self.faces is not None:
            out["faces"] = [
                {"bbox": [round(v, 2) for v in f.bbox], **({"score": f.score} if f.score is not None else {})}
                for f in self.faces
            ]
            out["persons"] = self.persons
            out["selfie"] = self.selfie
        return out


def parse_checks(checks: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"color,faces"`` → ``("color", "faces")``; None means every check."""
    if checks is None:
        return CHECKS
    items = [c.strip().lower() for c in (checks.split(",") if isinstance(checks, str) else checks) if c.strip()]
    unknown = [c for c in items if c not in CHECKS]
    if unknown or not items:
        raise ValidationError(f"--checks {','.join(unknown) or '(none)'}: choose from {', '.join(CHECKS)}")
    return tuple(c for c in CHECKS if c in items)


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image as OpenCV does (BGR uint8, EXIF-rotated); ParseError when it cannot."""
    image_size(path)  # refuses unreadable headers and decompression bombs before decoding
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise ParseError(path, "not an image OpenCV can decode")
    return image


@dataclasses.dataclass(frozen=True)
class DetectImage:
    """Per-image step: a file name (under ``root`` when given) → :class:`ImageDetection`."""

    checks: tuple[str, ...] = CHECKS
    face_model: str | None = None
    root: str | None = None

    def __call__(self, name: str) -> ImageDetection:
        path = join_inside(self.root, name) if self.root is not None else Path(name)
        bgr = read_image(path)
        height, width = bgr.shape[:2]
        color = classify_color(bgr, order="BGR") if "color" in self.checks else None
        faces = detect_faces(bgr, face_model=self.face_model) if "faces" in self.checks else None
        return ImageDetection(name, int(width), int(height), color, faces)


def iter_detected(
    records: Iterable[ImageRecord], ctx: RunContext, *, detector: Callable[[str], ImageDetection]
) -> Iterator[tuple[ImageRecord, ImageDetection | None]]:
    """Each record with its image's detection (None when the image failed and on_error is skip)."""
    in_flight: deque[ImageRecord] = deque()

    def iter_names() -> Iterator[str]:
        for record in records:
            in_flight.append(record)
            yield record.file_name

    for ok, value in ctx.map_items(Guarded(detector), iter_names(), desc="detect", chunksize=4):
        record = in_flight.popleft()
        if not ok:
            ctx.fail(value, record.file_name)
            value = None
        yield record, value


def iter_image_names(folder: str | os.PathLike[str]) -> list[str]:
    """Image files under ``folder`` (recursively), as sorted ``/``-separated relative names."""
    root = Path(folder)
    if not root.is_dir():
        raise ValidationError(f"{folder}: not a folder of images")
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )


def summarize(detections: Sequence[ImageDetection]) -> dict[str, Any]:
    """Counts over detections: colour kinds, persons 0/1/many, selfies."""
    colors = Counter(d.color.kind for d in detections if d.color is not None)
    persons = Counter(d.persons for d in detections if d.faces is not None)
    out: dict[str, Any] = {"images": len(detections)}
    if colors:
        out["color"] = {k: colors.get(k, 0) for k in KINDS}
    if persons:
        out["persons"] = {k: persons.get(k, 0) for k in ("0", "1", "many")}
        out["selfies"] = sum(1 for d in detections if d.selfie)
    return out


def format_csv(detections: Sequence[ImageDetection]) -> bytes:
    """One CSV row per image (:data:`CSV_COLUMNS`), faces as a count."""
    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for d in detections:
        row = d.to_dict()
        row["faces"] = len(d.faces) if d.faces is not None else ""
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in CSV_COLUMNS])
    return buffer.getvalue().encode()


def detect(
    images: str | os.PathLike[str],
    *,
    checks: str | Sequence[str] | None = None,
    face_model: str | None = None,
    csv_path: str | os.PathLike[str] | None = None,
    ctx: RunContext | None = None,
) -> Report:
    """Run the checks over every image under ``images`` on ``ctx``'s executor.

    Per-image results go to ``report.data["detections"]`` (sorted by file) and counts to
    ``report.data["summary"]``; ``csv_path`` also writes them as CSV (atomically).
    """
    ctx = ctx or RunContext()
    chosen = parse_checks(checks)
    if csv_path is not None:
        check_destination(csv_path, overwrite=ctx.overwrite)
    names = iter_image_names(images)
    step = DetectImage(chosen, face_model, os.fspath(images))
    detections = list(ctx.map_items(step, names, desc="detect", chunksize=4))
    ctx.report.read["images"] += len(detections)
    ctx.report.data["detections"] = [d.to_dict() for d in detections]
    ctx.report.data["summary"] = summarize(detections)
    if csv_path is not None:
        write_bytes_atomic(csv_path, format_csv(detections), overwrite=ctx.overwrite)
        ctx.report.outputs.append(os.fspath(csv_path))
    return ctx.report
