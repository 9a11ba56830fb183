"""Benchmark ``fashiondata convert df2coco`` on a generated DeepFashion2-shaped folder.

Generates (seeded, under bench/_data/) a DeepFashion2 split folder as in ../shared/BENCHMARKS.md:
``annos/NNNNNN.json`` with 1–3 items each (all 13 categories, each with its real landmark count,
1–3 polygons per item) and ``image/NNNNNN.jpg`` of the true size (a few real DeepFashion2 sizes), then
times whole processes:

* the floor: parse every annotation file with orjson and read every JPEG header (stdlib only);
* ours, read only: ``fashiondata info DIR --format df2`` (parse, header, keypoint slots, mask areas);
* ours: ``fashiondata convert df2coco DIR OUT`` serial, with ``-j 2``, and with ``--area bbox`` (no
  mask rasterisation: the cost of exact mask areas is the difference);
* the CLI's start-up alone (``fashiondata convert --help``: interpreter, click, the registry), which
  every "ours" row includes;
* the bound: the floor's work plus only what the output cannot do without (pycocotools' mask area of
  every item, the 294 keypoint slots, one ``orjson.dumps`` of the COCO document), in a bare script.

Children run without ``PYTHONDONTWRITEBYTECODE`` (as users do: cached bytecode), each command once
untimed first (warm file cache and bytecode).

No peer is timed: the official ``deepfashion2_to_coco.py`` does not run (``num_images`` is undefined).
Prints median wall time, throughput (images/s), CPU seconds, peak memory and the ratios to the floor.

Usage: ``python bench/df2.py [--images 5000] [--repeat 3] [--seed 0]``
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
LANDMARKS = {1: 25, 2: 33, 3: 31, 4: 39, 5: 15, 6: 15, 7: 10, 8: 14, 9: 8, 10: 29, 11: 37, 12: 19, 13: 19}
NAMES = {
    1: "short sleeve top",
    2: "long sleeve top",
    3: "short sleeve outwear",
    4: "long sleeve outwear",
    5: "vest",
    6: "sling",
    7: "shorts",
    8: "trousers",
    9: "skirt",
    10: "short sleeve dress",
    11: "long sleeve dress",
    12: "vest dress",
    13: "sling dress",
}
#: the first of each category's slots among the 294 keypoints (the official converter's)
FIRST = {1: 0, 2: 25, 3: 58, 4: 89, 5: 128, 6: 143, 7: 158, 8: 168, 9: 182, 10: 190, 11: 219, 12: 256, 13: 275}
SIZES = ((468, 624), (640, 960), (748, 585), (800, 800), (540, 720))

FLOOR = r"""
import os, struct, sys, orjson
root = sys.argv[1]
def jpeg_size(path):
    with open(path, "rb") as f:
        data = f.read(65536)
    i = 2
    while i < len(data):
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    raise ValueError(path)
for name in sorted(os.listdir(os.path.join(root, "annos"))):
    orjson.loads(open(os.path.join(root, "annos", name), "rb").read())
    jpeg_size(os.path.join(root, "image", name[:-5] + ".jpg"))
"""

BOUND = FLOOR.replace("import os,", "import gc, numpy, pycocotools.mask as mask_utils, os,").replace(
    """for name in sorted(os.listdir(os.path.join(root, "annos"))):
    orjson.loads(open(os.path.join(root, "annos", name), "rb").read())
    jpeg_size(os.path.join(root, "image", name[:-5] + ".jpg"))
""",
    """FIRST = {FIRST}
gc.disable()  # no reference cycles here: spare the collector walks over 200 MB of lists
images, annotations = [], []
for name in sorted(os.listdir(os.path.join(root, "annos"))):
    doc = orjson.loads(open(os.path.join(root, "annos", name), "rb").read())
    width, height = jpeg_size(os.path.join(root, "image", name[:-5] + ".jpg"))
    images.append({"id": int(name[:-5]), "width": width, "height": height, "file_name": name[:-5] + ".jpg"})
    for key in sorted(k for k in doc if k.startswith("item")):
        item = doc[key]
        first = FIRST[item["category_id"]]
        keypoints = [0] * (3 * first) + item["landmarks"]
        keypoints += [0] * (882 - len(keypoints))
        rles = mask_utils.frPyObjects(item["segmentation"], height, width)
        area = float(mask_utils.area(rles[0] if len(rles) == 1 else mask_utils.merge(rles)))
        x1, y1, x2, y2 = item["bounding_box"]
        annotations.append({"id": len(annotations) + 1, "image_id": images[-1]["id"],
            "category_id": item["category_id"], "segmentation": item["segmentation"], "area": area,
            "bbox": [x1, y1, x2 - x1, y2 - y1], "iscrowd": 0, "keypoints": keypoints,
            "num_keypoints": sum(1 for v in item["landmarks"][2::3] if v > 0)})
