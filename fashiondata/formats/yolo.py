"""Ultralytics YOLO datasets (detection and segmentation): reader, and the ``yolo`` format entry.

Spec: https://docs.ultralytics.com/datasets/detect/ and https://docs.ultralytics.com/datasets/segment/,
with the semantics of the reference code, ``ultralytics/data/utils.py``
(https://github.com/ultralytics/ultralytics/blob/main/ultralytics/data/utils.py):

* ``data.yaml``: ``path`` (dataset root; relative to the yaml's folder here, the yaml's folder when
  absent), ``train``/``val``/``test`` each an image folder, a ``.txt`` list of images, or a list of
  those (relative to the root), and ``names`` as a dict ``{index: name}`` or a list; ``nc`` if given
  must match;
* an image's label file is its path with the last ``/images/`` replaced by ``/labels/`` and the
  extension by ``.txt`` (``img2label_paths``);
* a label line is ``class cx cy w h`` (a box) or ``class x1 y1 x2 y2 …`` (a polygon of ≥ 3 points),
  coordinates normalised to the image size, class 0-based; with ``kpt_shape: [K, 2|3]`` in the yaml a
  line is a box followed by K keypoints. An empty or missing label file is an image without objects.

On disk::

    data.yaml            names: {0: top, 1: pants}   train: images/train   val: images/val
    images/train/a.jpg   labels/train/a.txt          (flat images/ and labels/ without splits)

Read: a data.yaml, or a folder holding one (or holding ``images/`` and ``labels/`` and a
``classes.txt``/``*.names``). Image sizes come from the images' headers; category ids are class
index + 1; an image's ``split`` is its folder under ``images/`` (``train``, ``train2017``), else the
yaml key when the yaml names several splits. Coordinates are kept as written (clipping is the
writer's business).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.io import image_size
from fashiondata.model import (
    Annotation,
    BBox,
    Category,
    CategoryTable,
    ImageRecord,
    Keypoints,
    Polygons,
)
from fashiondata.registry import FormatOption, FormatSpec, register_format

IMAGE_SUFFIXES = (".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic")
SPLIT_KEYS = ("train", "val", "test", "minival")
YAML_NAMES = ("data.yaml", "dataset.yaml", "data.yml")


# ---------------------------------------------------------------- parsing (pure functions)


def parse_names(value: Any, path: object) -> tuple[str, ...]:
    """``names`` as a dict ``{0: a, 1: b}`` (indices 0..n-1, any order) or a list.

    >>> parse_names({1: "pants", 0: "top"}, "data.yaml"), parse_names(["top"], "data.yaml")
    (('top', 'pants'), ('top',))
    """
    if isinstance(value, list):
        names = value
    elif isinstance(value, dict):
        try:
            indexed = {int(k): v for k, v in value.items()}
        except (TypeError, ValueError):
            raise ParseError(path, "names keys must be class indices", "names") from None
        if sorted(indexed) != list(range(len(indexed))):
            raise ParseError(path, f"names indices must be 0..{len(indexed) - 1}, got {sorted(indexed)}", "names")
        names = [indexed[i] for i in range(len(indexed))]
    else:
        raise ParseError(path, "names must be a dict {index: name} or a list", "names")
    for index, name in enumerate(names):
        if not isinstance(name, (str, int)) or not str(name).strip():
            raise ParseError(path, f"class {index} has no name", f"names/{index}")
    return tuple(str(n) for n in names)


def parse_label_text(
    text: str, width: int, height: int, path: object, *, classes: int, keypoints: tuple[int, int] | None = None
) -> tuple[Annotation, ...]:
    """The annotations of one label file (``category_id`` = class index + 1, absolute pixels).

    >>> [a.bbox for a in parse_label_text("0 0.5 0.5 0.2 0.4\\n", 100, 50, "a.txt", classes=1)]
    [BBox(x=40.0, y=15.0, w=20.0, h=20.0)]
    >>> parse_label_text("1 0 0 1 0 1 1\\n", 10, 10, "a.txt", classes=2)[0].segmentation.rings
    ([0.0, 0.0, 10.0, 0.0, 10.0, 10.0],)
    """
    annotations = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        try:
            values = [float(v) for v in fields[1:]]
            class_index = int(fields[0])
        except ValueError:
            raise ParseError(path, f"not numbers: {line.strip()[:60]!r}", f"line {number}") from None
        if not 0 <= class_index < classes:
            raise ParseError(path, f"class {fields[0]} is not among the {classes} names", f"line {number}")
        if not all(math.isfinite(v) for v in values):
            raise ParseError(path, "a coordinate is not finite", f"line {number}")
        annotations.append(_parse_values(values, class_index + 1, width, height, path, number, keypoints))
    return tuple(annotations)


def _parse_values(
    values: list[float],
    category_id: int,
    width: int,
    height: int,
    path: object,
    number: int,
    keypoints: tuple[int, int] | None,
) -> Annotation:
    if keypoints is not None:
        count, dims = keypoints
        if len(values) != 4 + count * dims:
            raise ParseError(path, f"a pose line needs 4 + {count}×{dims} values, got {len(values)}", f"line {number}")
        points: list[float] = []
        for k in range(count):
            x, y = values[4 + k * dims] * width, values[5 + k * dims] * height
            visible = values[6 + k * dims] if dims == 3 else (2.0 if x or y else 0.0)
            points.extend((x, y, visible))
        return Annotation(category_id, bbox=_box(values[:4], width, height), keypoints=Keypoints(points))
    if len(values) == 4:
        return Annotation(category_id, bbox=_box(values, width, height))
    if len(values) % 2 or len(values) < 6:
        raise ParseError(
            path, f"{len(values)} coordinates: a box has 4, a polygon an even count of at least 6", f"line {number}"
        )
    ring = [v * (width if i % 2 == 0 else height) for i, v in enumerate(values)]
    return Annotation(category_id, segmentation=Polygons((ring,)))


def _box(values: Sequence[float], width: int, height: int) -> BBox:
    cx, cy, w, h = values
    if w < 0 or h < 0:
        raise ValidationError(f"box has a negative size: {list(values)}")
    return BBox((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height)


def label_path(image: str | os.PathLike[str]) -> Path:
    """Ultralytics' ``img2label_paths``: the last ``/images/`` becomes ``/labels/``, the suffix ``.txt``.

    >>> label_path("data/images/train/a.jpg").as_posix()
    'data/labels/train/a.txt'
    """
    text = Path(image).as_posix()
    head, sep, tail = text.rpartition("/images/")
    swapped = f"{head}/labels/{tail}" if sep else text
    return Path(swapped.rsplit(".", 1)[0] + ".txt")


# ---------------------------------------------------------------- finding images and labels


@dataclasses.dataclass(frozen=True)
class Layout:
    """What a data.yaml (or a bare folder) says: class names, keypoint shape, image sources per split."""

    names: tuple[str, ...]
    splits: tuple[tuple[str, tuple[Path, ...]], ...]
    root: Path
    keypoints: tuple[int, int] | None = None
    missing: tuple[str, ...] = ()


def load_layout(source: str | os.PathLike[str]) -> Layout:
    """The layout of a data.yaml, or of a folder holding one or holding ``images/``."""
    path = Path(source)
    if path.is_dir():
        yaml_path = next((path / n for n in YAML_NAMES if (path / n).is_file()), None)
        if yaml_path is None:
            return _bare_layout(path)
        path = yaml_path
    if not path.is_file():
        raise ValidationError(f"{source}: no such data.yaml or folder")
    doc = _load_yaml(path)
    names = parse_names(doc.get("names"), path)
    if "nc" in doc and doc["nc"] != len(names):
        raise ParseError(path, f"nc is {doc['nc']} but names has {len(names)} entries", "nc")
    root = path.parent
    if isinstance(doc.get("path"), str) and doc["path"]:
        given = Path(doc["path"])
        root = given if given.is_absolute() else (path.parent / given)
        if not root.is_dir():
            root = path.parent  # Ultralytics would look under its datasets dir; the yaml's folder is ours
    splits: list[tuple[str, tuple[Path, ...]]] = []
    missing: list[str] = []
    for key in SPLIT_KEYS:
        value = doc.get(key)
        if value is None:
            continue
        entries = value if isinstance(value, list) else [value]
        if not all(isinstance(e, str) for e in entries):
            raise ParseError(path, f"{key} must be a path or a list of paths", key)
        resolved = [(e, resolve_entry(root, e)) for e in entries]
        found = [p for _, p in resolved if p is not None]
        missing.extend(f"{key}: {e}" for e, p in resolved if p is None)
        if found:
            splits.append((key, tuple(found)))
    if not splits:
        raise ParseError(path, "no train, val or test entry names an existing folder, list or image")
    kpt = doc.get("kpt_shape")
    keypoints = None
    if kpt is not None:
        if not (isinstance(kpt, list) and len(kpt) == 2 and kpt[1] in (2, 3) and isinstance(kpt[0], int)):
            raise ParseError(path, "kpt_shape must be [K, 2] or [K, 3]", "kpt_shape")
        keypoints = (kpt[0], kpt[1])
    return Layout(names, tuple(splits), root, keypoints, tuple(missing))


def resolve_entry(root: Path, entry: str) -> Path | None:
    """A split entry under the root; Roboflow's ``../train/images`` falls back to ``train/images``
    as Ultralytics does. None when neither exists."""
    path = root / entry
    if not path.exists() and entry.startswith("../"):
        path = root / entry[3:]
    return path if path.exists() else None


def _load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        raise ParseError(path, "invalid YAML", f"line {mark.line + 1}" if mark else None) from error
    if not isinstance(doc, dict):
        raise ParseError(path, "a data.yaml must hold a mapping")
    return doc


def _bare_layout(folder: Path) -> Layout:
    if not (folder / "images").is_dir():
        raise ValidationError(f"{folder}: no data.yaml and no images/ folder: not a YOLO dataset")
    names_file = next((p for p in [folder / "classes.txt", *sorted(folder.glob("*.names"))] if p.is_file()), None)
    if names_file is None:
        raise ValidationError(f"{folder}: no data.yaml, classes.txt or *.names to name the classes")
    names = tuple(line.strip() for line in names_file.read_text(encoding="utf-8-sig").splitlines() if line.strip())
    return Layout(names, (("", (folder / "images",)),), folder)


def iter_images(entry: Path, root: Path) -> Iterator[Path]:
    """The images an entry names: a folder (recursively), a ``.txt`` list, or one image.

    A list's relative lines are looked up beside the list, then under the dataset root, then under
    the root without a leading ``data/`` (Darknet and Datumaro write that prefix).
    """
    if entry.is_dir():
        yield from sorted(p for p in entry.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    elif entry.suffix == ".txt":
        for number, line in enumerate(entry.read_text(encoding="utf-8-sig").splitlines(), 1):
            line = line.strip()
            if line:
                yield _listed_image(line, entry, root, number)
    elif entry.suffix.lower() in IMAGE_SUFFIXES:
        yield entry
    else:
        raise ValidationError(f"{entry}: neither an image folder, an image list (.txt) nor an image")


def _listed_image(line: str, listing: Path, root: Path, number: int) -> Path:
    image = Path(line)
    if image.is_absolute():
        candidates = [image]
    else:
        candidates = [listing.parent / image, root / image]
        if line.startswith("data/"):
            candidates.append(root / line[len("data/") :])
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ParseError(listing, f"image {line} not found", f"line {number}")


def split_and_name(image: Path, key: str, several_keys: bool) -> tuple[str | None, str]:
    """The split and file_name of an image: the folder under ``images/`` and the path below it.

    >>> split_and_name(Path("d/images/train2017/a.jpg"), "train", True)
    ('train2017', 'a.jpg')
    >>> split_and_name(Path("d/train/images/b.jpg"), "val", True), split_and_name(Path("d/images/c.jpg"), "", False)
    (('val', 'b.jpg'), (None, 'c.jpg'))
    """
    parts = image.as_posix().split("/")
    if "images" in parts:
        below = parts[len(parts) - parts[::-1].index("images") :]
        if len(below) > 1:
            return below[0], "/".join(below[1:])
        return (key if several_keys and key else None), below[0]
    return (key if several_keys and key else None), image.name


@dataclasses.dataclass(frozen=True)
class ReadLabelFile:
    """Picklable per-image step: image size from the header, then the label file's lines."""

    classes: int
    keypoints: tuple[int, int] | None = None

    def __call__(self, job: tuple[str, str, str, str | None]) -> tuple[ImageRecord, bool]:
        image, label, file_name, split = job
        width, height = image_size(image)
        try:
            text = Path(label).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            return ImageRecord(file_name=file_name, width=width, height=height, split=split), False
        except UnicodeDecodeError as error:
            raise ParseError(label, f"not UTF-8 text: {error.reason}", f"byte {error.start}") from error
        annotations = parse_label_text(text, width, height, label, classes=self.classes, keypoints=self.keypoints)
        return ImageRecord(file_name=file_name, width=width, height=height, annotations=annotations, split=split), True


