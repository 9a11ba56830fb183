"""VGG Image Annotator (VIA) JSON exports → the canonical model (read only).

Spec: VIA has no written format spec; its reference implementation is the spec, ox-vgg/via
(https://gitlab.com/vgg/via, mirrored at https://github.com/ox-vgg/via):

* **VIA 1.x** (``via-1.x.y/via.js``, ``import_annotations_from_json``): the top level maps an image key
  ``filename + size`` to ``{"fileref", "size", "filename", "base64_img_data", "file_attributes",
  "regions"}`` with ``regions`` an **object** ``{"0": {"shape_attributes", "region_attributes"}}``.
  VIA 1.0 wrote ``base64_data`` instead of ``base64_img_data``.
* **VIA 2.x** (``via-2.x.y/src/via.js``: ``project_save_with_confirm``, ``import_annotations_from_json``,
  ``export_project_to_coco_format``): a project file is ``{"_via_settings", "_via_img_metadata",
  "_via_attributes": {"region": {...}, "file": {...}}, "_via_data_format_version",
  "_via_image_id_list"}``; "Export annotations (as json)" writes only the ``_via_img_metadata`` object.
  ``regions`` is a **list**; ``size`` may be a string or -1 (a remote file); attributes of type
  ``radio``/``dropdown`` store an option id (its label is ``options[id]``), ``checkbox`` stores
  ``{option_id: true}``, ``text`` stores the text.
* **Shapes** (``shape_attributes``): ``rect`` x, y, width, height; ``circle`` cx, cy, r; ``ellipse``
  cx, cy, rx, ry and, since 2.0.9, ``theta`` (radians, the rotation used by
  ``via_region_shape_to_coco_annotation``); ``polygon``/``polyline`` all_points_x, all_points_y;
  ``point`` cx, cy.
* **VIA 3.x** (``via-3.x.y/src/js/_via_metadata.js``, ``_via_attribute.js``, ``via-3.x.y/README.md``):
  ``{"project", "config", "attribute", "file", "view", "metadata"}``. A metadata item is
  ``{"vid", "flg", "z", "xy", "av"}`` where ``xy = [shape_id, ...]`` with POINT 1 ``[x, y]``,
  RECTANGLE 2 ``[x, y, w, h]``, CIRCLE 3 ``[cx, cy, r]``, ELLIPSE 4 ``[cx, cy, rx, ry]``, LINE 5,
  POLYLINE 6 and POLYGON 7 ``[x1, y1, ...]``, EXTREME_RECTANGLE 8 (four extreme points) and
  EXTREME_CIRCLE 9 (three points on the circle); ``av`` maps attribute ids to values; attribute
  ``type`` is TEXT 1, CHECKBOX 2, RADIO 3, SELECT 4, IMAGE 5. An empty ``xy`` carries file attributes.

On disk (images beside the project, or anywhere given with ``--images``)::

    project/
      via_region_data.json     VIA 1.x/2.x/3.x JSON (CSV exports are not read)
      shorts1.jpeg             image files; VIA stores no width/height, so they are read
      images/00011384.jpg      from these images' headers

Reading rules:

* one annotation per polygon, rect (box + 4-point polygon), circle and ellipse (a 64-vertex polygon
  whose area is 99.84 % of the true one: counted as lossy); a polyline of 3 or more points becomes a
  polygon (lossy); points and shorter lines are skipped (counted);
* the category comes from one region attribute (``label_attribute``; by default the only one there
  is): option ids become their labels (an empty label falls back to the id), text values are names,
  a region without a value gets the category ``unlabeled``; declared options come first, in order,
  then other names in order of appearance, with ids from 1;
* other region attributes go to annotation attributes and file attributes to image attributes
  (option ids as labels, checkboxes as lists of labels);
* images are looked up under the image folder by name (``./`` stripped; then by base name) and,
  when no file has that name, by byte size as in VIA's ``filename + size`` keys (a size shared by
  several unclaimed files is an error); a missing image is a ParseError naming it, or skipped with
  ``on_error="skip"``; sizes come from the headers, read in parallel on the executor;
* a VIA attribute-definition file and a COCO file are refused as "not a VIA export".
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.formats.coco import ANNOTATION_KEYS, IMAGE_KEYS, load_json
from fashiondata.io import image_size, safe_relative_path
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord, Polygons
from fashiondata.registry import FormatOption, FormatSpec, register_format

#: Vertices of the polygon that stands for a circle or an ellipse (area 99.84 % of the true one).
ELLIPSE_VERTICES = 64
UNLABELED = "unlabeled"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")

_V3_POLY_SHAPES = {5: "polyline", 6: "polyline", 7: "polygon"}  # LINE, POLYLINE, POLYGON
_V3_ATTRIBUTE_TYPES = {1: "text", 2: "checkbox", 3: "radio", 4: "dropdown", 5: "image"}
_V3_IMAGE_FILE = 2
_LOSSY_ELLIPSE = f"circle/ellipse region approximated by a {ELLIPSE_VERTICES}-vertex polygon"
_LOSSY_POLYLINE = "polyline region closed into a polygon"


# ---------------------------------------------------------------- the parsed project


@dataclasses.dataclass(frozen=True)
class ViaAttribute:
    """An attribute definition: ``kind`` is text, checkbox, radio, dropdown, image (or "" unknown)."""

    name: str
    kind: str = ""
    options: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def option_label(self, option_id: str) -> str:
        """The label shown for an option id; an empty label falls back to the id."""
        label = self.options.get(option_id)
        return label if isinstance(label, str) and label.strip() else option_id

    def value(self, raw: Any) -> Any:
        """A stored value as a person reads it: option ids → labels, checkboxes → lists of labels.

        >>> ViaAttribute("g", "dropdown", {"ss": "short sleeve"}).value("ss")
        'short sleeve'
        >>> ViaAttribute("p", "checkbox", {"a": "adult", "c": ""}).value({"a": True, "c": True})
        ['adult', 'c']
        """
        if isinstance(raw, dict):
            return [self.option_label(str(k)) for k, on in raw.items() if on]
        if self.kind == "checkbox" and isinstance(raw, str) and self.options:
            return [self.option_label(k) for k in raw.split(",") if k]  # VIA 3: "1,3"
        if isinstance(raw, str) and raw in self.options:
            return self.option_label(raw)
        return raw


@dataclasses.dataclass(frozen=True)
class ViaRegion:
    """One region: its shape in VIA 2's ``shape_attributes`` layout and its attribute values."""

    shape: Mapping[str, Any]
    attributes: Mapping[str, Any]
    pointer: str


