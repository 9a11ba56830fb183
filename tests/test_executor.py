"""Executors: same results in the same order whichever runs; the -j/--executor rules."""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext as does_not_raise

import pytest

from fashiondata.context import RunContext
from fashiondata.errors import ParseError, ValidationError
from fashiondata.executor import ProcessExecutor, SerialExecutor, make_executor


@dataclasses.dataclass(frozen=True)
class Square:
    """A picklable step that fails on negative items like a reader on a bad file."""

    def __call__(self, item: int) -> int:
        if item < 0:
            raise ParseError(f"item{item}.json", "negative", "/value")
        return item * item


def test_process_pool_returns_what_serial_returns_in_order() -> None:
    items = list(range(200))
    pool = ProcessExecutor(2)
    try:
        assert list(pool.map(Square(), items, chunksize=7)) == list(SerialExecutor().map(Square(), items))
    finally:
        pool.close()


@pytest.mark.parametrize(
    "spec, workers, kind, count, expectation",
    [
        (None, None, SerialExecutor, 1, does_not_raise()),  # default
        ("serial", None, SerialExecutor, 1, does_not_raise()),
        ("process:3", None, ProcessExecutor, 3, does_not_raise()),
        (None, 2, ProcessExecutor, 2, does_not_raise()),  # -j 2 is process:2
        (None, 1, SerialExecutor, 1, does_not_raise()),  # -j 1 is serial
        ("process:2", 2, ProcessExecutor, 2, does_not_raise()),  # both, same meaning
        ("process:2", 3, None, 0, pytest.raises(ValidationError)),  # both, different meanings
        ("serial", 4, None, 0, pytest.raises(ValidationError)),
        ("process:0", None, None, 0, pytest.raises(ValidationError)),
        ("threads", None, None, 0, pytest.raises(ValidationError)),
    ],
)
def test_make_executor(spec, workers, kind, count, expectation) -> None:
    with expectation:
        executor = make_executor(spec, workers=workers)
        assert isinstance(executor, kind) and executor.workers == count


@pytest.mark.parametrize("executor", [SerialExecutor(), ProcessExecutor(2)], ids=["serial", "process"])
def test_map_items_skips_and_counts_failures_when_asked(executor) -> None:
    ctx = RunContext(executor=executor, on_error="skip")
    try:
        results = list(ctx.map_items(Square(), [1, -2, 3, -4], desc="square", name_of=lambda i: f"item{i}"))
    finally:
        executor.close()
    assert results == [1, 9]
    assert ctx.report.skipped == {"negative": 2}
    assert ctx.report.skipped_items == [("item-2", "negative"), ("item-4", "negative")]


def test_map_items_raises_the_first_failure_by_default() -> None:
    with pytest.raises(ParseError, match="item-2.json: /value: negative"):
        list(RunContext().map_items(Square(), [1, -2, 3], desc="square"))
