"""TFRecord files of ``tf.train.Example`` for the TensorFlow Object Detection API, without TensorFlow.

Spec: "Preparing inputs" (https://github.com/tensorflow/models/blob/master/research/object_detection/
g3doc/using_your_own_dataset.md), the keys its decoder reads (``data_decoders/tf_example_decoder.py``)
and what ``dataset_tools/create_pascal_tf_record.py`` / ``create_coco_tf_record.py`` write. Framing and
Example encoding are in :mod:`fashiondata.formats.tfexample`. On disk::

    out/
      train.record                      one Example per image, sorted by file name
      train.record-00000-of-00004 …     with --shards 4 (record i goes to shard i mod N, as the OD API)
      label_map.pbtxt                   item { id: N name: '…' }, beside the records

Keys written per image: ``image/height``, ``image/width`` (int64), ``image/filename``,
``image/source_id`` (the source id, else the file name), ``image/key/sha256`` (hex of the bytes),
``image/encoded`` (the image file's bytes, from ``--images``), ``image/format`` (``jpeg``/``png``… from
the bytes), ``image/object/bbox/xmin|xmax|ymin|ymax`` (floats normalised by the image size, clipped to
[0, 1]), ``image/object/class/text``, ``image/object/class/label`` (1-based: the label map's id of the
class, else its position in the category table + 1), ``image/object/difficult``,
``image/object/truncated``, ``image/object/is_crowd`` (int64), ``image/object/view`` (the VOC pose), and
with ``masks`` ``image/object/mask``: one 0/1 grayscale PNG per instance (the OD API's PNG_MASKS, as
``create_coco_tf_record.py`` writes them); a box-only instance gets its box filled, counted.

Reading checks both CRCs of every record (:class:`~fashiondata.formats.tfexample.RecordError`, a
ParseError with the record index and byte offset), resolves classes with the label map beside the
records (or ``label_map``), by text first then by label, and can write the embedded images out
(``images_out``, a staged folder). Objects with neither a label nor a text cannot be held and are
counted; boxes are denormalised and rounded to 1/1000 pixel.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import hashlib
import operator
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import OutputExistsError, ParseError, ValidationError
from fashiondata.formats.label_map import FILE_NAME as LABEL_MAP_NAME
from fashiondata.formats.label_map import format_label_map, labels_for, read_label_map
from fashiondata.io import (
    image_bytes_size,
    image_format,
    image_size,
    join_inside,
    open_atomic,
    safe_relative_path,
    staged_dir,
    write_bytes_atomic,
)
from fashiondata.lazy import LazyModule
from fashiondata.model import Annotation, BBox, Category, CategoryTable, ImageRecord, Polygons, Rle
from fashiondata.registry import FormatOption, FormatSpec, register_format

if TYPE_CHECKING:
    import cv2
    import numpy as np

    from fashiondata.formats import tfexample
else:
    cv2 = LazyModule("cv2")
    np = LazyModule("numpy")
    tfexample = LazyModule("fashiondata.formats.tfexample")  # protobuf and crc32c: ~45 ms, only for TFRecords

_EXTENSIONS = {"jpeg": "jpg", "png": "png", "gif": "gif", "bmp": "bmp", "webp": "webp"}
_BOX_KEYS = ("image/object/bbox/xmin", "image/object/bbox/ymin", "image/object/bbox/xmax", "image/object/bbox/ymax")
NO_CLASS = "object with neither class label nor class text (cannot be held)"


def shard_paths(destination: str, shards: int) -> list[str]:
    """The files a writer makes: the destination itself, or ``NAME-00000-of-0000N`` …

    >>> shard_paths("out/train.record", 2)
    ['out/train.record-00000-of-00002', 'out/train.record-00001-of-00002']
    """
    if shards == 1:
        return [destination]
    return [f"{destination}-{index:05d}-of-{shards:05d}" for index in range(shards)]


# ---------------------------------------------------------------- encoding (pure functions)


def _clip(value: float, lossy: Counter[str]) -> float:
    if value < 0.0 or value > 1.0:
        lossy["box clipped to the image (normalised coordinates outside [0, 1])"] += 1
        return min(max(value, 0.0), 1.0)
    return value


def _png(mask: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", mask.astype(np.uint8))
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 2-D array
        raise ValidationError("could not encode a mask as PNG")
    return encoded.tobytes()


def example_features(
    record: ImageRecord,
    image: bytes,
    *,
    names: Mapping[int, str],
    labels: Mapping[int, int],
    masks: bool = False,
    lossy: Counter[str] | None = None,
) -> dict[str, tuple[str, list]]:
    """The OD API features of one image: ``{key: (kind, values)}``, keys in a fixed order."""
    lossy = lossy if lossy is not None else Counter()
    kind = image_format(image)
    if kind is None:
        raise ValidationError(f"{record.file_name}: not a JPEG, PNG, GIF, BMP or WebP image")
    width, height = record.width, record.height
    xmin, ymin, xmax, ymax, texts, label_ids, difficult, truncated, crowd, views, pngs = ([] for _ in range(11))
    for ann in record.annotations:
        seg = ann.segmentation
        bbox = ann.bbox if ann.bbox is not None else raster.mask_bbox(seg, height, width)  # type: ignore[arg-type]
        x1, y1, x2, y2 = bbox.xyxy
        xmin.append(_clip(x1 / width, lossy))
        ymin.append(_clip(y1 / height, lossy))
        xmax.append(_clip(x2 / width, lossy))
        ymax.append(_clip(y2 / height, lossy))
        texts.append(names[ann.category_id].encode("utf-8"))
        label_ids.append(labels[ann.category_id])
        difficult.append(int(ann.attributes.get("difficult", 0)))
        truncated.append(int(ann.attributes.get("truncated", 0)))
        crowd.append(int(ann.iscrowd))
        views.append(str(ann.attributes.get("pose", "")).encode("utf-8"))
        if ann.keypoints is not None:
            lossy["keypoints dropped (not written to TFRecord)"] += 1
        if masks:
            if isinstance(seg, (Polygons, Rle)):
                mask = raster.decode(seg, height, width)
            else:
                mask = np.zeros((height, width), dtype=np.uint8)
                mask[_pixel_span(y1, y2, height), _pixel_span(x1, x2, width)] = 1
                lossy["mask drawn from the box (instance has no segmentation)"] += 1
            pngs.append(_png(mask))
        elif seg is not None:
            lossy["segmentation not written (give --masks to write PNG masks)"] += 1
    features: dict[str, tuple[str, list]] = {
        "image/height": ("int64_list", [height]),
        "image/width": ("int64_list", [width]),
        "image/filename": ("bytes_list", [record.file_name.encode("utf-8")]),
        "image/source_id": (
            "bytes_list",
            [str(record.id if record.id is not None else record.file_name).encode("utf-8")],
        ),
        "image/key/sha256": ("bytes_list", [hashlib.sha256(image).hexdigest().encode("ascii")]),
        "image/encoded": ("bytes_list", [image]),
        "image/format": ("bytes_list", [kind.encode("ascii")]),
        "image/object/bbox/xmin": ("float_list", xmin),
        "image/object/bbox/xmax": ("float_list", xmax),
        "image/object/bbox/ymin": ("float_list", ymin),
        "image/object/bbox/ymax": ("float_list", ymax),
        "image/object/class/text": ("bytes_list", texts),
        "image/object/class/label": ("int64_list", label_ids),
        "image/object/difficult": ("int64_list", difficult),
        "image/object/truncated": ("int64_list", truncated),
        "image/object/is_crowd": ("int64_list", crowd),
        "image/object/view": ("bytes_list", views),
    }
    if masks:
        features["image/object/mask"] = ("bytes_list", pngs)
    return features


def _pixel_span(low: float, high: float, size: int) -> slice:
    return slice(max(int(np.floor(low)), 0), min(int(np.ceil(high)), size))


@dataclasses.dataclass(frozen=True)
class EncodeExample:
    """Picklable per-record step: read the image under ``images_root``, return (Example bytes, lossy)."""

    images_root: str
    names: Mapping[int, str]
    labels: Mapping[int, int]
    masks: bool = False

    def __call__(self, record: ImageRecord) -> tuple[bytes, dict[str, int], int]:
        path = join_inside(self.images_root, record.file_name)
        with open(path, "rb") as f:
            image = f.read()
        size = image_bytes_size(image, path)  # the header of the bytes just read; other cases as image_size
        width, height = size if size is not None and min(size) > 0 else image_size(path)
        if (width, height) != (record.width, record.height):
            raise ParseError(path, f"image is {width}x{height} but its annotation says {record.width}x{record.height}")
        lossy: Counter[str] = Counter()
        features = example_features(record, image, names=self.names, labels=self.labels, masks=self.masks, lossy=lossy)
        return tfexample.encode_example(features), dict(lossy), len(record.annotations)


# ---------------------------------------------------------------- decoding (pure functions)


class ExampleObject(NamedTuple):
    label: int
    text: str
    bbox: BBox
    segmentation: Rle | None
    iscrowd: bool
    attributes: dict[str, Any]


class ExampleImage(NamedTuple):
    """One decoded Example: image facts, objects with their raw class label/text, the image bytes."""

    file_name: str
    width: int
    height: int
    source_id: str
    image: bytes
    image_format: str
    objects: tuple[ExampleObject, ...]


def _values(features: Mapping[str, tuple[str, list]], key: str, kind: str, path: object, where: str) -> list:
    found = features.get(key)
    if found is None or found[0] is None:
        return []
    if found[0] != kind:
        raise ParseError(path, f"{key} is a {found[0]}, expected a {kind}", where)
    return found[1]


def _decode_mask(data: bytes, height: int, width: int, path: object, where: str) -> Rle:
    if image_bytes_size(data, path, where) not in (None, (width, height)):  # checked before decoding
        raise ParseError(path, f"image/object/mask is not a {width}x{height} PNG", where)
    mask = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if mask is None or mask.shape != (height, width):
        raise ParseError(path, f"image/object/mask is not a {width}x{height} PNG", where)
    return raster.encode_mask(mask > 0)


def parse_example(features: Mapping[str, tuple[str, list]], path: object, where: str) -> ExampleImage:
    """An OD API Example's features (from :func:`decode_example`) into an :class:`ExampleImage`."""

    def one(key: str, kind: str, default: Any) -> Any:
        values = _values(features, key, kind, path, where)
        return values[0] if values else default

    image = one("image/encoded", "bytes_list", b"")
    kind = image_format(image) or one("image/format", "bytes_list", b"").decode("utf-8", "replace")
    width, height = one("image/width", "int64_list", 0), one("image/height", "int64_list", 0)
    if (width <= 0 or height <= 0) and image:
        width, height = _size_of_bytes(image, path, where)
    if width <= 0 or height <= 0:
        raise ParseError(path, f"image size {width}x{height}: image/width and image/height must be positive", where)
    source_id = one("image/source_id", "bytes_list", b"").decode("utf-8", "replace")
    file_name = one("image/filename", "bytes_list", b"").decode("utf-8", "replace")
    boxes = [_values(features, key, "float_list", path, where) for key in _BOX_KEYS]
    count = len(boxes[0])
    if any(len(b) != count for b in boxes):
        raise ParseError(path, f"bbox lists differ in length: {[len(b) for b in boxes]}", where)
    labels = _values(features, "image/object/class/label", "int64_list", path, where)
    texts = [
        t.decode("utf-8", "replace") for t in _values(features, "image/object/class/text", "bytes_list", path, where)
    ]
    per_object = {
        name: _values(features, f"image/object/{name}", kind_, path, where)
        for name, kind_ in (
            ("difficult", "int64_list"),
            ("truncated", "int64_list"),
            ("is_crowd", "int64_list"),
            ("view", "bytes_list"),
        )
    }
    masks = _masks(features, count, height, width, path, where)
    for name, values in (("class/label", labels), ("class/text", texts), *((n, v) for n, v in per_object.items())):
        if values and len(values) != count:
            raise ParseError(path, f"image/object/{name} holds {len(values)} values for {count} boxes", where)
    objects = []
    for i in range(count):
        x1, y1 = round(boxes[0][i] * width, 3), round(boxes[1][i] * height, 3)
        x2, y2 = round(boxes[2][i] * width, 3), round(boxes[3][i] * height, 3)
        attributes: dict[str, Any] = {}
        if per_object["view"] and per_object["view"][i]:
            attributes["pose"] = per_object["view"][i].decode("utf-8", "replace")
        for name in ("truncated", "difficult"):
            if per_object[name]:
                attributes[name] = int(per_object[name][i])
        objects.append(
            ExampleObject(
                label=labels[i] if labels else 0,
                text=texts[i] if texts else "",
                bbox=BBox(x1, y1, round(x2 - x1, 3), round(y2 - y1, 3)),
                segmentation=masks[i] if masks else None,
                iscrowd=bool(per_object["is_crowd"][i]) if per_object["is_crowd"] else False,
                attributes=attributes,
            )
        )
    return ExampleImage(file_name, width, height, source_id, image, kind, tuple(objects))


