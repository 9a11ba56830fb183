"""Class tables of label masks: which pixel value (or colour) is which class.

Built in (``--classes NAME``):

* ``deepfashion-mm``: DeepFashion-MultiModal human parsing, 24 ids with their colours, from the
  dataset's README (https://github.com/yumingj/DeepFashion-MultiModal#human-parsing-label) and the
  Text2Human UI colour swatches (``ui/color_blocks/class_*.png``);
* ``fashionista``: Fashionista's 7 classes with PASCAL VOC palette colours;
* ``ccp``: Clothing Co-Parsing's 59 labels (``label_list.mat``; pixel value v is cell v + 1).

Or a file: JSON/YAML of ``id: name`` (or a list of names, index = id) or of ``"r,g,b": name``
(colour tables: ``background`` is id 0, the others 1, 2, … in file order); a ``classes.txt`` with one
name per line (line number = pixel value, empty lines for unused values; the masks writer makes
these); or CCP's ``label_list.mat`` (needs scipy). Id 0 is always background and never an instance.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fashiondata.errors import MissingDependencyError, ParseError, ValidationError
from fashiondata.model import Category, CategoryTable, normalize_name

Color = tuple[int, int, int]
BACKGROUND_NAMES = {"background", "bg", "null", "void"}


@dataclasses.dataclass(frozen=True)
class ClassTable:
    """Pixel value → class name (id 0 is background), and optionally each class's RGB colour."""

    names: Mapping[int, str]
    colors: Mapping[int, Color] | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.colors is not None:
            seen: dict[Color, int] = {}
            for class_id, color in self.colors.items():
                if color in seen:
                    raise ValidationError(
                        f"classes {self.source}: ids {seen[color]} and {class_id} share colour {color}"
                    )
                seen[color] = class_id

    @property
    def max_id(self) -> int:
        return max(self.names) if self.names else 0

    def categories(self) -> CategoryTable:
        """Every class but background, in id order, with its colour in ``attributes["color"]``."""
        return CategoryTable(
            tuple(
                Category(
                    id=class_id,
                    name=name,
                    attributes={"color": list(self.colors[class_id])}
                    if self.colors and class_id in self.colors
                    else {},
                )
                for class_id, name in sorted(self.names.items())
                if class_id != 0
            )
        )


def _voc_color(index: int) -> Color:
    """The PASCAL VOC colour map (bit-interleaved), e.g. 1 → (128, 0, 0), 15 → (192, 128, 128)."""
    r = g = b = 0
    for shift in range(7, -1, -1):
        r |= ((index >> 0) & 1) << shift
        g |= ((index >> 1) & 1) << shift
        b |= ((index >> 2) & 1) << shift
        index >>= 3
    return r, g, b


def voc_palette(count: int = 256) -> list[Color]:
    """The first ``count`` PASCAL VOC colours."""
    return [_voc_color(i) for i in range(count)]


_DEEPFASHION_MM = (
    ("background", (0, 0, 0)),
    ("top", (255, 250, 250)),
    ("outer", (220, 220, 220)),
    ("skirt", (250, 235, 215)),
    ("dress", (255, 250, 205)),
    ("pants", (211, 211, 211)),
    ("leggings", (70, 130, 180)),
    ("headwear", (127, 255, 212)),
    ("eyeglass", (0, 100, 0)),
    ("neckwear", (50, 205, 50)),
    ("belt", (255, 255, 0)),
    ("footwear", (245, 222, 179)),
    ("bag", (255, 140, 0)),
    ("hair", (255, 0, 0)),
    ("face", (16, 78, 139)),
    ("skin", (144, 238, 144)),
    ("ring", (50, 205, 174)),
    ("wrist wearing", (50, 155, 250)),
    ("socks", (160, 140, 88)),
    ("gloves", (213, 140, 88)),
    ("necklace", (90, 140, 90)),
    ("rompers", (185, 210, 205)),
    ("earrings", (130, 165, 180)),
    ("tie", (225, 141, 151)),
)
_FASHIONISTA = ("background", "skin", "hair", "t-shirt", "shoes", "pants", "dress")
_CCP = (
    "null",
    "accessories",
    "bag",
    "belt",
    "blazer",
    "blouse",
    "bodysuit",
    "boots",
    "bra",
    "bracelet",
    "cape",
    "cardigan",
    "clogs",
    "coat",
    "dress",
    "earrings",
    "flats",
    "glasses",
    "gloves",
    "hair",
    "hat",
    "heels",
    "hoodie",
    "intimate",
    "jacket",
    "jeans",
    "jumper",
    "leggings",
    "loafers",
    "necklace",
    "panties",
    "pants",
    "pumps",
    "purse",
    "ring",
    "romper",
    "sandals",
    "scarf",
    "shirt",
    "shoes",
    "shorts",
    "skin",
    "skirt",
    "sneakers",
    "socks",
    "stockings",
    "suit",
    "sunglasses",
    "sweater",
    "sweatshirt",
    "swimwear",
    "t-shirt",
    "tie",
    "tights",
    "top",
    "vest",
    "wallet",
    "watch",
    "wedges",
)

BUILTIN_TABLES: dict[str, ClassTable] = {
    "deepfashion-mm": ClassTable(
        {i: name for i, (name, _) in enumerate(_DEEPFASHION_MM)},
        {i: color for i, (_, color) in enumerate(_DEEPFASHION_MM)},
        "deepfashion-mm",
    ),
    "fashionista": ClassTable(
        dict(enumerate(_FASHIONISTA)), {i: _voc_color(i) for i in range(len(_FASHIONISTA))}, "fashionista"
    ),
    "ccp": ClassTable(dict(enumerate(_CCP)), None, "ccp"),
}


