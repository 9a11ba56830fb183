"""The ``evaluate --report DIR`` page: the tables and the precision–recall curves, offline.

Writes, through a staging folder swapped in whole::

    DIR/
      index.html          the numbers, per-category (per-class) table, the plots; no network needed
      evaluation.json     the same numbers as ``--json``'s ``evaluation``
      pr_curves.png       instance tasks: precision against recall at IoU .50, .75 and .50:.95
      pr_per_category.png instance tasks, up to 20 categories: one curve each at IoU .50:.95
      per_class_iou.png   semantic: IoU per class present
      confusion.png       semantic, up to 64 classes: the confusion matrix, rows normalised

Plots need matplotlib (the ``[report]`` extra); they are drawn on an Agg canvas without pyplot, so no
global state changes, and saved without a software tag so that the bytes depend only on the numbers.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from fashiondata.context import RunContext
from fashiondata.errors import MissingDependencyError
from fashiondata.evaluate import InstanceResult, SemanticResult
from fashiondata.io import staged_dir

MAX_CURVES = 20
MAX_MATRIX = 64
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .3em .7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; display: block; margin: 1em 0; }
.note { color: #555; }
"""


def write_report(result: InstanceResult | SemanticResult, destination: str | os.PathLike[str], ctx: RunContext) -> None:
    """Write the report folder for one evaluation; its path goes to ``ctx.report.outputs``."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise MissingDependencyError("matplotlib", "report") from error
    with staged_dir(destination, overwrite=ctx.overwrite) as stage:
        data = ctx.report.data.get("evaluation", result.to_dict())
        (stage / "evaluation.json").write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        if isinstance(result, InstanceResult):
            plots = instance_plots(result, stage, Figure, FigureCanvasAgg)
            body = instance_body(data, plots)
        else:
            plots = semantic_plots(result, stage, Figure, FigureCanvasAgg)
            body = semantic_body(data, plots)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in ctx.report.notes)
        page = (
            f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>fashiondata evaluate: {html.escape(data['task'])}</title>"
            f"<style>{STYLE}</style></head><body>\n<h1>Evaluation: {html.escape(data['task'])}</h1>\n{body}"
            f"<h2>Notes</h2><ul class=\"note\">{notes}</ul>\n</body></html>\n"
        )
        (stage / "index.html").write_text(page, encoding="utf-8")
    ctx.report.outputs.append(os.fspath(destination))


# ---------------------------------------------------------------- plots


def _save(figure: Any, canvas_type: Any, path: Path) -> None:
    canvas_type(figure)
    figure.savefig(path, dpi=100, metadata={"Software": None})


def mean_curve(precision: np.ndarray) -> np.ndarray | None:
    """Mean precision per recall threshold over the curves that are defined (COCOeval's -1 left out)."""
    defined = precision[..., :] > -1
    counts = defined.sum(axis=0)
    if not counts.any():
        return None
    sums = np.where(defined, precision, 0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def instance_plots(result: InstanceResult, stage: Path, figure_type: Any, canvas_type: Any) -> list[tuple[str, str]]:
    """The PR-curve PNGs; returns (file name, caption) pairs."""
    recall = result.recall_thresholds
    plots = []
    figure = figure_type(figsize=(6, 4.5))
    axes = figure.add_subplot()
    for label, rows in (
        ("IoU=.50:.95", result.precision),
        ("IoU=.50", result.precision[np.isclose(result.iou_thresholds, 0.5)]),
        ("IoU=.75", result.precision[np.isclose(result.iou_thresholds, 0.75)]),
    ):
        curve = mean_curve(np.moveaxis(rows, 2, 0).reshape(-1, len(recall)))
        if curve is not None:
            axes.plot(recall, curve, label=label)
    _axes_style(axes, f"{result.task}: precision–recall, all categories (100 detections)")
    _save(figure, canvas_type, stage / "pr_curves.png")
    plots.append(("pr_curves.png", "Precision against recall, averaged over categories"))
    categories = result.per_category
    if len(categories) <= MAX_CURVES:
        figure = figure_type(figsize=(7, 5))
        axes = figure.add_subplot()
        for index, row in enumerate(categories):
            curve = mean_curve(result.precision[:, :, index])
            if curve is not None:
                axes.plot(recall, curve, label=row["name"])
        _axes_style(axes, f"{result.task}: precision–recall per category, IoU=.50:.95")
        _save(figure, canvas_type, stage / "pr_per_category.png")
        plots.append(("pr_per_category.png", "Precision against recall per category"))
    return plots


def _axes_style(axes: Any, title: str) -> None:
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    if axes.lines:
        axes.legend(fontsize=8, loc="upper right")


def semantic_plots(result: SemanticResult, stage: Path, figure_type: Any, canvas_type: Any) -> list[tuple[str, str]]:
    """Per-class IoU bars and, for up to 64 classes, the row-normalised confusion matrix."""
    present = [i for i, row in enumerate(result.iou) if row is not None]
    names = [result.class_name(i) for i in present]
    figure = figure_type(figsize=(max(6, 0.35 * len(present) + 2), 4.5))
    axes = figure.add_subplot()
    axes.bar(range(len(present)), [result.iou[i] for i in present])
    axes.set_xticks(range(len(present)), names, rotation=60, ha="right", fontsize=8)
    axes.set_ylim(0, 1)
    axes.set_ylabel("IoU")
    axes.set_title(f"IoU per class (mIoU {100 * (result.miou or 0):.1f})", fontsize=10)
    figure.tight_layout()
    _save(figure, canvas_type, stage / "per_class_iou.png")
    plots = [("per_class_iou.png", "IoU per class present in the GT or the prediction")]
    if 0 < len(present) <= MAX_MATRIX:
        matrix = result.matrix[np.ix_(present, present)].astype(np.float64)
        totals = (result.matrix.sum(axis=1) + result.missed)[present][:, None]
        normalised = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
        figure = figure_type(figsize=(max(5, 0.3 * len(present) + 2),) * 2)
        axes = figure.add_subplot()
        image = axes.imshow(normalised, vmin=0, vmax=1, cmap="viridis")
        axes.set_xticks(range(len(present)), names, rotation=90, fontsize=7)
        axes.set_yticks(range(len(present)), names, fontsize=7)
        axes.set_xlabel("prediction")
        axes.set_ylabel("ground truth")
        figure.colorbar(image, ax=axes, fraction=0.046)
        figure.tight_layout()
        _save(figure, canvas_type, stage / "confusion.png")
        plots.append(("confusion.png", "Confusion matrix, each GT row divided by its pixel count"))
    return plots


# ---------------------------------------------------------------- HTML


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n"


def percent(value: float | None) -> str:
    return "nan" if value is None else f"{100 * value:.3f}"


def figures(plots: Sequence[tuple[str, str]]) -> str:
    return "".join(f'<figure><img src="{name}" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>\n' for name, caption in plots)


def instance_body(data: dict[str, Any], plots: Sequence[tuple[str, str]]) -> str:
    metrics = data["metrics"]
    facts = (
        f"<p>{data['images']} images, {data['gt_instances']} GT instances, {data['predictions_scored']} predictions "
        f"scored, matched to GT images by {html.escape(data['matched_by'])}. COCOeval (pycocotools); numbers ×100.</p>\n"
    )
    ap = table(list(metrics)[:6], [[percent(v) for v in list(metrics.values())[:6]]])
    ar = table(list(metrics)[6:], [[percent(v) for v in list(metrics.values())[6:]]])
    rows = [[r["name"], r["id"], r["instances"], percent(r["AP"]), percent(r["AP50"]), percent(r["AP75"])] for r in data["per_category"]]
    per_category = table(["category", "id", "GT instances", "AP", "AP50", "AP75"], rows)
    return f"{facts}{ap}{ar}<h2>Precision–recall</h2>\n{figures(plots)}<h2>Per category</h2>\n{per_category}"


def semantic_body(data: dict[str, Any], plots: Sequence[tuple[str, str]]) -> str:
    metrics = data["metrics"]
    facts = (
        f"<p>{data['masks']} mask pairs, ignore index {data['ignore_index']}, matched by {html.escape(data['matched_by'])}. "
        f"{html.escape(data['convention'])}. Numbers ×100.</p>\n"
    )
    summary = table(["mIoU", "pixel accuracy", "mean class accuracy"], [[percent(metrics[k]) for k in metrics]])
    rows = [[r["name"], r["index"], percent(r["IoU"]), percent(r["accuracy"]), r["gt_pixels"], r["pred_pixels"]] for r in data["per_class"]]
    per_class = table(["class", "index", "IoU", "accuracy", "GT pixels", "predicted pixels"], rows)
    return f"{facts}{summary}{figures(plots)}<h2>Per class</h2>\n{per_class}"