def _masks(
    features: Mapping[str, tuple[str, list]], count: int, height: int, width: int, path: object, where: str
) -> list[Rle]:
    found = features.get("image/object/mask")
    if found is None or found[0] is None or not found[1]:
        return []
    kind, values = found
    if kind == "bytes_list":
        if len(values) != count:
            raise ParseError(path, f"image/object/mask holds {len(values)} PNGs for {count} boxes", where)
        return [_decode_mask(v, height, width, path, where) for v in values]
    if kind == "float_list" and len(values) == count * height * width:  # NUMERICAL_MASKS
        stack = np.asarray(values, dtype=np.float32).reshape(count, height, width)
        return [raster.encode_mask(m > 0.5) for m in stack]
    raise ParseError(path, "image/object/mask is neither PNG bytes nor count*height*width floats", where)


def _size_of_bytes(image: bytes, path: object, where: str) -> tuple[int, int]:
    if size := image_bytes_size(image, path, where):  # from the header, within the pixel limit
        return size
    decoded = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise ParseError(path, "no image size and image/encoded is not a readable image", where)
    return int(decoded.shape[1]), int(decoded.shape[0])


# ---------------------------------------------------------------- categories


def resolve_categories(
    images: Sequence[tuple[str, str, ExampleImage]], label_map: CategoryTable | None
) -> tuple[CategoryTable, dict[tuple[int, str], int | None]]:
    """The category table and ``(label, text) → category id`` (None: no class) of decoded records.

    With a label map, a text naming a class wins (as in the OD API decoder), then the label; without
    one, labels are the ids and texts the names (a label with two texts is a ParseError).
    """
    pairs: dict[tuple[int, str], tuple[str, str]] = {}
    for path, where, image in images:
        for obj in image.objects:
            pairs.setdefault((obj.label, obj.text), (path, where))
    resolved: dict[tuple[int, str], int | None] = {}
    if label_map is not None:
        by_name = {c.name: c.id for c in label_map}
        by_name.update({c.attributes["display_name"]: c.id for c in label_map if "display_name" in c.attributes})
        for (label, text), (path, where) in pairs.items():
            if text in by_name:
                resolved[label, text] = by_name[text]
            elif label in label_map:
                resolved[label, text] = label
            elif label <= 0 and not text:
                resolved[label, text] = None
            else:
                raise ParseError(path, f"class {text!r} (label {label}) is not in the label map", where)
        return label_map, resolved
    names: dict[int, str] = {}
    for (label, text), (path, where) in sorted(pairs.items()):
        if label > 0 and text and names.setdefault(label, text) != text:
            raise ParseError(path, f"label {label} is named both {names[label]!r} and {text!r}", where)
    for label, _ in sorted(pairs):
        if label > 0:
            names.setdefault(label, f"class_{label}")
    next_id = max(names, default=0) + 1
    for (label, text), _ in sorted(pairs.items()):
        if label > 0:
            resolved[label, text] = label
        elif text:
            known = next((i for i, n in names.items() if n == text), None)
            if known is None:
                known, next_id = next_id, next_id + 1
                names[known] = text
            resolved[label, text] = known
        else:
            resolved[label, text] = None
    return CategoryTable(tuple(Category(id=i, name=names[i]) for i in sorted(names))), resolved


