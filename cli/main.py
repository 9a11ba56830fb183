"""The ``fashiondata`` command: a root group that turns library errors into one line and exit 2."""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click
from fashiondata_cli.commands import (
    balance,
    convert,
    dedupe,
    demo,
    detect,
    evaluate,
    fix,
    formats,
    info,
    merge,
    preview,
    prune,
    split,
    stats,
    validate,
)
from fashiondata_cli.commands import filter as filter_command

import fashiondata
from fashiondata.errors import FashionDataError

EXIT_ERROR = 2


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error) or type(error).__name__


class FashionDataGroup(click.Group):
    """Maps FashionDataError and OSError to ``error: FILE: LOCATION: reason`` and exit 2, once."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (FashionDataError, OSError) as error:
            if ctx.meta.get("verbose"):
                traceback.print_exc()
            click.echo(f"error: {_describe(error)}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=FashionDataGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(fashiondata.__version__, prog_name="fashiondata")
def cli() -> None:
    """Convert, filter, check and describe clothing and fashion segmentation datasets."""


for module in (
    convert,
    evaluate,
    fix,
    formats,
    info,
    validate,
    balance,
    dedupe,
    filter_command,
    merge,
    prune,
    split,
    detect,
    preview,
    stats,
    demo,
):
    cli.add_command(module.command)


def main() -> None:
    cli(prog_name="fashiondata")
