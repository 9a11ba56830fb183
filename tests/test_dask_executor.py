"""The Dask executor (a LocalCluster here): same results, same order, same bytes as serial runs."""

from __future__ import annotations

from pathlib import Path

import pytest

import fashiondata
from fashiondata.context import RunContext
from fashiondata.dask_executor import DaskExecutor
from fashiondata.errors import ValidationError
from fashiondata.executor import SerialExecutor, make_executor
from fashiondata.io import safe_relative_path


@pytest.fixture(scope="module")
def dask_executor():
    executor = DaskExecutor(workers=2)
    yield executor
    executor.close()


def test_results_come_back_in_input_order(dask_executor: DaskExecutor) -> None:
    items = list(range(-50, 50))
    assert list(dask_executor.map(abs, items, chunksize=3)) == [abs(i) for i in items]
    assert dask_executor.workers == 2


class RecordingProgress:
    """A progress factory that keeps what each bar saw."""

    def __init__(self) -> None:
        self.bars: list[tuple[str, int | None, list[object]]] = []

    def __call__(self, items, *, total=None, desc=""):
        seen: list[object] = []
        self.bars.append((desc, total, seen))
        for item in items:
            seen.append(item)
            yield item


def test_progress_bars_see_every_result_in_order(dask_executor: DaskExecutor) -> None:
    progress = RecordingProgress()
    ctx = RunContext(executor=dask_executor, progress=progress)
    items = [f"dir/{i}.jpg" for i in range(40)]
    assert list(ctx.map_items(safe_relative_path, items, desc="names", chunksize=7)) == items
    assert progress.bars == [("names", 40, [(True, item) for item in items])]


def test_failures_follow_the_error_policy(dask_executor: DaskExecutor) -> None:
    ctx = RunContext(executor=dask_executor, on_error="skip")
    names = ["a.jpg", "../x.jpg", "b/./c.jpg"]
    assert list(ctx.map_items(safe_relative_path, names, desc="names")) == ["a.jpg", "b/c.jpg"]
    assert ctx.report.skipped_items == [("../x.jpg", "file name '../x.jpg' leaves its folder: refused")]


def test_voc_to_csv_is_byte_identical_to_a_serial_run(
    dask_executor: DaskExecutor, corpus: Path, tmp_path: Path
) -> None:
    source = corpus / "weizh888_productimageseg" / "annotations" / "annotations-1"
    outputs = []
    for name, executor in (("serial", SerialExecutor()), ("dask", dask_executor)):
        out = tmp_path / f"{name}.csv"
        fashiondata.convert(source, out, src_format="voc", dst_format="csv", ctx=RunContext(executor=executor))
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") > 100


@pytest.mark.parametrize(
    "spec, workers, expectation",
    [("dask", 3, 3), ("dask", None, None)],
)
def test_make_executor_builds_a_lazy_dask_executor(spec: str, workers: int | None, expectation: int | None) -> None:
    executor = make_executor(spec, workers=workers)
    assert isinstance(executor, DaskExecutor) and executor.address is None
    if expectation is not None:
        assert executor.workers == expectation  # no cluster is started until work arrives


def test_workers_do_not_apply_to_a_remote_scheduler() -> None:
    with pytest.raises(ValidationError):
        make_executor("dask://127.0.0.1:8786", workers=2)


def _tree_bytes(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "name, source, src_format, dst_format, options",
    [
        (
            "masks2yolo",
            "masks/deepfashion_mm/index",
            "masks",
            "yolo",
            {"classes": "deepfashion-mm", "link_mode": "none"},
        ),
        ("lvis2yolo", "lvis/lvis_v1_val.json", "lvis", "yolo", {"link_mode": "none"}),
        ("df2coco", "df2/train", "df2", "coco", {}),
    ],
)
def test_conversions_are_byte_identical_on_every_executor(
    dask_executor: DaskExecutor, fixtures: Path, tmp_path: Path, name, source, src_format, dst_format, options
) -> None:
    outputs = []
    for label, executor in (
        ("serial", SerialExecutor()),
        ("process", make_executor("process:2")),
        ("dask", dask_executor),
    ):
        out = tmp_path / f"{name}-{label}" / ("out" if dst_format == "yolo" else "out.json")
        fashiondata.convert(
            fixtures / source,
            out,
            src_format=src_format,
            dst_format=dst_format,
            ctx=RunContext(executor=executor),
            **options,
        )
        outputs.append(_tree_bytes(out))
        if label == "process":
            executor.close()
    assert outputs[0] and outputs[0] == outputs[1] == outputs[2]


def test_stats_are_identical_on_every_executor(dask_executor: DaskExecutor, fixtures: Path) -> None:
    source = fixtures / "df2" / "train"
    results = []
    for executor in (SerialExecutor(), dask_executor):
        report = fashiondata.api.stats(source, "df2", ctx=RunContext(executor=executor))
        results.append(report.data["stats"])
    assert results[0] == results[1] and results[0]["images"] > 0