# ---------------------------------------------------------------- read / write


def sources(path: str) -> list[str]:
    """A folder's ``*.tfrecord``/``*.record`` files (and their shards), a file, or a sharded NAME."""
    p = Path(path)
    if p.is_dir():
        found = [
            f for pattern in ("*.tfrecord", "*.record", "*.tfrecord-*-of-*", "*.record-*-of-*") for f in p.glob(pattern)
        ]
        return sorted({str(f) for f in found if f.is_file()})
    if not p.exists():
        shards = sorted(glob.glob(glob.escape(path) + "-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]"))
        if shards:
            return shards
    return [path]


def _iter_examples(path: str, ctx: RunContext):
    """(where, ExampleImage) for each good record of one file, with the error policy applied."""
    try:
        for index, offset, data in tfexample.iter_records(path):
            where = f"record {index} at byte {offset}"
            if isinstance(data, tfexample.RecordError):
                ctx.fail(data, f"{path}: {where}")
                continue
            try:
                features = tfexample.decode_example(data)
            except tfexample.DecodeError as error:
                ctx.fail(ParseError(path, f"not a tf.train.Example: {error}", where), f"{path}: {where}")
                continue
            try:
                yield where, parse_example(features, path, where)
            except ParseError as error:
                ctx.fail(error, f"{path}: {where}")
    except tfexample.RecordError as error:
        ctx.fail(error, f"{path}: {error.location} and the rest of the file")


