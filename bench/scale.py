"""Scale: the same conversion on a process pool and on a Dask LocalCluster; streaming vs in-memory reads.

    python bench/scale.py                  # 20k-image LVIS-shaped file (generated on first run)
    python bench/scale.py --images 5000 --workers 2 --repeat 1

Rows, each a whole process (imports, cluster start-up included):
* ``fashiondata convert lvis2yolo FILE OUT -j N`` (process pool) and ``--executor dask -j N``
  (LocalCluster of N single-threaded workers): the issue's target is Dask within 1.3× the pool. Each
  command runs once untimed first (bytecode cache, page cache); then the two alternate, so that load
  from other processes falls on both alike, and the median of ``--repeat`` runs is shown, with the
  CPU seconds (user + sys of the whole process tree) beside the wall time;
* ``fashiondata info FILE --json`` in memory and with ``--stream`` (byte-offset index, one image at a
  time): the target is a streaming peak of at most half the in-memory one;
* a bare ``orjson.loads`` of the file, the parse floor.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_coco import benchmark_file  # noqa: E402
from measure import print_table, run_command, run_python  # noqa: E402


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    walls = sorted(wall for wall, _ in runs)
    return walls[len(walls) // 2], max(peak for _, peak in runs)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_with_cpu(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak MB and CPU seconds (the process and the children it waited for)."""
    before = _children_cpu()
    wall, peak = run_command(argv)
    return wall, peak, _children_cpu() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # users have cached bytecode: a PYTHONDONTWRITEBYTECODE inherited from a shell would make every
    # process (and each spawned worker) compile all its modules again
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    path = benchmark_file("lvis", args.images)
    ours = [
        shutil.which("fashiondata") or sys.executable,
        *([] if shutil.which("fashiondata") else ["-m", "fashiondata_cli"]),
    ]
    out_root = Path(tempfile.mkdtemp(prefix="fashiondata-scale-"))
    rows = [
        (
            "orjson.loads (floor)",
            *run_python(f"import orjson; orjson.loads(open({str(path)!r}, 'rb').read())", repeat=args.repeat),
        )
    ]
    executors = {
        f"lvis2yolo -j {args.workers} (process pool)": [],
        f"lvis2yolo --executor dask -j {args.workers}": ["--executor", "dask"],
    }
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in executors}
    try:
        for attempt in range(-1, args.repeat):  # attempt -1: the untimed warm-up
            for name, executor in executors.items():
                out = out_root / "out"
                argv = [*ours, "convert", "lvis2yolo", str(path), str(out), "-q", "-j", str(args.workers), *executor]
                measured = _run_with_cpu(argv)
                shutil.rmtree(out, ignore_errors=True)
                if attempt >= 0:
                    runs[name].append(measured)
        for name, measured in runs.items():
            rows.append((name, *_median([(wall, peak) for wall, peak, _ in measured])))
        run_command([*ours, "info", str(path), "--json", "-q"])  # warm-up
        for name, flags in (("info --json (in memory)", []), ("info --json --stream", ["--stream"])):
            rows.append(
                (
                    name,
                    *_median(
                        [run_command([*ours, "info", str(path), "--json", "-q", *flags]) for _ in range(args.repeat)]
                    ),
                )
            )
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
    print(f"{path.name}: {path.stat().st_size / 1e6:.0f} MB, {args.images:,} images")
    print_table(rows, items=args.images, unit="img", floor="orjson.loads (floor)")
    pool, dask = runs
    cpu = {name: sorted(c for _, _, c in measured)[len(measured) // 2] for name, measured in runs.items()}
    wall = {name: wall for name, wall, _ in rows}
    for name, measured in runs.items():
        walls = " ".join(f"{w:.2f}" for w, _, _ in measured)
        print(f"{name}: wall s {walls}; CPU s {' '.join(f'{c:.1f}' for _, _, c in measured)}")
    print(
        f"CPU s (median, whole process tree): {cpu[pool]:.1f} process pool, {cpu[dask]:.1f} Dask; "
        f"Dask / pool: {wall[dask] / wall[pool]:.2f}× wall, {cpu[dask] / cpu[pool]:.2f}× CPU (target ≤ 1.3×); "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
