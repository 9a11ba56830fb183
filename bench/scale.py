"""Scale: the same conversion on a process pool and on a Dask LocalCluster; streaming vs in-memory reads.

    python bench/scale.py                  # 20k-image LVIS-shaped file (generated on first run)
    python bench/scale.py --images 5000 --workers 2 --repeat 3

Rows, each a whole process (imports, cluster start-up included):
* ``fashiondata convert lvis2yolo FILE OUT -j N`` (process pool) and ``--executor dask -j N``
  (LocalCluster of N single-threaded workers): the issue's target is Dask within 1.3× the pool;
* ``fashiondata info FILE --json`` in memory and with ``--stream`` (byte-offset index, one image at a
  time): the target is a streaming peak of at most half the in-memory one;
* a bare ``orjson.loads`` of the file, the parse floor.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
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
    try:
        for name, executor in (
            (f"lvis2yolo -j {args.workers} (process pool)", []),
            (f"lvis2yolo --executor dask -j {args.workers}", ["--executor", "dask"]),
        ):
            runs = []
            for attempt in range(args.repeat):
                out = out_root / f"{len(rows)}-{attempt}"
                runs.append(
                    run_command(
                        [*ours, "convert", "lvis2yolo", str(path), str(out), "-q", "-j", str(args.workers), *executor]
                    )
                )
            rows.append((name, *_median(runs)))
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


if __name__ == "__main__":
    main()
