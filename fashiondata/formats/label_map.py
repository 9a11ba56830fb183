"""``label_map.pbtxt``: the TF Object Detection API's class table (a text-format ``StringIntLabelMap``).

Spec: ``object_detection/protos/string_int_label_map.proto`` and ``utils/label_map_util.py`` in
https://github.com/tensorflow/models/tree/master/research/object_detection — a list of ``item``
messages with ``name`` (string), ``id`` (int, 1-based: 0 is the background) and optional
``display_name``, ``keypoints``, ``frequency``…::

    item {
      id: 1
      name: 'Pants_Leggings'
    }

Writing follows that layout, ids from 1 in category order, names single-quoted with ``\\`` and ``'``
escaped. Reading is tolerant of the files found in the wild: single or double quotes, fields in any
order or on one line, ``#`` comments, items written without the ``item`` keyword (Datumaro's parser
accepts that too), ``display_name`` (kept as a category attribute) and nested fields it ignores.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from fashiondata.errors import ParseError, ValidationError
from fashiondata.model import Category, CategoryTable

FILE_NAME = "label_map.pbtxt"

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<comment>\#[^\n]*)
      | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
      | (?P<punct>[{}:;,\[\]<>])
      | (?P<word>[-+]?[\w.]+)
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _tokens(text: str, path: object) -> Iterator[tuple[str, str, int]]:
    """(kind, text, line) for each token; comments dropped."""
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            line = text.count("\n", 0, pos) + 1
            raise ParseError(path, f"unexpected character {text[pos : pos + 1]!r}", f"line {line}")
        kind = match.lastgroup or ""
        if kind != "comment":
            yield kind, match.group(kind), text.count("\n", 0, match.start(kind)) + 1
        pos = match.end()


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), token[1:-1])


def parse_label_map(text: str, path: object = "<label map>") -> CategoryTable:
    """The categories of a label map, in file order, with their ids.

    >>> table = parse_label_map("item { id: 2 name: 'b' display_name: \\"B\\" } item { name: 'a' id: 1 }")
    >>> [(c.id, c.name) for c in table], table[0].attributes
    ([(2, 'b'), (1, 'a')], {'display_name': 'B'})
    """
    tokens = list(_tokens(text, path))
    categories: list[Category] = []
    seen_ids: dict[int, int] = {}
    seen_names: dict[str, int] = {}
    pos = 0
    while pos < len(tokens):
        kind, value, line = tokens[pos]
        if kind == "word" and value == "item":
            pos += 1
            if pos < len(tokens) and tokens[pos][1] == ":":
                pos += 1
        if pos >= len(tokens) or tokens[pos][1] != "{":
            got = tokens[pos][1] if pos < len(tokens) else "end of file"
            raise ParseError(
                path, f"expected an item {{ … }}, got {got!r}", f"line {tokens[min(pos, len(tokens) - 1)][2]}"
            )
        fields, pos = _parse_message(tokens, pos + 1, path)
        category = _category(fields, path, line)
        if category.id in seen_ids:
            raise ParseError(path, f"id {category.id} is used twice", f"line {line}")
        if category.name in seen_names:
            raise ParseError(path, f"name {category.name!r} is used twice", f"line {line}")
        seen_ids[category.id] = line
        seen_names[category.name] = line
        categories.append(category)
    if not categories:
        raise ParseError(path, "the label map holds no item")
    return CategoryTable(tuple(categories))


def _parse_message(tokens: list[tuple[str, str, int]], pos: int, path: object) -> tuple[dict[str, object], int]:
    """Fields of one ``{ … }`` (its opening brace consumed) up to its closing brace; nested
    messages are skipped. Returns the scalar fields and the position after the brace."""
    fields: dict[str, object] = {}
    while pos < len(tokens):
        kind, value, line = tokens[pos]
        if value == "}":
            return fields, pos + 1
        if value in (";", ","):
            pos += 1
            continue
        if kind != "word":
            raise ParseError(path, f"expected a field name, got {value!r}", f"line {line}")
        pos += 1
        if pos < len(tokens) and tokens[pos][1] == ":":
            pos += 1
        if pos >= len(tokens):
            break
        kind, token, line = tokens[pos]
        if token == "{":
            _, pos = _parse_message(tokens, pos + 1, path)
            continue
        if kind == "string":
            fields[value] = _unquote(token)
        elif kind == "word":
            fields[value] = token
        else:
            raise ParseError(path, f"field {value!r} has no value", f"line {line}")
        pos += 1
    raise ParseError(path, "unclosed item: missing '}'", f"line {tokens[-1][2]}")


def _category(fields: dict[str, object], path: object, line: int) -> Category:
    raw_id, name = fields.get("id"), fields.get("name")
    if not isinstance(raw_id, str) or not re.fullmatch(r"[+]?\d+", raw_id):
        raise ParseError(path, f"item needs an integer id, got {raw_id!r}", f"line {line}")
    display_name = fields.get("display_name")
    if name is None:
        name = display_name
    if not isinstance(name, str) or not name:
        raise ParseError(path, "item needs a non-empty name", f"line {line}")
    category_id = int(raw_id)
    if category_id < 1:
        raise ParseError(path, f"id {category_id} is reserved for the background: ids start at 1", f"line {line}")
    attributes = {"display_name": display_name} if display_name is not None and display_name != name else {}
    return Category(id=category_id, name=name, attributes=attributes)


def format_label_map(table: CategoryTable) -> str:
    """The label map text of a category table, ids as in the table.

    >>> print(format_label_map(CategoryTable.from_names(["top", "it's"])), end="")
    item {
      id: 1
      name: 'top'
    }
    <BLANKLINE>
    item {
      id: 2
      name: 'it\\'s'
    }
    """
    parts = []
    for category in table:
        name = category.name.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
        lines = [f"  id: {category.id}", f"  name: '{name}'"]
        display_name = category.attributes.get("display_name")
        if isinstance(display_name, str):
            escaped = display_name.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
            lines.append(f"  display_name: '{escaped}'")
        parts.append("item {\n" + "\n".join(lines) + "\n}\n")
    return "\n".join(parts)


def read_label_map(path: str | os.PathLike[str]) -> CategoryTable:
    """Parse a ``label_map.pbtxt`` file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ParseError(path, f"not UTF-8 text: {error.reason}") from error
    return parse_label_map(text, path)


