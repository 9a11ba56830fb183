"""``fashiondata balance SRC… DST --ratio 1.0 --seed 0``: every positive image, some negatives."""

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


@click.command("balance")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--ratio", default="1.0", show_default=True, help="Negatives kept per positive image (below or above 1).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random draw of negatives.")
@dataset_io_options()
@overwrite_option
@output_options
@run_options
def command(paths: tuple[str, ...], as_json: bool, quiet: bool, verbose: int, **options: Any) -> None:
    """Keep every image with annotations and round(RATIO × their count) images without, drawn with SEED."""
    if len(paths) < 2:
        raise click.UsageError("give at least one source and a destination")
    ctx = pop_context(options, quiet=quiet)
    report = fashiondata.api.balance(list(paths[:-1]), paths[-1], ctx=ctx, **options)
    emit(report, as_json=as_json, quiet=quiet)