def read(sources: list[str], ctx: RunContext) -> Dataset:
    """Read YOLO datasets (data.yaml files or folders); records stream off the executor."""
    layouts = [load_layout(source) for source in sources]
    names = layouts[0].names
    if any(layout.names != names for layout in layouts[1:]):
        raise ValidationError("the YOLO datasets name different classes")
    jobs: list[tuple[str, str, str, str | None]] = []
    seen: set[tuple[str | None, str]] = set()
    for layout in layouts:
        for entry in layout.missing:
            ctx.report.note(f"data.yaml entry not found, skipped: {entry}")
        several = len(layout.splits) > 1
        for key, entries in layout.splits:
            for listed in entries:
                for image in iter_images(listed, layout.root):
                    split, file_name = split_and_name(image, key, several)
                    if (split, file_name) in seen:
                        continue  # an image listed by two splits (LVIS val holds train2017 images) is read once
                    seen.add((split, file_name))
                    jobs.append((str(image), str(label_path(image)), file_name, split))
    categories = CategoryTable(tuple(Category(id=i + 1, name=n) for i, n in enumerate(names)))
    step = ReadLabelFile(len(names), layouts[0].keypoints)

    def iter_records() -> Iterator[ImageRecord]:
        for record, labelled in ctx.map_items(step, jobs, desc="read yolo", name_of=lambda job: job[0]):
            if not labelled:
                ctx.report.note("images without a label file are read as images without objects")
                ctx.report.read["images without label file"] += 1
            yield record

    return Dataset(categories, iter_records(), {}, tuple(sources))


