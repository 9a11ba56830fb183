"""``fashiondata info PATH``: images, annotations, categories and per-category counts."""

from __future__ import annotations

from typing import Any

import click
from fashiondata_cli.options import emit, format_options, images_option, output_options, pop_context, run_options

import fashiondata


@click.command("info")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "format_name", default=None, help="Format name (sniffed when not given).")
@images_option
@format_options("read")
@output_options
@run_options
def command(paths: tuple[str, ...], format_name: str | None, as_json: bool, quiet: bool, **options: Any) -> None:
    """Count what PATH holds (the readers' own options apply, e.g. --classes for masks)."""
    ctx = pop_context(options, quiet=quiet)
    options.pop("verbose", None)
    report = fashiondata.info(list(paths), format_name, ctx=ctx, **options)
    if as_json:
        emit(report, as_json=True, quiet=quiet)
        return
    facts = report.data["info"]
    click.echo(f"images: {facts['images']}\nannotations: {facts['annotations']}\ncategories: {facts['categories']}")
    for name, count in facts["per_category"].items():
        click.echo(f"  {name}: {count}")
    emit(report, as_json=False, quiet=quiet)
