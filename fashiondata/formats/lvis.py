"""LVIS v1 and v0.5 instance segmentation JSON: COCO's instances format plus federated labels.

Spec: https://www.lvisdataset.org/dataset ("Data format"), with the semantics of the reference code,
lvis-api (https://github.com/lvis-dataset/lvis-api, ``lvis/lvis.py``). LVIS is a superset of COCO
instances (:mod:`fashiondata.formats.coco` parses it), with:

* images: ``neg_category_ids`` (categories verified **absent** from the image) and
  ``not_exhaustive_category_ids`` (categories present but not every instance annotated). LVIS is
  *federated*: a category missing from both lists and from the annotations is of unknown status in
  that image. Both lists are kept as image attributes;
* LVIS v1 images have no ``file_name``: it is the last part of ``coco_url``
  (``http://images.cocodataset.org/train2017/000000391895.jpg`` → ``000000391895.jpg``) and the
  folder before it is the image's split (``train2017``; LVIS v1 *val* also holds ``train2017``
  images). v0.5 keeps its ``file_name`` (``COCO_val2014_…``); its split still comes from ``coco_url``;
* categories carry ``synset``, ``synonyms``, ``def``, ``frequency`` (``r``/``c``/``f``),
  ``image_count`` and ``instance_count``, kept as category attributes, so that
  :meth:`~fashiondata.model.CategoryTable.resolve` finds a category by id, name or synonym
  (``--categories pants_(clothing)`` is ``trousers``);
* annotations have no ``iscrowd`` (read as 0) and polygon segmentations.

On disk::

    annotations/
      lvis_v1_train.json   {"info", "licenses", "images", "annotations", "categories"}
      lvis_v1_val.json
    train2017/000000391895.jpg …   (COCO 2017 images, named by coco_url)

Reading never changes the file; errors are :class:`~fashiondata.errors.ParseError` with a JSON
pointer. LVIS is written through the COCO writer (same keys, attributes kept), or as YOLO labels.
"""

from __future__ import annotations

import gc
import mmap
import os
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError
from fashiondata.formats import coco
from fashiondata.model import Category, CategoryTable, ImageRecord
from fashiondata.registry import FormatSpec, register_format

#: Keys only LVIS files hold (the first two on images, the others on categories).
LVIS_MARKERS = (b'"neg_category_ids"', b'"not_exhaustive_category_ids"', b'"synset"')
CATEGORY_ID_LISTS = ("neg_category_ids", "not_exhaustive_category_ids")


# ---------------------------------------------------------------- parsing (pure functions)


def split_file_name(url: str) -> tuple[str | None, str]:
    """``(folder, file name)`` of a ``coco_url``: the folder is the image's split.

    >>> split_file_name("http://images.cocodataset.org/train2017/000000391895.jpg")
    ('train2017', '000000391895.jpg')
    >>> split_file_name("http://example.com/000000391895.jpg")
    (None, '000000391895.jpg')
    """
    head, _, name = url.rstrip("/").rpartition("/")
    parent, _, folder = head.rpartition("/")
    if not folder or parent.endswith((":/", ":")):  # a host name is no folder
        return None, name
    return folder, name


def prepare_images(images: Sequence[Any], path: object) -> list[str | None]:
    """Fill each image's missing ``file_name`` from its ``coco_url`` (in place) and return each
    image's split (the ``coco_url`` folder, else None); check the category-id lists."""
    splits: list[str | None] = []
    for index, obj in enumerate(images):
        if type(obj) is not dict:
            raise ParseError(path, "an image must be an object", f"/images/{index}")
        url = obj.get("coco_url")
        split, name = split_file_name(url) if isinstance(url, str) and url else (None, None)
        if split in (".", "..") or name in (".", ".."):  # a split is a folder name writers use
            raise ParseError(path, f"coco_url {url!r} leaves its folder: refused", f"/images/{index}/coco_url")
        if "file_name" not in obj:
            if not name:
                raise ParseError(path, "an image needs a file_name or a coco_url", f"/images/{index}")
            obj["file_name"] = name
        for key in CATEGORY_ID_LISTS:
            ids = obj.get(key)
            if ids is not None and not (type(ids) is list and all(type(i) is int for i in ids)):
                raise ParseError(path, f"{key} must be a list of category ids", f"/images/{index}/{key}")
        splits.append(split)
    return splits