@dataclasses.dataclass(frozen=True)
class ViaFile:
    """One image entry: its name and byte size as VIA stored them, attributes and regions."""

    filename: str
    size: int | None
    attributes: Mapping[str, Any]
    regions: tuple[ViaRegion, ...]
    pointer: str


@dataclasses.dataclass(frozen=True)
class ViaProject:
    """A VIA export of any version, normalised."""

    path: str
    files: tuple[ViaFile, ...]
    region_attributes: Mapping[str, ViaAttribute]
    file_attributes: Mapping[str, ViaAttribute]


# ---------------------------------------------------------------- parsing (pure functions)


def json_pointer(*parts: object) -> str:
    """An RFC 6901 pointer (``~`` → ``~0``, ``/`` → ``~1`` inside keys).

    >>> json_pointer("_via_img_metadata", "./images/a.jpg12", "regions", 0)
    '/_via_img_metadata/.~1images~1a.jpg12/regions/0'
    """
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def parse_project(doc: Any, path: str) -> ViaProject:
    """Any VIA JSON export into a :class:`ViaProject`; anything else is a "not a VIA export" error."""
    if not isinstance(doc, dict):
        raise ParseError(path, "not a VIA export: the top level is not a JSON object", "/")
    if "_via_img_metadata" in doc:
        return _parse_v2_project(doc, path)
    if isinstance(doc.get("metadata"), dict) and isinstance(doc.get("file"), dict) and "project" in doc:
        return _parse_v3_project(doc, path)
    if "images" in doc and ("annotations" in doc or "categories" in doc):
        raise ParseError(path, "not a VIA export: this is a COCO file (read it with the coco format)", "/")
    if doc and set(doc) <= {"region", "file"} and all(isinstance(v, dict) for v in doc.values()):
        raise ParseError(
            path, "not a VIA export: this is a VIA attribute definition file (it holds no images or regions)", "/"
        )
    if all(isinstance(v, dict) and "filename" in v for v in doc.values()):
        files = tuple(_parse_file_entry(v, path, json_pointer(k)) for k, v in doc.items())
        return ViaProject(path, files, _attributes_seen(files), {})
    raise ParseError(path, "not a VIA export: expected VIA 1/2 image entries or a VIA 3 project", "/")


