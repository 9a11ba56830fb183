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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashiondata import filters, remote
from fashiondata import prune as pruning
from fashiondata.categories import parse_list, select_categories
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.io import check_destination, staged_dir, write_bytes_atomic
from fashiondata.lazy import LazyModule
from fashiondata.model import ImageRecord
from fashiondata.registry import FormatSpec, get_format, sniff_format
from fashiondata.report import Report

if TYPE_CHECKING:
    import yaml

    from fashiondata import evaluate as evaluation
    from fashiondata import evaluate_semantic
else:  # NumPy, pycocotools and PyYAML only for the verbs that need them
    yaml = LazyModule("yaml")
    evaluation = LazyModule("fashiondata.evaluate")
    evaluate_semantic = LazyModule("fashiondata.evaluate_semantic")

PathLike = str | os.PathLike[str]


def _paths(path: PathLike | Sequence[PathLike]) -> list[str]:
    """Local paths for one or more sources (``file://`` URLs stripped, remote URLs staged locally)."""
    paths = [os.fspath(path)] if isinstance(path, (str, os.PathLike)) else [os.fspath(p) for p in path]
    if not paths:
        raise ValidationError("no source given")
    return [remote.fetch(p) for p in paths]


def _check_options(specs: Sequence[tuple[FormatSpec, str]], options: Mapping[str, Any]) -> None:
    declared = {o.name for spec, role in specs for o in (spec.read_options if role == "read" else spec.write_options)}
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
    start = getattr(ctx.executor, "start", None)
    if start is not None:  # fork worker processes before the driver holds the parsed source
        start()
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
    with remote.output_path(path, overwrite=ctx.overwrite) as local:
        check_destination(local, overwrite=ctx.overwrite)
        spec.write(dataset, local, ctx, **_pick(spec, "write", options))
    if remote.is_url(path):
        ctx.report.outputs[:] = [os.fspath(path) if o == local else o for o in ctx.report.outputs]
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
    if not remote.is_url(dst):
        check_destination(remote.local_path(dst), overwrite=ctx.overwrite)
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


def validate(
    path: PathLike | Sequence[PathLike],
    format: str | None = None,
    *,
    backend: str | None = None,
    images: PathLike | None = None,
    ctx: RunContext | None = None,
    **options: Any,
) -> Report:
    """Check a dataset for what breaks training; the findings are in ``report.findings``.

    ``backend`` (``yolo``, ``detectron2``, ``tfod``) adds that trainer's rules; ``images`` is the image
    root for the image-file checks (a YOLO dataset finds its own images). COCO files are read
    leniently and YOLO folders linted from their label lines (see :mod:`fashiondata.validate`);
    other formats go through their reader. Counts by code are in ``report.data["validate"]``.
    """
    from fashiondata import validate as checks

    ctx = ctx or RunContext()
    if backend is not None and backend not in checks.BACKENDS:
        raise ValidationError(f"unknown backend {backend!r}: use {', '.join(checks.BACKENDS)}")
    paths = _paths(path)
    root = os.fspath(images) if images is not None else None
    if format == "yolo" or (format is None and checks.looks_like_yolo(paths[0])):
        findings = checks.lint_yolo(paths[0], ctx, backend=backend)
    elif (format or sniff_format(paths[0]).name) == "coco":
        findings = checks.validate_coco(paths, ctx, backend=backend, images=root)
    else:
        spec = get_format(format) if format else sniff_format(paths[0])
        if root is not None and any(o.name == "images" for o in spec.read_options):
            options = {**options, "images": root}
        dataset = read(paths, spec.name, ctx=ctx, **options)
        findings = checks.validate_dataset(dataset, ctx, backend=backend, images=root)
    ctx.report.findings.extend(findings)
    ctx.report.data["validate"] = checks.summarize(findings)
    return ctx.report


# ---------------------------------------------------------------- dataset operations (filters.py, prune.py)

#: Per-split file names for formats written as one file (a folder format gets ``<split>/``).
SPLIT_FILE_NAMES = {
    "coco": "{split}.json",
    "lvis": "{split}.json",
    "via": "{split}.json",
    "csv": "{split}_labels.csv",
    "tfrecord": "{split}.record",
}


