"""``fashiondata preview DATASET -o grid.png``: a grid of images with their masks, boxes and labels."""

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


@click.command("preview")
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The PNG to write.")
@click.option("--format", "format_name", default=None, help="Format name (sniffed when not given).")
@click.option("--grid", default="4x4", show_default=True, help="Columns x rows of the grid.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the (deterministic) image choice.")
@click.option(
    "--categories", default=None, help="Only images holding these categories (comma-separated), and only them drawn."
)
@click.option("--tile-size", type=int, default=320, show_default=True, help="Pixels per square tile.")
@images_option
@format_options("read")
@overwrite_option
@output_options
@run_options
def command(
    paths: tuple[str, ...],
    output: str,
    format_name: str | None,
    as_json: bool,
    quiet: bool,
    verbose: int,
    **options: Any,
) -> None:
    """Draw a preview grid of DATASET's images with filled masks, boxes and labels."""
    ctx = pop_context(options, quiet=quiet)
    report = fashiondata.api.preview(list(paths), output, format_name, ctx=ctx, **options)
    emit(report, as_json=as_json, quiet=quiet)