def _parse_v2_project(doc: Mapping[str, Any], path: str) -> ViaProject:
    metadata = doc["_via_img_metadata"]
    if not isinstance(metadata, dict):
        raise ParseError(path, "_via_img_metadata must be an object", "/_via_img_metadata")
    order = doc.get("_via_image_id_list")
    keys = [k for k in order if k in metadata] if isinstance(order, list) else []
    keys += [k for k in metadata if k not in set(keys)]
    files = tuple(_parse_file_entry(metadata[k], path, json_pointer("_via_img_metadata", k)) for k in keys)
    declared = doc.get("_via_attributes") or {}
    if not isinstance(declared, dict):
        raise ParseError(path, "_via_attributes must be an object", "/_via_attributes")
    region = _parse_v2_attributes(declared.get("region"), path, "/_via_attributes/region")
    region = {**_attributes_seen(files), **region}
    file = _parse_v2_attributes(declared.get("file"), path, "/_via_attributes/file")
    return ViaProject(path, files, region, file)


def _parse_v2_attributes(obj: Any, path: str, pointer: str) -> dict[str, ViaAttribute]:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise ParseError(path, "attribute definitions must be an object", pointer)
    out: dict[str, ViaAttribute] = {}
    for name, spec in obj.items():
        spec = spec if isinstance(spec, dict) else {}
        options = _options(spec)
        out[name] = ViaAttribute(name, str(spec.get("type") or ""), options)
    return out


def _options(spec: Mapping[str, Any]) -> dict[str, str]:
    """An attribute definition's ``options`` (option id → label), empty when it has none."""
    options = spec.get("options")
    return {str(k): v for k, v in options.items()} if isinstance(options, dict) else {}


def _attributes_seen(files: Iterable[ViaFile]) -> dict[str, ViaAttribute]:
    """Region attributes used by regions, for exports without definitions (VIA 1.x, annotation-only)."""
    seen: dict[str, ViaAttribute] = {}
    for entry in files:
        for region in entry.regions:
            for name in region.attributes:
                seen.setdefault(name, ViaAttribute(name))
    return seen


def _parse_file_entry(obj: Any, path: str, pointer: str) -> ViaFile:
    if not isinstance(obj, dict):
        raise ParseError(path, "an image entry must be an object", pointer)
    filename = obj.get("filename")
    if not isinstance(filename, str) or not filename:
        raise ParseError(path, "filename must be a non-empty string", pointer + "/filename")
    regions_obj = obj.get("regions") or []
    if isinstance(regions_obj, dict):  # VIA 1.x: {"0": {...}, "1": {...}}
        items = list(regions_obj.items())
    elif isinstance(regions_obj, list):
        items = list(enumerate(regions_obj))
    else:
        raise ParseError(path, "regions must be a list or an object", pointer + "/regions")
    regions = []
    for key, region in items:
        region_pointer = f"{pointer}/regions/{json_pointer(key)[1:]}"
        if not isinstance(region, dict):
            raise ParseError(path, "a region must be an object", region_pointer)
        shape = region.get("shape_attributes") or {}
        attributes = region.get("region_attributes") or {}
        if not isinstance(shape, dict) or not isinstance(attributes, dict):
            raise ParseError(path, "shape_attributes and region_attributes must be objects", region_pointer)
        regions.append(ViaRegion(shape, attributes, region_pointer))
    file_attributes = obj.get("file_attributes") or {}
    if not isinstance(file_attributes, dict):
        file_attributes = {}  # some VIA 2 tools write [] for "none"
    return ViaFile(filename, parse_size(obj.get("size")), file_attributes, tuple(regions), pointer)


