"""Bounded-memory reading of huge COCO/LVIS JSON files: an index of byte offsets, then per-image parsing.

The in-memory path parses the whole document (1.1 GB for LVIS v1 train) into Python objects at once.
This path never does: one pass over the file in fixed-size chunks finds, with numpy, the byte span of
every element of the top-level ``images``, ``annotations`` and ``categories`` arrays (structural
characters outside strings, tracking escapes and nesting depth across chunks) and the ``image_id`` of
every annotation; then each image is parsed with its own annotations only, from those spans, and
handed on before the next is read. Peak memory is the offset index plus one image's objects.

Annotations are grouped by image with the ``"image_id": N`` key found in their span; the full parse of
each annotation checks that the key agrees, so a nested key of the same name cannot misfile one.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from fashiondata.errors import ParseError
from fashiondata.lazy import LazyModule

if TYPE_CHECKING:
    import numpy as np
else:
    np = LazyModule("numpy")

CHUNK = 8 << 20
_IMAGE_ID = re.compile(rb'"image_id"\s*:\s*(-?\d+)')
_OPEN = (ord("{"), ord("["))
_CLOSE = (ord("}"), ord("]"))
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
ARRAY_KEYS = ("images", "annotations", "categories")


@functools.cache
def _byte_tables() -> tuple[np.ndarray, np.ndarray]:
    """By byte value: +1 for ``{``/``[``, -1 for ``}``/``]``, 0 otherwise; and whether it is one of them."""
    structural = np.zeros(256, dtype=np.int64)
    structural[[ord("{"), ord("[")]] = 1
    structural[[ord("}"), ord("]")]] = -1
    return structural, structural != 0


def _no_spans() -> np.ndarray:
    return np.zeros((0, 2), dtype=np.int64)


class DocumentIndex:
    """Byte spans of the elements of ``images``/``annotations``/``categories``, each annotation's
    image id (-1 where it must be parsed to be known), and the rest of the document (``skeleton``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.arrays: dict[str, np.ndarray] = {key: _no_spans() for key in ARRAY_KEYS}
        self.present: set[str] = set()
        self.skeleton: dict[str, Any] = {}
        self.annotation_image_ids = np.zeros(0, dtype=np.int64)


def build_index(path: str) -> DocumentIndex:
    """One chunked pass over ``path`` (see the module docstring)."""
    size = os.path.getsize(path)
    marks: list[np.ndarray] = []  # rows (byte position, character, depth after) of shallow structure
    match_positions: list[np.ndarray] = []
    match_ids: list[np.ndarray] = []
    depth, in_string, backslashes = 0, False, 0
    structural, is_bracket = _byte_tables()
    with open(path, "rb") as f:
        start = 0
        while start < size:
            data = os.pread(f.fileno(), CHUNK + 64, start)
            body = np.frombuffer(data, dtype=np.uint8, count=min(CHUNK, len(data)))
            candidates = np.flatnonzero(is_bracket[body])
            outside, in_string, backslashes = _outside_strings(body, candidates, in_string, backslashes)
            positions = candidates[outside]
            characters = body[positions].astype(np.int64)
            after = depth + np.cumsum(structural[characters])
            if len(positions):
                depth = int(after[-1])
                keep = after <= 3
                marks.append(np.stack([positions[keep] + start, characters[keep], after[keep]], axis=1))
            found = [(m.start(), int(m.group(1))) for m in _IMAGE_ID.finditer(data) if m.start() < len(body)]
            if found:
                match_positions.append(np.array([p for p, _ in found], dtype=np.int64) + start)
                match_ids.append(np.array([i for _, i in found], dtype=np.int64))
            start += len(body)
    if depth != 0 or in_string:
        raise ParseError(path, "truncated JSON: a bracket or a string is left open at the end of the file")
    structure = np.concatenate(marks) if marks else np.zeros((0, 3), dtype=np.int64)
    index = DocumentIndex(path)
    _read_structure(index, structure)
    positions = np.concatenate(match_positions) if match_positions else np.zeros(0, dtype=np.int64)
    ids = np.concatenate(match_ids) if match_ids else np.zeros(0, dtype=np.int64)
    index.annotation_image_ids = _owned_ids(index.arrays["annotations"], positions, ids)
    return index


def _read_structure(index: DocumentIndex, structure: np.ndarray) -> None:
    """Top-level keys, the element spans of the three arrays, and the skeleton of everything else."""
    path = index.path
    position, character, after = structure[:, 0], structure[:, 1], structure[:, 2]
    if not len(structure) or character[0] != ord("{") or after[0] != 1:
        raise ParseError(path, "a COCO file must hold a JSON object", "/")
    value_starts = position[(after == 2) & np.isin(character, _OPEN)]
    value_ends = position[(after == 1) & np.isin(character, _CLOSE)] + 1
    pieces: list[bytes] = []
    cursor = 0
    with open(path, "rb") as f:
        fd = f.fileno()
        for value_start, value_end in zip(value_starts.tolist(), value_ends.tolist()):
            key = _key_before(fd, value_start, path)
            if key not in ARRAY_KEYS:
                continue
            if os.pread(fd, 1, value_start) != b"[":
                raise ParseError(path, f"{key} must be a list", f"/{key}")
            within = (position > value_start) & (position < value_end - 1)
            starts = position[within & (after == 3) & np.isin(character, _OPEN)]
            ends = position[within & (after == 2) & np.isin(character, _CLOSE)] + 1
            first = int(starts[0]) if len(starts) else value_end - 1
            last = int(ends[-1]) if len(ends) else value_start + 1
            if (
                len(starts) != len(ends)
                or os.pread(fd, first - value_start - 1, value_start + 1).strip()
                or os.pread(fd, value_end - 1 - last, last).strip()
            ):
                raise ParseError(path, f"every element of {key} must be an object", f"/{key}")
            # the separators between elements are checked as each element is read (read_element)
            index.arrays[key] = np.stack([starts, ends], axis=1) if len(starts) else _no_spans()
            index.present.add(key)
            pieces.append(os.pread(fd, value_start - cursor, cursor) + b"[]")
            cursor = value_end
        pieces.append(os.pread(fd, int(position[-1]) + 1 - cursor, cursor))
    skeleton = _loads(b"".join(pieces), path, "/")
    index.skeleton = {k: v for k, v in skeleton.items() if k not in ARRAY_KEYS}


def _key_before(fd: int, position: int, path: str) -> str:
    head = os.pread(fd, min(512, position), max(0, position - 512)).decode("utf-8", "replace")
    match = re.search(r'"((?:[^"\\]|\\.)*)"\s*:\s*$', head)
    if not match:
        raise ParseError(path, f"cannot find the key of the top-level value at byte {position}")
    return match.group(1)


def _owned_ids(spans: np.ndarray, positions: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The image id of each annotation span holding exactly one ``"image_id"`` key, else -1."""
    ids = np.full(len(spans), -1, dtype=np.int64)
    if not len(spans) or not len(positions):
        return ids
    owner = np.searchsorted(spans[:, 0], positions, side="right") - 1
    inside = (owner >= 0) & (positions < spans[np.maximum(owner, 0), 1])
    found = np.bincount(owner[inside], minlength=len(spans))
    ids[owner[inside]] = values[inside]
    ids[found != 1] = -1
    return ids


def _outside_strings(
    body: np.ndarray, candidates: np.ndarray, in_string: bool, backslashes: int
) -> tuple[np.ndarray, bool, int]:
    """Which candidate positions lie outside JSON strings, and the string state after the chunk.

    A position is inside a string when an odd number of unescaped quotes precede it (counting the
    state carried in from the previous chunk); a quote is escaped when an odd run of backslashes
    precedes it, which may start in the previous chunk (``backslashes`` trailing it).
    """
    quotes = np.flatnonzero(body == _QUOTE)
    after_backslash = quotes[(quotes > 0)]
    after_backslash = after_backslash[body[after_backslash - 1] == _BACKSLASH]
    escaped = np.zeros(len(quotes), dtype=bool)
    for position in after_backslash.tolist():  # rare in annotation files: count the run
        run, p = 0, position - 1
        while p >= 0 and body[p] == _BACKSLASH:
            run, p = run + 1, p - 1
        if p < 0:
            run += backslashes
        escaped[np.searchsorted(quotes, position)] = run % 2 == 1
    if len(quotes) and quotes[0] == 0 and backslashes % 2 == 1:
        escaped[0] = True
    quotes = quotes[~escaped]
    preceding = np.searchsorted(quotes, candidates) + int(in_string)
    tail = len(body) - 1
    run = 0
    while tail >= 0 and body[tail] == _BACKSLASH:
        run, tail = run + 1, tail - 1
    return (preceding & 1) == 0, bool((len(quotes) + int(in_string)) % 2), run + (backslashes if tail < 0 else 0)


def read_element(fd: int, index: DocumentIndex, key: str, position: int) -> Any:
    """Parse element ``position`` of array ``key``, checking the separator that follows it."""
    spans = index.arrays[key]
    start, end = int(spans[position, 0]), int(spans[position, 1])
    following = int(spans[position + 1, 0]) if position + 1 < len(spans) else end
    data = os.pread(fd, following - start, start)
    if data[end - start :].strip() not in (b",", b""):
        raise ParseError(index.path, f"every element of {key} must be an object", f"/{key}/{position + 1}")
    return _loads(data[: end - start], index.path, f"/{key}/{position}")


def iter_elements(index: DocumentIndex, key: str) -> Iterator[Any]:
    """The elements of a top-level array, in file order (for ``categories``)."""
    with open(index.path, "rb") as f:
        for position in range(len(index.arrays[key])):
            yield read_element(f.fileno(), index, key, position)


def iter_images(index: DocumentIndex) -> Iterator[tuple[int, dict, list[tuple[int, dict]]]]:
    """(position in ``images``, image object, [(position in ``annotations``, annotation object)…]).

    Images come in file order, each with its annotations in file order. Raises ParseError for a
    duplicate image id and, at the end, for an annotation whose image_id names no image.
    """
    path = index.path
    ids = index.annotation_image_ids.copy()
    seen: set[int] = set()
    consumed = 0
    with open(path, "rb") as f:
        fd = f.fileno()
        for position in np.flatnonzero(ids < 0).tolist():  # no single image_id key: parse to know it
            ids[position] = _image_id_of(read_element(fd, index, "annotations", position), path, position)
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        for image_position in range(len(index.arrays["images"])):
            image = read_element(fd, index, "images", image_position)
            image_id = image.get("id") if isinstance(image, dict) else None
            members: list[int] = []
            if type(image_id) is int:
                if image_id in seen:
                    raise ParseError(path, f"duplicate image id {image_id}", f"/images/{image_position}/id")
                seen.add(image_id)
                lo, hi = np.searchsorted(sorted_ids, [image_id, image_id + 1])
                members = sorted(order[lo:hi].tolist())
            consumed += len(members)
            annotations = [(p, read_element(fd, index, "annotations", p)) for p in members]
            for p, annotation in annotations:
                if not isinstance(annotation, dict) or annotation.get("image_id") != image_id:
                    raise ParseError(path, "image_id does not match its index entry", f"/annotations/{p}/image_id")
            yield image_position, image, annotations
        if consumed != len(ids):
            orphan = next(p for p in range(len(ids)) if int(ids[p]) not in seen)
            raise ParseError(path, f"image_id {int(ids[orphan])} names no image", f"/annotations/{orphan}/image_id")


def _loads(data: bytes, path: str, pointer: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ParseError(path, f"invalid JSON: {error.msg}", pointer) from error


def _image_id_of(obj: Any, path: str, position: int) -> int:
    image_id = obj.get("image_id") if isinstance(obj, dict) else None
    if type(image_id) is not int:
        raise ParseError(path, f"image_id {image_id!r} names no image", f"/annotations/{position}/image_id")
    return image_id
