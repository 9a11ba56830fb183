"""Reading a COCO/LVIS-shaped file into the model, next to pycocotools' COCO() and a bare orjson.loads.

    python bench/coco_read.py                 # generates bench/_data/coco_20k.json on first run
    python bench/coco_read.py --shape lvis --repeat 3

Each task is a whole process (imports included): `fashiondata info FILE --json` reads every record into
the model; the floor is a process doing only `orjson.loads` of the same bytes.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_coco import benchmark_file  # noqa: E402
from measure import print_table, run_command, run_python  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=["coco", "lvis"], default="coco")
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    path = benchmark_file(args.shape, args.images)
    import orjson

    annotations = len(orjson.loads(path.read_bytes())["annotations"])
    rows = [
        (
            "orjson.loads (floor)",
            *run_python(f"import orjson; orjson.loads(open({str(path)!r}, 'rb').read())", repeat=args.repeat),
        )
    ]
    fashiondata_bin = shutil.which("fashiondata")
    ours = [fashiondata_bin] if fashiondata_bin else [sys.executable, "-m", "fashiondata_cli"]
    walls, peaks = zip(*(run_command([*ours, "info", str(path), "--json", "--quiet"]) for _ in range(args.repeat)))
    rows.append(("fashiondata info --json", sorted(walls)[len(walls) // 2], max(peaks)))
    if importlib.util.find_spec("pycocotools"):
        rows.append(
            (
                "pycocotools COCO()",
                *run_python(f"from pycocotools.coco import COCO; COCO({str(path)!r})", repeat=args.repeat),
            )
        )
    print(f"{path.name}: {path.stat().st_size / 1e6:.0f} MB, {annotations:,} annotations")
    print_table(rows, items=annotations, unit="ann", floor="orjson.loads (floor)")


if __name__ == "__main__":
    main()