def sniff(path: str) -> bool:
    """A data.yaml with ``names``, or a folder holding one."""
    p = Path(path)
    if p.is_dir():
        p = next((p / n for n in YAML_NAMES if (p / n).is_file()), p)
    if not (p.is_file() and p.suffix in (".yaml", ".yml")):
        return False
    head = p.read_bytes()[:65536]
    return b"names" in head and any(key.encode() in head for key in SPLIT_KEYS)


def _writer() -> tuple[Any, tuple[FormatOption, ...]]:
    """The writer and its options, from fashiondata.formats.yolo_writer (written for issue 4 in its
    own module). Until that module exists the ``yolo`` format is read-only."""
    if importlib.util.find_spec("fashiondata.formats.yolo_writer") is None:
        return None, ()
    from fashiondata.formats import yolo_writer

    return yolo_writer.write, tuple(getattr(yolo_writer, "WRITE_OPTIONS", ()))


_write, _write_options = _writer()

SPEC = register_format(
    FormatSpec(
        name="yolo",
        description="Ultralytics YOLO detection/segmentation: data.yaml, images/, labels/*.txt (normalised)",
        capabilities=frozenset({"boxes", "polygons", "keypoints", "splits", "negatives"}),
        sniff=sniff,
        read=read,
        write=_write,
        read_options=(),
        write_options=_write_options,
        output="dir",
        spec_url="https://docs.ultralytics.com/datasets/segment/",
    )
)
