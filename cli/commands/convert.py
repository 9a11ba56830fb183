"""``fashiondata convert SRC2DST SRC… DST``: read with one registered format, write with another.

The readers' and writers' own options (``FormatSpec.read_options``/``write_options``) are added here
from the registry, so a new format needs no CLI code.
"""

from __future__ import annotations

from typing import Any

import click
from fashiondata_cli.options import (
    emit,
    format_options,
    images_option,
    make_context,
    output_options,
    overwrite_option,
    run_options,
)

import fashiondata
from fashiondata.registry import parse_conversion

_SHARED = {"as_json", "quiet", "verbose", "executor", "workers", "on_error", "overwrite"}


@click.command("convert")
@click.argument("conversion")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--categories", default=None, help="Keep only these categories (names, synonyms or ids, comma-separated)."
)
@click.option("--rename", default=None, help="NAME merges the kept categories into one; old=new,… renames each.")
@images_option
@format_options("read", "write")
@overwrite_option
@output_options
@run_options
def command(conversion: str, paths: tuple[str, ...], **options: Any) -> None:
    """Convert SRC… to DST, e.g. `fashiondata convert via2coco project.json out.json --images imgs/`.

    CONVERSION is SRC2DST with registered format names (`fashiondata formats`): coco2yolo, df2coco…
    Several sources make one dataset.
    """
    if len(paths) < 2:
        raise click.UsageError("give at least one source and a destination")
    reader, writer = parse_conversion(conversion)
    shared = {k: options.pop(k) for k in list(options) if k in _SHARED}
    ctx = make_context(**shared)
    report = fashiondata.convert(
        list(paths[:-1]),
        paths[-1],
        src_format=reader.name,
        dst_format=writer.name,
        ctx=ctx,
        **options,
    )
    emit(report, as_json=bool(shared["as_json"]), quiet=bool(shared["quiet"]))
