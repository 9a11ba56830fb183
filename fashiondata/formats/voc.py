"""Pascal VOC XML annotations, one file per image, as LabelImg and the VOC devkit write them.

Spec: the VOC2012 development kit, section "Annotation" (http://host.robots.ox.ac.uk/pascal/VOC/voc2012/
devkit_doc.pdf) and LabelImg's writer/reader ``libs/pascal_voc_io.py``
(https://github.com/HumanSignal/labelImg). On disk::

    Annotations/                    (any folder; read recursively, every *.xml)
      img_0001.xml                  <annotation>
      sub/img_0002.xml                <folder>samples</folder>            (ignored)
                                      <filename>img_0001.jpg</filename>   → ImageRecord.file_name
                                      <path>C:\\Users\\…\\img_0001.jpg</path> (ignored: never a write path)
                                      <size><width>640</width><height>480</height><depth>3</depth></size>
                                      <object>                            (none: a negative image)
                                        <name>Dresses</name>              → the category, by name
                                        <pose>Unspecified</pose>          → attributes["pose"]
                                        <truncated>0</truncated>          → attributes["truncated"]
                                        <difficult>0</difficult>          → attributes["difficult"]
                                        <bndbox><xmin>134</xmin><ymin>2</ymin><xmax>486</xmax><ymax>632</ymax></bndbox>
                                        <polygon><x1>…</x1><y1>…</y1><x2>…</x2>…</polygon>  (optional, Roboflow's)
                                      </object>

Elements are found by tag name, never by position, with lxml and entity resolution, DTD loading and
network access off; a file declaring entities is refused (no entity expansion, no external entities).
CRLF files and Windows ``<path>`` values are read like any other. Box numbers keep their type:
``134`` stays an int, ``5.5`` a float; coordinates are taken as written (as LabelImg, Datumaro and the
TF Object Detection API's ``create_pascal_tf_record.py`` do: no 1-based shift). A ``<size>`` missing or
0 is read from the image header under the ``images`` root. Categories are the names in sorted order,
ids from 1, unless a ``label_map`` fixes them. ``<part>`` and ``<actions>`` (person layout) are not
read, and counted.

The writer makes LabelImg-compatible files (tab-indented, no XML declaration, ``pose``/``truncated``/
``difficult`` always present) in a staged output folder, one ``<stem>.xml`` per image, in a ``split``
subfolder when records have one; polygons go to ``<polygon>`` (one per ring); RLE masks, keypoints and
``iscrowd`` cannot be held and are dropped with a count in the report.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.formats.coco import gc_paused
from fashiondata.formats.label_map import read_label_map, table_for_names
from fashiondata.io import image_size, join_inside, safe_relative_path, staged_dir
from fashiondata.lazy import LazyModule
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord, Polygons, Rle
from fashiondata.registry import FormatOption, FormatSpec, register_format

if TYPE_CHECKING:
    from lxml import etree
else:
    etree = LazyModule("lxml.etree")


@functools.cache
def _parser() -> etree.XMLParser:
    """lxml's parser with entity resolution, DTD loading and network access off."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False
    )


_POLYGON_COORD = re.compile(r"([xy])(\d+)")
_FLAGS = {"0": 0, "1": 1, "false": 0, "true": 1, "no": 0, "yes": 1}
_UNREAD = ("part", "actions")
_FLAG_TAGS = ("truncated", "difficult", "occluded")
_BOX_TAGS = ("xmin", "ymin", "xmax", "ymax")
_OBJECT_TEXT_TAGS = frozenset(("name", "pose", *_FLAG_TAGS))


class VocObject(NamedTuple):
    """One ``<object>``: its class name, box, optional polygons and kept attributes."""

    name: str
    bbox: BBox
    polygons: Polygons | None
    attributes: dict[str, Any]


