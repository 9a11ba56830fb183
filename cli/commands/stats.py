"""``fashiondata stats DATASET``: counts, distributions and a per-category table; ``--report DIR`` for HTML."""

from __future__ import annotations

from typing import Any

import click
from fashiondata_cli.options import (
    emit,
    format_options,
    images_option,
    output_options,
    overwrite_option,
    pop_context,
    run_options,
)

import fashiondata
from fashiondata.stats import format_category_table


@click.command("stats")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "format_name", default=None, help="Format name (sniffed when not given).")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write index.html, stats.json and PNG plots into this folder (needs fashiondata[report]).",
)
@click.option("--detect", is_flag=True, help="Also check every image: colour kind, faces, persons, selfies.")
@click.option("--checks", default=None, metavar="color,faces", help="With --detect: which checks (default all).")
@click.option(
    "--face-model",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --detect: YuNet ONNX file for cv2.FaceDetectorYN instead of the Haar cascades.",
)
@images_option
@format_options("read")
@overwrite_option
@output_options
@run_options
def command(
    paths: tuple[str, ...], format_name: str | None, as_json: bool, quiet: bool, verbose: int, **options: Any
) -> None:
    """Describe a dataset: images, instances, polygons, sizes, categories, attributes."""
    ctx = pop_context(options, quiet=quiet)
    report = fashiondata.api.stats(list(paths), format_name, ctx=ctx, **options)
    if not as_json and not quiet:
        facts = report.data["stats"]
        click.echo(
            f"images: {facts['images']} ({facts['empty_images']} empty), annotations: {facts['annotations']}, "
            f"instances per image: {facts['instances_per_image']['mean']}, "
            f"megapixels: {facts['image_size']['megapixels_mean']}"
        )
        for line in format_category_table(facts):
            click.echo(line)
    emit(report, as_json=as_json, quiet=quiet)
