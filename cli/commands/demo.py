"""``fashiondata demo [OUT_DIR]``: every seed pipeline once, on the sample data shipped in the package."""

from __future__ import annotations

import click
from fashiondata_cli.options import emit, make_context, output_options, overwrite_option, run_options

from fashiondata.demo import run_demo


@click.command("demo")
@click.argument("out_dir", default="fashiondata-demo", type=click.Path(file_okay=False))
@overwrite_option
@output_options
@run_options
def command(out_dir: str, overwrite: bool, as_json: bool, quiet: bool, **shared: object) -> None:
    """Run masks→YOLO (pants), VIA→COCO, VOC→CSV→TFRecord, stats with an HTML report and a preview grid
    on the bundled sample data, writing everything under OUT_DIR (default ./fashiondata-demo)."""
    ctx = make_context(quiet=quiet, overwrite=overwrite, **shared)
    emit(run_demo(out_dir, ctx=ctx), as_json=as_json, quiet=quiet)