class VocImage(NamedTuple):
    """One parsed annotation file; ``unread`` counts elements not read, by reason."""

    file_name: str
    width: int
    height: int
    objects: tuple[VocObject, ...]
    unread: tuple[tuple[str, int], ...] = ()


# ---------------------------------------------------------------- numbers


def parse_number(text: str | None, path: object, location: str) -> int | float:
    """``"134"`` → 134, ``"5.5"`` → 5.5; anything else (empty, NaN, infinity) is a ParseError."""
    value = (text or "").strip()
    if "_" not in value:  # Python's int()/float() accept 1_000; VOC tools do not
        try:
            return int(value)
        except ValueError:
            pass
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
            raise ParseError(path, f"expected a finite number, got {value!r}", location)
    raise ParseError(path, f"expected a number, got {value!r}", location)


def format_number(value: float) -> str:
    """Compact text of a coordinate: integers without ``.0``, floats rounded to 6 decimals.

    >>> [format_number(v) for v in (134, 4.0, 0.1 + 0.2, 5.5)]
    ['134', '4', '0.3', '5.5']
    """
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(round(float(value), 6))


# ---------------------------------------------------------------- parsing (pure functions)


def parse_xml(data: bytes, path: object) -> etree._Element:
    """The root element of a VOC file; syntax errors and entity declarations are ParseErrors."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        line = error.position[0] if error.position else error.lineno
        raise ParseError(path, f"invalid XML: {error.msg}", f"line {line}" if line else None) from error
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ParseError(
            path, "the file declares XML entities: refused (no entity expansion, no external entities)", "DOCTYPE"
        )
    if root.tag != "annotation":
        raise ParseError(path, f"not a VOC annotation: the root element is <{root.tag}>", f"/{root.tag}")
    return root


def _first_children(element: etree._Element) -> dict[Any, etree._Element]:
    """The first child element of each tag (what ``find(tag)`` gives), in one pass."""
    found: dict[Any, etree._Element] = {}
    for child in element:
        found.setdefault(child.tag, child)
    return found


def _text(children: dict[Any, etree._Element], tag: str) -> str | None:
    """The stripped text of the first child with this tag (None when absent)."""
    child = children.get(tag)
    text = child.text if child is not None else None
    return text.strip() if text is not None else None


def _flag(text: str, path: object, location: str) -> int:
    value = _FLAGS.get(text.strip().lower())
    if value is None:
        raise ParseError(path, f"expected 0 or 1, got {text!r}", location)
    return value


def parse_polygon(element: etree._Element, path: object, location: str) -> list[float]:
    """A ``<polygon>`` as a flat ring: ``<x1>…</x1><y1>…</y1>…`` (Roboflow) or ``<pt><x>…</x><y>…</y></pt>…``."""
    points = element.findall("pt")
    if points:
        ring: list[float] = []
        for index, point in enumerate(points, 1):
            children = _first_children(point)
            for tag in ("x", "y"):
                ring.append(parse_number(_text(children, tag), path, f"{location}/pt[{index}]/{tag}"))
        return ring
    coords: dict[int, dict[str, int | float]] = {}
    for child in element:
        match = _POLYGON_COORD.fullmatch(child.tag) if isinstance(child.tag, str) else None
        if match:
            axis, number = match.group(1), int(match.group(2))
            coords.setdefault(number, {})[axis] = parse_number(child.text, path, f"{location}/{child.tag}")
    ring = []
    for number in sorted(coords):
        if len(coords[number]) != 2:
            raise ParseError(path, f"point {number} lacks its x or y", location)
        ring.extend((coords[number]["x"], coords[number]["y"]))
    if len(ring) < 6:
        raise ParseError(path, f"a polygon needs at least 3 points, got {len(ring) // 2}", location)
    return ring


def parse_object(element: etree._Element, path: object, location: str, unread: Counter[str] | None = None) -> VocObject:
    """One ``<object>`` element; ``<part>``/``<actions>`` children are counted in ``unread``."""
    children: dict[Any, etree._Element] = {}
    polygon_elements = []
    for child in element:
        tag = child.tag
        if tag == "polygon":
            polygon_elements.append(child)
        elif tag not in children:
            children[tag] = child
        elif tag in _UNREAD and unread is not None:
            unread[tag] += 1
    if unread is not None:
        for tag in _UNREAD:
            if tag in children:
                unread[tag] += 1
    texts = {tag: child.text for tag, child in children.items() if tag in _OBJECT_TEXT_TAGS}
    name = texts.get("name")
    name = name.strip() if name is not None else None
    if not name:
        raise ParseError(path, "object has no <name>", f"{location}/name")
    attributes: dict[str, Any] = {}
    pose = texts.get("pose")
    if pose is not None:
        attributes["pose"] = pose.strip()
    for tag in _FLAG_TAGS:
        text = texts.get(tag)
        text = text.strip() if text is not None else None
        if text:
            value = _FLAGS.get(text.lower())
            attributes[tag] = value if value is not None else _flag(text, path, f"{location}/{tag}")
    rings = [
        parse_polygon(polygon, path, f"{location}/polygon[{index}]")
        for index, polygon in enumerate(polygon_elements, 1)
    ]
    polygons = Polygons(tuple(rings)) if rings else None
    box_element = children.get("bndbox")
    if box_element is not None:
        box = _first_children(box_element)
        xmin, ymin, xmax, ymax = [
            parse_number(box[tag].text if tag in box else None, path, f"{location}/bndbox/{tag}") for tag in _BOX_TAGS
        ]
        if xmax < xmin or ymax < ymin:
            raise ParseError(
                path, f"box has xmax < xmin or ymax < ymin: {[xmin, ymin, xmax, ymax]}", f"{location}/bndbox"
            )
        bbox = BBox(xmin, ymin, xmax - xmin, ymax - ymin)
    elif polygons is not None:
        bbox = polygons.bbox()
    else:
        raise ParseError(path, "object has neither <bndbox> nor <polygon>", location)
    return VocObject(name, bbox, polygons, attributes)


def parse_voc(data: bytes, path: object, *, images_root: str | None = None) -> VocImage:
    """One VOC annotation file's bytes into a :class:`VocImage`."""
    root = parse_xml(data, path)
    children: dict[Any, etree._Element] = {}
    elements = []
    for child in root:
        if child.tag == "object":
            elements.append(child)
        else:
            children.setdefault(child.tag, child)
    raw_name = _text(children, "filename")
    if not raw_name:
        raise ParseError(path, "no <filename>", "/annotation/filename")
    try:
        file_name = safe_relative_path(raw_name)
    except ValidationError as error:
        raise ParseError(path, str(error), "/annotation/filename") from None
    width = height = 0
    if "size" in children:
        size = _first_children(children["size"])
        for tag in ("width", "height"):
            text = _text(size, tag)
            if text:
                value = parse_number(text, path, f"/annotation/size/{tag}")
                if value != int(value) or value < 0:
                    raise ParseError(
                        path, f"{tag} must be a non-negative integer, got {text!r}", f"/annotation/size/{tag}"
                    )
                width, height = (int(value), height) if tag == "width" else (width, int(value))
    if width <= 0 or height <= 0:
        if images_root is None:
            raise ParseError(
                path,
                "no image size in <size>: give the images folder (--images) to read it from the image",
                "/annotation/size",
            )
        width, height = image_size(join_inside(images_root, file_name))
    unread: Counter[str] = Counter()
    objects = tuple(
        parse_object(element, path, f"/annotation/object[{index}]", unread) for index, element in enumerate(elements, 1)
    )
    return VocImage(
        file_name,
        width,
        height,
        objects,
        tuple((f"VOC <{tag}> elements not read", count) for tag, count in sorted(unread.items())),
    )