def _operation_formats(
    paths: Sequence[str],
    dst: PathLike,
    src_format: str | None,
    dst_format: str | None,
    ctx: RunContext,
    images: Sequence[str | None] = (),
) -> tuple[FormatSpec, FormatSpec]:
    """Reader and writer of a verb that writes a new dataset; refuses a destination that would hold,
    replace or sit inside a source or an image folder (inputs are never modified)."""
    reader = get_format(src_format) if src_format else sniff_format(paths[0])
    writer = get_format(dst_format) if dst_format else reader
    if writer.write is None:
        raise ValidationError(f"format {writer.name!r} cannot be written: choose an output format (--to)")
    target = os.path.realpath(dst)
    for source in [*paths, *(i for i in images if i is not None)]:
        real = os.path.realpath(source)
        if target == real or target.startswith(real.rstrip(os.sep) + os.sep) or real.startswith(target + os.sep):
            raise ValidationError(f"{dst}: the output would hold or replace the source {source}; choose another path")
    check_destination(dst, overwrite=ctx.overwrite)
    return reader, writer


def _run_operation(
    src: PathLike | Sequence[PathLike],
    dst: PathLike,
    step: Any,
    *,
    src_format: str | None,
    dst_format: str | None,
    ctx: RunContext | None,
    overwrite: bool | None,
    options: Mapping[str, Any],
    shared: Mapping[str, Any] | None = None,
) -> Report:
    """Read ``src``, apply ``step(dataset, report) -> Dataset``, write a new dataset to ``dst``.

    ``options`` must each be declared by the reader or the writer; ``shared`` ones (a verb's own
    ``images``) go to whichever declares them, if any.
    """
    ctx = ctx or RunContext()
    if overwrite is not None:
        ctx.overwrite = overwrite
    paths = _paths(src)
    shared = shared or {}
    images = [options.get("images"), shared.get("images")]
    reader, writer = _operation_formats(paths, dst, src_format, dst_format, ctx, images)
    _check_options([(reader, "read"), (writer, "write")], options)
    options = {**_default_images(paths, options), **shared}
    dataset = read(paths, reader.name, ctx=ctx, **_pick(reader, "read", options))
    result, write_options = _same_kind(
        step(dataset, ctx.report), [reader], writer, _pick(writer, "write", options), ctx
    )
    return write(result, dst, writer.name, ctx=ctx, **write_options)


def _same_kind(
    dataset: Dataset, readers: Sequence[FormatSpec], writer: FormatSpec, write_options: dict[str, Any], ctx: RunContext
) -> tuple[Dataset, dict[str, Any]]:
    """YOLO to YOLO without ``boxes`` given: a detection dataset (no segmentation) stays one (the
    writer would write each box as a rectangle polygon). Returns the dataset (materialised) and the
    write options."""
    if writer.name != "yolo" or "boxes" in write_options or any(r.name != "yolo" for r in readers):
        return dataset, write_options
    dataset = dataset.materialize()
    if any(a.segmentation is not None for r in dataset.records for a in r.annotations):
        return dataset, write_options
    ctx.report.note("a YOLO detection source: detection lines kept (--boxes)")
    return dataset, {**write_options, "boxes": True}


def filter(
    src: PathLike | Sequence[PathLike],
    dst: PathLike,
    *,
    categories: str | Sequence[str] | None = None,
    rename: str | Mapping[str, str] | None = None,
    drop_empty: bool = False,
    drop_grayscale: bool = False,
    require_faces: bool = False,
    face_model: PathLike | None = None,
    src_format: str | None = None,
    dst_format: str | None = None,
    ctx: RunContext | None = None,
    overwrite: bool | None = None,
    **options: Any,
) -> Report:
    """Keep some categories (renamed or merged), optionally drop empty images; write a new dataset.

    The output format is the source's unless ``dst_format`` is given; reader and writer options
    (``images``, ``link_mode``…) go to the side that declares them. ``drop_grayscale`` and
    ``require_faces`` check every image (under ``images``, by default the source's folder) and drop
    grayscale ones and ones without a face (:mod:`fashiondata.detectors.filters`).
    """
    ctx = ctx or RunContext()
    detecting = drop_grayscale or require_faces
    images = options.pop("images", None) if detecting else None
    root = os.fspath(images) if images is not None else _default_image_root(_paths(src)[0])

    def step(dataset: Dataset, report: Report) -> Dataset:
        dataset = filters.filter_dataset(
            dataset, categories=categories, rename=rename, drop_empty_images=drop_empty, report=report
        )
        if detecting:
            from fashiondata.detectors.filters import filter_by_detection

            model = os.fspath(face_model) if face_model is not None else None
            dataset = filter_by_detection(
                dataset,
                ctx,
                image_root=root,
                drop_grayscale=drop_grayscale,
                require_faces=require_faces,
                face_model=model,
            )
        return dataset

    return _run_operation(
        src,
        dst,
        step,
        src_format=src_format,
        dst_format=dst_format,
        ctx=ctx,
        overwrite=overwrite,
        options=options,
        shared={"images": images} if images is not None else None,
    )


