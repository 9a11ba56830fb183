"""``fashiondata filter SRC… DST``: keep some categories, rename them, drop empty images."""

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


@click.command("filter")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--categories", default=None, help="Keep only these categories (names, synonyms or ids, comma-separated)."
)
@click.option("--rename", default=None, help="NAME merges the kept categories into one; old=new,… renames each.")
@click.option("--drop-empty", is_flag=True, help="Drop images left without annotations.")
@click.option("--drop-grayscale", is_flag=True, help="Drop grayscale and black-and-white images (reads the pixels).")
@click.option("--require-faces", is_flag=True, help="Drop images where no face is found (OpenCV's Haar cascades).")
@click.option(
    "--face-model",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --require-faces: YuNet ONNX file for cv2.FaceDetectorYN instead of the Haar cascades.",
)
@dataset_io_options("drop_empty")
@overwrite_option
@output_options
@run_options
def command(paths: tuple[str, ...], as_json: bool, quiet: bool, verbose: int, **options: Any) -> None:
    """Write a new dataset with only some categories, e.g.
    `fashiondata filter train.json pants.json --categories pants,leggings --rename pants`."""
    if len(paths) < 2:
        raise click.UsageError("give at least one source and a destination")
    ctx = pop_context(options, quiet=quiet)
    report = fashiondata.api.filter(list(paths[:-1]), paths[-1], ctx=ctx, **options)
    emit(report, as_json=as_json, quiet=quiet)
