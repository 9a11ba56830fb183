"""``fashiondata formats``: the registered formats, what each reads and writes and can hold."""

from __future__ import annotations

import click
import orjson
from fashiondata_cli.options import json_option

from fashiondata.registry import all_formats


@click.command("formats")
@json_option
def command(as_json: bool) -> None:
    """List the formats: name, aliases, read/write, capabilities."""
    rows = [
        {
            "name": s.name,
            "aliases": list(s.aliases),
            "read": s.read is not None,
            "write": s.write is not None,
            "capabilities": sorted(s.capabilities),
            "description": s.description,
        }
        for s in all_formats()
    ]
    if as_json:
        click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    for row in rows:
        mode = ("r" if row["read"] else "-") + ("w" if row["write"] else "-")
        names = row["name"] + (f" ({', '.join(row['aliases'])})" if row["aliases"] else "")
        click.echo(f"{names:<22} {mode}  {', '.join(row['capabilities']):<55} {row['description']}")