def balance(
    src: PathLike | Sequence[PathLike],
    dst: PathLike,
    *,
    ratio: float | str = 1.0,
    seed: int = 0,
    src_format: str | None = None,
    dst_format: str | None = None,
    ctx: RunContext | None = None,
    overwrite: bool | None = None,
    **options: Any,
) -> Report:
    """Keep every positive image and ``round(ratio × positives)`` seeded-random negatives.

    The numbers (available, wanted, kept, dropped) are in ``report.data["balance"]``.
    """

    def step(dataset: Dataset, report: Report) -> Dataset:
        return filters.balance(dataset, ratio=ratio, seed=seed, report=report)

    return _run_operation(
        src, dst, step, src_format=src_format, dst_format=dst_format, ctx=ctx, overwrite=overwrite, options=options
    )


def split(
    src: PathLike | Sequence[PathLike],
    out_dir: PathLike,
    *,
    ratios: str | Sequence[float | str] = "0.8,0.1,0.1",
    names: str | Sequence[str] | None = None,
    seed: int = 0,
    stratify: bool = False,
    group_by: str | None = None,
    src_format: str | None = None,
    dst_format: str | None = None,
    ctx: RunContext | None = None,
    overwrite: bool | None = None,
    **options: Any,
) -> Report:
    """Split whole images into ``names`` (default train, val, test) in exact ``ratios``; write ``out_dir``.

    A format that holds splits (YOLO: ``images/<split>/``, ``labels/<split>/``, one ``data.yaml``) is
    written once; any other writes one output per split in ``out_dir``: ``train.json``… for COCO,
    ``train_labels.csv``… plus ``summary.csv`` for CSV, ``<split>/`` for folder formats. Counts per
    split and category are in ``report.data["split"]``.
    """
    ctx = ctx or RunContext()
    if overwrite is not None:
        ctx.overwrite = overwrite
    paths = _paths(src)
    reader, writer = _operation_formats(paths, out_dir, src_format, dst_format, ctx, [options.get("images")])
    _check_options([(reader, "read"), (writer, "write")], options)
    options = _default_images(paths, options)
    weights = filters.parse_ratios(ratios)
    split_names = filters.split_names(len(weights), names)
    dataset = read(paths, reader.name, ctx=ctx, **_pick(reader, "read", options))
    dataset, before = filters.split_dataset(
        dataset, ratios=weights, names=split_names, seed=seed, stratify=stratify, group_by=group_by, report=ctx.report
    )
    dataset, write_options = _same_kind(dataset, [reader], writer, _pick(writer, "write", options), ctx)
    if "splits" in writer.capabilities:
        root = write_options.get("images")
        origins = [(root, r.file_name, r.split) for r in before] if root else None
        return _write_from_origins(dataset, origins, out_dir, writer, write_options, ctx)
    pattern = SPLIT_FILE_NAMES.get(writer.name, "{split}") if writer.output == "file" else "{split}"
    with staged_dir(out_dir, overwrite=ctx.overwrite) as stage:
        for name in split_names:
            part = dataset.replace(records=tuple(r.replace(split=None) for r in dataset.records if r.split == name))
            write(part, stage / pattern.format(split=name), writer.name, ctx=ctx, **write_options)
        if writer.name == "csv":
            summary = filters.format_split_summary_csv(ctx.report.data["split"], split_names)
            write_bytes_atomic(stage / "summary.csv", summary)
            ctx.report.outputs.append(os.fspath(stage / "summary.csv"))
    ctx.report.outputs[:] = [o.replace(os.fspath(stage), os.fspath(out_dir), 1) for o in ctx.report.outputs]
    return ctx.report