def parse_size(value: Any) -> int | None:
    """VIA's ``size`` (bytes, an int or a string; -1 for a remote file) or None when unknown.

    >>> parse_size(25544), parse_size("63930"), parse_size(-1), parse_size(None)
    (25544, 63930, None, None)
    """
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _parse_v3_project(doc: Mapping[str, Any], path: str) -> ViaProject:
    attributes: dict[str, ViaAttribute] = {}
    names: dict[str, str] = {}
    region_names: set[str] = set()
    for aid, spec in (doc.get("attribute") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        name = str(spec.get("aname") or aid)
        names[str(aid)] = name
        kind = spec.get("type")
        attributes[name] = ViaAttribute(
            name, _V3_ATTRIBUTE_TYPES.get(kind, "") if isinstance(kind, int) else "", _options(spec)
        )
        if str(spec.get("anchor_id", "")).endswith("_XY1"):
            region_names.add(name)
    files_obj = doc["file"]
    view_file: dict[str, str] = {}
    for vid, view in (doc.get("view") or {}).items():
        fids = view.get("fid_list") if isinstance(view, dict) else None
        if isinstance(fids, list) and len(fids) == 1:
            view_file[str(vid)] = str(fids[0])
    regions: dict[str, list[ViaRegion]] = {str(fid): [] for fid in files_obj}
    file_values: dict[str, dict[str, Any]] = {str(fid): {} for fid in files_obj}
    for mid, item in doc["metadata"].items():
        pointer = json_pointer("metadata", mid)
        if not isinstance(item, dict):
            raise ParseError(path, "a metadata item must be an object", pointer)
        fid = view_file.get(str(item.get("vid")))
        if fid is None or fid not in regions or item.get("z"):
            continue  # temporal (video/audio) or multi-file metadata: not an image region
        values = {names.get(str(k), str(k)): v for k, v in (item.get("av") or {}).items()}
        xy = item.get("xy") or []
        if not xy:
            file_values[fid].update(values)
            continue
        region_names.update(values)
        regions[fid].append(ViaRegion(v3_shape(xy, path, pointer + "/xy"), values, pointer))
    files = []
    for fid, spec in files_obj.items():
        pointer = json_pointer("file", fid)
        if not isinstance(spec, dict) or spec.get("type", _V3_IMAGE_FILE) != _V3_IMAGE_FILE:
            continue
        fname = spec.get("fname") or spec.get("src")
        if not isinstance(fname, str) or not fname:
            raise ParseError(path, "fname must be a non-empty string", pointer + "/fname")
        files.append(ViaFile(fname, None, file_values[str(fid)], tuple(regions[str(fid)]), pointer))
    region = {n: attributes.get(n, ViaAttribute(n)) for n in sorted(region_names)}
    file = {n: a for n, a in attributes.items() if n not in region_names}
    return ViaProject(path, tuple(files), region, file)


def v3_shape(xy: Sequence[Any], path: str, pointer: str) -> dict[str, Any]:
    """A VIA 3 ``xy`` list as VIA 2 ``shape_attributes``.

    >>> v3_shape([2, 10, 20, 50, 80], "p", "/xy")
    {'name': 'rect', 'x': 10, 'y': 20, 'width': 50, 'height': 80}
    >>> v3_shape([8, 5, 10, 10, 2, 15, 10, 10, 20], "p", "/xy")
    {'name': 'rect', 'x': 5, 'y': 2, 'width': 10, 'height': 18}
    """
    if not isinstance(xy, list) or not xy:
        raise ParseError(path, "xy must be a list [shape_id, ...]", pointer)
    shape_id, values = xy[0], xy[1:]
    _check_numbers(values, path, pointer)
    expected = {1: 2, 2: 4, 3: 3, 4: 4, 9: 6}.get(shape_id)
    if (expected is not None and len(values) < expected) or len(values) % 2 and shape_id in (5, 6, 7, 8):
        raise ParseError(path, f"too few or odd coordinates for shape {shape_id}", pointer)
    if shape_id == 1:
        return {"name": "point", "cx": values[0], "cy": values[1]}
    if shape_id == 2:
        return {"name": "rect", "x": values[0], "y": values[1], "width": values[2], "height": values[3]}
    if shape_id == 3:
        return {"name": "circle", "cx": values[0], "cy": values[1], "r": values[2]}
    if shape_id == 4:
        return {"name": "ellipse", "cx": values[0], "cy": values[1], "rx": values[2], "ry": values[3]}
    if shape_id in (5, 6, 7):
        return {"name": _V3_POLY_SHAPES[shape_id], "all_points_x": values[0::2], "all_points_y": values[1::2]}
    if shape_id == 8:  # extreme rectangle: the box of its four extreme points
        xs, ys = values[0::2], values[1::2]
        return {"name": "rect", "x": min(xs), "y": min(ys), "width": max(xs) - min(xs), "height": max(ys) - min(ys)}
    if shape_id == 9:  # extreme circle: the circle through three points
        cx, cy, r = circle_through(*values[:6])
        return {"name": "circle", "cx": cx, "cy": cy, "r": r}
    raise ParseError(path, f"unknown VIA 3 shape id {shape_id!r}", pointer)


def circle_through(x1: float, y1: float, x2: float, y2: float, x3: float, y3: float) -> tuple[float, float, float]:
    """Centre and radius of the circle through three points (VIA 3's extreme circle).

    >>> circle_through(0, 1, 1, 0, -1, 0)
    (0.0, 0.0, 1.0)
    """
    d = 2 * (x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2))
    if d == 0:
        raise ValidationError("the three points of an extreme circle are on one line")
    s1, s2, s3 = x1 * x1 + y1 * y1, x2 * x2 + y2 * y2, x3 * x3 + y3 * y3
    cx = (s1 * (y2 - y3) + s2 * (y3 - y1) + s3 * (y1 - y2)) / d
    cy = (s1 * (x3 - x2) + s2 * (x1 - x3) + s3 * (x2 - x1)) / d
    return cx + 0.0, cy + 0.0, math.hypot(x1 - cx, y1 - cy)  # + 0.0: no -0.0


