"""Draw the synthetic sample data shipped in ``fashiondata/sample_data/`` (``fashiondata demo`` uses it).

Six "looks": a person drawn with OpenCV on a 250×367 canvas (DeepFashion-MultiModal's 750×1101 at
a third), each with

* ``photos/look_N.jpg``: the photo (flat colours, mild texture, JPEG);
* ``segm/look_N_segm.png``: its DeepFashion-MultiModal-style index mask (pixel = class id of the
  ``deepfashion-mm`` table: 1 top, 2 outer, 3 skirt, 4 dress, 5 pants, 6 leggings, 7 headwear,
  10 belt, 11 footwear, 12 bag, 13 hair, 14 face, 15 skin); bags have a handle hole;
* a VIA 2 project per annotator (``via/annotator_a.json``: looks 1–3, ``via/annotator_b.json``:
  looks 4–6) with garment polygons traced from the mask, a rect for the bag and an ellipse for the hat;
* ``voc/look_N.xml``: LabelImg Pascal VOC boxes of the garments, and ``voc/label_map.pbtxt`` (the
  TF Object Detection API label map of the ten garments, ids fixed once for every split).

Run ``python scripts/make_sample_data.py`` to redraw them (deterministic: seeded noise).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

import cv2
import numpy as np

WIDTH, HEIGHT = 250, 367
OUT = Path(__file__).resolve().parents[1] / "fashiondata" / "sample_data"

CLASS_IDS = {
    "top": 1,
    "outer": 2,
    "skirt": 3,
    "dress": 4,
    "pants": 5,
    "leggings": 6,
    "headwear": 7,
    "belt": 10,
    "footwear": 11,
    "bag": 12,
    "hair": 13,
    "face": 14,
    "skin": 15,
}
GARMENTS = ("top", "outer", "skirt", "dress", "pants", "leggings", "headwear", "belt", "footwear", "bag")

#: per look: the garments worn and their BGR colours
LOOKS: list[dict[str, tuple[int, int, int]]] = [
    {"top": (60, 60, 200), "pants": (120, 70, 30), "footwear": (30, 30, 30), "bag": (40, 110, 160)},
    {"dress": (150, 60, 160), "footwear": (20, 20, 120)},
    {
        "top": (235, 235, 235),
        "outer": (80, 90, 60),
        "pants": (50, 50, 50),
        "belt": (20, 60, 100),
        "footwear": (60, 40, 30),
    },
    {"top": (40, 160, 220), "skirt": (140, 40, 40), "footwear": (200, 200, 200), "bag": (30, 30, 30)},
    {"top": (90, 200, 90), "leggings": (30, 30, 30), "footwear": (220, 220, 220)},
    {"top": (200, 160, 60), "pants": (160, 110, 70), "headwear": (40, 40, 150), "footwear": (50, 50, 50)},
]
SKIN = (140, 170, 215)
HAIR = (30, 40, 60)
#: draws a shape filled with a value on a single-channel image
Draw = Callable[[np.ndarray, int], object]


def poly(points: list[tuple[int, int]]) -> np.ndarray:
    return np.array(points, dtype=np.int32).reshape(-1, 1, 2)


def shapes(look: dict[str, tuple[int, int, int]], index: int) -> list[tuple[str, Draw]]:
    """The drawing, back to front: (class name, drawing function on an image and a value)."""
    cx = 125 + (index % 3 - 1) * 6
    legs_apart = index == 5
    out: list[tuple[str, Draw]] = []

    def add(name: str, fn: Draw) -> None:
        out.append((name, fn))

    add("hair", lambda im, v: cv2.ellipse(im, (cx, 40), (24, 28), 0, 0, 360, v, -1))
    add("skin", lambda im, v: cv2.fillPoly(im, [poly([(cx - 7, 60), (cx + 7, 60), (cx + 7, 80), (cx - 7, 80)])], v))
    add("skin", lambda im, v: cv2.line(im, (cx - 34, 85), (cx - 48, 190), v, 13))
    add("skin", lambda im, v: cv2.line(im, (cx + 34, 85), (cx + 48, 190), v, 13))
    add(
        "skin",
        lambda im, v: cv2.fillPoly(
            im,
            [
                poly([(cx - 26, 230), (cx - 4, 230), (cx - 8, 335), (cx - 22, 335)]),
                poly([(cx + 4, 230), (cx + 26, 230), (cx + 22, 335), (cx + 8, 335)]),
            ],
            v,
        ),
    )
    add("face", lambda im, v: cv2.ellipse(im, (cx, 46), (17, 22), 0, 0, 360, v, -1))
    if "headwear" in look:
        add("headwear", lambda im, v: cv2.ellipse(im, (cx, 24), (30, 12), 0, 180, 360, v, -1))
    if "pants" in look or "leggings" in look:
        name = "pants" if "pants" in look else "leggings"
        wide = 10 if name == "pants" else 4
        if legs_apart:
            legs = [
                poly([(cx - 36, 168), (cx - 6, 168), (cx - 10, 332), (cx - 40 - wide, 332)]),
                poly([(cx + 6, 168), (cx + 36, 168), (cx + 40 + wide, 332), (cx + 10, 332)]),
            ]
        else:
            legs = [
                poly(
                    [
                        (cx - 34, 165),
                        (cx + 34, 165),
                        (cx + 28 + wide, 332),
                        (cx + 4, 332),
                        (cx, 215),
                        (cx - 4, 332),
                        (cx - 28 - wide, 332),
                    ]
                )
            ]
        add(name, lambda im, v: cv2.fillPoly(im, legs, v))
    if "skirt" in look:
        add(
            "skirt",
            lambda im, v: cv2.fillPoly(im, [poly([(cx - 32, 165), (cx + 32, 165), (cx + 52, 250), (cx - 52, 250)])], v),
        )
    if "dress" in look:
        add(
            "dress",
            lambda im, v: cv2.fillPoly(
                im,
                [poly([(cx - 30, 78), (cx + 30, 78), (cx + 34, 160), (cx + 58, 270), (cx - 58, 270), (cx - 34, 160)])],
                v,
            ),
        )
    if "top" in look:
        add(
            "top",
            lambda im, v: cv2.fillPoly(
                im,
                [
                    poly(
                        [
                            (cx - 30, 76),
                            (cx + 30, 76),
                            (cx + 44, 110),
                            (cx + 34, 116),
                            (cx + 34, 172),
                            (cx - 34, 172),
                            (cx - 34, 116),
                            (cx - 44, 110),
                        ]
                    )
                ],
                v,
            ),
        )
    if "outer" in look:
        add(
            "outer",
            lambda im, v: cv2.fillPoly(
                im,
                [
                    poly([(cx - 38, 74), (cx - 12, 74), (cx - 12, 185), (cx - 40, 185)]),
                    poly([(cx + 12, 74), (cx + 38, 74), (cx + 40, 185), (cx + 12, 185)]),
                ],
                v,
            ),
        )
    if "belt" in look:
        add("belt", lambda im, v: cv2.rectangle(im, (cx - 34, 164), (cx + 34, 171), v, -1))
    if "footwear" in look:
        add("footwear", lambda im, v: cv2.ellipse(im, (cx - 20, 340), (17, 8), 0, 0, 360, v, -1))
        add("footwear", lambda im, v: cv2.ellipse(im, (cx + 20, 340), (17, 8), 0, 0, 360, v, -1))
    if "bag" in look:
        # a handle: a thick ring, so the bag has a hole where the background shows through
        add("bag", lambda im, v: cv2.ellipse(im, (cx + 78, 170), (16, 18), 0, 0, 360, v, 6))
        add("bag", lambda im, v: cv2.rectangle(im, (cx + 58, 180), (cx + 98, 225), v, -1))
    return out


def draw(index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The photo (BGR) and the index mask of look ``index``."""
    look = LOOKS[index]
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    ramp = np.linspace(0, 1, HEIGHT)[:, None, None]
    top, bottom = np.array([225, 220, 210]), np.array([170, 175, 185])
    photo = np.broadcast_to(top + (bottom - top) * ramp, (HEIGHT, WIDTH, 3)).copy()
    for name, fn in shapes(look, index):
        layer = np.zeros((HEIGHT, WIDTH), np.uint8)
        fn(layer, 1)
        region = layer.astype(bool)
        mask[region] = CLASS_IDS[name]
        color = SKIN if name in ("skin", "face") else HAIR if name == "hair" else look[name]
        photo[region] = color
    noise = rng.normal(0, 4, photo.shape)
    photo = cv2.GaussianBlur(np.clip(photo + noise, 0, 255).astype(np.uint8), (3, 3), 0)
    return photo, mask