def read(
    paths: Sequence[str], ctx: RunContext, *, label_map: str | None = None, images_out: str | None = None
) -> Dataset:
    """Read TFRecord files into a materialised dataset; ``images_out`` writes the embedded images."""
    files = [f for p in paths for f in sources(p)]
    beside = Path(files[0]).parent / LABEL_MAP_NAME if files else None
    map_path = label_map or (str(beside) if beside is not None and beside.is_file() else None)
    fixed = read_label_map(map_path) if map_path else None
    if map_path and not label_map:
        ctx.report.note(f"classes from the label map beside the records: {map_path}")
    decoded: list[tuple[str, str, ExampleImage]] = []
    with contextlib.ExitStack() as stack:
        stage = stack.enter_context(staged_dir(images_out, overwrite=ctx.overwrite)) if images_out else None
        written: dict[str, bytes] = {}
        for path in ctx.progress(files, total=len(files), desc="read tfrecord"):
            for where, image in _iter_examples(path, ctx):
                name = _image_name(image, len(decoded))
                image = image._replace(file_name=name)
                if stage is not None and not _write_image(stage, image, written, path, where, ctx):
                    continue
                decoded.append((path, where, image._replace(image=b"")))
    table, category_of = resolve_categories(decoded, fixed)
    records = []
    for _, _, image in decoded:
        annotations = []
        for obj in image.objects:
            category_id = category_of[obj.label, obj.text]
            if category_id is None:
                ctx.report.skip(NO_CLASS, item=image.file_name)
                continue
            annotations.append(
                Annotation(
                    category_id=category_id,
                    bbox=obj.bbox,
                    segmentation=obj.segmentation,
                    iscrowd=obj.iscrowd,
                    attributes=obj.attributes,
                )
            )
        record_id = int(image.source_id) if image.source_id.isdigit() and int(image.source_id) > 0 else None
        records.append(ImageRecord(image.file_name, image.width, image.height, tuple(annotations), id=record_id))
    if images_out:
        ctx.report.written["embedded images"] += len(written)
        ctx.report.outputs.append(str(images_out))
    return Dataset(table, tuple(records), {}, tuple(paths))


