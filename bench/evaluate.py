"""``fashiondata evaluate`` next to pycocotools' COCOeval (instance) and the mask-decoding floor (semantic).

    python bench/evaluate.py                       # 2,000 COCO-shaped images, 200 masks
    python bench/evaluate.py --images 20000 --masks 2000 --repeat 3

Generates its seeded inputs under bench/_data/ on first run:

* instance: the COCO-shaped file of ../shared/BENCHMARKS.md (bench/generate_coco.py) with ``--images``
  images, and a COCO results file of its boxes jittered (85% kept, one false positive in five images,
  random scores). Timed, each a whole process: pycocotools run the documented way
  (``COCO(gt).loadRes(results)``, ``evaluate/accumulate/summarize``: the reference and the peer), and
  ``fashiondata evaluate GT RESULTS --json`` serial and with ``-j 2``.
* semantic: ``--masks`` DeepFashion-MultiModal-like 750×1101 index masks (bench/generate_masks.py) and
  predictions (the GT shifted by 3 px with one class swapped per mask). Timed: the floor,
  ``cv2.imread`` of every GT and prediction mask, and ``fashiondata evaluate GT PRED --task semantic
  --json`` serial and with ``-j 2``. No peer is timed: the common scorers (mmsegmentation's IoUMetric,
  torchmetrics) need PyTorch and a model loop around them.

Each line prints the median wall time, the throughput and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_coco import generate as generate_coco  # noqa: E402
from generate_masks import draw_person  # noqa: E402
from measure import print_table, run_command  # noqa: E402

FASHIONDATA = [shutil.which("fashiondata") or str(Path(sys.executable).with_name("fashiondata"))]
COCOEVAL = """
import contextlib, io, sys
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[1])
    evaluator = COCOeval(gt, gt.loadRes(sys.argv[2]), "bbox")
    evaluator.evaluate(); evaluator.accumulate(); evaluator.summarize()
"""
DECODE_FLOOR = """
import cv2, pathlib, sys
for folder in sys.argv[1:]:
    for path in sorted(pathlib.Path(folder).glob("*.png")):
        cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
"""


def instance_inputs(images: int, seed: int) -> tuple[Path, Path]:
    """The COCO-shaped GT and jittered COCO results (generated once)."""
    folder = HERE / "_data" / f"evaluate_coco_{images}_{seed}"
    gt_path, results_path = folder / "instances_val.json", folder / "coco_instances_results.json"
    if results_path.exists():
        return gt_path, results_path
    print(f"generating {folder} …", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    gt = generate_coco("coco", images, seed)
    rng = random.Random(seed + 1)
    results = []
    for ann in gt["annotations"]:
        if ann.get("iscrowd") or rng.random() < 0.15:
            continue
        x, y, w, h = ann["bbox"]
        dx, dy = rng.uniform(-0.1, 0.1) * w, rng.uniform(-0.1, 0.1) * h
        box = [
            round(x + dx, 2),
            round(y + dy, 2),
            round(w * rng.uniform(0.9, 1.1), 2),
            round(h * rng.uniform(0.9, 1.1), 2),
        ]
        results.append(
            {
                "image_id": ann["image_id"],
                "category_id": ann["category_id"],
                "bbox": box,
                "score": round(rng.random(), 4),
            }
        )
    category_ids = [c["id"] for c in gt["categories"]]
    for image in gt["images"][::5]:
        box = [rng.uniform(0, 300), rng.uniform(0, 300), rng.uniform(10, 200), rng.uniform(10, 200)]
        results.append(
            {
                "image_id": image["id"],
                "category_id": rng.choice(category_ids),
                "bbox": [round(v, 2) for v in box],
                "score": round(rng.random(), 4),
            }
        )
    gt_path.write_bytes(orjson.dumps(gt))
    results_path.write_bytes(orjson.dumps(results))
    return gt_path, results_path


def semantic_inputs(masks: int, seed: int) -> tuple[Path, Path]:
    """GT index masks and predictions: shifted 3 px, one class swapped for its neighbour."""
    folder = HERE / "_data" / f"evaluate_masks_{masks}_{seed}"
    gt_folder, pred_folder = folder / "gt", folder / "pred"
    if pred_folder.is_dir() and len(list(pred_folder.glob("*.png"))) == masks:
        return gt_folder, pred_folder
    print(f"generating {folder} …", flush=True)
    gt_folder.mkdir(parents=True, exist_ok=True)
    pred_folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(masks):
        gt = draw_person(rng)
        pred = np.roll(gt, 3, axis=1)
        swapped = int(rng.integers(1, 23))
        pred[pred == swapped] = swapped + 1
        cv2.imwrite(str(gt_folder / f"person_{index:05d}.png"), gt)
        cv2.imwrite(str(pred_folder / f"person_{index:05d}.png"), pred)
    return gt_folder, pred_folder


CPU_SECONDS: dict[str, float] = {}


def median_command(argv: list[str], repeat: int) -> tuple[float, float]:
    """Median wall s and max peak MB of ``repeat`` runs; their mean CPU s (user + sys, workers
    included: steadier than wall time on a busy machine) goes to ``CPU_SECONDS`` under the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    runs = [run_command(argv) for _ in range(repeat)]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS[" ".join(argv)] = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / repeat
    walls = sorted(wall for wall, _ in runs)
    return walls[len(walls) // 2], max(peak for _, peak in runs)


def print_cpu(rows: list[tuple[str, list[str]]]) -> None:
    print(
        "CPU s (user+sys, mean per run): "
        + ", ".join(f"{name} {CPU_SECONDS[' '.join(argv)]:.2f}" for name, argv in rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000, help="COCO-shaped GT images (default 2000)")
    parser.add_argument("--masks", type=int, default=200, help="semantic mask pairs (default 200)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per task; the median is printed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    gt_path, results_path = instance_inputs(args.images, args.seed)
    predictions = len(orjson.loads(results_path.read_bytes()))
    print(f"\ninstance (bbox): {args.images} images, {predictions} predictions")
    ours = [*FASHIONDATA, "evaluate", str(gt_path), str(results_path), "--json", "--quiet"]
    commands = [
        ("pycocotools COCOeval (reference)", [sys.executable, "-c", COCOEVAL, str(gt_path), str(results_path)]),
        ("fashiondata evaluate", ours),
        ("fashiondata evaluate -j 2", [*ours, "-j", "2"]),
    ]
    rows = [(name, *median_command(argv, args.repeat)) for name, argv in commands]
    print_table(rows, items=args.images, unit="img", floor=commands[0][0])
    print_cpu(commands)

    gt_folder, pred_folder = semantic_inputs(args.masks, args.seed)
    print(f"\nsemantic: {args.masks} mask pairs of 750×1101")
    ours = [*FASHIONDATA, "evaluate", str(gt_folder), str(pred_folder), "--task", "semantic", "--json", "--quiet"]
    commands = [
        ("floor: cv2.imread of every mask", [sys.executable, "-c", DECODE_FLOOR, str(gt_folder), str(pred_folder)]),
        ("fashiondata evaluate --task semantic", ours),
        ("fashiondata evaluate --task semantic -j 2", [*ours, "-j", "2"]),
    ]
    rows = [(name, *median_command(argv, args.repeat)) for name, argv in commands]
    print_table(rows, items=args.masks, unit="pair", floor=commands[0][0])
    print_cpu(commands)


if __name__ == "__main__":
    main()
