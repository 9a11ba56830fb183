"""The box CSV of the TF Object Detection API tutorials (``xml_to_csv.py``), format name ``csv``.

One row per box, with exactly these columns (datitran/raccoon_dataset's ``xml_to_csv.py``, which the
product-image seed and most OD API tutorials use before ``generate_tfrecord.py``)::

    labels.csv
      filename,width,height,class,xmin,ymin,xmax,ymax
      10100881_b44d….thumbnail.jpg,640,640,Pants_Leggings,134,2,486,632

Values are absolute pixels; integers stay integers (``134``, never ``134.0``), other numbers are
compact floats. Rows come in file-name order, then object order. Images without objects cannot be
written (the format has no row for them): they are counted in the report as not representable.
Only boxes are held: segmentations and keypoints are dropped with a count.

Reading needs the exact header (columns in any order), groups rows by ``filename`` (which must keep
one size), and names categories by ``class``: sorted names with ids from 1, or ids from a
``label_map``. Errors name the line.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.formats.label_map import read_label_map, table_for_names
from fashiondata.formats.voc import format_number, parse_number
from fashiondata.io import open_atomic, safe_relative_path
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord
from fashiondata.registry import FormatOption, FormatSpec, register_format

COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax")
NOT_REPRESENTABLE = "image without objects: not representable in csv (one row per box)"


# ---------------------------------------------------------------- parsing (pure functions)


def parse_rows(text: str, path: object) -> tuple[list[tuple[str, int, int, list[tuple[str, BBox]]]], set[str]]:
    """Rows grouped by file name, in first-appearance order: ``[(file_name, w, h, [(class, bbox)])]``,
    and the set of class names."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise ParseError(path, "empty file: expected the header " + ",".join(COLUMNS), "line 1")
    header = [h.strip() for h in header]
    if sorted(header) != sorted(COLUMNS):
        raise ParseError(
            path, f"header must hold exactly the columns {','.join(COLUMNS)}, got {','.join(header)}", "line 1"
        )
    column = {name: header.index(name) for name in COLUMNS}
    images: dict[str, tuple[str, int, int, list[tuple[str, BBox]]]] = {}
    names: set[str] = set()
    for row in reader:
        line = f"line {reader.line_num}"
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            raise ParseError(path, f"expected {len(COLUMNS)} values, got {len(row)}", line)
        try:
            file_name = safe_relative_path(row[column["filename"]].strip())
        except ValidationError as error:
            raise ParseError(path, str(error), line) from None
        width, height = (_size(row[column[key]], path, f"{line} column {key}") for key in ("width", "height"))
        name = row[column["class"]].strip()
        if not name:
            raise ParseError(path, "empty class", f"{line} column class")
        xmin, ymin, xmax, ymax = (
            parse_number(row[column[key]], path, f"{line} column {key}") for key in ("xmin", "ymin", "xmax", "ymax")
        )
        if xmax < xmin or ymax < ymin:
            raise ParseError(path, f"box has xmax < xmin or ymax < ymin: {[xmin, ymin, xmax, ymax]}", line)
        entry = images.setdefault(file_name, (file_name, width, height, []))
        if (entry[1], entry[2]) != (width, height):
            raise ParseError(
                path, f"{file_name!r} has size {width}x{height} here but {entry[1]}x{entry[2]} above", line
            )
        entry[3].append((name, BBox(xmin, ymin, xmax - xmin, ymax - ymin)))
        names.add(name)
    return list(images.values()), names


def _size(text: str, path: object, location: str) -> int:
    value = parse_number(text, path, location)
    if not isinstance(value, int) or value <= 0:
        raise ParseError(path, f"expected a positive integer, got {text!r}", location)
    return value