def _image_name(image: ExampleImage, index: int) -> str:
    if image.file_name:
        return image.file_name
    stem = image.source_id or (hashlib.sha256(image.image).hexdigest()[:16] if image.image else f"image_{index}")
    return f"{stem}.{_EXTENSIONS.get(image.image_format, 'bin')}"


def _write_image(
    stage: Path, image: ExampleImage, written: dict[str, bytes], path: str, where: str, ctx: RunContext
) -> bool:
    """Write one embedded image into the staging folder; False when the record is skipped."""
    if not image.image:
        ctx.report.skip("record without embedded image bytes: no image written", item=image.file_name)
        return True
    try:
        name = safe_relative_path(image.file_name)
    except ValidationError as error:
        ctx.fail(ParseError(path, f"image/filename: {error}", where), f"{path}: {where}")
        return False
    digest = hashlib.sha256(image.image).digest()
    if name in written:
        if written[name] != digest:
            ctx.fail(ParseError(path, f"image/filename {name!r} names two different images", where), f"{path}: {where}")
            return False
        return True
    target = join_inside(stage, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(image.image)
    written[name] = digest
    return True


def write(
    dataset: Dataset,
    destination: str,
    ctx: RunContext,
    *,
    images: str | None = None,
    label_map: str | None = None,
    masks: bool = False,
    shards: int = 1,
) -> None:
    """Write OD API TFRecords (optionally sharded) and ``label_map.pbtxt`` beside them."""
    if not images:
        raise ValidationError("TFRecords embed the image files: give the images folder (--images DIR)")
    if shards < 1:
        raise ValidationError(f"--shards must be at least 1, got {shards}")
    table = dataset.categories
    fixed = read_label_map(label_map) if label_map else None
    labels = labels_for(table, fixed)
    out_map = (
        fixed if fixed is not None else CategoryTable(tuple(Category(id=labels[c.id], name=c.name) for c in table))
    )
    map_text = format_label_map(out_map)
    paths = shard_paths(destination, shards)
    map_path = Path(destination).parent / LABEL_MAP_NAME
    for path in paths:
        if not ctx.overwrite and Path(path).exists():
            raise OutputExistsError(f"{path}: exists (give --overwrite to replace it)")
    write_map = not (label_map and map_path.exists() and map_path.resolve() == Path(label_map).resolve())
    if write_map and map_path.exists() and not ctx.overwrite and map_path.read_text(encoding="utf-8") != map_text:
        raise OutputExistsError(f"{map_path}: exists with other classes (give --overwrite to replace it)")
    records = sorted(dataset.records, key=lambda r: (r.split or "", r.file_name))
    encoder = EncodeExample(images, {c.id: c.name for c in table}, labels, masks)
    lossy: Counter[str] = Counter()
    written = annotations = 0
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(open_atomic(p, "wb", overwrite=True)) for p in paths]
        results = ctx.map_items(encoder, records, desc="write tfrecord", name_of=operator.attrgetter("file_name"))
        for index, (data, counts, count) in enumerate(results):
            files[index % shards].write(tfexample.frame_record(data))
            lossy.update(counts)
            written += 1
            annotations += count
    if write_map:
        write_bytes_atomic(map_path, map_text.encode("utf-8"))
        ctx.report.outputs.append(str(map_path))
    for reason, count in sorted(lossy.items()):
        ctx.report.lose(reason, count)
    ctx.report.written["images"] += written
    ctx.report.written["annotations"] += annotations
    ctx.report.outputs.extend(paths)


