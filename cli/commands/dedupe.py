"""``fashiondata dedupe SRC… DST``: drop byte-identical duplicate images."""

from __future__ import annotations

from typing import Any

import click
from fashiondata_cli.options import (
    dataset_io_options,
    emit,
    output_options,
    overwrite_option,
    pop_context,
    run_options,
)

import fashiondata.api


@click.command("dedupe")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--merge-annotations", is_flag=True, help="Give the kept image its duplicates' annotations.")
@dataset_io_options()
@overwrite_option
@output_options
@run_options
def command(paths: tuple[str, ...], as_json: bool, quiet: bool, verbose: int, **options: Any) -> None:
    """Keep the first of each set of images with the same bytes (found under --images, default the
    source's folder)."""
    if len(paths) < 2:
        raise click.UsageError("give at least one source and a destination")
    ctx = pop_context(options, quiet=quiet)
    report = fashiondata.api.dedupe(list(paths[:-1]), paths[-1], ctx=ctx, **options)
    emit(report, as_json=as_json, quiet=quiet)
