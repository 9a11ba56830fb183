"""The format registry: each format module registers one :class:`FormatSpec` explicitly.

A reader is ``read(sources, ctx, **options) -> Dataset``; a writer is
``write(dataset, destination, ctx, **options) -> None``. Options are declared as :class:`FormatOption`
so the CLI exposes them on ``convert`` without knowing any format.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any, Literal

from fashiondata.errors import AmbiguousFormatError, UnknownFormatError

Reader = Callable[..., Any]
Writer = Callable[..., Any]


@dataclasses.dataclass(frozen=True)
class FormatOption:
    """An option a reader or writer takes: ``name`` is the keyword (``color_tolerance``), the CLI
    flag is ``--color-tolerance``. ``type`` is one of str, int, float, bool (a flag) or "path"."""

    name: str
    help: str
    type: Any = str
    default: Any = None
    choices: tuple[str, ...] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclasses.dataclass(frozen=True)
class FormatSpec:
    """A format: its names, what it can hold, how to recognise it, read it and write it.

    ``capabilities`` uses the words boxes, polygons, holes, rle, keypoints, splits, negatives,
    images (embeds pixels), attributes. ``output`` says whether the writer makes a file or a folder.
    """

    name: str
    description: str
    aliases: tuple[str, ...] = ()
    capabilities: frozenset[str] = frozenset()
    sniff: Callable[[str], bool] | None = None
    read: Reader | None = None
    write: Writer | None = None
    read_options: tuple[FormatOption, ...] = ()
    write_options: tuple[FormatOption, ...] = ()
    output: Literal["file", "dir"] = "file"
    spec_url: str = ""
    sniff_priority: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


_REGISTRY: dict[str, FormatSpec] = {}


def register_format(spec: FormatSpec) -> FormatSpec:
    """Add a format; its name and aliases must be new."""
    for name in spec.names:
        if name in _REGISTRY and _REGISTRY[name] is not spec:
            raise ValueError(f"format name {name!r} is already registered")
    for name in spec.names:
        _REGISTRY[name] = spec
    return spec


def _ensure_loaded() -> None:
    import fashiondata.formats  # noqa: F401  (registers the built-in formats)


def all_formats() -> list[FormatSpec]:
    """Every registered format once, sorted by name."""
    _ensure_loaded()
    return sorted({id(s): s for s in _REGISTRY.values()}.values(), key=lambda s: s.name)


def get_format(name: str) -> FormatSpec:
    """The format with this name or alias (case-insensitive)."""
    _ensure_loaded()
    try:
        return _REGISTRY[name.lower()]
    except KeyError:
        known = ", ".join(s.name for s in all_formats())
        raise UnknownFormatError(f"unknown format {name!r} (known: {known})") from None


def parse_conversion(verb: str) -> tuple[FormatSpec, FormatSpec]:
    """Split ``SRC2DST`` by looking the halves up in the registry.

    A source name that ends in 2 needs no second one: ``df2coco`` is df2 + coco (``df22coco`` works too).

    >>> [s.name for s in parse_conversion("coco2coco")]
    ['coco', 'coco']
    """
    _ensure_loaded()
    verb = verb.lower()
    matches = [
        (_REGISTRY[a], _REGISTRY[b])
        for a in _REGISTRY
        for b in _REGISTRY
        if verb == f"{a}2{b}" or (a.endswith("2") and verb == a + b)  # df2coco: df2 + coco
    ]
    if not matches:
        raise UnknownFormatError(
            f"{verb!r} is not a conversion: give SRC2DST with SRC and DST among "
            + ", ".join(n for s in all_formats() for n in s.names)
        )
    reader, writer = matches[0]
    if reader.read is None:
        raise UnknownFormatError(f"format {reader.name!r} cannot be read")
    if writer.write is None:
        raise UnknownFormatError(f"format {writer.name!r} cannot be written")
    return reader, writer


def sniff_format(path: str | os.PathLike[str]) -> FormatSpec:
    """The readable format that recognises ``path``; among several, the one of highest
    ``sniff_priority`` (LVIS over its family, COCO); a tie is ambiguous."""
    hits = [s for s in all_formats() if s.read and s.sniff and s.sniff(str(path))]
    if not hits:
        raise UnknownFormatError(f"{path}: no known format recognises it (give the format by name)")
    best = max(s.sniff_priority for s in hits)
    top = [s for s in hits if s.sniff_priority == best]
    if len(top) > 1:
        names = ", ".join(s.name for s in top)
        raise AmbiguousFormatError(f"{path}: several formats match ({names}): give one by name")
    return top[0]


def options_for(spec: FormatSpec, role: Literal["read", "write"], given: dict[str, Any]) -> dict[str, Any]:
    """The options of ``given`` that ``spec`` declares for ``role`` (unset ones left out)."""
    declared = spec.read_options if role == "read" else spec.write_options
    return {o.name: given[o.name] for o in declared if given.get(o.name) is not None}


def declared_options(roles: tuple[str, ...] = ("read", "write")) -> list[FormatOption]:
    """Every option of every format for these roles, once per name (the CLI adds them as flags)."""
    seen: dict[str, FormatOption] = {}
    for spec in all_formats():
        for option in (
            *(spec.read_options if "read" in roles else ()),
            *(spec.write_options if "write" in roles else ()),
        ):
            seen.setdefault(option.name, option)
    return [seen[name] for name in sorted(seen)]
