"""``fashiondata split SRC… OUT_DIR --ratios 0.8,0.1,0.1 --seed 0``: whole images per split."""

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


@click.command("split")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--ratios", default="0.8,0.1,0.1", show_default=True, help="Split weights (0.8,0.1,0.1 or 4,1).")
@click.option("--names", default=None, help="Split names, one per ratio (default train,val,test).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the shuffle.")
@click.option("--stratify", is_flag=True, help="Keep each category's share per split close to the ratios.")
@click.option(
    "--group-by", default=None, metavar="ATTR", help="Keep images sharing this attribute (pair_id) in one split."
)
@dataset_io_options()
@overwrite_option
@output_options
@run_options
def command(paths: tuple[str, ...], as_json: bool, quiet: bool, verbose: int, **options: Any) -> None:
    """Split SRC into OUT_DIR: YOLO images/<split>/ and labels/<split>/, COCO train.json…,
    CSV train_labels.csv… and summary.csv."""
    if len(paths) < 2:
        raise click.UsageError("give at least one source and an output folder")
    ctx = pop_context(options, quiet=quiet)
    report = fashiondata.api.split(list(paths[:-1]), paths[-1], ctx=ctx, **options)
    emit(report, as_json=as_json, quiet=quiet)
