"""A preview grid: a PNG of ``cols × rows`` tiles, each an image with its filled masks, boxes and labels.

The images are chosen deterministically: records sorted by (split, file name), then
``random.Random(seed).sample``; with categories asked for, only images holding one of them. Each tile
is ``tile_size`` pixels square: the image scaled to fit (aspect kept, letterboxed on dark gray), masks
decoded at the image's size (pycocotools) and scaled with nearest-neighbour, then drawn with OpenCV:
masks filled at :data:`MASK_ALPHA` opacity, polygon outlines, boxes (the annotation's, else the
mask's extent) and the category name on a filled label. Each category keeps one colour (evenly spread
hues, in category-table order). An image that cannot be read follows ``on_error``: raise, or count it
as skipped and draw its labels on a blank canvas of the record's size.
"""

from __future__ import annotations

import colorsys
import os
import random
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.detectors import read_image
from fashiondata.errors import FashionDataError, ValidationError
from fashiondata.filters import find_image
from fashiondata.io import write_bytes_atomic
from fashiondata.model import CategoryTable, ImageRecord, Polygons

MASK_ALPHA = 0.45
BACKGROUND = (40, 40, 40)
BLANK = (128, 128, 128)
MAX_GRID_SIDE = 16


def parse_grid(grid: str | tuple[int, int]) -> tuple[int, int]:
    """``"4x4"`` or ``(cols, rows)`` → (cols, rows), each 1..16.

    >>> parse_grid("3x2"), parse_grid((2, 5))
    ((3, 2), (2, 5))
    """
    if isinstance(grid, str):
        cols_text, sep, rows_text = grid.lower().partition("x")
        if not sep or not cols_text.strip().isdigit() or not rows_text.strip().isdigit():
            raise ValidationError(f"--grid {grid!r}: write COLSxROWS, such as 4x4")
        grid = (int(cols_text), int(rows_text))
    cols, rows = grid
    if not (1 <= cols <= MAX_GRID_SIDE and 1 <= rows <= MAX_GRID_SIDE):
        raise ValidationError(f"--grid {cols}x{rows}: each side must be 1..{MAX_GRID_SIDE}")
    return cols, rows


def choose_records(records: Sequence[ImageRecord], count: int, *, seed: int, annotated_only: bool) -> list[ImageRecord]:
    """Up to ``count`` records, a seeded sample of the records sorted by (split, file name)."""
    candidates = sorted(
        (r for r in records if r.annotations or not annotated_only), key=lambda r: (r.split or "", r.file_name)
    )
    return random.Random(seed).sample(candidates, min(count, len(candidates)))


def category_colors(categories: CategoryTable) -> dict[int, tuple[int, int, int]]:
    """A BGR colour per category id: hues spread by the golden ratio, in table order."""
    colors = {}
    for index, category in enumerate(categories):
        r, g, b = colorsys.hsv_to_rgb((index * 0.618033988749895) % 1.0, 0.75, 1.0)
        colors[category.id] = (int(b * 255), int(g * 255), int(r * 255))
    return colors


