"""The ``fashiondata`` command: a root group that turns library errors into one line and exit 2."""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from fashiondata.errors import FashionDataError

EXIT_ERROR = 2


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error) or type(error).__name__


#: The verbs, each defined by the module of its name under fashiondata_cli.commands.
VERBS = (
    "balance",
    "convert",
    "dedupe",
    "demo",
    "detect",
    "evaluate",
    "filter",
    "fix",
    "formats",
    "info",
    "merge",
    "preview",
    "prune",
    "split",
    "stats",
    "validate",
)


class FashionDataGroup(click.Group):
    """Imports a verb's module only when that verb runs (or ``--help`` lists it), and maps
    FashionDataError and OSError to ``error: FILE: LOCATION: reason`` and exit 2, once."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in VERBS:
            return None
        if cmd_name not in self.commands:
            module = importlib.import_module(f"fashiondata_cli.commands.{cmd_name}")
            self.add_command(module.command)
        return self.commands[cmd_name]

    def all_commands(self) -> dict[str, click.Command]:
        """Every verb's command, by name (imports them all: for the docs and their tests)."""
        return {name: command for name in VERBS if (command := self.get_command(click.Context(self), name))}

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (FashionDataError, OSError) as error:
            if ctx.meta.get("verbose"):
                traceback.print_exc()
            click.echo(f"error: {_describe(error)}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=FashionDataGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fashiondata", prog_name="fashiondata")
def cli() -> None:
    """Convert, filter, check and describe clothing and fashion segmentation datasets."""


def main() -> None:
    cli(prog_name="fashiondata")