def parse_document(doc: Any, path: str | os.PathLike[str]) -> Dataset:
    """A parsed LVIS document into a :class:`Dataset` whose records are parsed as they are iterated.

    Categories, the image index and the grouping of annotations by image are checked first (a bad
    ``image_id`` fails before any record); each image's annotations are parsed (by COCO's
    :func:`~fashiondata.formats.coco.parse_annotation`) when its record is reached, so that a writer
    works on the first images while later ones are still being parsed. Records keep their LVIS image
    attributes, take their split from ``coco_url`` and name ``path`` as their ``source``.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise ParseError(path, "not an LVIS file: no 'images' list", "/")
    for key in ("annotations", "categories"):
        if not isinstance(doc.get(key, []), list):
            raise ParseError(path, f"{key} must be a list", f"/{key}")
    splits = prepare_images(doc["images"], path)
    categories: dict[int, Category] = {}
    for index, obj in enumerate(doc.get("categories", ())):
        category = coco.parse_category(obj, path, f"/categories/{index}")
        if category.id in categories:
            raise ParseError(path, f"duplicate category id {category.id}", f"/categories/{index}/id")
        categories[category.id] = category
    grouped: dict[int, list[int]] = {}
    for index, obj in enumerate(doc["images"]):
        image_id = obj.get("id")
        if type(image_id) is not int:
            raise ParseError(path, f"expected an integer, got {image_id!r}", f"/images/{index}/id")
        if image_id in grouped:
            raise ParseError(path, f"duplicate image id {image_id}", f"/images/{index}/id")
        grouped[image_id] = []
    annotations = doc.get("annotations", [])
    for index, obj in enumerate(annotations):
        image_id = obj.get("image_id") if type(obj) is dict else None
        members = grouped.get(image_id) if type(image_id) is int else None  # a list would be unhashable
        if members is None:
            raise ParseError(path, f"image_id {image_id!r} names no image", f"/annotations/{index}/image_id")
        members.append(index)
    table = CategoryTable(tuple(categories[i] for i in sorted(categories)))  # id order: YOLO class order
    info = {k: v for k, v in doc.items() if k not in ("images", "annotations", "categories")}
    records = _iter_records(doc["images"], annotations, grouped, splits, frozenset(table.ids), path)
    return Dataset(table, records, info, (str(path),))


def _iter_records(
    images: list[dict],
    annotations: list[Any],
    grouped: dict[int, list[int]],
    splits: list[str | None],
    category_ids: frozenset[int],
    path: str | os.PathLike[str],
) -> Iterator[ImageRecord]:
    """One record per image, in the file's order, its annotations parsed on the way."""
    source = os.fspath(path)
    default_split = coco.split_from_filename(path)
    seen_annotations: set[int] = set()
    with coco.gc_paused():  # acyclic objects only: spare the collector walks over the whole document
        for index, obj in enumerate(images):
            parsed = coco.parse_annotations(annotations, grouped[obj["id"]], category_ids, seen_annotations, path)
            yield coco.parse_image(obj, path, f"/images/{index}", parsed, splits[index] or default_split, source)


# ---------------------------------------------------------------- read


def read(sources: Sequence[str], ctx: RunContext, stream: bool | None = None) -> Dataset:
    """Read one or more LVIS files (train and val) into one dataset.

    ``stream`` reads one image at a time in bounded memory (automatic above
    :data:`coco.STREAM_THRESHOLD`), as the COCO reader does.
    """
    with coco.gc_paused():
        parts = [
            stream_document(p)
            if stream or (stream is None and os.path.getsize(p) > coco.STREAM_THRESHOLD)
            else parse_document(coco.load_json(p), p)
            for p in ctx.progress(sources, total=len(sources), desc="read lvis")
        ]
        # The parsed documents (acyclic, alive until their records are taken) would make the collector's
        # next pass walk millions of objects (0.5 s on LVIS v1 train): they are frozen until then, unless
        # the caller froze objects of its own.
        freeze = gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
    dataset = coco.combine(parts)
    return dataset.replace(records=_frozen_until_taken(dataset.records)) if freeze else dataset


def _frozen_until_taken(records: Iterable[ImageRecord]) -> Iterator[ImageRecord]:
    """The records; :func:`gc.unfreeze` once they have all been taken, or the iterator is dropped."""

    def take() -> Iterator[ImageRecord]:
        try:
            yield from records
        finally:
            unfreeze()

    iterator = take()
    unfreeze = weakref.finalize(iterator, gc.unfreeze)  # runs once: when taken, else when dropped
    return iterator


def stream_document(path: str) -> Dataset:
    """:func:`parse_document` through the streaming COCO path, one image at a time."""

    def prepare(obj: Any, position: int) -> str | None:
        try:
            return prepare_images([obj], path)[0]
        except ParseError as error:  # prepare_images saw a one-image list: restore the true position
            location = (error.location or "").replace("/images/0", f"/images/{position}", 1)
            raise ParseError(path, error.reason, location) from error

    return coco.stream_document(path, prepare, source=os.fspath(path))


def sniff(path: str) -> bool:
    """A ``.json`` file holding a key only LVIS has (searched through the whole file, memory-mapped)."""
    if not path.lower().endswith(".json") or not os.path.isfile(path) or not os.path.getsize(path):
        return False
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return any(data.find(marker) >= 0 for marker in LVIS_MARKERS)


SPEC = register_format(
    FormatSpec(
        name="lvis",
        description="LVIS v1/v0.5 JSON (COCO instances + federated neg/not-exhaustive category lists)",
        capabilities=frozenset({"boxes", "polygons", "rle", "negatives", "attributes", "splits"}),
        read_options=coco.SPEC.read_options,
        sniff=sniff,
        read=read,
        write=coco.write,
        output="file",
        spec_url="https://www.lvisdataset.org/dataset",
        sniff_priority=1,
    )
)