def merge(
    srcs: Sequence[PathLike],
    dst: PathLike,
    *,
    images: PathLike | Sequence[PathLike] | None = None,
    category_map: PathLike | Mapping[str, str] | None = None,
    src_format: str | None = None,
    dst_format: str | None = None,
    ctx: RunContext | None = None,
    overwrite: bool | None = None,
    **options: Any,
) -> Report:
    """Merge datasets into one: categories united by name (after ``category_map``, a JSON/YAML file
    or dict old name → new name), ids renumbered, colliding file names renamed, provenance kept in
    image attributes (``merge_source``, ``merge_file_name``, ``merge_image_id``).

    Each source is read on its own (formats sniffed one by one unless ``src_format``); the output
    format is the first source's unless ``dst_format``. ``images`` is one image root for every
    source or one per source (default: a YOLO dataset's own ``images/``); a
    writer that places images (YOLO) gets each image from its own source's root, under its new name.
    """
    ctx = ctx or RunContext()
    if overwrite is not None:
        ctx.overwrite = overwrite
    paths = _paths(srcs)
    given = _image_roots(paths, images)
    roots = [root or _known_image_root(path) for root, path in zip(given, paths)]
    readers = [get_format(src_format) if src_format else sniff_format(p) for p in paths]
    _, writer = _operation_formats(paths, dst, readers[0].name, dst_format, ctx, given)
    _check_options([*((r, "read") for r in readers), (writer, "write")], options)
    mapping = _load_category_map(category_map)
    datasets = [
        read(p, r.name, ctx=ctx, **_pick(r, "read", {**options, "images": root})).materialize()
        for p, r, root in zip(paths, readers, given)
    ]
    merged = filters.merge_datasets(datasets, sources=paths, category_map=mapping, report=ctx.report)
    root_of = dict(zip(paths, roots))
    origins = [
        (root_of[r.attributes["merge_source"]], r.attributes["merge_file_name"], r.split) for r in merged.records
    ]
    merged, write_options = _same_kind(merged, readers, writer, _pick(writer, "write", options), ctx)
    return _write_from_origins(merged, origins, dst, writer, write_options, ctx)


def _write_from_origins(
    dataset: Dataset,
    origins: Sequence[tuple[str | None, str, str | None]] | None,
    dst: PathLike,
    writer: FormatSpec,
    write_options: dict[str, Any],
    ctx: RunContext,
) -> Report:
    """Write ``dataset``; a YOLO writer's images come from ``origins`` — (root or None, file name,
    split) per record, where the image was before a merge renamed it or a split moved it.

    The writer writes the labels (``link_mode="none"``); each image whose label file it wrote is then
    linked or copied to ``images/<split>/<file_name>``, all in one staged folder.
    """
    if writer.name != "yolo" or origins is None or write_options.get("link_mode") == "none":
        return write(dataset, dst, writer.name, ctx=ctx, **write_options)
    from fashiondata.formats.yolo_writer import label_relative_path, relative_image_path

    link_mode = write_options.pop("link_mode", "symlink")
    write_options.pop("images", None)
    dataset, origins = _with_images_found(dataset, origins, ctx)
    with staged_dir(dst, overwrite=ctx.overwrite) as stage:
        write(dataset, stage, writer.name, ctx=ctx, link_mode="none", **write_options)
        jobs, unplaced = [], 0
        for record, (root, file_name, split) in zip(dataset.records, origins):
            relative = relative_image_path(record)
            if not (stage / "labels" / label_relative_path(relative)).is_file():
                continue  # left out by the writer (and counted there)
            if root is None:
                unplaced += 1
            else:
                jobs.append((root, file_name, split, os.fspath(stage / "images" / relative)))
        if unplaced:
            ctx.report.note(f"{unplaced} images not placed: no image folder known for their source (give --images)")
        placed = ctx.map_items(filters.PlaceImage(link_mode), jobs, desc="place images", name_of=lambda job: job[1])
        ctx.report.written["images placed"] += sum(1 for _ in placed)
    ctx.report.outputs[:] = [o.replace(os.fspath(stage), os.fspath(dst), 1) for o in ctx.report.outputs]
    return ctx.report