def ellipse_ring(
    cx: float, cy: float, rx: float, ry: float, theta: float = 0.0, *, vertices: int = ELLIPSE_VERTICES
) -> list[float]:
    """A polygon inscribed in the ellipse (rotated by ``theta`` radians), coordinates to 2 decimals.

    >>> ellipse_ring(10, 10, 2, 2, vertices=4)
    [12.0, 10.0, 10.0, 12.0, 8.0, 10.0, 10.0, 8.0]
    """
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    ring: list[float] = []
    for k in range(vertices):
        angle = 2 * math.pi * k / vertices
        dx, dy = rx * math.cos(angle), ry * math.sin(angle)
        ring.append(round(cx + dx * cos_t - dy * sin_t, 2) + 0.0)
        ring.append(round(cy + dx * sin_t + dy * cos_t, 2) + 0.0)
    return ring


@dataclasses.dataclass(frozen=True)
class RegionGeometry:
    """A region's box and polygon, or why it has none (``skipped``), and a lossy-change reason."""

    bbox: BBox | None = None
    polygons: Polygons | None = None
    lossy: str | None = None
    skipped: str | None = None


def parse_shape(shape: Mapping[str, Any], path: str, pointer: str) -> RegionGeometry:
    """The geometry of one ``shape_attributes`` object (VIA 2 layout; VIA 1 and 3 are mapped to it).

    >>> parse_shape({"name": "rect", "x": 1, "y": 2, "width": 3, "height": 4}, "p", "/").polygons
    Polygons(rings=([1, 2, 4, 2, 4, 6, 1, 6],))
    >>> parse_shape({"name": "point", "cx": 1, "cy": 2}, "p", "/").skipped
    'point region (no area)'
    """
    name = shape.get("name")
    pointer += "/shape_attributes"
    if not shape:
        return RegionGeometry(skipped="region without a shape")
    if name == "rect":
        x, y, w, h = _numbers(shape, ("x", "y", "width", "height"), path, pointer)
        if w < 0 or h < 0:
            raise ParseError(path, f"rect has a negative size {w}x{h}", pointer)
        return RegionGeometry(BBox(x, y, w, h), Polygons(([x, y, x + w, y, x + w, y + h, x, y + h],)))
    if name in ("circle", "ellipse"):
        if name == "circle":
            cx, cy, r = _numbers(shape, ("cx", "cy", "r"), path, pointer)
            rx = ry = r
            theta = 0.0
        else:
            cx, cy, rx, ry = _numbers(shape, ("cx", "cy", "rx", "ry"), path, pointer)
            theta = _numbers(shape, ("theta",), path, pointer)[0] if "theta" in shape else 0.0
        if rx <= 0 or ry <= 0:
            return RegionGeometry(skipped=f"{name} region of zero radius")
        polygons = Polygons((ellipse_ring(cx, cy, abs(rx), abs(ry), theta),))
        box = polygons.bbox()  # of 2-decimal vertices: rounding the size drops float noise (61.46000000000001)
        return RegionGeometry(BBox(box.x, box.y, round(box.w, 2), round(box.h, 2)), polygons, lossy=_LOSSY_ELLIPSE)
    if name in ("polygon", "polyline"):
        xs, ys = shape.get("all_points_x"), shape.get("all_points_y")
        if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
            raise ParseError(path, "all_points_x and all_points_y must be lists of one length", pointer)
        _check_numbers(xs, path, pointer + "/all_points_x")
        _check_numbers(ys, path, pointer + "/all_points_y")
        if len(xs) < 3:
            return RegionGeometry(skipped=f"{name} region with fewer than 3 points")
        ring = [v for point in zip(xs, ys) for v in point]
        polygons = Polygons((ring,))
        return RegionGeometry(polygons.bbox(), polygons, lossy=_LOSSY_POLYLINE if name == "polyline" else None)
    if name == "point":
        return RegionGeometry(skipped="point region (no area)")
    raise ParseError(path, f"unknown region shape {name!r}", pointer + "/name")


