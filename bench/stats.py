"""Benchmark ``fashiondata stats FILE --json`` against the orjson floor and Datumaro.

Generates the seeded COCO-shaped file of ../shared/BENCHMARKS.md (20,000 images, ~12 annotations per
image, 80 categories with COCO's sparse ids; see bench/generate_coco.py) under bench/_data/, then
times three whole processes:

* the floor: ``python -c "orjson.loads(open(FILE, 'rb').read())"``;
* ours: ``fashiondata stats FILE --json --quiet``;
* Datumaro: ``Dataset.import_from(FILE's folder, "coco_instances")`` then
  ``compute_ann_statistics`` (skipped with a note when ``datumaro`` is not importable by
  ``--peer-python``).

Each line prints the median wall time over ``--repeat`` runs, the throughput in images/s and the peak
resident memory of the process (``ru_maxrss`` of a fresh child).

Usage: ``python bench/stats.py [--images 20000] [--repeat 3] [--peer-python PATH]``
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import orjson
from generate_coco import generate

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"

MEASURE = r"""
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(done.returncode, wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
"""

FLOOR = "import orjson, sys; orjson.loads(open(sys.argv[1], 'rb').read())"

DATUMARO = """
import sys
from datumaro.components.dataset import Dataset
from datumaro.components.operations import compute_ann_statistics
compute_ann_statistics(Dataset.import_from(sys.argv[1], "coco_instances"))
"""


def measure(command: list[str], repeat: int) -> tuple[float, float, float] | None:
    """Median wall seconds, largest peak RSS (MB) and median CPU seconds (user + sys) of ``repeat``
    fresh runs; None when the command fails."""
    walls, peaks, cpus = [], [], []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
        code, wall, peak_kb, cpu = out.stdout.split()
        if code != "0":
            return None
        walls.append(float(wall))
        peaks.append(int(peak_kb) / 1024)
        cpus.append(float(cpu))
    return statistics.median(walls), max(peaks), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20000, help="images in the generated file (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; the median is printed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--peer-python", default=sys.executable, help="a Python where datumaro is importable (default: this one)"
    )
    args = parser.parse_args()

    path = DATA / f"stats_coco_{args.images}_{args.seed}" / "annotations" / "instances_train.json"
    if not path.exists():
        print(f"generating {path} …", flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(generate("coco", args.images, args.seed)))
    (path.parents[1] / "images" / "train").mkdir(parents=True, exist_ok=True)  # Datumaro's importer wants it
    size_mb = path.stat().st_size / 1e6
    print(f"input: {path} ({size_mb:.0f} MB, {args.images} images)")

    fashiondata = shutil.which("fashiondata") or str(Path(sys.executable).with_name("fashiondata"))
    rows = [
        ("orjson.loads (floor)", [sys.executable, "-c", FLOOR, str(path)]),
        ("fashiondata stats --json", [fashiondata, "stats", str(path), "--json", "--quiet"]),
    ]
    try:
        peer_ok = (
            subprocess.run([args.peer_python, "-c", "import datumaro"], check=False, capture_output=True).returncode
            == 0
        )
    except OSError:  # no such interpreter
        peer_ok = False
    if peer_ok:
        rows.append(("datumaro compute_ann_statistics", [args.peer_python, "-c", DATUMARO, str(path.parents[1])]))
    results = {}
    print(f"{'command':34} {'wall s':>8} {'images/s':>10} {'peak MB':>9} {'CPU s':>7}")
    for name, command in rows:
        result = measure(command, args.repeat)
        results[name] = result
        if result is None:
            print(f"{name:34} failed")
            continue
        wall, peak, cpu = result
        print(f"{name:34} {wall:8.2f} {args.images / wall:10.0f} {peak:9.0f} {cpu:7.2f}", flush=True)
    if not peer_ok:
        print(
            f"note: datumaro is not importable by {args.peer_python}: peer skipped "
            "(BENCHMARKS.md measured 17.9 s, 1.2 GB peak on the 20k-image file)"
        )
    floor, ours = results.get("orjson.loads (floor)"), results.get("fashiondata stats --json")
    if floor and ours:
        print(f"ours / floor: {ours[0] / floor[0]:.2f}x wall, {ours[2] / floor[2]:.2f}x CPU (target ≤ 1.5x)")
    peer = results.get("datumaro compute_ann_statistics")
    if peer and ours:
        print(f"datumaro / ours: {peer[0] / ours[0]:.1f}x wall (target ≥ 4x)")


if __name__ == "__main__":
    main()
