"""Label masks → instances: masks/s for us (1 and N workers), Ultralytics and the bare decode floor.

    python bench/masks.py                          # 500 grayscale masks, -j 2
    python bench/masks.py --kind rgb --count 300 --workers 2
    python bench/masks.py --peer-python /tmp/ulvenv/bin/python   # Ultralytics from a scratch venv

The masks are DeepFashion-MultiModal-like (750×1101, classes 0–23, holes, two-part legs), generated
once with a seed under bench/_data/ (see bench/generate_masks.py). Every task is a whole process,
imports included, run once untimed first (page cache, bytecode):

* floor: ``cv2.imread`` of every mask, nothing else;
* ours: ``fashiondata convert masks2coco MASKS OUT.json --classes deepfashion-mm`` at default
  settings (pixel-edge tracing, holes bridged, fidelity IoU measured), serial and ``-j N``;
* Ultralytics' ``convert_segment_masks_to_yolo_seg`` (grayscale masks only) when ``--peer-python``
  (default: this Python) can import it.

Each task also runs on a folder of one mask: its start-up (imports, worker processes). The
"per mask" columns leave that start-up out, so they are the rates the speed target is about.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_masks import generate

#: children compile and cache their bytecode as users' processes do
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


class Measured(NamedTuple):
    """Medians of the timed runs: wall and CPU seconds (workers included), and the peak MB."""

    wall: float
    cpu: float
    peak: float


def run(argv: list[str]) -> Measured:
    """One child process; CPU seconds are user + system of it and its reaped workers."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=CHILD_ENV)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{argv[:4]}… failed with status {status}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def measure(argv: list[str], repeat: int) -> Measured:
    """Median wall and CPU, max peak of ``repeat`` runs after one untimed warm-up run."""
    run(argv)
    runs = [run(argv) for _ in range(repeat)]
    return Measured(
        statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs), max(r.peak for r in runs)
    )


def dataset(kind: str, count: int) -> Path:
    """The seeded mask folder, generated on first use."""
    masks = HERE / "_data" / f"masks_{kind}_{count}"
    if not (masks / f"person_{count - 1:05d}_segm.png").exists():
        generate(masks, count, kind, seed=0)
    return masks


def can_import(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True, env=CHILD_ENV).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--kind", choices=["index", "palette", "rgb"], default="index")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--peer-python", default=sys.executable, help="a Python that can import ultralytics")
    args = parser.parse_args()
    masks, single = dataset(args.kind, args.count), dataset(args.kind, 1)
    out = Path(tempfile.mkdtemp(prefix="fashiondata-bench-masks-"))
    fashiondata_bin = shutil.which("fashiondata") or str(Path(sys.executable).parent / "fashiondata")

    def floor(folder: Path) -> list[str]:
        code = f"import cv2, glob\nfor p in sorted(glob.glob({str(folder / '*.png')!r})): cv2.imread(p, cv2.IMREAD_UNCHANGED)"
        return [sys.executable, "-c", code]

    def ours(folder: Path, workers: int) -> list[str]:
        destination = out / f"coco_{workers}.json"
        convert = [fashiondata_bin, "convert", "masks2coco", str(folder), str(destination)]
        return [*convert, "--classes", "deepfashion-mm", "--quiet", "--overwrite", "-j", str(workers)]

    def ultralytics(folder: Path) -> list[str]:
        (out / "ultralytics").mkdir(exist_ok=True)
        code = (
            "from ultralytics.data.converter import convert_segment_masks_to_yolo_seg\n"
            f"convert_segment_masks_to_yolo_seg({str(folder)!r}, {str(out / 'ultralytics')!r}, classes=24)"
        )
        return [args.peer_python, "-c", code]

    tasks: list[tuple[str, int, Callable[[Path], list[str]]]] = [("cv2.imread (floor)", 1, floor)]
    tasks += [(f"fashiondata masks2coco -j {w}", w, lambda f, w=w: ours(f, w)) for w in sorted({1, args.workers})]
    if not can_import(args.peer_python, "ultralytics"):
        print(f"note: ultralytics is not importable by {args.peer_python}: its converter is not measured")
    elif args.kind != "index":
        print("note: Ultralytics' converter reads grayscale masks only: not measured on", args.kind)
    else:
        tasks.append(("ultralytics convert_segment_masks_to_yolo_seg", 1, ultralytics))
    try:
        rows = [
            (name, workers, measure(argv(masks), args.repeat), measure(argv(single), args.repeat))
            for name, workers, argv in tasks
        ]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"{args.count} {args.kind} masks of 750×1101 ({masks}), median of {args.repeat} after a warm-up run")
    print(
        f"{'task':<46} {'wall s':>7} {'masks/s':>8} {'CPU s':>7} {'peak MB':>8} {'start-up s':>10} "
        f"{'masks/s per mask':>16} {'CPU ms/mask':>11}"
    )
    steady: dict[str, tuple[float, float]] = {}  # name → (masks/s after start-up, CPU ms per mask)
    for name, _, whole, start in rows:
        rate = (args.count - 1) / max(whole.wall - start.wall, 1e-9)
        cpu_ms = 1000 * (whole.cpu - start.cpu) / (args.count - 1)
        steady[name] = (rate, cpu_ms)
        print(
            f"{name:<46} {whole.wall:>7.2f} {args.count / whole.wall:>8.0f} {whole.cpu:>7.2f} {whole.peak:>8.0f} "
            f"{start.wall:>10.2f} {rate:>16.0f} {cpu_ms:>11.2f}"
        )
    floor_whole = rows[0][2]
    floor_rate, floor_cpu_ms = steady[rows[0][0]]
    for name, workers, whole, _ in rows[1:]:
        if name.startswith("fashiondata"):
            rate, cpu_ms = steady[name]
            print(
                f"{name}: per worker {floor_whole.wall / whole.wall / workers:.2f}× the decode rate (whole "
                f"processes, wall), {rate / workers / floor_rate:.2f}× per mask after start-up (wall), "
                f"{floor_cpu_ms / cpu_ms:.2f}× per CPU second (target 0.6×)"
            )


if __name__ == "__main__":
    main()