def choose_label_attribute(project_attributes: Iterable[str], label_attribute: str | None) -> str | None:
    """The region attribute that names categories: the one given, else the only one (None if none).

    >>> choose_label_attribute(["shorts"], None)
    'shorts'
    """
    names = list(dict.fromkeys(project_attributes))
    if label_attribute is not None:
        if label_attribute not in names:
            known = ", ".join(repr(n) for n in names) or "none"
            raise ValidationError(
                f"--label-attribute {label_attribute!r}: no such region attribute (there are: {known})"
            )
        return label_attribute
    if len(names) > 1:
        listed = ", ".join(repr(n) for n in names)
        raise ValidationError(
            f"the VIA project has several region attributes ({listed}): choose one with --label-attribute"
        )
    return names[0] if names else None


def category_name(value: Any, path: str, pointer: str) -> str | None:
    """A label value (after option ids → labels) as a category name; None when the region has none.

    >>> category_name(["shorts"], "p", "/"), category_name(320, "p", "/"), category_name("  ", "p", "/")
    ('shorts', '320', None)
    """
    if isinstance(value, list):
        if len(value) > 1:
            raise ParseError(path, f"several options are checked for the label attribute: {value}", pointer)
        value = value[0] if value else None
    if value is None or isinstance(value, (dict, bool)):
        return None
    text = str(value).strip()
    return text or None


def _attribute_key(name: str, reserved: Iterable[str]) -> str:
    """A VIA attribute name as a COCO extra key (``via_`` before names COCO uses itself)."""
    return f"via_{name}" if name in reserved else name


def _attribute_values(
    values: Mapping[str, Any], specs: Mapping[str, ViaAttribute], reserved: Iterable[str], skip: str | None = None
) -> dict[str, Any]:
    return {
        _attribute_key(name, reserved): specs.get(name, ViaAttribute(name)).value(raw)
        for name, raw in values.items()
        if name != skip
    }


@dataclasses.dataclass
class _Pending:
    """An image entry on its way to a record: its annotations, their category names and the regions
    skipped or changed (counted once the image is found)."""

    entry: ViaFile
    source: str
    annotations: list[Annotation]
    names: list[str | None]
    skipped: Counter[str]
    lossy: Counter[str]


def declared_category_names(projects: Sequence[ViaProject], label: str | None) -> list[str]:
    """Declared options of the label attribute first (labels, in order), for a stable table."""
    names: list[str] = []
    if label is None:
        return names
    for project in projects:
        spec = project.region_attributes.get(label)
        if spec is not None and spec.kind in ("radio", "dropdown", "checkbox"):
            names.extend(spec.option_label(k) for k in spec.options)
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def _convert_regions(project: ViaProject, entry: ViaFile, label: str | None, ctx: RunContext) -> _Pending:
    annotations: list[Annotation] = []
    names: list[str | None] = []
    skipped: Counter[str] = Counter()
    lossy: Counter[str] = Counter()
    label_spec = project.region_attributes.get(label or "", ViaAttribute(label or ""))
    for region in entry.regions:
        try:
            geometry = parse_shape(region.shape, project.path, region.pointer)
            raw = region.attributes.get(label) if label is not None else None
            name = category_name(label_spec.value(raw), project.path, region.pointer + "/region_attributes")
        except ParseError as error:
            ctx.fail(error, f"{entry.filename} {region.pointer}")
            continue
        if geometry.skipped:
            skipped[geometry.skipped] += 1
            continue
        if geometry.lossy:
            lossy[geometry.lossy] += 1
        names.append(name)
        attributes = _attribute_values(region.attributes, project.region_attributes, ANNOTATION_KEYS, skip=label)
        annotations.append(Annotation(0, geometry.bbox, geometry.polygons, attributes=attributes))
    return _Pending(entry, project.path, annotations, names, skipped, lossy)


# ---------------------------------------------------------------- images


