"""The library's front door: what training repos import and what the CLI calls, one function a verb.

Examples:
    >>> import fashiondata, tempfile, os
    >>> from fashiondata.samples import sample_path
    >>> src = sample_path("coco/instances.json")
    >>> report = fashiondata.info(src)
    >>> report.data["info"]["images"] > 0
    True
    >>> out = os.path.join(tempfile.mkdtemp(), "copy.json")
    >>> fashiondata.convert(src, out, dst_format="coco").written["images"] == report.data["info"]["images"]
    True
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fashiondata.categories import select_categories
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ValidationError
from fashiondata.io import check_destination
from fashiondata.model import ImageRecord
from fashiondata.registry import FormatSpec, get_format, sniff_format
from fashiondata.report import Report

PathLike = str | os.PathLike[str]


def _paths(path: PathLike | Sequence[PathLike]) -> list[str]:
    if isinstance(path, (str, os.PathLike)):
        return [os.fspath(path)]
    paths = [os.fspath(p) for p in path]
    if not paths:
        raise ValidationError("no source given")
    return paths


def _check_options(specs: Sequence[tuple[FormatSpec, str]], options: Mapping[str, Any]) -> None:
    declared = {
        o.name
        for spec, role in specs
        for o in (spec.read_options if role == "read" else spec.write_options)
    }
    unknown = [name for name, value in options.items() if value is not None and name not in declared]
    if unknown:
        what = " and ".join(f"{spec.name} {role}er" for spec, role in specs)
        flags = ", ".join("--" + name.replace("_", "-") for name in sorted(unknown))
        raise ValidationError(f"{flags}: not an option of the {what}")


def _pick(spec: FormatSpec, role: str, options: Mapping[str, Any]) -> dict[str, Any]:
    declared = spec.read_options if role == "read" else spec.write_options
    return {o.name: options[o.name] for o in declared if options.get(o.name) is not None}


def _counted(records: Iterator[ImageRecord] | Sequence[ImageRecord], report: Report) -> Iterator[ImageRecord]:
    for record in records:
        report.read["images"] += 1
        report.read["annotations"] += len(record.annotations)
        yield record


def read(
    path: PathLike | Sequence[PathLike],
    format: str | None = None,
    *,
    ctx: RunContext | None = None,
    **options: Any,
) -> Dataset:
    """Read one or more sources into a :class:`Dataset`; the format is sniffed when not given.

    Records may be a one-shot iterator: call ``.materialize()`` to iterate twice. Counts go to
    ``ctx.report.read`` as records flow.
    """
    ctx = ctx or RunContext()
    paths = _paths(path)
    spec = get_format(format) if format else sniff_format(paths[0])
    if spec.read is None:
        raise ValidationError(f"format {spec.name!r} cannot be read")
    _check_options([(spec, "read")], options)
    dataset = spec.read(paths, ctx, **_pick(spec, "read", options))
    return dataset.replace(records=_counted(dataset.records, ctx.report))


def write(
    dataset: Dataset,
    path: PathLike,
    format: str,
    *,
    ctx: RunContext | None = None,
    overwrite: bool | None = None,
    **options: Any,
) -> Report:
    """Write a dataset in a registered format; refuses a non-empty destination unless overwrite."""
    ctx = ctx or RunContext()
    if overwrite is not None:
        ctx.overwrite = overwrite
    spec = get_format(format)
    if spec.write is None:
        raise ValidationError(f"format {spec.name!r} cannot be written")
    _check_options([(spec, "write")], options)
    check_destination(path, overwrite=ctx.overwrite)
    spec.write(dataset, os.fspath(path), ctx, **_pick(spec, "write", options))
    return ctx.report


def convert(
    src: PathLike | Sequence[PathLike],
    dst: PathLike,
    *,
    src_format: str | None = None,
    dst_format: str,
    categories: str | Sequence[str] | None = None,
    rename: str | Mapping[str, str] | None = None,
    ctx: RunContext | None = None,
    overwrite: bool | None = None,
    **options: Any,
) -> Report:
    """Read ``src`` (one or more), optionally subset/rename categories, write ``dst``.

    Options are handed to the reader or the writer that declares them; an option neither declares is
    a ValidationError. The destination is checked before anything is read.
    """
    ctx = ctx or RunContext()
    if overwrite is not None:
        ctx.overwrite = overwrite
    paths = _paths(src)
    reader = get_format(src_format) if src_format else sniff_format(paths[0])
    writer = get_format(dst_format)
    _check_options([(reader, "read"), (writer, "write")], options)
    check_destination(dst, overwrite=ctx.overwrite)
    dataset = read(paths, reader.name, ctx=ctx, **_pick(reader, "read", options))
    dataset = select_categories(dataset, categories, rename, report=ctx.report)
    return write(dataset, dst, writer.name, ctx=ctx, **_pick(writer, "write", options))


def info(
    path: PathLike | Sequence[PathLike],
    format: str | None = None,
    *,
    ctx: RunContext | None = None,
    **options: Any,
) -> Report:
    """Counts of a dataset: images, annotations, categories, per-category instances.

    The numbers are in ``report.data["info"]``.
    """
    ctx = ctx or RunContext()
    dataset = read(path, format, ctx=ctx, **options)
    per_category: Counter[int] = Counter()
    images = annotations = 0
    for record in dataset.records:
        images += 1
        annotations += len(record.annotations)
        per_category.update(a.category_id for a in record.annotations)
    ctx.report.data["info"] = {
        "images": images,
        "annotations": annotations,
        "categories": len(dataset.categories),
        "per_category": {c.name: per_category.get(c.id, 0) for c in dataset.categories},
    }
    return ctx.report
