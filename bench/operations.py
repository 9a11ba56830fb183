"""Dataset operations on a COCO-shaped file: split, stratified split, filter, balance, merge.

    python bench/operations.py                   # generates bench/_data/coco_20k.json on first run
    python bench/operations.py --images 5000 --repeat 3

Each task is a whole process (imports included), as a user runs it. The floor is a process that only
parses the file with ``orjson.loads`` and writes it back with ``orjson.dumps`` (an operation cannot
do less than read and write the dataset once). The issue names no peer for these verbs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_coco import benchmark_file  # noqa: E402
from measure import print_table, run_command, run_python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    path = benchmark_file("coco", args.images)
    out = HERE / "_out" / "operations"
    import orjson

    doc = orjson.loads(path.read_bytes())
    names = ",".join(c["name"] for c in doc["categories"][:3])
    total = len(doc["categories"])
    del doc
    floor = (
        f"import orjson; d = orjson.loads(open({str(path)!r}, 'rb').read()); "
        f"open({str(out / 'floor.json')!r}, 'wb').write(orjson.dumps(d))"
    )
    out.mkdir(parents=True, exist_ok=True)
    rows = [("orjson loads + dumps (floor)", *run_python(floor, repeat=args.repeat))]
    fashiondata_bin = shutil.which("fashiondata")
    ours = [fashiondata_bin] if fashiondata_bin else [sys.executable, "-m", "fashiondata_cli"]
    tasks = {
        "split 0.8,0.1,0.1": ["split", str(path), str(out / "split")],
        "split --stratify": ["split", str(path), str(out / "stratified"), "--stratify"],
        f"filter --categories (3 of {total})": ["filter", str(path), str(out / "filter.json"), "--categories", names],
        "balance --ratio 1": ["balance", str(path), str(out / "balance.json")],
        "merge SRC SRC (2× images)": ["merge", str(path), str(path), "-o", str(out / "merge.json")],
    }
    for name, argv in tasks.items():
        walls, peaks = [], []
        for _ in range(args.repeat):
            shutil.rmtree(out, ignore_errors=True)
            wall, peak = run_command([*ours, *argv, "--quiet"])
            walls.append(wall)
            peaks.append(peak)
        rows.append((f"fashiondata {name}", statistics.median(walls), max(peaks)))
    shutil.rmtree(out, ignore_errors=True)
    print(f"{path.name}: {path.stat().st_size / 1e6:.0f} MB, {args.images:,} images")
    print("no peer: the issue names none for these verbs")
    print_table(rows, items=args.images, unit="img", floor="orjson loads + dumps (floor)")
    print_steps(path, args.repeat)


def print_steps(path: Path, repeat: int) -> None:
    """The steps alone, in this process, on the dataset read once (median of ``repeat`` runs)."""
    import time

    from fashiondata import api, filters
    from fashiondata.report import Report

    dataset = api.read(path).materialize()
    steps = {
        "split": lambda: filters.split_dataset(dataset, seed=0, report=Report()),
        "split --stratify": lambda: filters.split_dataset(dataset, seed=0, stratify=True, report=Report()),
        "balance": lambda: filters.balance(dataset, ratio=1, seed=0, report=Report()),
        "merge (2 sources)": lambda: filters.merge_datasets([dataset, dataset], sources=["a", "b"], report=Report()),
    }
    print("step alone (in process, dataset already read)   ms")
    for name, step in steps.items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        print(f"  {name:<44} {statistics.median(times) * 1000:>6.0f}")


if __name__ == "__main__":
    main()
