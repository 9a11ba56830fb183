"""``fashiondata prune IMAGES_DIR LABELS_DIR``: images without labels and labels without images."""

from __future__ import annotations

import click
from fashiondata_cli.options import emit, output_options

import fashiondata.api
from fashiondata.prune import Unpaired, format_listing


@click.command("prune")
@click.argument("images_dir", type=click.Path(file_okay=False))
@click.argument("labels_dir", type=click.Path(file_okay=False))
@click.option("--apply", is_flag=True, help="Act: move (--move-to) or delete (--delete). Without it nothing changes.")
@click.option(
    "--move-to",
    type=click.Path(file_okay=False),
    default=None,
    help="Move unpaired files here, keeping relative paths.",
)
@click.option("--delete", is_flag=True, help="Delete unpaired files (with --apply).")
@click.option(
    "--list-to", type=click.Path(dir_okay=False), default=None, help="Write both lists to this file, not stdout."
)
@click.option(
    "--label-ext", "label_extensions", default=".txt", show_default=True, help="Label file extensions, comma-separated."
)
@click.option("--label-suffix", default="", help="Label stem suffix: _segm pairs X.jpg with X_segm.png.")
@output_options
def command(images_dir: str, labels_dir: str, as_json: bool, quiet: bool, verbose: int, **options: object) -> None:
    """List (dry run, the default), move or delete unpaired images and labels.

    `fashiondata prune images/ labels/` prints both lists; `--apply --move-to quarantine/` moves the files
    to quarantine/images/… and quarantine/labels/…; `--apply --delete` deletes them.
    """
    report = fashiondata.api.prune(images_dir, labels_dir, **options)  # type: ignore[arg-type]
    found = report.data["prune"]
    if not as_json and options["list_to"] is None and found["action"] == "dry run":
        unpaired = Unpaired(tuple(found["images_without_label"]), tuple(found["labels_without_image"]), 0, 0)
        click.echo(format_listing(unpaired, images_dir, labels_dir), nl=False)
    emit(report, as_json=as_json, quiet=quiet)
