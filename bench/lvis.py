"""LVIS → YOLO-seg, side by side: ``fashiondata convert lvis2yolo``, a bare ``orjson.loads`` of the same
file (the parse floor) and Ultralytics' ``convert_coco(lvis=True)`` when it is installed.

The input is generated (seeded) with the shape of ``lvis_v1_train.json`` given in
shared/BENCHMARKS.md: 20,000 images (640×480 to 1024×768, ``coco_url`` and no ``file_name``,
``neg_category_ids``, ``not_exhaustive_category_ids``), ~12 annotations per image, 1,203 categories
(``synset``, ``synonyms``, ``def``, ``frequency``, counts; ids 951/1040/1122 are short_pants,
sweat_pants and trousers as in LVIS v1), smooth rings of 8–60 vertices (~23 on average, 2-decimal
coordinates), ~6% of annotations in 2–4 parts, ~1% ``iscrowd: 1`` with uncompressed column-major RLE,
~0.3% of rings poking up to 3 px outside the image. The parts of a multi-part instance lie side by side
without overlapping, as in real LVIS (none of the 98 multi-part instances of the LVIS v0.5 sample in
shared/corpus overlap). ``--input FILE`` runs on another file (e.g. bench/generate_coco.py's, whose
parts are placed at random and overlap in ~40% of multi-part instances).

Each whole process is timed (wall clock) and its peak memory read from
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the largest process, workers included); the median of
``--repeat`` runs is printed, after one uncounted warm-up run of each command; runs of the commands
are interleaved. Measured processes run without ``PYTHONDONTWRITEBYTECODE`` (users have cached
bytecode), and each writes a new folder (all are deleted at the end: ext4 passes over inodes freed in
the last minute when it allocates new ones, which made file creation up to ten times slower when a run
followed the deletion of the previous run's 20,000 files).

    python bench/lvis.py --images 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import orjson

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
SIZES = [(640, 480), (800, 600), (1024, 768), (480, 640), (640, 427), (1024, 683)]
PANTS = {
    951: ("short_pants", ["short_pants", "shorts_(clothing)", "trunks_(clothing)"]),
    1040: ("sweat_pants", ["sweat_pants"]),
    1122: ("trousers", ["trousers", "pants_(clothing)"]),
}
OUTPUT = "{output}"  # stands for each run's own output folder in a command
MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(time.perf_counter() - start, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)\n"
)


def _ring(rng: np.random.Generator, cx: float, cy: float, radius: float) -> np.ndarray:
    """A smooth closed ring of 8–60 vertices (~23 on average) around (cx, cy)."""
    count = int(min(60, 8 + rng.exponential(13.5)))
    angle = np.linspace(0, 2 * math.pi, count, endpoint=False)
    wobble = 1 + 0.25 * np.sin(3 * angle + rng.uniform(0, 6.28))
    return np.stack([cx + radius * wobble * np.cos(angle), cy + radius * wobble * np.sin(angle)], axis=1)


def _polygon(rng: np.random.Generator, width: int, height: int) -> list[list[float]]:
    """1 ring, or (6%) 2–4 rings side by side along a random direction, never overlapping."""
    parts = int(rng.integers(2, 5)) if rng.random() < 0.06 else 1
    radius = rng.uniform(0.02, 0.2 / parts) * min(width, height)
    direction = rng.uniform(0, 2 * math.pi)
    step = 2.6 * radius  # wobble ≤ 1.25: rings 2.6 radii apart cannot touch
    cx = rng.uniform(0.15, 0.85) * width - math.cos(direction) * step * (parts - 1) / 2
    cy = rng.uniform(0.15, 0.85) * height - math.sin(direction) * step * (parts - 1) / 2
    rings = []
    for k in range(parts):
        ring = _ring(rng, cx + math.cos(direction) * step * k, cy + math.sin(direction) * step * k, radius)
        ring = np.clip(ring, [0, 0], [width, height])
        if rng.random() < 0.003:
            ring[0, 0] = -rng.uniform(0.5, 3.0)
        rings.append(np.round(ring, 2).ravel().tolist())
    return rings


def _crowd(rng: np.random.Generator, width: int, height: int) -> tuple[dict, list[float]]:
    """An uncompressed column-major RLE of an elliptical crowd region, and its box."""
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    rx, ry = rng.uniform(0.05, 0.25) * width, rng.uniform(0.05, 0.25) * height
    xs, ys = np.arange(width) + 0.5, np.arange(height) + 0.5
    mask = ((xs[None, :] - cx) / rx) ** 2 + ((ys[:, None] - cy) / ry) ** 2 <= 1
    flat = mask.ravel(order="F").astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    counts = np.diff(np.concatenate(([0], change, [flat.size]))).tolist()
    if flat[0]:
        counts = [0, *counts]
    cols, rows = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
    box = [float(cols[0]), float(rows[0]), float(cols[-1] + 1 - cols[0]), float(rows[-1] + 1 - rows[0])]
    return {"size": [height, width], "counts": counts}, box


def generate(images: int, seed: int = 0) -> dict:
    """The LVIS-v1-shaped document."""
    rng = np.random.default_rng(seed)
    categories = []
    for cid in range(1, 1204):
        name, synonyms = PANTS.get(cid, (f"category_{cid}", [f"category_{cid}", f"thing_{cid}"]))
        categories.append(
            {
                "id": cid,
                "name": name,
                "synset": f"{name}.n.01",
                "synonyms": synonyms,
                "def": f"definition of {name}",
                "frequency": "rcf"[cid % 3],
                "image_count": 0,
                "instance_count": 0,
            }
        )
    doc_images, annotations = [], []
    for image_id in range(1, images + 1):
        width, height = SIZES[int(rng.integers(len(SIZES)))]
        negatives = rng.choice(1203, int(rng.integers(0, 9)), replace=False) + 1
        if rng.random() < 0.1:
            negatives = np.append(negatives, rng.choice(list(PANTS)))
        doc_images.append(
            {
                "id": image_id,
                "width": width,
                "height": height,
                "license": int(rng.integers(1, 9)),
                "coco_url": f"http://images.cocodataset.org/train2017/{image_id:012d}.jpg",
                "neg_category_ids": sorted({int(i) for i in negatives}),
                "not_exhaustive_category_ids": [int(rng.integers(1, 1204))] if rng.random() < 0.2 else [],
            }
        )
        for _ in range(int(rng.poisson(12.05))):
            category_id = int(rng.integers(1, 1204))
            ann: dict = {"id": len(annotations) + 1, "image_id": image_id, "category_id": category_id}
            if rng.random() < 0.01:
                ann["segmentation"], ann["bbox"] = _crowd(rng, width, height)
                ann["iscrowd"] = 1
            else:
                rings = _polygon(rng, width, height)
                xs = [v for r in rings for v in r[0::2]]
                ys = [v for r in rings for v in r[1::2]]
                ann["segmentation"] = rings
                ann["bbox"] = [min(xs), min(ys), round(max(xs) - min(xs), 2), round(max(ys) - min(ys), 2)]
            ann["area"] = round(ann["bbox"][2] * ann["bbox"][3] * 0.7, 2)
            annotations.append(ann)
    return {
        "info": {"description": f"generated LVIS-v1-shaped benchmark file, seed {seed}"},
        "licenses": [],
        "images": doc_images,
        "annotations": annotations,
        "categories": categories,
    }


def _has_ultralytics(python: str) -> bool:
    probe = [python, "-c", "import ultralytics.data.converter"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def child_env() -> dict[str, str]:
    """This environment without PYTHONDONTWRITEBYTECODE: users run with cached bytecode, so measured
    processes must not recompile every module they import."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak MB of the largest process, CPU seconds) of one whole process and its workers."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], check=True, capture_output=True, text=True, env=child_env()
    )
    wall, peak_kb, cpu = out.stdout.split()
    return float(wall), int(peak_kb) / 1024, float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20000, help="images in the generated file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (the median is printed)")
    parser.add_argument("--workers", type=int, default=2, help="-j for fashiondata")
    parser.add_argument("--input", type=Path, help="an LVIS file to use instead of generating one")
    parser.add_argument(
        "--peer-python",
        default=sys.executable,
        help="the Python that has ultralytics (a scratch venv: it pulls PyTorch)",
    )
    args = parser.parse_args()

    source = args.input or DATA / f"lvis_{args.images}_{args.seed}" / "lvis_v1_train.json"
    if not source.exists():
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(orjson.dumps(generate(args.images, args.seed)))
    doc = orjson.loads(source.read_bytes())
    vertices = sum(
        len(r) // 2 for a in doc["annotations"] if isinstance(a["segmentation"], list) for r in a["segmentation"]
    )
    print(
        f"input: {source} ({source.stat().st_size / 1e6:.1f} MB, {len(doc['images'])} images, "
        f"{len(doc['annotations'])} annotations, {vertices / 1e6:.2f}M polygon vertices)"
    )
    del doc

    work = Path(tempfile.mkdtemp(prefix="lvis-bench-", dir=DATA))
    try:
        runs = {
            "bare orjson.loads (floor)": [
                sys.executable,
                "-c",
                "import orjson, sys; orjson.loads(open(sys.argv[1], 'rb').read())",
                str(source),
            ],
            f"fashiondata convert lvis2yolo -j {args.workers}": [
                sys.executable,
                "-m",
                "fashiondata_cli",
                "convert",
                "lvis2yolo",
                str(source),
                OUTPUT,
                "-j",
                str(args.workers),
                "--quiet",
            ],
        }
        if _has_ultralytics(args.peer_python):
            labels = work / "annotations"
            labels.mkdir()
            (labels / source.name).symlink_to(source)
            runs["ultralytics convert_coco(lvis=True)"] = [
                args.peer_python,
                "-c",
                (
                    "import sys; from ultralytics.data.converter import convert_coco; "
                    "convert_coco(sys.argv[1], sys.argv[2], use_segments=True, cls91to80=False, lvis=True)"
                ),
                str(labels),
                OUTPUT,
            ]
        else:
            print(
                f"note: ultralytics is not importable by {args.peer_python} (pip install 'fashiondata[bench]', "
                "or give --peer-python): its row is skipped"
            )
        samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in runs}
        for run in range(args.repeat + 1):  # run 0 warms up (bytecode, page cache) and is not counted
            for name, command in runs.items():  # interleaved: a change of load touches every command
                # every run writes a new folder, all deleted at the end: ext4 skips inodes freed in the
                # last minute when it allocates, so writing just after deleting 20,000 files is slower
                output = str(work / f"out-{len(os.listdir(work))}")
                os.sync()  # the previous run's writes must not land in this one
                sample = measure([output if a == OUTPUT else a for a in command])
                if run:
                    samples[name].append(sample)
        results = {
            name: (
                statistics.median(s[0] for s in runs_of),
                max(s[1] for s in runs_of),
                statistics.median(s[2] for s in runs_of),
            )
            for name, runs_of in samples.items()
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor_wall, floor_peak, _ = results["bare orjson.loads (floor)"]
    annotations = len(orjson.loads(source.read_bytes())["annotations"])
    print(
        f"{'command':45s} {'wall s':>8s} {'× floor':>8s} {'ann/s':>10s} {'peak MB':>9s} {'× floor':>8s} {'CPU s':>7s}"
    )
    for name, (wall, peak, cpu) in results.items():
        print(
            f"{name:45s} {wall:8.2f} {wall / floor_wall:8.2f} {annotations / wall:10.0f} {peak:9.0f} "
            f"{peak / floor_peak:8.2f} {cpu:7.2f}"
        )


if __name__ == "__main__":
    main()