open(sys.argv[2], "wb").write(orjson.dumps({"images": images, "annotations": annotations}))
""",
)


def smooth_ring(rng: random.Random, cx: float, cy: float, rx: float, ry: float) -> list[int]:
    """A garment-like closed ring of 12–40 integer vertices around (cx, cy)."""
    import math

    n = rng.randint(12, 40)
    ring = []
    for k in range(n):
        angle = 2 * math.pi * k / n
        scale = rng.uniform(0.8, 1.0)
        ring += [round(cx + scale * rx * math.cos(angle)), round(cy + scale * ry * math.sin(angle))]
    return ring + ring[:2]  # DeepFashion2 repeats the first point


def generate(root: Path, images: int, seed: int) -> None:
    """The seeded DeepFashion2-shaped folder (JPEGs of the true sizes, one encoding per size)."""
    import cv2
    import numpy as np

    rng = random.Random(seed)
    encoded = {}
    for width, height in SIZES:
        _ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 127, np.uint8))
        encoded[(width, height)] = data.tobytes()
    (root / "annos").mkdir(parents=True, exist_ok=True)
    (root / "image").mkdir(exist_ok=True)
    for number in range(1, images + 1):
        width, height = rng.choice(SIZES)
        doc: dict = {"source": rng.choice(("user", "shop")), "pair_id": number // 4 + 1}
        for index in range(1, rng.randint(1, 3) + 1):
            category_id = rng.randint(1, 13)
            x1, y1 = rng.randint(0, width // 2), rng.randint(0, height // 2)
            x2, y2 = rng.randint(x1 + 20, width - 1), rng.randint(y1 + 20, height - 1)
            cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
            parts = [smooth_ring(rng, cx, cy, rx, ry)]
            for _ in range(rng.randint(0, 2)):
                parts.append(smooth_ring(rng, cx + rx / 3, cy, rx / 3, ry / 3))
            landmarks = []
            for _ in range(LANDMARKS[category_id]):
                landmarks += [rng.randint(x1, x2), rng.randint(y1, y2), rng.choice((0, 1, 2, 2))]
            doc[f"item{index}"] = {
                "segmentation": parts,
                "scale": rng.randint(1, 3),
                "viewpoint": rng.randint(1, 3),
                "zoom_in": rng.randint(1, 3),
                "landmarks": landmarks,
                "style": rng.randint(0, 2),
                "bounding_box": [x1, y1, x2, y2],
                "category_id": category_id,
                "occlusion": rng.randint(1, 3),
                "category_name": NAMES[category_id],
            }
        (root / "annos" / f"{number:06d}.json").write_bytes(orjson.dumps(doc))
        (root / "image" / f"{number:06d}.jpg").write_bytes(encoded[(width, height)])


def run_once(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + sys) and peak MB of one child process."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # users have cached bytecode
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"{' '.join(argv[:6])}… failed with status {status}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def timed(argv: list[str], repeat: int) -> tuple[float, float, float]:
    """Median wall, median CPU and max peak MB over ``repeat`` runs (after one untimed run)."""
    run_once(argv)
    walls, cpus, peaks = zip(*(run_once(argv) for _ in range(repeat)))
    return statistics.median(walls), statistics.median(cpus), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=5000, help="annotation files to generate (default 5000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; the median is printed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    root = DATA / f"df2_{args.images}_{args.seed}" / "train"
    if not (root / "annos").is_dir():
        print(f"generating {root} …", flush=True)
        generate(root, args.images, args.seed)
    out = DATA / "_df2_out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cli = [sys.executable, "-m", "fashiondata_cli"]
    rows = [
        ("floor: orjson parse + JPEG headers", *timed([sys.executable, "-c", FLOOR, str(root)], args.repeat)),
        (
            "bound: floor + pycocotools areas + dump",
            *timed(
                [sys.executable, "-c", BOUND.replace("{FIRST}", repr(FIRST)), str(root), str(out / "bound.json")],
                args.repeat,
            ),
        ),
        (
            "ours: info --format df2 (read only)",
            *timed([*cli, "info", str(root), "--format", "df2", "--quiet"], args.repeat),
        ),
        (
            "ours: convert df2coco",
            *timed([*cli, "convert", "df2coco", str(root), str(out / "s.json"), "--overwrite", "--quiet"], args.repeat),
        ),
        (
            "ours: convert df2coco -j 2",
            *timed(
                [*cli, "convert", "df2coco", str(root), str(out / "p.json"), "--overwrite", "--quiet", "-j", "2"],
                args.repeat,
            ),
        ),
        (
            "ours: convert df2coco --area bbox",
            *timed(
                [
                    *cli,
                    "convert",
                    "df2coco",
                    str(root),
                    str(out / "b.json"),
                    "--overwrite",
                    "--quiet",
                    "--area",
                    "bbox",
                ],
                args.repeat,
            ),
        ),
        ("ours: CLI start-up (convert --help)", *timed([*cli, "convert", "--help"], args.repeat)),
    ]
    print(f"{args.images} DeepFashion2 annotation files; no peer (the official converter does not run)")
    floor_wall, floor_cpu = rows[0][1], rows[0][2]
    print(
        f"{'task':<42} {'wall s':>7} {'images/s':>9} {'CPU s':>7} {'peak MB':>8} {'wall×floor':>11} {'CPU×floor':>10}"
    )
    for name, wall, cpu, peak in rows:
        print(
            f"{name:<42} {wall:>7.2f} {args.images / wall:>9,.0f} {cpu:>7.2f} {peak:>8.0f} {wall / floor_wall:>11.2f} {cpu / floor_cpu:>10.2f}"
        )
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
