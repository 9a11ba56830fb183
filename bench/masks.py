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
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_masks import generate  # noqa: E402
from measure import print_table, run_command, run_python  # noqa: E402


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
    try:
        rows = [("cv2.imread (floor)", *run_python(
            "import cv2, glob\n"
            f"for p in sorted(glob.glob({str(masks / '*.png')!r})): cv2.imread(p, cv2.IMREAD_UNCHANGED)",
            repeat=args.repeat,
        ))]
        fashiondata_bin = shutil.which("fashiondata") or str(Path(sys.executable).parent / "fashiondata")
        for workers in sorted({1, args.workers}):
            argv = [fashiondata_bin, "convert", "masks2coco", str(masks), str(out / f"coco_{workers}.json"),
                    "--classes", "deepfashion-mm", "--quiet", "--overwrite", "-j", str(workers)]
            walls, peaks = zip(*(run_command(argv) for _ in range(args.repeat)))
            rows.append((f"fashiondata masks2coco -j {workers}", sorted(walls)[len(walls) // 2], max(peaks)))
        if importlib.util.find_spec("ultralytics") is None:
            print("note: ultralytics is not importable here: its converter is not measured")
        elif args.kind != "index":
            print("note: Ultralytics' converter reads grayscale masks only: not measured on", args.kind)
        else:
            code = (
                "from ultralytics.data.converter import convert_segment_masks_to_yolo_seg\n"
                f"convert_segment_masks_to_yolo_seg({str(masks)!r}, {str(out / 'ultralytics')!r}, classes=24)"
            )
            (out / "ultralytics").mkdir()
            rows.append(("ultralytics convert_segment_masks_to_yolo_seg", *run_python(code, repeat=args.repeat)))
        print(f"{args.count} {args.kind} masks of 750×1101 ({masks})")
        print_table(rows, items=args.count, unit="masks", floor="cv2.imread (floor)")
        floor = rows[0][1]
        for name, wall, _ in rows[1:]:
            if name.startswith("fashiondata"):
                workers = int(name.rsplit(" ", 1)[1])
                print(f"{name}: {floor / wall / workers:.2f}× the decode rate per worker")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