def clean_filename(filename: str) -> str:
    """A VIA file name as a safe relative path: ``./`` stripped, URLs by their base name.

    >>> clean_filename("./images/00011384.jpg"), clean_filename("https://x.org/a/b.jpg?s=1")
    ('images/00011384.jpg', 'b.jpg')
    """
    if "://" in filename:
        filename = filename.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return safe_relative_path(filename)


class ImageFinder:
    """Finds VIA entries' image files under one folder: by name, else by unique byte size."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.claimed: set[Path] = set()
        self._by_size: dict[int, list[Path]] | None = None

    def by_name(self, relative: str) -> Path | None:
        for candidate in (self.folder / relative, self.folder / PurePosixPath(relative).name):
            if candidate.is_file():
                self.claimed.add(candidate)
                return candidate
        return None

    def by_size(self, size: int, source: str, pointer: str) -> Path | None:
        if self._by_size is None:
            self._by_size = {}
            for path in sorted(_iter_images(self.folder)):
                self._by_size.setdefault(path.stat().st_size, []).append(path)
        candidates = [p for p in self._by_size.get(size, ()) if p not in self.claimed]
        if len(candidates) > 1:
            listed = ", ".join(p.name for p in candidates[:5])
            raise ParseError(
                source,
                f"{len(candidates)} unclaimed images are {size} bytes long ({listed}): cannot tell which",
                pointer,
            )
        if candidates:
            self.claimed.add(candidates[0])
            return candidates[0]
        return None


def _iter_images(folder: Path) -> Iterable[Path]:
    for directory, _dirs, files in os.walk(folder):
        for name in files:
            if name.lower().endswith(IMAGE_EXTENSIONS):
                yield Path(directory) / name


@dataclasses.dataclass(frozen=True)
class ReadImageSize:
    """Executor task: ``(index, path)`` → ``(index, (width, height))`` from the image header."""

    def __call__(self, item: tuple[int, str]) -> tuple[int, tuple[int, int]]:
        index, path = item
        return index, image_size(path)


def _locate(
    pending: list[_Pending], images: str | None, root: Path, ctx: RunContext
) -> list[tuple[_Pending, Path, str]]:
    """Each entry with its image file and file_name relative to ``root``; missing ones go to ctx.fail."""
    finders: dict[Path, ImageFinder] = {}
    located: dict[int, Path] = {}
    names: dict[int, str] = {}
    for index, item in enumerate(pending):
        folder = Path(images) if images else Path(item.source).parent
        finder = finders.setdefault(folder, ImageFinder(folder))
        try:
            names[index] = clean_filename(item.entry.filename)
        except ValidationError as error:
            ctx.fail(ParseError(item.source, str(error), item.entry.pointer + "/filename"), item.entry.filename)
            continue
        found = finder.by_name(names[index])
        if found is not None:
            located[index] = found
    size_matched = 0
    for index, item in enumerate(pending):
        if index in located or index not in names:
            continue
        folder = Path(images) if images else Path(item.source).parent
        finder = finders[folder]
        found = None
        if item.entry.size is not None:
            try:
                found = finder.by_size(item.entry.size, item.source, item.entry.pointer)
            except ParseError as error:
                ctx.fail(error, item.entry.filename)
                continue
        if found is None:
            missing = ParseError(
                folder / names[index], "image not found", f"VIA entry {item.entry.pointer} of {item.source}"
            )
            ctx.fail(missing, item.entry.filename)
            continue
        located[index] = found
        size_matched += 1
    if size_matched:
        ctx.report.note(f"{size_matched} image(s) matched by byte size, not by name (as VIA's filename+size keys)")
    out = []
    for index, path in sorted(located.items()):
        relative = Path(os.path.relpath(path, root)).as_posix()
        out.append((pending[index], path, relative))
    return out


# ---------------------------------------------------------------- read


def read(
    sources: Sequence[str], ctx: RunContext, *, images: str | None = None, label_attribute: str | None = None
) -> Dataset:
    """Read one or more VIA exports into one dataset; image sizes come from the image files' headers.

    ``images`` is the folder holding the images (default: each export's own folder); file names in the
    output are relative to it (or, with several exports and no ``images``, to their common folder).
    """
    if images is not None and not os.path.isdir(images):
        raise ValidationError(f"--images {images}: not a folder")
    projects = [parse_project(load_json(p), p) for p in ctx.progress(sources, total=len(sources), desc="read via")]
    label = choose_label_attribute([n for project in projects for n in project.region_attributes], label_attribute)
    pending = [_convert_regions(project, entry, label, ctx) for project in projects for entry in project.files]
    table = category_table(declared_category_names(projects, label), pending)

    located = _locate(pending, images, _image_root(sources, images), ctx)
    tasks = [(i, str(path)) for i, (_item, path, _rel) in enumerate(located)]
    sizes = dict(ctx.map_items(ReadImageSize(), tasks, desc="read image sizes", name_of=lambda t: t[1]))
    ids = {c.name: c.id for c in table}
    records = tuple(
        _record(item, relative, sizes[index], ids, _file_specs(projects, item.source), ctx)
        for index, (item, _path, relative) in enumerate(located)
        if index in sizes
    )
    unlabeled = sum(1 for r in records for a in r.annotations if a.category_id == ids.get(UNLABELED))
    if unlabeled:
        what = f"no value for {label!r}" if label else "no region attribute"
        ctx.report.note(f"{unlabeled} region(s) with {what}: category {UNLABELED!r}")
    return Dataset(table, records, {}, tuple(sources))


def category_table(declared: Sequence[str], pending: Sequence[_Pending]) -> CategoryTable:
    """Declared option labels, then other names in order of appearance, then ``unlabeled``; ids from 1."""
    names = list(declared) + [n for item in pending for n in item.names if n is not None]
    if any(n is None for item in pending for n in item.names):
        names.append(UNLABELED)
    return CategoryTable.from_names(dict.fromkeys(names))


def _image_root(sources: Sequence[str], images: str | None) -> Path:
    """The folder output file names are relative to."""
    if images:
        return Path(images)
    if len(sources) > 1:
        return Path(os.path.commonpath([os.path.abspath(Path(p).parent) for p in sources]))
    return Path(sources[0]).parent


def _record(
    item: _Pending,
    relative: str,
    size: tuple[int, int],
    ids: Mapping[str, int],
    file_specs: Mapping[str, ViaAttribute],
    ctx: RunContext,
) -> ImageRecord:
    """The image record of a located entry; its regions' skip and lossy counts go to the report now."""
    for reason, count in item.skipped.items():
        ctx.report.skip(reason, count=count)
    for reason, count in item.lossy.items():
        ctx.report.lose(reason, count)
    annotations = tuple(
        ann._replace(category_id=ids[name if name is not None else UNLABELED])
        for ann, name in zip(item.annotations, item.names)
    )
    attributes = _attribute_values(item.entry.attributes, file_specs, IMAGE_KEYS)
    if PurePosixPath(relative).name != PurePosixPath(item.entry.filename).name:
        attributes["via_filename"] = item.entry.filename
    width, height = size
    return ImageRecord(relative, width, height, annotations, attributes=attributes)


def _file_specs(projects: Sequence[ViaProject], source: str) -> Mapping[str, ViaAttribute]:
    return next((p.file_attributes for p in projects if p.path == source), {})


def sniff(path: str) -> bool:
    """A ``.json`` file that starts like a VIA 1/2 export or a VIA 3 project."""
    if not path.lower().endswith(".json") or not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if b'"_via_img_metadata"' in head:
        return True
    if b'"filename"' in head and b'"regions"' in head and b'"images"' not in head:
        return True
    return b'"vid_list"' in head and b'"metadata"' in head


def _numbers(shape: Mapping[str, Any], keys: Sequence[str], path: str, pointer: str) -> list[float]:
    values = []
    for key in keys:
        value = shape.get(key)
        if isinstance(value, str):  # VIA 1.0 CSV-era projects sometimes hold numbers as text
            try:
                value = float(value) if "." in value else int(value)
            except ValueError:
                pass
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ParseError(path, f"{key} must be a finite number, got {value!r}", f"{pointer}/{key}")
        values.append(value)
    return values


def _check_numbers(values: Sequence[Any], path: str, pointer: str) -> None:
    for index, value in enumerate(values):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ParseError(path, f"expected a finite number, got {value!r}", f"{pointer}/{index}")


SPEC = register_format(
    FormatSpec(
        name="via",
        description="VGG Image Annotator JSON (1.x, 2.x projects and exports, 3.x projects); read only",
        capabilities=frozenset({"boxes", "polygons", "negatives", "attributes"}),
        sniff=sniff,
        read=read,
        read_options=(
            FormatOption("images", "Image root folder, where pixels or image sizes are needed.", "path"),
            FormatOption(
                "label_attribute",
                "VIA region attribute whose value is the category (default: the only one).",
            ),
        ),
        spec_url="https://gitlab.com/vgg/via",
    )
)