def sniff(path: str) -> bool:
    """A ``*.tfrecord``/``*.record`` file (or shard), or a folder holding one."""
    name = os.path.basename(path).lower()
    if os.path.isdir(path):
        return any(sniff(f) for f in sources(path)[:1])
    return os.path.isfile(path) and (
        name.endswith((".tfrecord", ".record")) or "-of-" in name and (".tfrecord-" in name or ".record-" in name)
    )


SPEC = register_format(
    FormatSpec(
        name="tfrecord",
        description="TFRecord of tf.train.Example for the TF Object Detection API (boxes, PNG masks, images embedded)",
        aliases=("tf_detection_api",),
        capabilities=frozenset({"boxes", "rle", "negatives", "images", "attributes"}),
        sniff=sniff,
        read=read,
        write=write,
        read_options=(
            FormatOption("label_map", "label_map.pbtxt fixing category ids (a class it lacks is an error).", "path"),
            FormatOption("images_out", "Folder to write the embedded images to (tfrecord2coco).", "path"),
        ),
        write_options=(
            FormatOption("images", "Image root folder (the image bytes are embedded).", "path"),
            FormatOption("label_map", "label_map.pbtxt fixing category ids (a class it lacks is an error).", "path"),
            FormatOption("masks", "Write image/object/mask, one PNG per instance.", bool, False),
            FormatOption("shards", "Write N files NAME-00000-of-0000N.", int, 1),
        ),
        output="file",
        spec_url="https://github.com/tensorflow/models/blob/master/research/object_detection/g3doc/using_your_own_dataset.md",
    )
)
