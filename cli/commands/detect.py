"""``fashiondata detect IMAGES_DIR``: colour kind, faces, persons and selfies of every image."""

from __future__ import annotations

import click
from fashiondata_cli.options import (
    emit,
    make_context,
    output_options,
    overwrite_option,
    run_options,
)

import fashiondata


@click.command("detect")
@click.argument("images_dir", type=click.Path(file_okay=False))
@click.option("--checks", default=None, metavar="color,faces", help="Which checks to run (default all).")
@click.option(
    "--face-model",
    type=click.Path(dir_okay=False),
    default=None,
    help="YuNet ONNX file for cv2.FaceDetectorYN instead of OpenCV's Haar cascades.",
)
@click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False), default=None, help="Also write one CSV row per image."
)
@overwrite_option
@output_options
@run_options
def command(
    images_dir: str,
    checks: str | None,
    face_model: str | None,
    csv_path: str | None,
    overwrite: bool,
    as_json: bool,
    quiet: bool,
    **shared: object,
) -> None:
    """Colour kind, faces, persons and selfie of every image under IMAGES_DIR.

    Colour kinds: color, monochrome, grayscale, bw; persons: 0, 1 or many faces.
    """
    ctx = make_context(quiet=quiet, overwrite=overwrite, **shared)
    report = fashiondata.api.detect(images_dir, checks=checks, face_model=face_model, csv_path=csv_path, ctx=ctx)
    if not as_json and not quiet:
        summary = report.data["summary"]
        click.echo(f"images: {summary['images']}")
        for key in ("color", "persons"):
            if key in summary:
                click.echo(f"{key}: " + ", ".join(f"{k} {v}" for k, v in summary[key].items()))
        if "selfies" in summary:
            click.echo(f"selfies: {summary['selfies']}")
    emit(report, as_json=as_json, quiet=quiet)
