"""``fashiondata fix SRC DST``: a repaired copy of a dataset, each change listed."""

from __future__ import annotations

import click
from fashiondata_cli.commands.validate import finding_line
from fashiondata_cli.options import (
    emit,
    images_option,
    make_context,
    output_options,
    overwrite_option,
    run_options,
)

import fashiondata


@click.command("fix")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "src_format", default=None, help="Source format (sniffed when not given).")
@click.option("--to", "dst_format", default=None, help="Destination format (default: the source's).")
@images_option
@overwrite_option
@output_options
@run_options
def command(
    paths: tuple[str, ...],
    src_format: str | None,
    dst_format: str | None,
    images: str | None,
    as_json: bool,
    quiet: bool,
    **shared: object,
) -> None:
    """Repair SRC… into a new dataset DST: make polygons valid, clip to the image, drop degenerates.

    e.g. `fashiondata fix broken.json fixed.json`.
    """
    if len(paths) < 2:
        raise click.UsageError("give at least one source and a destination")
    ctx = make_context(quiet=quiet, **shared)
    report = fashiondata.api.fix(
        list(paths[:-1]),
        paths[-1],
        src_format=src_format,
        dst_format=dst_format,
        ctx=ctx,
        images=images,
    )
    if not as_json and not quiet:
        for finding in report.findings:
            click.echo(finding_line(finding), err=True)
    emit(report, as_json=as_json, quiet=quiet)
