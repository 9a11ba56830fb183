"""The benchmark suite: every benchmark of bench/, each next to its peer and its floor, in one run.

    pip install -e '.[bench]'      # the peers (Ultralytics, globox); rows of absent peers say so
    python bench/run.py            # sizes of shared/BENCHMARKS.md (tens of minutes on 2 cores)
    python bench/run.py --quick    # small inputs, a few minutes: the same tables, smaller
    python bench/run.py --only lvis,masks

Each script generates its seeded inputs under bench/_data/ on first run and prints one table of wall
time, throughput and peak memory with ratios to its floor; this runner runs them one after the other
(never in parallel: they would measure each other) and prints every table. The latest figures are in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: script → (full-size arguments, --quick arguments)
SUITE: dict[str, tuple[list[str], list[str]]] = {
    "coco_read": ([], ["--images", "5000"]),
    "lvis": (["--repeat", "1"], ["--images", "5000", "--repeat", "1"]),
    "masks": ([], ["--count", "100"]),
    "df2": (["--repeat", "1"], ["--images", "1000", "--repeat", "1"]),
    "tfrecord": ([], ["--images", "500"]),
    "stats": (["--repeat", "1"], ["--images", "5000", "--repeat", "1"]),
    "operations": ([], ["--images", "5000"]),
    "evaluate": ([], ["--images", "500", "--masks", "50"]),
    "scale": ([], ["--images", "5000"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small inputs")
    parser.add_argument("--only", default="", help="comma-separated script names: " + ",".join(SUITE))
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(SUITE)
    unknown = sorted(set(chosen) - set(SUITE))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    failed = []
    for name in chosen:
        full, quick = SUITE[name]
        print(f"\n## {name}\n", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *(quick if args.quick else full)])
        print(f"({name}: {time.perf_counter() - start:.0f} s)", flush=True)
        if result.returncode:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
