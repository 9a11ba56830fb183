"""Seeded generators of the COCO- and LVIS-shaped benchmark files described in shared/BENCHMARKS.md.

LVIS v1 shape: 20,000 images, ~12 annotations per image, 1,203 categories with synset/synonyms/def/
frequency/image_count/instance_count; images carry coco_url, neg_category_ids and
not_exhaustive_category_ids and no file_name; smooth polygon rings of 8–60 vertices with 2-decimal
coordinates; ~6% of annotations have 2–4 parts; ~1% are iscrowd with uncompressed column-major RLE;
~0.3% of parts poke up to 3 px outside the image. The COCO shape is the same with 80 categories (COCO's
sparse ids 1..90) and file_name.

    python bench/generate_coco.py --shape lvis --images 20000 OUT.json
"""

from __future__ import annotations

import argparse
import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson

COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def _ring(rng: random.Random, width: int, height: int, poke: bool) -> list[float]:
    n = min(60, 8 + int(rng.expovariate(1 / 15)))  # 8–60 vertices, ~23 on average
    cx, cy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
    radius = rng.uniform(0.02, 0.2) * min(width, height)
    out: list[float] = []
    phase = rng.random() * 6.28
    for k in range(n):
        angle = 2 * math.pi * k / n
        r = radius * (1 + 0.25 * math.sin(3 * angle + phase))
        x, y = cx + r * math.cos(angle), cy + r * math.sin(angle)
        out += [round(min(max(x, 0.0), width), 2), round(min(max(y, 0.0), height), 2)]
    if poke:
        out[0] = round(-rng.uniform(0.5, 3.0), 2)
    return out


def _crowd_rle(rng: random.Random, width: int, height: int) -> tuple[dict, list[float]]:
    mask = np.zeros((height, width), dtype=np.uint8)
    x0, y0 = rng.randrange(width // 2), rng.randrange(height // 2)
    w, h = rng.randint(20, width // 2), rng.randint(20, height // 2)
    mask[y0 : y0 + h, x0 : x0 + w] = 1
    flat = mask.flatten(order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    counts = np.diff(bounds).tolist()
    if flat[0] == 1:
        counts = [0, *counts]
    return {"size": [height, width], "counts": counts}, [float(x0), float(y0), float(w), float(h)]


def generate(shape: str, images: int, seed: int = 0, per_image: int = 12) -> dict:
    """The whole document as a dict."""
    rng = random.Random(seed)
    lvis = shape == "lvis"
    category_ids = list(range(1, 1204)) if lvis else COCO_IDS
    categories = []
    for cid in category_ids:
        category: dict = {"id": cid, "name": f"category_{cid}"}
        if lvis:
            category.update(
                synset=f"category_{cid}.n.01",
                synonyms=[f"category_{cid}", f"thing {cid}"],
                **{"def": f"definition {cid}"},
                frequency=rng.choice("rcf"),
                image_count=0,
                instance_count=0,
            )
        else:
            category["supercategory"] = "thing"
        categories.append(category)
    doc_images, annotations = [], []
    ann_id = 1
    for image_id in range(1, images + 1):
        width, height = rng.choice([(640, 480), (800, 600), (1024, 768), (480, 640)])
        split = "train2017" if rng.random() < 0.9 else "val2017"
        image: dict = {
            "id": image_id,
            "width": width,
            "height": height,
            "coco_url": f"http://images.cocodataset.org/{split}/{image_id:012d}.jpg",
        }
        if lvis:
            image["neg_category_ids"] = rng.sample(category_ids, 3)
            image["not_exhaustive_category_ids"] = rng.sample(category_ids, 1) if rng.random() < 0.2 else []
        else:
            image["file_name"] = f"{image_id:012d}.jpg"
        doc_images.append(image)
        for _ in range(max(0, int(rng.gauss(per_image, 4)))):
            category_id = rng.choice(category_ids)
            if rng.random() < 0.01:
                segmentation, bbox = _crowd_rle(rng, width, height)
                annotations.append(
                    {
                        "id": ann_id,
                        "image_id": image_id,
                        "category_id": category_id,
                        "segmentation": segmentation,
                        "area": bbox[2] * bbox[3],
                        "bbox": bbox,
                        "iscrowd": 1,
                    }
                )
            else:
                parts = rng.randint(2, 4) if rng.random() < 0.06 else 1
                rings = [_ring(rng, width, height, rng.random() < 0.003) for _ in range(parts)]
                xs = [v for r in rings for v in r[0::2]]
                ys = [v for r in rings for v in r[1::2]]
                bbox = [min(xs), min(ys), round(max(xs) - min(xs), 2), round(max(ys) - min(ys), 2)]
                ann = {
                    "id": ann_id,
                    "image_id": image_id,
                    "category_id": category_id,
                    "segmentation": rings,
                    "area": round(bbox[2] * bbox[3] * 0.7, 2),
                    "bbox": bbox,
                }
                if not lvis:
                    ann["iscrowd"] = 0
                annotations.append(ann)
            ann_id += 1
    doc: dict = {
        "info": {"description": f"generated {shape}-shaped benchmark file", "seed": seed},
        "licenses": [],
        "images": doc_images,
        "annotations": annotations,
        "categories": categories,
    }
    return doc


def benchmark_file(shape: str, images: int, seed: int = 0) -> Path:
    """``bench/_data/<shape>_<N>k.json``, generated (in a child process, so the caller's memory stays
    untouched) the first time it is asked for."""
    path = Path(__file__).resolve().parent / "_data" / f"{shape}_{images // 1000}k.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, __file__, "--shape", shape, "--images", str(images), "--seed", str(seed), str(path)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path)
    parser.add_argument("--shape", choices=["lvis", "coco"], default="lvis")
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(generate(args.shape, args.images, args.seed)))
    print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
