"""`fashiondata validate` on a COCO-shaped file, next to reading it and the bare JSON parse floor.

    python bench/validate.py                   # generates bench/_data/coco_5k.json on first run
    python bench/validate.py --images 20000 --repeat 3

Each task is a whole process (imports included). validate reads the file leniently and runs every
record check (category, ids, degenerate and self-intersecting rings through shapely, boxes and rings
against the image); `fashiondata info` is the plain read; the floor is `orjson.loads` of the bytes.
No peer lints these rules (pycocotools' `COCO()` is timed as the reference reader; Ultralytics'
checks run at training time on YOLO labels, not on COCO files).
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
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    path = benchmark_file(args.shape, args.images)
    import orjson

    annotations = len(orjson.loads(path.read_bytes())["annotations"])
    fashiondata_bin = shutil.which("fashiondata")
    ours = (
        [fashiondata_bin]
        if fashiondata_bin
        else [sys.executable, "-c", "from fashiondata_cli.main import main; main()"]
    )
    fmt = ["--format", args.shape]

    def timed(argv: list[str]) -> tuple[float, float]:
        runs = [run_command(argv) if "validate" not in argv else _validate(argv) for _ in range(args.repeat)]
        return sorted(r[0] for r in runs)[len(runs) // 2], max(r[1] for r in runs)

    rows = [
        (
            "orjson.loads (floor)",
            *run_python(f"import orjson; orjson.loads(open({str(path)!r}, 'rb').read())", repeat=args.repeat),
        )
    ]
    rows.append(("fashiondata info (read only)", *timed([*ours, "info", str(path), *fmt, "--json", "-q"])))
    rows.append(("fashiondata validate", *timed([*ours, "validate", str(path), *fmt, "-q"])))
    rows.append(("fashiondata validate -j 2", *timed([*ours, "validate", str(path), *fmt, "-q", "-j", "2"])))
    if importlib.util.find_spec("pycocotools"):
        code = f"from pycocotools.coco import COCO; COCO({str(path)!r})"
        rows.append(("pycocotools COCO() (reference reader)", *run_python(code, repeat=args.repeat)))
    else:
        print("pycocotools is not importable: its reference read is not timed")
    print(f"{path.name}: {args.images:,} images, {annotations:,} annotations")
    print_table(rows, items=annotations, unit="ann", floor="orjson.loads (floor)")


def _validate(argv: list[str]) -> tuple[float, float]:
    """validate exits 1 when it finds errors (the generated file pokes outside images): time it anyway."""
    import os
    import subprocess
    import time

    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"{argv[:3]}… failed with status {status}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


if __name__ == "__main__":
    main()
