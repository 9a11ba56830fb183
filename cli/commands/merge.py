"""``fashiondata merge SRC… -o DST [--category-map FILE]``: several datasets into one."""

from __future__ import annotations

from typing import Any

import click
from fashiondata_cli.options import (
    emit,
    format_options,
    output_options,
    overwrite_option,
    pop_context,
    run_options,
    source_format_option,
    to_format_option,
)

import fashiondata.api


@click.command("merge")
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "dst", required=True, type=click.Path(), help="The merged dataset.")
@click.option(
    "--category-map",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON/YAML object old name → new name, applied before categories are united by name.",
)
@click.option(
    "--images",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Image root: once for every source, or once per source in order (default: each source's folder).",
)
@source_format_option
@to_format_option
@format_options("read", "write")
@overwrite_option
@output_options
@run_options
def command(sources: tuple[str, ...], dst: str, as_json: bool, quiet: bool, verbose: int, **options: Any) -> None:
    """Merge SOURCES into one dataset: categories united by name, ids renumbered, colliding file names
    renamed, each image's source kept in its attributes."""
    ctx = pop_context(options, quiet=quiet)
    images = options.pop("images") or None
    report = fashiondata.api.merge(list(sources), dst, images=images, ctx=ctx, **options)
    emit(report, as_json=as_json, quiet=quiet)