def draw_tile(
    image: np.ndarray,
    record: ImageRecord,
    *,
    categories: CategoryTable,
    colors: dict[int, tuple[int, int, int]],
    tile_size: int,
) -> np.ndarray:
    """One ``tile_size``² BGR tile: the image scaled to fit with the record's annotations drawn on it."""
    scale = tile_size / max(record.width, record.height)
    width, height = max(1, round(record.width * scale)), max(1, round(record.height * scale))
    canvas = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    fallback = (255, 255, 255)
    for ann in record.annotations:
        if ann.segmentation is None:
            continue
        mask = raster.decode(ann.segmentation, record.height, record.width)
        mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST).astype(bool)
        fill = np.array(colors.get(ann.category_id, fallback), dtype=np.float32)
        canvas[mask] = (canvas[mask] * (1 - MASK_ALPHA) + fill * MASK_ALPHA).astype(np.uint8)
        if isinstance(ann.segmentation, Polygons):
            for ring in ann.segmentation.rings:
                points = np.round(np.asarray(ring, dtype=np.float64).reshape(-1, 2) * scale).astype(np.int32)
                cv2.polylines(canvas, [points], True, colors.get(ann.category_id, fallback), 1, cv2.LINE_AA)
    for ann in record.annotations:
        bbox = ann.bbox
        if bbox is None and ann.segmentation is not None:
            bbox = raster.mask_bbox(ann.segmentation, record.height, record.width)
        if bbox is None:
            continue
        color = colors.get(ann.category_id, fallback)
        x1, y1 = round(bbox.x * scale), round(bbox.y * scale)
        x2, y2 = round((bbox.x + bbox.w) * scale), round((bbox.y + bbox.h) * scale)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, 1, cv2.LINE_AA)
        name = categories.get(ann.category_id).name if ann.category_id in categories else str(ann.category_id)
        _label(canvas, name, x1, y1, color)
    tile = np.full((tile_size, tile_size, 3), BACKGROUND, dtype=np.uint8)
    top, left = (tile_size - height) // 2, (tile_size - width) // 2
    tile[top : top + height, left : left + width] = canvas
    return tile


def _label(canvas: np.ndarray, text: str, x: int, y: int, color: tuple[int, int, int]) -> None:
    font, size, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1
    (text_w, text_h), baseline = cv2.getTextSize(text, font, size, thickness)
    top = max(0, y - text_h - baseline - 2)
    x = min(max(0, x), max(0, canvas.shape[1] - text_w - 2))
    cv2.rectangle(canvas, (x, top), (x + text_w + 2, top + text_h + baseline + 2), color, cv2.FILLED)
    luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(canvas, text, (x + 1, top + text_h + 1), font, size, ink, thickness, cv2.LINE_AA)


def compose(tiles: Sequence[np.ndarray], *, cols: int, rows: int, tile_size: int) -> np.ndarray:
    """Tiles laid out row by row; cells without a tile stay background."""
    grid = np.full((rows * tile_size, cols * tile_size, 3), BACKGROUND, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        row, col = divmod(index, cols)
        grid[row * tile_size : (row + 1) * tile_size, col * tile_size : (col + 1) * tile_size] = tile
    return grid


def write_preview(
    dataset: Dataset,
    output: str | os.PathLike[str],
    ctx: RunContext,
    *,
    image_root: str,
    grid: str | tuple[int, int] = "4x4",
    seed: int = 0,
    tile_size: int = 320,
    require_categories: bool = False,
) -> dict[str, Any]:
    """Choose, draw and write the grid PNG; returns (and puts in ``report.data["preview"]``) what it shows."""
    cols, rows = parse_grid(grid)
    if not 16 <= tile_size <= 2048:
        raise ValidationError(f"--tile-size {tile_size}: choose 16..2048 pixels")
    records = list(dataset.records)
    chosen = choose_records(records, cols * rows, seed=seed, annotated_only=require_categories)
    colors = category_colors(dataset.categories)
    tiles = []
    for record in ctx.progress(chosen, total=len(chosen), desc="preview"):
        try:
            image = read_image(find_image(image_root, record.file_name, record.split))
        except (FashionDataError, OSError) as error:
            ctx.fail(error, record.file_name)
            image = np.full((record.height, record.width, 3), BLANK, dtype=np.uint8)
        tiles.append(draw_tile(image, record, categories=dataset.categories, colors=colors, tile_size=tile_size))
    ok, png = cv2.imencode(".png", compose(tiles, cols=cols, rows=rows, tile_size=tile_size))
    if not ok:
        raise ValidationError("OpenCV could not encode the preview PNG")
    write_bytes_atomic(output, png.tobytes(), overwrite=ctx.overwrite)
    result = {
        "grid": [cols, rows],
        "size": [cols * tile_size, rows * tile_size],
        "images": [r.file_name for r in chosen],
    }
    ctx.report.written["preview tiles"] += len(chosen)
    ctx.report.outputs.append(os.fspath(output))
    ctx.report.data["preview"] = result
    return result