def traced_regions(mask: np.ndarray) -> list[dict]:
    """VIA regions of the garments: polygons traced from the mask; the bag as a rect, the hat as an ellipse."""
    regions = []
    for name in GARMENTS:
        binary = (mask == CLASS_IDS[name]).astype(np.uint8)
        if not binary.any():
            continue
        if name in ("bag", "headwear"):
            x, y, w, h = cv2.boundingRect(binary)
            shape = (
                {"name": "rect", "x": int(x), "y": int(y), "width": int(w), "height": int(h)}
                if name == "bag"
                else {
                    "name": "ellipse",
                    "cx": int(x + w // 2),
                    "cy": int(y + h // 2),
                    "rx": int(w // 2),
                    "ry": int(h // 2),
                    "theta": 0,
                }
            )
            regions.append({"shape_attributes": shape, "region_attributes": {"garment": name}})
            continue
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in sorted(contours, key=lambda c: tuple(c[0, 0])):
            if cv2.contourArea(contour) < 20:
                continue
            points = cv2.approxPolyDP(contour, 1.5, True).reshape(-1, 2)
            regions.append(
                {
                    "shape_attributes": {
                        "name": "polygon",
                        "all_points_x": [int(p[0]) for p in points],
                        "all_points_y": [int(p[1]) for p in points],
                    },
                    "region_attributes": {"garment": name},
                }
            )
    return regions


def via_project(name: str, entries: list[tuple[str, int, list[dict], str]]) -> dict:
    """A VIA 2.0 project file (what "Project → Save" writes)."""
    return {
        "_via_settings": {
            "ui": {"annotation_editor_height": 25},
            "core": {"buffer_size": 18, "filepath": {}, "default_filepath": ""},
            "project": {"name": name},
        },
        "_via_img_metadata": {
            f"{file_name}{size}": {
                "filename": file_name,
                "size": size,
                "regions": regions,
                "file_attributes": {"people": people},
            }
            for file_name, size, regions, people in entries
        },
        "_via_attributes": {
            "region": {
                "garment": {
                    "type": "dropdown",
                    "description": "",
                    "options": {g: "" for g in GARMENTS},
                    "default_options": {},
                }
            },
            "file": {
                "people": {
                    "type": "radio",
                    "description": "persons in the photo",
                    "options": {"0": "none", "1": "one", "2": "many"},
                    "default_options": {},
                }
            },
        },
        "_via_data_format_version": "2.0.10",
        "_via_image_id_list": [f"{file_name}{size}" for file_name, size, _r, _p in entries],
    }


def voc_xml(file_name: str, mask: np.ndarray) -> str:
    """A LabelImg Pascal VOC file with the garments' boxes."""
    objects = []
    for name in GARMENTS:
        ys, xs = np.nonzero(mask == CLASS_IDS[name])
        if xs.size == 0:
            continue
        objects.append(
            f"\t<object>\n\t\t<name>{name}</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n"
            f"\t\t<difficult>0</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>{xs.min()}</xmin>\n\t\t\t<ymin>{ys.min()}</ymin>\n"
            f"\t\t\t<xmax>{xs.max() + 1}</xmax>\n\t\t\t<ymax>{ys.max() + 1}</ymax>\n\t\t</bndbox>\n\t</object>\n"
        )
    return (
        f"<annotation>\n\t<folder>photos</folder>\n\t<filename>{escape(file_name)}</filename>\n"
        f"\t<path>/home/user/shop/photos/{escape(file_name)}</path>\n\t<source>\n\t\t<database>Unknown</database>\n"
        f"\t</source>\n\t<size>\n\t\t<width>{WIDTH}</width>\n\t\t<height>{HEIGHT}</height>\n\t\t<depth>3</depth>\n"
        f"\t</size>\n\t<segmented>0</segmented>\n{''.join(objects)}</annotation>\n"
    )


def label_map() -> str:
    """The garments' label map, ids from 1 in GARMENTS order."""
    return "\n".join(f"item {{\n  id: {i}\n  name: '{name}'\n}}\n" for i, name in enumerate(GARMENTS, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help="sample_data folder (default: the package's)")
    out = parser.parse_args().out
    rng = np.random.default_rng(12)
    annotators: dict[str, list[tuple[str, int, list[dict], str]]] = {"annotator_a": [], "annotator_b": []}
    for folder in ("photos", "segm", "via", "voc"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    for index in range(len(LOOKS)):
        stem = f"look_{index + 1}"
        photo, mask = draw(index, rng)
        _, jpeg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 80])
        (out / "photos" / f"{stem}.jpg").write_bytes(jpeg.tobytes())
        _, png = cv2.imencode(".png", mask, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        (out / "segm" / f"{stem}_segm.png").write_bytes(png.tobytes())
        annotator = "annotator_a" if index < 3 else "annotator_b"
        annotators[annotator].append((f"{stem}.jpg", len(jpeg), traced_regions(mask), "1"))
        (out / "voc" / f"{stem}.xml").write_text(voc_xml(f"{stem}.jpg", mask), encoding="utf-8")
    (out / "voc" / "label_map.pbtxt").write_text(label_map(), encoding="utf-8")
    for name, entries in annotators.items():
        text = json.dumps(via_project(name, entries), separators=(",", ":"))
        (out / "via" / f"{name}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