def to_record(image: VocImage, category_ids: dict[str, int]) -> ImageRecord:
    """The :class:`ImageRecord` of a parsed file, classes resolved by name."""
    annotations = tuple(
        Annotation(
            category_id=category_ids[obj.name],
            bbox=obj.bbox,
            segmentation=obj.polygons,
            attributes=obj.attributes or {},
        )
        for obj in image.objects
    )
    return ImageRecord(file_name=image.file_name, width=image.width, height=image.height, annotations=annotations)


# ---------------------------------------------------------------- formatting (pure functions)


def _add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def format_voc(record: ImageRecord, categories: CategoryTable, lossy: Counter[str] | None = None) -> bytes:
    """LabelImg-style XML bytes of one record; what VOC cannot hold is counted in ``lossy``."""
    lossy = lossy if lossy is not None else Counter()
    root = etree.Element("annotation")
    folder, _, _ = record.file_name.rpartition("/")
    _add(root, "folder", folder.rsplit("/", 1)[-1])
    _add(root, "filename", record.file_name)
    _add(_add(root, "source"), "database", "Unknown")
    size = _add(root, "size")
    _add(size, "width", str(record.width))
    _add(size, "height", str(record.height))
    _add(size, "depth", "3")
    _add(root, "segmented", "0")
    for ann in record.annotations:
        obj = _add(root, "object")
        _add(obj, "name", categories.get(ann.category_id).name)
        _add(obj, "pose", str(ann.attributes.get("pose", "Unspecified")))
        for tag in ("truncated", "difficult"):
            _add(obj, tag, str(int(ann.attributes.get(tag, 0))))
        if "occluded" in ann.attributes:
            _add(obj, "occluded", str(int(ann.attributes["occluded"])))
        seg = ann.segmentation
        bbox = ann.bbox if ann.bbox is not None else raster.mask_bbox(seg, record.height, record.width)  # type: ignore[arg-type]
        box = _add(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), bbox.xyxy):
            _add(box, tag, format_number(value))
        if isinstance(seg, Polygons):
            for ring in seg.rings:
                polygon = _add(obj, "polygon")
                for index in range(len(ring) // 2):
                    _add(polygon, f"x{index + 1}", format_number(ring[2 * index]))
                    _add(polygon, f"y{index + 1}", format_number(ring[2 * index + 1]))
        elif isinstance(seg, Rle):
            lossy["RLE mask dropped (VOC holds boxes and polygons), box kept"] += 1
        if ann.keypoints is not None:
            lossy["keypoints dropped (VOC holds none)"] += 1
        if ann.iscrowd:
            lossy["iscrowd dropped (VOC has no crowd flag)"] += 1
    etree.indent(root, space="\t")
    return etree.tostring(root, encoding="utf-8") + b"\n"


def xml_name(record: ImageRecord) -> str:
    """The relative path of a record's XML file: ``[split/]<file name without extension>.xml``."""
    base = safe_relative_path(record.file_name)
    stem = base.rsplit(".", 1)[0] if "." in base.rsplit("/", 1)[-1] else base
    return f"{safe_relative_path(record.split)}/{stem}.xml" if record.split else f"{stem}.xml"


# ---------------------------------------------------------------- read / write


def sources(path: str | os.PathLike[str]) -> list[str]:
    """Every ``*.xml`` under a folder (sorted), or the file itself."""
    p = Path(path)
    if p.is_dir():
        return sorted(str(f) for f in p.rglob("*.xml") if f.is_file())
    return [str(p)]


@dataclasses.dataclass(frozen=True)
class ParseVocFile:
    """Picklable per-file step for ``ctx.map_items``: read and parse one XML file."""

    images_root: str | None = None

    def __call__(self, path: str) -> tuple[str, VocImage]:
        with open(path, "rb") as f:
            return path, parse_voc(f.read(), path, images_root=self.images_root)


def read(paths: Sequence[str], ctx: RunContext, *, images: str | None = None, label_map: str | None = None) -> Dataset:
    """Read VOC XML files (folders are searched recursively) into a materialised dataset."""
    files = [f for p in paths for f in sources(p)]
    if not files:
        raise ValidationError(f"no *.xml file under {', '.join(paths)}")
    fixed = read_label_map(label_map) if label_map else None
    parsed: list[tuple[str, VocImage]] = []
    seen: dict[str, str] = {}
    with gc_paused():  # acyclic objects only: no collector walks over the files parsed so far
        for path, image in ctx.map_items(ParseVocFile(images), files, desc="read voc"):
            if image.file_name in seen:
                ctx.fail(
                    ParseError(
                        path,
                        f"filename {image.file_name!r} is also annotated by {seen[image.file_name]}",
                        "/annotation/filename",
                    ),
                    path,
                )
                continue
            seen[image.file_name] = path
            for reason, count in image.unread:
                ctx.report.skip(reason, count=count)
            parsed.append((path, image))
        table = _table(parsed, fixed, label_map)
        ids = {c.name: c.id for c in table}
        records = tuple(to_record(image, ids) for _, image in parsed)
    return Dataset(table, records, {}, tuple(paths))


def _table(parsed: list[tuple[str, VocImage]], fixed: CategoryTable | None, label_map: str | None) -> CategoryTable:
    names = {obj.name for _, image in parsed for obj in image.objects}
    if fixed is not None:
        known = set(fixed.names)
        for path, image in parsed:
            for index, obj in enumerate(image.objects, 1):
                if obj.name not in known:
                    raise ParseError(
                        path,
                        f"class {obj.name!r} is not in the label map {label_map}",
                        f"/annotation/object[{index}]/name",
                    )
    return table_for_names(names, fixed)


def write(dataset: Dataset, destination: str, ctx: RunContext) -> None:
    """Write one LabelImg-compatible XML per image into the folder ``destination`` (staged)."""
    records = sorted(dataset.records, key=lambda r: (r.split or "", r.file_name))
    lossy: Counter[str] = Counter()
    names: dict[str, str] = {}
    with staged_dir(destination, overwrite=ctx.overwrite) as stage:
        for record in ctx.progress(records, total=len(records), desc="write voc"):
            name = xml_name(record)
            if name in names:
                raise ValidationError(f"{record.file_name!r} and {names[name]!r} would both be written to {name}")
            names[name] = record.file_name
            target = join_inside(stage, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(format_voc(record, dataset.categories, lossy))
    for reason, count in sorted(lossy.items()):
        ctx.report.lose(reason, count)
    ctx.report.written["images"] += len(records)
    ctx.report.written["annotations"] += sum(len(r.annotations) for r in records)
    ctx.report.outputs.append(str(destination))


def sniff(path: str) -> bool:
    """A VOC ``.xml`` file, or a folder whose first XML file is one (LabelMe XML excluded)."""
    candidates = sources(path) if os.path.isdir(path) else [path] if path.lower().endswith(".xml") else []
    for candidate in candidates[:1]:
        try:
            with open(candidate, "rb") as f:
                head = f.read(4096)
        except OSError:
            return False
        return b"<annotation" in head and b"<imagesize" not in head
    return False


SPEC = register_format(
    FormatSpec(
        name="voc",
        description="Pascal VOC / LabelImg XML, one file per image (boxes, polygons)",
        aliases=("pascal_voc", "labelimg"),
        capabilities=frozenset({"boxes", "polygons", "negatives", "attributes"}),
        sniff=sniff,
        read=read,
        write=write,
        read_options=(
            FormatOption("images", "Image root folder (image sizes when <size> is missing).", "path"),
            FormatOption("label_map", "label_map.pbtxt fixing category ids (a class it lacks is an error).", "path"),
        ),
        output="dir",
        spec_url="http://host.robots.ox.ac.uk/pascal/VOC/voc2012/devkit_doc.pdf",
    )
)