def _with_images_found(
    dataset: Dataset, origins: Sequence[tuple[str | None, str, str | None]], ctx: RunContext
) -> tuple[Dataset, list[tuple[str | None, str, str | None]]]:
    """The records whose image exists (before any label is written, so that no label or image list
    names a missing image); a missing one raises, or with ``on_error="skip"`` is counted and left out."""
    kept: list[ImageRecord] = []
    kept_origins: list[tuple[str | None, str, str | None]] = []
    for record, origin in zip(dataset.records, origins):
        root, file_name, split = origin
        if root is not None:
            try:
                filters.find_image(root, file_name, split)
            except (FileNotFoundError, ValidationError) as error:
                ctx.fail(error, record.file_name)
                if record.annotations:
                    ctx.report.skip("annotation of an image that could not be read", count=len(record.annotations))
                continue
        kept.append(record)
        kept_origins.append(origin)
    return dataset.replace(records=tuple(kept)), kept_origins


def _default_images(paths: Sequence[str], options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with ``images`` set to a YOLO source's own ``images/`` folder when none is given,
    so that a writer that places images (YOLO) finds them."""
    root = _known_image_root(paths[0]) if options.get("images") is None else None
    return {**options, "images": root} if root else dict(options)


def _image_roots(paths: Sequence[str], images: PathLike | Sequence[PathLike] | None) -> list[str | None]:
    """One image root per source: none given, one for all, or one each."""
    if images is None or isinstance(images, (str, os.PathLike)):
        return [os.fspath(images) if images is not None else None] * len(paths)
    roots: list[str | None] = [os.fspath(i) for i in images]
    if len(roots) == 1:
        return roots * len(paths)
    if len(roots) != len(paths):
        raise ValidationError(f"{len(roots)} image folders for {len(paths)} sources: give one, or one per source")
    return list(roots)


def _load_category_map(category_map: PathLike | Mapping[str, str] | None) -> dict[str, str] | None:
    if category_map is None or isinstance(category_map, Mapping):
        return dict(category_map) if category_map is not None else None
    path = os.fspath(category_map)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ParseError(
            path, f"invalid YAML/JSON: {getattr(error, 'problem', error)}", f"line {mark.line + 1}" if mark else None
        ) from error
    return filters.load_category_map(data, path)


def dedupe(
    src: PathLike | Sequence[PathLike],
    dst: PathLike,
    *,
    images: PathLike | None = None,
    merge_annotations: bool = False,
    src_format: str | None = None,
    dst_format: str | None = None,
    ctx: RunContext | None = None,
    overwrite: bool | None = None,
    **options: Any,
) -> Report:
    """Drop images whose bytes equal an earlier image's (content hash); write a new dataset.

    Images are found under ``images`` (default: a YOLO dataset's ``images/``, else the source folder
    or a source file's folder), at ``<split>/<file_name>`` or ``<file_name>``. With
    ``merge_annotations`` the kept image takes the duplicates' annotations. The groups are in
    ``report.data["dedupe"]``.
    """
    ctx = ctx or RunContext()
    root = os.fspath(images) if images is not None else _default_image_root(_paths(src)[0])

    def step(dataset: Dataset, report: Report) -> Dataset:
        hasher = filters.HashImage(root)

        def digests(records: Sequence[ImageRecord]) -> Iterator[tuple[int, str]]:
            items = [(i, r.file_name, r.split) for i, r in enumerate(records)]
            return ctx.map_items(hasher, items, desc="hash images", name_of=lambda item: item[1])

        return filters.dedupe(dataset, digest_of=digests, merge_annotations=merge_annotations, report=report)

    return _run_operation(
        src,
        dst,
        step,
        src_format=src_format,
        dst_format=dst_format,
        ctx=ctx,
        overwrite=overwrite,
        options=options,
        shared={"images": os.fspath(images)} if images is not None else {},
    )


def _default_image_root(source: str) -> str:
    """A YOLO dataset's ``images/`` folder, else the source folder, or a source file's folder."""
    return _known_image_root(source) or (source if os.path.isdir(source) else os.path.dirname(os.path.abspath(source)))


def _known_image_root(source: str) -> str | None:
    """The ``images/`` folder beside ``labels/`` of a YOLO dataset (a folder or its data.yaml)."""
    folder = source if os.path.isdir(source) else os.path.dirname(os.path.abspath(source))
    images = os.path.join(folder, "images")
    return images if os.path.isdir(images) and os.path.isdir(os.path.join(folder, "labels")) else None


def prune(
    images_dir: PathLike,
    labels_dir: PathLike,
    *,
    apply: bool = False,
    move_to: PathLike | None = None,
    delete: bool = False,
    list_to: PathLike | None = None,
    label_extensions: str | Sequence[str] = (".txt",),
    label_suffix: str = "",
    ctx: RunContext | None = None,
) -> Report:
    """Images without a label file and labels without an image: a dry run unless ``apply``.

    ``apply`` with ``move_to`` moves them under ``move_to/images/`` and ``move_to/labels/`` keeping
    their relative paths; ``apply`` with ``delete`` deletes them. The lists are in
    ``report.data["prune"]``; ``list_to`` writes them to a file too.
    """
    ctx = ctx or RunContext()
    extensions = parse_list(label_extensions) or [".txt"]
    return pruning.prune(
        images_dir,
        labels_dir,
        apply=apply,
        move_to=move_to,
        delete=delete,
        list_to=list_to,
        label_extensions=extensions,
        label_suffix=label_suffix,
        report=ctx.report,
    )


def fix(
    src: PathLike | Sequence[PathLike],
    dst: PathLike,
    *,
    src_format: str | None = None,
    dst_format: str | None = None,
    ctx: RunContext | None = None,
    overwrite: bool | None = None,
    **options: Any,
) -> Report:
    """Write a repaired copy of ``src`` to ``dst`` (the source format unless ``dst_format``).

    Every change is an ``info`` finding in ``report.findings`` (see :mod:`fashiondata.fix`); COCO
    sources are read leniently, so entries the strict reader refuses are dropped and reported.
    """
    from fashiondata import fix as repairs
    from fashiondata import validate as checks

    ctx = ctx or RunContext()
    if overwrite is not None:
        ctx.overwrite = overwrite
    paths = _paths(src)
    reader = get_format(src_format) if src_format else sniff_format(paths[0])
    writer = get_format(dst_format or reader.name)
    _check_options([(reader, "read"), (writer, "write")], options)
    repairs.check_not_source(paths, os.fspath(dst))
    check_destination(dst, overwrite=ctx.overwrite)
    dropped: list[Any] = []
    if reader.name == "coco":
        parts = [checks.read_coco_leniently(p) for p in paths]
        dropped = [
            repairs.change("dropped-entry", f.message, location=f.location, file=f.file)
            for part in parts
            for f in part.findings
            if f.code in repairs.DROPPED_BY_LENIENT_READ
        ]
        from fashiondata.formats.coco import combine

        dataset = combine(
            [
                Dataset(part.categories, tuple(item.record for item in part.items), part.info, (p,))
                for part, p in zip(parts, paths)
            ]
        )
        ctx.report.read["images"] += len(dataset.records)  # type: ignore[arg-type]
    else:
        dataset = read(paths, reader.name, ctx=ctx, **_pick(reader, "read", options))
    dataset, changes = repairs.repair_dataset(dataset, ctx)
    findings = [*dropped, *changes]
    ctx.report.findings.extend(findings)
    ctx.report.data["fix"] = repairs.summarize(findings)
    return write(dataset, dst, writer.name, ctx=ctx, **_pick(writer, "write", options))


def evaluate(
    gt: PathLike | Sequence[PathLike],
    predictions: PathLike,
    *,
    task: str = "bbox",
    format: str | None = None,
    ignore_index: int | None = 255,
    report_dir: PathLike | None = None,
    ctx: RunContext | None = None,
    **options: Any,
) -> Report:
    """Score predictions against a ground truth; the numbers are in ``report.data["evaluation"]``.

    ``task`` is ``bbox`` or ``segm`` (COCOeval on a GT in any readable format; predictions as COCO
    results JSON or an Ultralytics ``labels/`` folder) or ``semantic`` (GT and prediction folders of
    index masks, ``ignore_index`` left out). ``report_dir`` also writes an HTML page with the tables
    and precision–recall curves (needs the ``[report]`` extra). Options go to the GT reader.
    """
    ctx = ctx or RunContext()
    options = {name: value for name, value in options.items() if value is not None}
    if report_dir is not None:
        check_destination(report_dir, overwrite=ctx.overwrite)
    if task == "semantic":
        if options:
            raise ValidationError(f"--{next(iter(options)).replace('_', '-')}: not an option of the semantic task")
        result: Any = evaluate_semantic.evaluate_semantic(_paths(gt)[0], predictions, ctx, ignore_index=ignore_index)
    elif task in ("bbox", "segm"):
        paths = _paths(gt)
        spec = get_format(format) if format else sniff_format(paths[0])
        dataset = read(paths, spec.name, ctx=ctx, **options)
        result = evaluation.evaluate_instances(dataset, predictions, ctx, task=task, gt_format=spec.name)  # type: ignore[arg-type]
    else:
        raise ValidationError(f"unknown task {task!r}: use bbox, segm or semantic")
    if report_dir is not None:
        from fashiondata.evaluate_report import write_report

        write_report(result, report_dir, ctx)
    return ctx.report


def detect(
    images: PathLike,
    *,
    checks: str | Sequence[str] | None = None,
    face_model: PathLike | None = None,
    csv_path: PathLike | None = None,
    ctx: RunContext | None = None,
) -> Report:
    """Colour kind and faces (persons, selfie) of every image under a folder.

    Per-image results are in ``report.data["detections"]``, counts in ``report.data["summary"]``;
    ``csv_path`` also writes them as CSV. See :mod:`fashiondata.detectors`.
    """
    from fashiondata.detectors import detect as detect_images

    model = os.fspath(face_model) if face_model is not None else None
    return detect_images(images, checks=checks, face_model=model, csv_path=csv_path, ctx=ctx)


def stats(
    path: PathLike | Sequence[PathLike],
    format: str | None = None,
    *,
    detect: bool = False,
    checks: str | Sequence[str] | None = None,
    face_model: PathLike | None = None,
    images: PathLike | None = None,
    report_dir: PathLike | None = None,
    ctx: RunContext | None = None,
    **options: Any,
) -> Report:
    """Statistics of a dataset in any readable format; the numbers are in ``report.data["stats"]``.

    ``detect`` also checks every image (under ``images``, by default the annotation file's folder)
    for colour kind and faces; ``report_dir`` writes ``index.html``, ``stats.json`` and PNG plots
    (needs the ``[report]`` extra). Definitions: :mod:`fashiondata.stats`.
    """
    from fashiondata import stats as statistics
    from fashiondata.detectors import DetectImage, parse_checks

    ctx = ctx or RunContext()
    paths = _paths(path)
    spec = get_format(format) if format else sniff_format(paths[0])
    if report_dir is not None:
        check_destination(report_dir, overwrite=ctx.overwrite)
    if images is not None and any(o.name == "images" for o in spec.read_options):
        options["images"] = images
    if not detect and (checks is not None or face_model is not None):
        raise ValidationError("--checks and --face-model apply with --detect")
    detector = None
    if detect:
        root = os.fspath(images) if images is not None else _default_image_root(paths[0])
        model = os.fspath(face_model) if face_model is not None else None
        detector = DetectImage(parse_checks(checks), model, root)
    result = statistics.compute(
        paths,
        ctx,
        format_name=spec.name,
        read_dataset=lambda: read(paths, spec.name, ctx=ctx, **options),
        detector=detector,
        stream=options.get("stream"),
    )
    ctx.report.data["stats"] = result
    if report_dir is not None:
        from fashiondata.report_html import write_report

        write_report(result, report_dir, overwrite=ctx.overwrite, title=os.path.basename(paths[0]))
        ctx.report.outputs.append(os.fspath(report_dir))
    return ctx.report


def preview(
    path: PathLike | Sequence[PathLike],
    output: PathLike,
    format: str | None = None,
    *,
    grid: str | tuple[int, int] = "4x4",
    seed: int = 0,
    categories: str | Sequence[str] | None = None,
    images: PathLike | None = None,
    tile_size: int = 320,
    ctx: RunContext | None = None,
    **options: Any,
) -> Report:
    """A PNG grid of randomly (but deterministically) chosen images with masks, boxes and labels.

    Images come from ``images`` (by default the annotation file's folder); ``categories`` keeps only
    images holding those categories and draws only them. See :mod:`fashiondata.preview`.
    """
    from fashiondata import preview as previewing

    ctx = ctx or RunContext()
    paths = _paths(path)
    spec = get_format(format) if format else sniff_format(paths[0])
    check_destination(output, overwrite=ctx.overwrite)
    if images is not None and any(o.name == "images" for o in spec.read_options):
        options["images"] = images
    root = os.fspath(images) if images is not None else _default_image_root(paths[0])
    dataset = select_categories(read(paths, spec.name, ctx=ctx, **options), categories, report=ctx.report)
    previewing.write_preview(
        dataset,
        output,
        ctx,
        image_root=root,
        grid=grid,
        seed=seed,
        tile_size=tile_size,
        require_categories=categories is not None,
    )
    return ctx.report