def labels_for(table: CategoryTable, label_map: CategoryTable | None) -> dict[int, int]:
    """category id → 1-based label: from ``label_map`` matched by name, else position + 1.

    Raises ValidationError naming every category the given label map lacks.
    """
    if label_map is None:
        return {c.id: i for i, c in enumerate(table, 1)}
    by_name = {c.name: c.id for c in label_map}
    missing = [c.name for c in table if c.name not in by_name]
    if missing:
        what = f"class {missing[0]!r} is" if len(missing) == 1 else "classes " + ", ".join(map(repr, missing)) + " are"
        raise ValidationError(
            f"{what} not in the label map (it has {', '.join(map(repr, by_name))}): "
            "add it there, or keep only mapped classes with --categories"
        )
    return {c.id: by_name[c.name] for c in table}


def table_for_names(names: Iterable[str], label_map: CategoryTable | None) -> CategoryTable:
    """The category table of a dataset whose classes are known by name (VOC, CSV).

    Without a label map: the names sorted, ids from 1. With one: the label map itself (its ids and
    order); a name it lacks is a ValidationError naming it.

    >>> [(c.id, c.name) for c in table_for_names({"tops", "dresses"}, None)]
    [(1, 'dresses'), (2, 'tops')]
    """
    used = sorted(set(names))
    if label_map is None:
        return CategoryTable.from_names(used)
    labels_for(CategoryTable.from_names(used), label_map)
    return label_map
