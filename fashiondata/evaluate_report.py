"""The ``evaluate --report DIR`` folder: tables and precision–recall curves, in the stats report's style.

::

    DIR/
      index.html            the numbers, the per-category (per-class) table and the plots embedded
                            as base64 PNGs: opens offline, alone
      evaluation.json       the same numbers as ``fashiondata evaluate --json``'s "evaluation"
      pr_curves.png         instance tasks: precision against recall at IoU .50, .75 and .50:.95
      pr_per_category.png   instance tasks, up to 20 categories: one curve each at IoU .50:.95
      per_class_iou.png     semantic: IoU of each class present
      confusion.png         semantic, up to 64 classes: the confusion matrix, each GT row normalised

The page reuses the stats report's scaffolding (:mod:`fashiondata.report_html`: style sheet, tables,
PNGs without a version stamp); plots are drawn with matplotlib's object API on the Agg canvas, the
optional ``[report]`` extra. The folder is built beside the destination and swapped in.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from fashiondata.context import RunContext
from fashiondata.errors import MissingDependencyError
from fashiondata.evaluate import InstanceResult
from fashiondata.evaluate_semantic import SemanticResult
from fashiondata.io import staged_dir
from fashiondata.report_html import _PNG_METADATA, _STYLE, _table

MAX_CURVES = 20
MAX_MATRIX = 64


def write_report(result: InstanceResult | SemanticResult, destination: str | os.PathLike[str], ctx: RunContext) -> None:
    """Write the report folder for one evaluation; its path goes to ``ctx.report.outputs``."""
    data = ctx.report.data.get("evaluation", result.to_dict())
    if isinstance(result, InstanceResult):
        plots = instance_plots(result)
        body = instance_tables(data)
    else:
        plots = semantic_plots(result)
        body = semantic_tables(data)
    page = render_html(data, body, plots, notes=ctx.report.notes)
    with staged_dir(destination, overwrite=ctx.overwrite) as stage:
        (stage / "evaluation.json").write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        for name, png in plots.items():
            (stage / f"{name}.png").write_bytes(png)
        (stage / "index.html").write_text(page, encoding="utf-8")
    ctx.report.outputs.append(os.fspath(destination))


# ---------------------------------------------------------------- plots


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise MissingDependencyError("matplotlib", "report") from error
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata=_PNG_METADATA)
    return buffer.getvalue()


def mean_curve(curves: np.ndarray) -> np.ndarray | None:
    """Mean precision per recall point over the defined curves (rows; COCOeval's -1 left out).

    >>> mean_curve(np.array([[1.0, 0.5], [-1, -1], [0.0, 0.5]])).tolist()
    [0.5, 0.5]
    """
    defined = curves[(curves > -1).all(axis=1)]
    return defined.mean(axis=0) if len(defined) else None


def instance_plots(result: InstanceResult) -> dict[str, bytes]:
    """PR curves over all categories, and per category for up to :data:`MAX_CURVES` categories."""
    recall = result.recall_thresholds
    thresholds = result.iou_thresholds
    figure = _figure(6.4, 4.4)
    axes = figure.add_subplot()
    for label, rows in (
        ("IoU=.50:.95", result.precision),
        ("IoU=.50", result.precision[np.isclose(thresholds, 0.5)]),
        ("IoU=.75", result.precision[np.isclose(thresholds, 0.75)]),
    ):
        curve = mean_curve(np.moveaxis(rows, 2, 1).reshape(-1, len(recall)))
        if curve is not None:
            axes.plot(recall, curve, label=label)
    _pr_axes(axes, f"{result.task}: precision–recall over all categories")
    plots = {"pr_curves": _png(figure)}
    if len(result.per_category) <= MAX_CURVES:
        figure = _figure(6.4, 4.4)
        axes = figure.add_subplot()
        for index, row in enumerate(result.per_category):
            curve = mean_curve(result.precision[:, :, index])
            if curve is not None:
                axes.plot(recall, curve, label=row["name"])
        _pr_axes(axes, f"{result.task}: precision–recall per category, IoU=.50:.95")
        plots["pr_per_category"] = _png(figure)
    return plots


def _pr_axes(axes: Any, title: str) -> None:
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if axes.lines:
        axes.legend(fontsize=8, loc="upper right")
    axes.figure.tight_layout()


def semantic_plots(result: SemanticResult) -> dict[str, bytes]:
    """IoU bars per class present and, for up to :data:`MAX_MATRIX` classes, the normalised confusion."""
    present = [index for index, iou in enumerate(result.iou) if iou is not None]
    names = [result.class_name(index) for index in present]
    figure = _figure(max(6.4, 0.3 * len(present) + 2), 3.6)
    axes = figure.add_subplot()
    axes.bar(range(len(present)), [result.iou[index] for index in present], color="#4c72b0")
    axes.set_xticks(range(len(present)), names, rotation=60, ha="right", fontsize=8)
    axes.set_ylim(0, 1)
    axes.set_ylabel("IoU")
    axes.set_title(f"IoU per class (mIoU {100 * (result.miou or 0):.1f})")
    figure.tight_layout()
    plots = {"per_class_iou": _png(figure)}
    if 0 < len(present) <= MAX_MATRIX:
        matrix = result.matrix[np.ix_(present, present)].astype(np.float64)
        gt_pixels = (result.matrix.sum(axis=1) + result.missed)[present][:, None].astype(np.float64)
        normalised = np.divide(matrix, gt_pixels, out=np.zeros_like(matrix), where=gt_pixels > 0)
        side = max(5.0, 0.28 * len(present) + 2.5)
        figure = _figure(side, side)
        axes = figure.add_subplot()
        image = axes.imshow(normalised, vmin=0, vmax=1, cmap="viridis")
        axes.set_xticks(range(len(present)), names, rotation=90, fontsize=7)
        axes.set_yticks(range(len(present)), names, fontsize=7)
        axes.set_xlabel("prediction")
        axes.set_ylabel("ground truth")
        axes.set_title("confusion, rows divided by GT pixels")
        figure.colorbar(image, ax=axes, fraction=0.046)
        figure.tight_layout()
        plots["confusion"] = _png(figure)
    return plots


# ---------------------------------------------------------------- HTML


def percent(value: float | None) -> float | str:
    """×100 and rounded as the terminal table prints it; ``nan`` when undefined."""
    return "nan" if value is None else round(100 * value, 3)


def instance_tables(data: Mapping[str, Any]) -> list[str]:
    metrics = data["metrics"]
    names = list(metrics)
    return [
        (
            f"<p>{data['images']} images, {data['gt_instances']} GT instances, {data['predictions_scored']} predictions "
            f"scored, matched to GT images by {html.escape(data['matched_by'])}. pycocotools' COCOeval; numbers ×100.</p>"
        ),
        "<h2>Average precision and recall</h2>",
        _table(names[:6], [[percent(metrics[n]) for n in names[:6]]]),
        _table(names[6:], [[percent(metrics[n]) for n in names[6:]]]),
        "<h2>Per category</h2>",
        _table(
            ("id", "category", "GT instances", "AP", "AP50", "AP75"),
            [
                (r["id"], r["name"], r["instances"], percent(r["AP"]), percent(r["AP50"]), percent(r["AP75"]))
                for r in data["per_category"]
            ],
        ),
    ]


def semantic_tables(data: Mapping[str, Any]) -> list[str]:
    metrics = data["metrics"]
    return [
        (
            f"<p>{data['masks']} mask pairs, ignore index {data['ignore_index']}, matched by {html.escape(data['matched_by'])}. "
            f"{html.escape(data['convention'])}. Numbers ×100.</p>"
        ),
        "<h2>Summary</h2>",
        _table(("mIoU", "pixel accuracy", "mean class accuracy"), [[percent(metrics[k]) for k in metrics]]),
        "<h2>Per class</h2>",
        _table(
            ("index", "class", "IoU", "accuracy", "GT pixels", "predicted pixels"),
            [
                (r["index"], r["name"], percent(r["IoU"]), percent(r["accuracy"]), r["gt_pixels"], r["pred_pixels"])
                for r in data["per_class"]
            ],
        ),
    ]


def render_html(
    data: Mapping[str, Any], body: Sequence[str], plots: Mapping[str, bytes], *, notes: Sequence[str]
) -> str:
    """The self-contained page: tables, plots inline as base64, the run's notes."""
    title = f"evaluate {data['task']}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)} — fashiondata</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *body,
        '<h2>Plots</h2><div class="plots">',
    ]
    for name, png in plots.items():
        parts.append(
            f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}"></figure>'
        )
    parts.append("</div><h2>Notes</h2><ul>")
    parts.extend(f"<li>{html.escape(note)}</li>" for note in notes)
    parts.append("</ul></body></html>\n")
    return "\n".join(parts)
