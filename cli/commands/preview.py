"""``fashiondata preview DATASET -o grid.png``: a grid of images with their masks, boxes and labels."""

from __future__ import annotations

import click
from fashiondata_cli.options import (
    emit,
    images_option,
    make_context,
    output_options,
    overwrite_option,
    run_options,
)

import fashiondata


@click.command("preview")
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The PNG to write.")
@click.option("--format", "format_name", default=None, help="Format name (sniffed when not given).")
@click.option("--grid", default="4x4", show_default=True, help="Columns x rows of the grid.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the (deterministic) image choice.")
@click.option("--categories", default=None, help="Only images holding these categories (comma-separated), and only them drawn.")
@click.option("--tile-size", type=int, default=320, show_default=True, help="Pixels per square tile.")
@images_option
@overwrite_option
@output_options
@run_options
def command(
    paths: tuple[str, ...], output: str, format_name: str | None, grid: str, seed: int, categories: str | None,
    tile_size: int, images: str | None, overwrite: bool, as_json: bool, quiet: bool, **shared: object,
) -> None:
    """Draw a preview grid of DATASET's images with filled masks, boxes and labels."""
    ctx = make_context(quiet=quiet, overwrite=overwrite, **shared)
    report = fashiondata.api.preview(
        list(paths), output, format_name, grid=grid, seed=seed, categories=categories, images=images,
        tile_size=tile_size, ctx=ctx,
    )
    emit(report, as_json=as_json, quiet=quiet)
