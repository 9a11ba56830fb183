"""Seeded DeepFashion-MultiModal-like human parsing masks (750×1101, class ids 0–23).

    python bench/generate_masks.py OUT_DIR --count 200 --kind index|palette|rgb [--seed 0]

Each mask is a standing person drawn with jagged outlines: skin (arms, neck, legs), face, hair
around the face (often a ring: a hole), a top or dress, pants/skirt/leggings with the legs apart
(one class in two parts), footwear, a belt, and sometimes a bag with a strap loop (a hole),
eyeglasses (two rings), a headwear, earrings, a ring, a necklace, a wrist band or socks. Index masks
are grayscale PNGs, palette masks "P" PNGs with the DeepFashion-MultiModal colours as palette, RGB
masks the same colours as pixels.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import cv2
import numpy as np

HEIGHT, WIDTH = 1101, 750
COLORS = [
    (0, 0, 0),
    (255, 250, 250),
    (220, 220, 220),
    (250, 235, 215),
    (255, 250, 205),
    (211, 211, 211),
    (70, 130, 180),
    (127, 255, 212),
    (0, 100, 0),
    (50, 205, 50),
    (255, 255, 0),
    (245, 222, 179),
    (255, 140, 0),
    (255, 0, 0),
    (16, 78, 139),
    (144, 238, 144),
    (50, 205, 174),
    (50, 155, 250),
    (160, 140, 88),
    (213, 140, 88),
    (90, 140, 90),
    (185, 210, 205),
    (130, 165, 180),
    (225, 141, 151),
]


def _jagged(rng: np.random.Generator, points: list[tuple[float, float]], jitter: float) -> np.ndarray:
    """A closed outline through ``points`` with extra vertices every ~12 px, each moved by up to
    ``jitter`` px (hand-drawn look)."""
    out = []
    closed = points + points[:1]
    for (x1, y1), (x2, y2) in itertools.pairwise(closed):
        steps = max(1, int(np.hypot(x2 - x1, y2 - y1) / 12))
        for t in np.arange(steps) / steps:
            out.append(
                (x1 + (x2 - x1) * t + rng.uniform(-jitter, jitter), y1 + (y2 - y1) * t + rng.uniform(-jitter, jitter))
            )
    return np.round(np.array(out)).astype(np.int32)


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 24) -> list[tuple[float, float]]:
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


def draw_person(rng: np.random.Generator, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """One label mask (uint8, class ids as in DeepFashion-MultiModal)."""
    sx, sy = width / WIDTH, height / HEIGHT
    mask = np.zeros((height, width), np.uint8)
    cx = WIDTH / 2 + rng.uniform(-60, 60)

    def fill(points: list[tuple[float, float]], class_id: int, jitter: float = 2.5) -> None:
        scaled = [(x * sx, y * sy) for x, y in points]
        cv2.fillPoly(mask, [_jagged(rng, scaled, jitter * min(sx, sy))], class_id)

    def ring(cx_: float, cy_: float, rx: float, ry: float, thickness: float, class_id: int) -> None:
        cv2.ellipse(
            mask,
            (round(cx_ * sx), round(cy_ * sy)),
            (max(1, round(rx * sx)), max(1, round(ry * sy))),
            0,
            0,
            360,
            class_id,
            max(1, round(thickness * min(sx, sy))),
        )

    top_y, hip_y, foot_y = 300, 610, 1030
    shoulder = rng.uniform(110, 140)
    # skin: neck, arms, legs (clothes are drawn over it)
    fill([(cx - 25, 220), (cx + 25, 220), (cx + 30, 320), (cx - 30, 320)], 15)
    for side in (-1, 1):
        fill(
            [
                (cx + side * shoulder, top_y),
                (cx + side * (shoulder + 40), top_y + 10),
                (cx + side * (shoulder + 70), 640),
                (cx + side * (shoulder + 40), 650),
            ],
            15,
        )
        fill([(cx + side * 15, hip_y), (cx + side * 85, hip_y), (cx + side * 75, foot_y), (cx + side * 30, foot_y)], 15)
    # hair behind the face, face over it: the hair often closes around the face (a hole)
    fill(_ellipse(cx, 150, 80, 95), 13, 3)
    fill(_ellipse(cx, 165, 52, 66), 14, 1.5)
    if rng.random() < 0.5:  # face fully inside the hair: add hair below the chin to close the ring
        fill([(cx - 60, 215), (cx + 60, 215), (cx + 40, 245), (cx - 40, 245)], 13)
    if rng.random() < 0.3:
        fill([(cx - 85, 95), (cx + 85, 95), (cx + 70, 45), (cx - 70, 45)], 7)
    dress = rng.random() < 0.3
    bottom = None if dress else int(rng.choice([5, 3, 6]))
    # top (1) or dress (4) or outer (2)
    body_class = 4 if dress else int(rng.choice([1, 1, 2]))
    body_end = 800 if dress else hip_y + 20
    fill(
        [
            (cx - shoulder, top_y),
            (cx + shoulder, top_y),
            (cx + shoulder + 10, body_end),
            (cx - shoulder - 10, body_end),
        ],
        body_class,
    )
    for side in (-1, 1):  # sleeves
        fill(
            [
                (cx + side * shoulder, top_y),
                (cx + side * (shoulder + 45), top_y + 10),
                (cx + side * (shoulder + 58), 450),
                (cx + side * (shoulder + 20), 455),
            ],
            body_class,
        )
    if bottom == 3:
        fill([(cx - 100, hip_y), (cx + 100, hip_y), (cx + 150, 800), (cx - 150, 800)], 3)
    elif bottom is not None:  # pants or leggings: two legs apart
        gap = rng.uniform(6, 25)
        for side in (-1, 1):
            fill(
                [
                    (cx + side * gap, hip_y),
                    (cx + side * 95, hip_y),
                    (cx + side * 80, 990),
                    (cx + side * (gap + 15), 990),
                ],
                bottom,
            )
        fill([(cx - 95, hip_y), (cx + 95, hip_y), (cx + 90, hip_y + 60), (cx - 90, hip_y + 60)], bottom)
    if not dress:
        fill(
            [
                (cx - shoulder - 12, hip_y + 5),
                (cx + shoulder + 12, hip_y + 5),
                (cx + shoulder + 12, hip_y + 22),
                (cx - shoulder - 12, hip_y + 22),
            ],
            10,
            1,
        )
    for side in (-1, 1):  # footwear; socks sometimes
        if rng.random() < 0.3:
            fill(
                [(cx + side * 25, 990), (cx + side * 82, 990), (cx + side * 82, foot_y), (cx + side * 25, foot_y)],
                18,
                1,
            )
        fill(
            [(cx + side * 20, foot_y), (cx + side * 95, foot_y), (cx + side * 100, 1075), (cx + side * 15, 1075)],
            11,
            1.5,
        )
    if rng.random() < 0.5:  # a bag with a strap loop (a hole)
        bx = cx + rng.choice([-1, 1]) * (shoulder + 90)
        ring(bx, 560, 45, 60, 9, 12)
        fill([(bx - 60, 600), (bx + 60, 600), (bx + 65, 720), (bx - 65, 720)], 12)
    if rng.random() < 0.5:  # eyeglasses: two small rings and a bridge
        for side in (-1, 1):
            ring(cx + side * 20, 160, 14, 10, 3, 8)
        cv2.line(
            mask,
            (round((cx - 6) * sx), round(160 * sy)),
            (round((cx + 6) * sx), round(160 * sy)),
            8,
            max(1, round(2 * sx)),
        )
    if rng.random() < 0.6:  # earrings: tiny blobs
        for side in (-1, 1):
            fill(_ellipse(cx + side * 54, 195, 3, 5, 8), 22, 0.4)
    if rng.random() < 0.6:  # a ring on a finger: a few pixels
        fill(_ellipse(cx + shoulder + 55, 662, 4, 3, 8), 16, 0.3)
    if rng.random() < 0.4:
        ring(cx, 250, 38, 45, 3, 20)  # necklace: a thin loop around the neck
    if rng.random() < 0.4:
        side = rng.choice([-1, 1])
        fill(
            [
                (cx + side * (shoulder + 38), 600),
                (cx + side * (shoulder + 68), 598),
                (cx + side * (shoulder + 69), 612),
                (cx + side * (shoulder + 39), 614),
            ],
            17,
            0.8,
        )
    return mask


def palette() -> list[int]:
    """The 256-entry palette with the DeepFashion-MultiModal colours first."""
    flat = [v for color in COLORS for v in color]
    return flat + [0] * (768 - len(flat))


def save(mask: np.ndarray, path: Path, kind: str) -> None:
    """Write one mask as ``index`` (grayscale), ``palette`` (P) or ``rgb`` PNG."""
    if kind == "index":
        cv2.imwrite(str(path), mask)
    elif kind == "rgb":
        rgb = np.asarray(COLORS, np.uint8)[mask]
        cv2.imwrite(str(path), rgb[..., ::-1])
    elif kind == "palette":
        from PIL import Image

        image = Image.frombytes("P", (mask.shape[1], mask.shape[0]), mask.tobytes())
        image.putpalette(palette())
        image.save(path)
    else:
        raise ValueError(kind)


def generate(
    folder: Path, count: int, kind: str, seed: int = 0, height: int = HEIGHT, width: int = WIDTH
) -> list[Path]:
    """``count`` masks named ``person_NNNNN_segm.png`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        path = folder / f"person_{index:05d}_segm.png"
        save(draw_person(rng, height, width), path, kind)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--kind", choices=["index", "palette", "rgb"], default="index")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    generate(args.out, args.count, args.kind, args.seed)


if __name__ == "__main__":
    main()
