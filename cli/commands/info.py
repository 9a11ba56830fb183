"""``fashiondata info PATH``: images, annotations, categories and per-category counts."""

from __future__ import annotations

import click

import fashiondata
from fashiondata_cli.options import emit, make_context, output_options, run_options, stream_option


@click.command("info")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "format_name", default=None, help="Format name (sniffed when not given).")
@stream_option
@output_options
@run_options
def command(
    paths: tuple[str, ...], format_name: str | None, stream: bool | None, as_json: bool, quiet: bool, **shared: object
) -> None:
    """Count what PATH holds."""
    ctx = make_context(quiet=quiet, **shared)
    report = fashiondata.info(list(paths), format_name, ctx=ctx, stream=stream)
    if as_json:
        emit(report, as_json=True, quiet=quiet)
        return
    facts = report.data["info"]
    click.echo(f"images: {facts['images']}\nannotations: {facts['annotations']}\ncategories: {facts['categories']}")
    for name, count in facts["per_category"].items():
        click.echo(f"  {name}: {count}")
    emit(report, as_json=False, quiet=quiet)
