"""``fashiondata evaluate GT PRED``: COCO AP or semantic mIoU, as tables like Detectron2's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from fashiondata_cli.options import emit, images_option, make_context, output_options, overwrite_option, run_options

import fashiondata.api

AP_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl")
AR_NAMES = ("AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
SEMANTIC_NAMES = {"mIoU": "mIoU", "pixel_accuracy": "pixel acc", "mean_class_accuracy": "mean class acc"}


def percent(value: float | None) -> str:
    """A fraction as Detectron2 prints it: ×100, 3 decimals, ``nan`` when undefined."""
    return "nan" if value is None else f"{100 * value:.3f}"


def pipe_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, center: bool = True) -> str:
    """A Markdown pipe table (tabulate's ``pipe`` format, which Detectron2 prints)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) + 2 for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return (
            "|"
            + "|".join((c.center(w) if center else " " + c.ljust(w - 1)) for c, w in zip(cells, widths, strict=True))
            + "|"
        )

    rule = "|" + "|".join((":" + "-" * (w - 2) + ":") if center else (":" + "-" * (w - 1)) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def per_category_table(pairs: Sequence[tuple[str, str]], value_name: str, columns: int = 3) -> str:
    """Detectron2's per-category layout: (category, value) pairs, three to a row."""
    rows = []
    for start in range(0, len(pairs), columns):
        chunk = [cell for pair in pairs[start : start + columns] for cell in pair]
        rows.append(chunk + [""] * (2 * columns - len(chunk)))
    width = min(columns, len(pairs))
    return pipe_table(["category", value_name] * width, [r[: 2 * width] for r in rows], center=False)


def instance_tables(result: dict[str, Any], per_category: bool) -> list[str]:
    metrics = result["metrics"]
    lines = [
        (
            f"Evaluation results for {result['task']} ({result['images']} images, {result['gt_instances']} GT instances, "
            f"{result['predictions_scored']} predictions, matched by {result['matched_by']}):"
        ),
        pipe_table(AP_NAMES, [[percent(metrics[n]) for n in AP_NAMES]]),
        pipe_table(AR_NAMES, [[percent(metrics[n]) for n in AR_NAMES]]),
    ]
    if per_category:
        pairs = [(row["name"], percent(row["AP"])) for row in result["per_category"]]
        lines += [f"Per-category {result['task']} AP:", per_category_table(pairs, "AP")]
    return lines


def semantic_tables(result: dict[str, Any], per_category: bool) -> list[str]:
    metrics = result["metrics"]
    lines = [
        f"Evaluation results for semantic ({result['masks']} masks, ignore index {result['ignore_index']}):",
        pipe_table(list(SEMANTIC_NAMES.values()), [[percent(metrics[k]) for k in SEMANTIC_NAMES]]),
        f"({result['convention']})",
    ]
    if per_category:
        rows = [[str(r["index"]), r["name"], percent(r["IoU"]), percent(r["accuracy"])] for r in result["per_class"]]
        lines += ["Per-class IoU and accuracy:", pipe_table(["index", "class", "IoU", "accuracy"], rows, center=False)]
    return lines


@click.command("evaluate")
@click.argument("gt", nargs=1)
@click.argument("predictions", nargs=1)
@click.option(
    "--task",
    type=click.Choice(["bbox", "segm", "semantic"]),
    default="bbox",
    show_default=True,
    help="Box AP, mask AP (COCOeval), or semantic mIoU from index-mask folders.",
)
@click.option("--format", "format_name", default=None, help="GT format (sniffed when not given).")
@click.option("--per-category", is_flag=True, help="Also print per-category AP (per-class IoU for semantic).")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write an HTML report (tables, precision–recall curves) to DIR.",
)
@click.option(
    "--ignore-index",
    type=int,
    default=255,
    show_default=True,
    help="Semantic: GT pixels with this value are not scored (-1: score every pixel).",
)
@images_option
@overwrite_option
@output_options
@run_options
def command(
    gt: str,
    predictions: str,
    task: str,
    format_name: str | None,
    per_category: bool,
    report_dir: str | None,
    ignore_index: int,
    images: str | None,
    overwrite: bool,
    as_json: bool,
    quiet: bool,
    **shared: object,
) -> None:
    """Score PREDICTIONS against the ground truth GT.

    Instance tasks: GT in any readable format; PREDICTIONS a COCO results JSON (Detectron2's
    coco_instances_results.json, a TF OD API export) or an Ultralytics folder of `cls … conf` txt
    files, e.g. `fashiondata evaluate val.json coco_instances_results.json --per-category`.
    Semantic: two folders of index masks paired by stem,
    e.g. `fashiondata evaluate gt_masks/ pred_masks/ --task semantic`.
    """
    ctx = make_context(quiet=quiet, overwrite=overwrite, **shared)
    report = fashiondata.api.evaluate(
        gt,
        predictions,
        task=task,
        format=format_name,
        ignore_index=ignore_index,
        report_dir=report_dir,
        ctx=ctx,
        images=images,
    )
    if not as_json:
        result = report.data["evaluation"]
        tables = semantic_tables(result, per_category) if task == "semantic" else instance_tables(result, per_category)
        click.echo("\n".join(tables))
    emit(report, as_json=as_json, quiet=quiet)
