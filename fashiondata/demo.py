"""``fashiondata demo``: the seed pipelines once each, on the synthetic samples shipped in the package.

Everything goes through :mod:`fashiondata.api` (the functions the CLI verbs call); the samples are
``fashiondata/sample_data/`` (six drawn looks: photos, DeepFashion-MultiModal-style index masks, two
VIA 2 projects, LabelImg VOC files; see its README). Written::

    OUT_DIR/
      pants_yolo/            masks → YOLO-seg, pants only: data.yaml, images/ (copies), labels/
      thesis_coco.json       two annotators' VIA projects → one COCO file
      shop_labels.csv        LabelImg VOC → CSV (filename,width,height,class,xmin,ymin,xmax,ymax)
      shop_split/            the CSV split 4:1: train_labels.csv, test_labels.csv, summary.csv
      tfrecord/              train.record, test.record, label_map.pbtxt (ids fixed by the label map)
      stats/                 statistics of thesis_coco.json: index.html, stats.json, PNG plots
                             (without matplotlib: stats.json only, and a note says why)
      preview.png            a 3×2 grid of the COCO file's photos with their masks

The folder is built beside OUT_DIR and moved into place at the end, so a failed run leaves nothing.

>>> [name for name, _title, _step in STEPS]
['pants_yolo', 'thesis_coco', 'shop_csv', 'shop_split', 'shop_tfrecord', 'stats', 'preview']
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

import orjson

from fashiondata import api
from fashiondata.context import RunContext
from fashiondata.io import staged_dir, write_bytes_atomic
from fashiondata.report import Report
from fashiondata.samples import sample_path

Step = Callable[[Path, RunContext], Report]


def has_matplotlib() -> bool:
    """Whether the optional ``[report]`` extra (matplotlib) is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def pants_yolo(out: Path, ctx: RunContext) -> Report:
    """The "what is pants" seed: DeepFashion-MultiModal label masks → YOLO-seg, one class."""
    return api.convert(
        sample_path("segm"),
        out / "pants_yolo",
        dst_format="yolo",
        src_format="masks",
        ctx=ctx,
        classes="deepfashion-mm",
        categories="pants",
        images=sample_path("photos"),
        link_mode="copy",
    )


def thesis_coco(out: Path, ctx: RunContext) -> Report:
    """The thesis seed: VIA projects of two annotators → one COCO file."""
    projects = [sample_path("via/annotator_a.json"), sample_path("via/annotator_b.json")]
    return api.convert(
        projects,
        out / "thesis_coco.json",
        dst_format="coco",
        src_format="via",
        ctx=ctx,
        images=sample_path("photos"),
        label_attribute="garment",
    )


def shop_csv(out: Path, ctx: RunContext) -> Report:
    """The product-image seed, first step: LabelImg VOC XML → one CSV."""
    return api.convert(sample_path("voc"), out / "shop_labels.csv", dst_format="csv", src_format="voc", ctx=ctx)


def shop_split(out: Path, ctx: RunContext) -> Report:
    """Second step: the CSV split 4:1 into train_labels.csv and test_labels.csv (+ summary.csv)."""
    return api.split(out / "shop_labels.csv", out / "shop_split", ratios="4,1", names="train,test", seed=0, ctx=ctx)


def shop_tfrecords(out: Path, ctx: RunContext) -> Report:
    """Third step: one TFRecord per split, class ids from the same label map."""
    for name in ("train", "test"):
        api.convert(
            out / "shop_split" / f"{name}_labels.csv",
            out / "tfrecord" / f"{name}.record",
            dst_format="tfrecord",
            src_format="csv",
            ctx=ctx,
            images=sample_path("photos"),
            label_map=sample_path("voc/label_map.pbtxt"),
        )
    return ctx.report


def thesis_stats(out: Path, ctx: RunContext) -> Report:
    """Statistics of the COCO file, with the HTML report when matplotlib is installed."""
    coco, photos = out / "thesis_coco.json", sample_path("photos")
    if has_matplotlib():
        return api.stats(coco, "coco", images=photos, report_dir=out / "stats", ctx=ctx)
    report = api.stats(coco, "coco", images=photos, ctx=ctx)
    (out / "stats").mkdir()
    write_bytes_atomic(out / "stats" / "stats.json", orjson.dumps(report.data["stats"], option=orjson.OPT_INDENT_2))
    report.outputs.append(os.fspath(out / "stats"))
    report.note(
        "HTML report skipped: matplotlib is absent (pip install 'fashiondata[report]'); stats/stats.json written"
    )
    return report


def thesis_preview(out: Path, ctx: RunContext) -> Report:
    """A preview grid of the COCO file's photos with their masks and labels."""
    return api.preview(
        out / "thesis_coco.json",
        out / "preview.png",
        "coco",
        grid="3x2",
        tile_size=240,
        images=sample_path("photos"),
        ctx=ctx,
    )


#: (name, what it shows, step), in the order they run (later steps read earlier outputs).
STEPS: tuple[tuple[str, str, Step], ...] = (
    ("pants_yolo", "masks → YOLO-seg (pants)", pants_yolo),
    ("thesis_coco", "VIA (two annotators) → COCO", thesis_coco),
    ("shop_csv", "VOC → CSV", shop_csv),
    ("shop_split", "CSV → 4:1 split", shop_split),
    ("shop_tfrecord", "CSV → TFRecord + label map", shop_tfrecords),
    ("stats", "statistics and HTML report", thesis_stats),
    ("preview", "preview grid", thesis_preview),
)


def run_demo(
    out_dir: str | os.PathLike[str], *, ctx: RunContext | None = None, overwrite: bool | None = None
) -> Report:
    """Run every demo step into ``out_dir`` (refused when not empty, unless ``overwrite``).

    Each step gets its own report, kept in ``report.data["demo"][name]``; the returned report lists
    every output (``report.outputs``) and one note per step with its counts.
    """
    ctx = ctx or RunContext()
    if overwrite is not None:
        ctx.overwrite = overwrite
    steps: dict[str, dict[str, object]] = {}
    with staged_dir(out_dir, overwrite=ctx.overwrite) as stage:
        for name, title, step in STEPS:
            step_ctx = dataclasses.replace(ctx, report=Report(), overwrite=False)
            report = step(stage, step_ctx)
            report.outputs[:] = [o.replace(os.fspath(stage), os.fspath(out_dir), 1) for o in report.outputs]
            steps[name] = report.to_dict()
            ctx.report.note(f"{title}: {_counts(report)}")
            for text in report.notes:
                ctx.report.note(f"{name}: {text}")
            ctx.report.outputs.extend(o for o in report.outputs if o not in ctx.report.outputs)
    ctx.report.data["demo"] = steps
    return ctx.report


def _counts(report: Report) -> str:
    written = ", ".join(f"{n} {what}" for what, n in sorted(report.written.items()))
    read = ", ".join(f"{n} {what}" for what, n in sorted(report.read.items()))
    parts = [f"wrote {written}" if written else f"read {read}"]
    for what, table in (("skipped", report.skipped), ("lossy", report.lossy)):
        if table:
            parts.append(f"{sum(table.values())} {what} (see --json)")
    return "; ".join(parts)