def load_class_table(spec: str | os.PathLike[str]) -> ClassTable:
    """A built-in table by name (``deepfashion-mm``, ``fashionista``, ``ccp``) or a table file."""
    key = normalize_name(str(spec)).replace(" ", "-")
    for name, table in BUILTIN_TABLES.items():
        if key == name or key == name.replace("-", ""):
            return table
    path = Path(spec)
    if not path.is_file():
        raise ValidationError(f"--classes {spec}: neither a built-in table ({', '.join(BUILTIN_TABLES)}) nor a file")
    suffix = path.suffix.lower()
    if suffix == ".mat":
        return parse_label_list_mat(path)
    if suffix == ".txt":
        return parse_classes_txt(path.read_text(encoding="utf-8-sig"), path)
    if suffix in (".json", ".yaml", ".yml"):
        import yaml  # JSON is YAML

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise ParseError(
                path, f"invalid {suffix[1:].upper()}", f"line {mark.line + 1}" if mark else None
            ) from error
        return parse_table_object(data, path)
    raise ValidationError(f"--classes {spec}: a class table is .json, .yaml, .txt or CCP's .mat")


def parse_classes_txt(text: str, path: object = "classes.txt") -> ClassTable:
    """One name per line, line number = pixel value; empty lines are unused values.

    >>> parse_classes_txt("background\\ntop\\n\\ndress\\n").names
    {0: 'background', 1: 'top', 3: 'dress'}
    """
    names = {i: line.strip() for i, line in enumerate(text.splitlines()) if line.strip()}
    if not names:
        raise ParseError(path, "no class names")
    return ClassTable(names, None, str(path))


def parse_table_object(data: Any, path: object) -> ClassTable:
    """A parsed JSON/YAML table: ``{id: name}``, ``[name, …]`` or ``{"r,g,b": name}``.

    >>> parse_table_object({"0,0,0": "background", "211,211,211": "pants"}, "t.json").colors
    {0: (0, 0, 0), 1: (211, 211, 211)}
    """
    if isinstance(data, dict) and isinstance(data.get("names"), (dict, list)):
        data = data["names"]  # a YOLO data.yaml style table
    if isinstance(data, list):
        data = dict(enumerate(data))
    if not isinstance(data, dict) or not data:
        raise ParseError(path, 'a class table maps ids or "r,g,b" colours to names')
    for key, name in data.items():
        if not isinstance(name, str) or not name.strip():
            raise ParseError(path, f"class {key!r}: the name must be a non-empty string", f"/{key}")
    if all(isinstance(key, str) and key.count(",") == 2 for key in data):
        return _color_table(data, path)
    names: dict[int, str] = {}
    for key, name in data.items():
        try:
            class_id = int(key)
        except (TypeError, ValueError):
            raise ParseError(path, f'key {key!r} is neither a class id nor an "r,g,b" colour', f"/{key}") from None
        if class_id < 0 or class_id > 65535:
            raise ParseError(path, f"class id {class_id} is outside 0..65535", f"/{key}")
        names[class_id] = name.strip()
    return ClassTable(names, None, str(path))


def _color_table(data: Mapping[str, str], path: object) -> ClassTable:
    names: dict[int, str] = {}
    colors: dict[int, Color] = {}
    next_id = 1
    for key, name in data.items():
        try:
            color = tuple(int(v) for v in key.split(","))
        except ValueError:
            raise ParseError(path, f'colour {key!r} is not "r,g,b"', f"/{key}") from None
        if not all(0 <= v <= 255 for v in color):
            raise ParseError(path, f"colour {key!r} has a channel outside 0..255", f"/{key}")
        if normalize_name(name).strip() in BACKGROUND_NAMES:
            class_id = 0
        else:
            class_id, next_id = next_id, next_id + 1
        if class_id in names:
            raise ParseError(path, "two background colours", f"/{key}")
        names[class_id] = name.strip()
        colors[class_id] = color  # type: ignore[assignment]
    try:
        return ClassTable(names, colors, str(path))
    except ValidationError as error:
        raise ParseError(path, str(error)) from error


def parse_label_list_mat(path: str | os.PathLike[str]) -> ClassTable:
    """CCP's ``label_list.mat``: a 1×N cell array of names; pixel value v is cell v + 1."""
    loadmat = _loadmat()
    try:
        cells = loadmat(path)["label_list"]
    except (KeyError, ValueError, OSError) as error:
        raise ParseError(path, f"not a CCP label_list.mat ({error})") from error
    names = {}
    for index, cell in enumerate(cells.ravel()):
        text = str(cell.ravel()[0]) if getattr(cell, "size", 0) else ""
        if text:
            names[index] = text
    return ClassTable(names, None, str(path))


def _loadmat():
    try:
        from scipy.io import loadmat
    except ImportError as error:
        raise MissingDependencyError("scipy", "ccp") from error
    return loadmat


def find_beside(folder: Path, names: Sequence[str], levels: int = 2) -> Path | None:
    """The first of ``names`` in ``folder`` or up to ``levels`` parents (``classes.txt``,
    ``label_list.mat``)."""
    for parent in [folder, *list(folder.parents)[:levels]]:
        for name in names:
            if (parent / name).is_file():
                return parent / name
    return None
