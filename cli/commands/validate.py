"""``fashiondata validate DATASET``: findings that would break training, one line each on stdout."""

from __future__ import annotations

import sys

import click
from fashiondata_cli.options import emit, images_option, make_context, output_options, run_options

import fashiondata
from fashiondata.report import Finding
from fashiondata.validate import BACKENDS, reaches

EXIT_FINDINGS = 1


def finding_line(finding: Finding) -> str:
    """``error polygon-zero-area instances.json /annotations/3 [a.jpg #7]: ring 0 encloses no area``."""
    where = " ".join(part for part in (finding.file, finding.location) if part)
    subject = " ".join(
        part for part in (finding.image, f"#{finding.annotation}" if finding.annotation is not None else None) if part
    )
    return (
        " ".join(part for part in (finding.severity, finding.code, where, f"[{subject}]" if subject else "") if part)
        + f": {finding.message}"
    )


@click.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "format_name", default=None, help="Format name (sniffed when not given).")
@click.option("--backend", type=click.Choice(BACKENDS), default=None, help="Add the rules of this trainer.")
@click.option(
    "--fail-on",
    type=click.Choice(["warning", "error"]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding reaches this severity.",
)
@images_option
@output_options
@run_options
def command(
    paths: tuple[str, ...],
    format_name: str | None,
    backend: str | None,
    fail_on: str,
    images: str | None,
    as_json: bool,
    quiet: bool,
    **shared: object,
) -> None:
    """Check DATASET for what breaks training; exit 1 when a finding reaches --fail-on.

    e.g. `fashiondata validate instances.json --backend detectron2 --images imgs/`.
    """
    ctx = make_context(quiet=quiet, **shared)
    report = fashiondata.api.validate(list(paths), format_name, backend=backend, images=images, ctx=ctx)
    if not as_json:
        for finding in report.findings:
            click.echo(finding_line(finding))
        if not report.findings and not quiet:
            click.echo("no findings", err=True)
    emit(report, as_json=as_json, quiet=quiet)
    if reaches(report.findings, fail_on):  # type: ignore[arg-type]
        sys.exit(EXIT_FINDINGS)
