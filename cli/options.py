"""Shared CLI options as decorators (given after the verb), and the glue every verb uses:
building a RunContext from them and printing the Report."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import click
import orjson

from fashiondata.context import RunContext
from fashiondata.executor import make_executor
from fashiondata.registry import FormatOption, declared_options
from fashiondata.report import Report

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(fn: F) -> F:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def _remember_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> int:
    ctx.find_root().meta["verbose"] = value
    return value


json_option = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars and no summary.")
verbose_option = click.option(
    "--verbose",
    "-v",
    count=True,
    callback=_remember_verbose,
    expose_value=True,
    help="Show tracebacks of errors (and more detail).",
)
executor_option = click.option(
    "--executor",
    default=None,
    metavar="serial|process[:N]|dask[://HOST:PORT]",
    help="Where per-item work runs (default serial).",
)
workers_option = click.option(
    "-j", "--workers", type=int, default=None, help="Worker processes: shorthand for --executor process:N."
)
overwrite_option = click.option("--overwrite", is_flag=True, help="Replace a non-empty destination.")
on_error_option = click.option(
    "--on-error",
    type=click.Choice(["raise", "skip"]),
    default="raise",
    show_default=True,
    help="Stop at the first bad item, or skip it and list it in the summary.",
)
images_option = click.option(
    "--images",
    type=click.Path(file_okay=False),
    default=None,
    help="Image root folder, where pixels or image sizes are needed.",
)

source_format_option = click.option(
    "--format", "src_format", default=None, help="Source format (sniffed when not given)."
)
to_format_option = click.option("--to", "dst_format", default=None, help="Output format (default: the source's).")

stream_option = click.option(
    "--stream",
    is_flag=True,
    default=None,
    help="Read huge COCO/LVIS JSON one image at a time, in bounded memory (automatic above 1 GiB).",
)
#: --json, --quiet, -v: on every verb.
output_options = _compose(json_option, quiet_option, verbose_option)
#: --executor, -j, --on-error: on every verb that does per-item work.
run_options = _compose(executor_option, workers_option, on_error_option)


def _click_option(option: FormatOption) -> Callable[[F], F]:
    if option.type is bool:
        return click.option(option.flag, option.name, is_flag=True, default=None, help=option.help)
    if option.choices:
        kind: Any = click.Choice(option.choices)
    elif option.type == "path":
        kind = click.Path()
    else:
        kind = option.type
    return click.option(option.flag, option.name, type=kind, default=None, help=option.help)


def format_options(*roles: str, exclude: tuple[str, ...] = ()) -> Callable[[F], F]:
    """The registered formats' own options for these roles ("read", "write"), once per name; the
    library hands each to the reader or writer that declares it (``--images`` is shared, above).
    ``exclude`` leaves out the names a verb defines itself (filter's ``--drop-empty``)."""

    def apply(fn: F) -> F:
        for option in reversed(declared_options(roles)):
            if option.name != "images" and option.name not in exclude:
                fn = _click_option(option)(fn)
        return fn

    return apply


def dataset_io_options(*own: str) -> Callable[[F], F]:
    """--format, --to, --images and the formats' reader and writer options (but the verb's ``own``):
    on the verbs that read a dataset and write a new one."""
    return _compose(source_format_option, to_format_option, images_option, format_options("read", "write", exclude=own))


class TqdmProgress:
    """Progress bars on stderr; none when quiet, nor when stderr is not a terminal (logs, CI)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
        if self.quiet or not sys.stderr.isatty():
            return iter(items)
        from tqdm import tqdm  # imported only when a bar is drawn: it costs ~0.1 s of start-up

        return iter(tqdm(items, total=total, desc=desc, file=sys.stderr, leave=False, unit="it"))


def make_context(
    *,
    quiet: bool = False,
    executor: str | None = None,
    workers: int | None = None,
    on_error: str = "raise",
    overwrite: bool = False,
    **_ignored: Any,
) -> RunContext:
    """A RunContext from the shared options."""
    pool = make_executor(executor, workers=workers)
    click_ctx = click.get_current_context(silent=True)
    if click_ctx is not None:
        click_ctx.call_on_close(pool.close)  # stop worker processes / the Dask cluster when the verb ends
    return RunContext(
        executor=pool,
        progress=TqdmProgress(quiet),
        on_error=on_error,  # type: ignore[arg-type]
        overwrite=overwrite,
    )


def pop_context(options: dict[str, Any], *, quiet: bool) -> RunContext:
    """A RunContext from the shared options, removed from ``options`` (the rest go to the library)."""
    shared = ("executor", "workers", "on_error", "overwrite")
    return make_context(quiet=quiet, **{k: options.pop(k) for k in shared if k in options})


def emit(report: Report, *, as_json: bool, quiet: bool) -> None:
    """The report: JSON on stdout with --json, else a summary on stderr (unless --quiet)."""
    if as_json:
        click.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
    elif not quiet:
        for line in report.summary_lines():
            click.echo(line, err=True)