def format_rows(records: Sequence[ImageRecord], categories: CategoryTable, lossy: Counter[str]) -> list[list[str]]:
    """The CSV rows (header first) of records, in file-name then object order."""
    rows = [list(COLUMNS)]
    for record in sorted(records, key=lambda r: r.file_name):
        for ann in record.annotations:
            bbox = ann.bbox
            if bbox is None:
                bbox = raster.mask_bbox(ann.segmentation, record.height, record.width)  # type: ignore[arg-type]
                lossy["box derived from the segmentation (csv holds boxes)"] += 1
            if ann.segmentation is not None:
                lossy["segmentation dropped (csv holds boxes)"] += 1
            if ann.keypoints is not None:
                lossy["keypoints dropped (csv holds boxes)"] += 1
            rows.append(
                [record.file_name, str(record.width), str(record.height), categories.get(ann.category_id).name]
                + [format_number(v) for v in bbox.xyxy]
            )
    return rows


# ---------------------------------------------------------------- read / write


def read(paths: Sequence[str], ctx: RunContext, *, label_map: str | None = None) -> Dataset:
    """Read one or more box CSV files into one dataset."""
    fixed = read_label_map(label_map) if label_map else None
    grouped: dict[str, tuple[str, int, int, list[tuple[str, BBox]]]] = {}
    names: set[str] = set()
    for path in ctx.progress(paths, total=len(paths), desc="read csv"):
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            line = error.object.count(b"\n", 0, error.start) + 1
            raise ParseError(path, f"not UTF-8 text: {error.reason}", f"line {line}") from error
        images, file_names = parse_rows(text, path)
        for image in images:
            if image[0] in grouped:
                raise ParseError(path, f"{image[0]!r} also appears in another CSV file")
            grouped[image[0]] = image
        names |= file_names
    if fixed is not None and (missing := sorted(names - set(fixed.names))):
        raise ValidationError(f"class {missing[0]!r} (in {', '.join(paths)}) is not in the label map {label_map}")
    table = table_for_names(names, fixed)
    ids = {c.name: c.id for c in table}
    records = tuple(
        ImageRecord(
            file_name=file_name,
            width=width,
            height=height,
            annotations=tuple(Annotation(category_id=ids[name], bbox=bbox) for name, bbox in boxes),
        )
        for file_name, width, height, boxes in grouped.values()
    )
    return Dataset(table, records, {}, tuple(paths))


def write(dataset: Dataset, destination: str, ctx: RunContext) -> None:
    """Write the box CSV atomically; images without boxes are counted as not representable."""
    records = list(dataset.records)
    lossy: Counter[str] = Counter()
    rows = format_rows(records, dataset.categories, lossy)
    with open_atomic(destination, "w", overwrite=ctx.overwrite) as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    for record in sorted(records, key=lambda r: r.file_name):
        if not record.annotations:
            ctx.report.skip(NOT_REPRESENTABLE, item=record.file_name)
    for reason, count in sorted(lossy.items()):
        ctx.report.lose(reason, count)
    ctx.report.written["images"] += sum(1 for r in records if r.annotations)
    ctx.report.written["annotations"] += len(rows) - 1
    ctx.report.outputs.append(str(destination))


def sniff(path: str) -> bool:
    """A ``.csv`` file whose first line is the box header."""
    if not path.lower().endswith(".csv") or not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        first = f.readline(4096).decode("utf-8-sig", "replace").strip()
    return sorted(c.strip() for c in first.split(",")) == sorted(COLUMNS)


SPEC = register_format(
    FormatSpec(
        name="csv",
        description="Box CSV filename,width,height,class,xmin,ymin,xmax,ymax (TF OD API tutorials)",
        capabilities=frozenset({"boxes"}),
        sniff=sniff,
        read=read,
        write=write,
        read_options=(
            FormatOption("label_map", "label_map.pbtxt fixing category ids (a class it lacks is an error).", "path"),
        ),
        output="file",
        spec_url="https://github.com/datitran/raccoon_dataset/blob/master/xml_to_csv.py",
    )
)
