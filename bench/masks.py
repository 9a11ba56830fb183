"""Label masks → instances: masks/s for us (1 and N workers), Ultralytics and the bare decode floor.

    python bench/masks.py                          # 500 grayscale masks, -j 2
    python bench/masks.py --kind rgb --count 300 --workers 2

The masks are DeepFashion-MultiModal-like (750×1101, classes 0–23, holes, two-part legs), generated
once with a seed under bench/_data/ (see bench/generate_masks.py). Every task is a whole process,
imports included:

* floor: ``cv2.imread`` of every mask, nothing else;
* ours: ``fashiondata convert masks2coco MASKS OUT.json --classes deepfashion-mm`` at default
  settings (pixel-edge tracing, holes bridged, fidelity IoU measured), serial and ``-j N``;
* Ultralytics' ``convert_segment_masks_to_yolo_seg`` (grayscale masks only) when it is importable.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_masks import generate


def run(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak MB and CPU seconds (user + system, its worker processes included) of one
    child process. On a shared machine the CPU seconds are the steadier figure."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{argv[:4]}… failed with status {status}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def measure(name: str, argv: list[str], repeat: int) -> tuple[str, float, float, float]:
    """The median wall, max peak and median CPU of ``repeat`` runs."""
    walls, peaks, cpus = zip(*(run(argv) for _ in range(repeat)))
    return name, statistics.median(walls), max(peaks), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--kind", choices=["index", "palette", "rgb"], default="index")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    masks = HERE / "_data" / f"masks_{args.kind}_{args.count}"
    if not (masks / f"person_{args.count - 1:05d}_segm.png").exists():
        generate(masks, args.count, args.kind, seed=0)
    out = Path(tempfile.mkdtemp(prefix="fashiondata-bench-masks-"))
    python = [sys.executable, "-c"]
    try:
        rows = [
            measure(
                "cv2.imread (floor)",
                [
                    *python,
                    (
                        "import cv2, glob\n"
                        f"for p in sorted(glob.glob({str(masks / '*.png')!r})): cv2.imread(p, cv2.IMREAD_UNCHANGED)"
                    ),
                ],
                args.repeat,
            )
        ]
        fashiondata_bin = shutil.which("fashiondata") or str(Path(sys.executable).parent / "fashiondata")
        for workers in sorted({1, args.workers}):
            argv = [
                fashiondata_bin,
                "convert",
                "masks2coco",
                str(masks),
                str(out / f"coco_{workers}.json"),
                "--classes",
                "deepfashion-mm",
                "--quiet",
                "--overwrite",
                "-j",
                str(workers),
            ]
            rows.append(measure(f"fashiondata masks2coco -j {workers}", argv, args.repeat))
        if importlib.util.find_spec("ultralytics") is None:
            print("note: ultralytics is not importable here: its converter is not measured")
        elif args.kind != "index":
            print("note: Ultralytics' converter reads grayscale masks only: not measured on", args.kind)
        else:
            (out / "ultralytics").mkdir()
            code = (
                "from ultralytics.data.converter import convert_segment_masks_to_yolo_seg\n"
                f"convert_segment_masks_to_yolo_seg({str(masks)!r}, {str(out / 'ultralytics')!r}, classes=24)"
            )
            rows.append(measure("ultralytics convert_segment_masks_to_yolo_seg", [*python, code], args.repeat))
        print(f"{args.count} {args.kind} masks of 750×1101 ({masks}), median of {args.repeat}")
        print(f"{'task':<46} {'wall s':>7} {'masks/s':>8} {'peak MB':>8} {'CPU s':>7} {'× floor (wall)':>15}")
        floor_wall, floor_cpu = rows[0][1], rows[0][3]
        for name, wall, peak, cpu in rows:
            print(
                f"{name:<46} {wall:>7.2f} {args.count / wall:>8.0f} {peak:>8.0f} {cpu:>7.2f} {wall / floor_wall:>15.2f}"
            )
        for name, wall, _, cpu in rows[1:]:
            if name.startswith("fashiondata"):
                workers = int(name.rsplit(" ", 1)[1])
                print(
                    f"{name}: {floor_wall / wall / workers:.2f}× the decode rate per worker (wall), "
                    f"{floor_cpu / cpu:.2f}× per CPU second"
                )
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
