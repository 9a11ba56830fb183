"""VOC (LabelImg) → TFRecord for the TF Object Detection API, next to the floor of reading the inputs.

    python bench/tfrecord.py                  # generates bench/_data/voc_2k/ on first run
    python bench/tfrecord.py --images 500 --repeat 3

Input (seeded, shapes of shared/BENCHMARKS.md): one LabelImg XML per image with 1–8 objects named
after DeepFashion2's 13 classes, and a JPEG per image (480–1024 px a side). Each task is a whole
process (imports included): `fashiondata convert voc2tfrecord` (serial, and with -j 2) against the
floor, a process that only reads every XML file and every image file's bytes; the CLI's start-up alone
(``fashiondata convert --help``); and the bound, a bare script doing only the work the output cannot do
without (lxml parse of each XML, SHA-256 of each image, one protobuf Example per image, CRC-32C
framing, one file written). Children run without ``PYTHONDONTWRITEBYTECODE`` (as users do: cached
bytecode), each task once untimed first. The peers that write OD API records (Datumaro, FiftyOne)
import TensorFlow; they are run only when importable.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import resource
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import print_table, run_command, run_python

DF2_NAMES = (
    "short sleeve top",
    "long sleeve top",
    "short sleeve outwear",
    "long sleeve outwear",
    "vest",
    "sling",
    "shorts",
    "trousers",
    "skirt",
    "short sleeve dress",
    "long sleeve dress",
    "vest dress",
    "sling dress",
)
XML = """<annotation>
\t<folder>images</folder>
\t<filename>{name}</filename>
\t<path>C:\\data\\images\\{name}</path>
\t<source>
\t\t<database>Unknown</database>
\t</source>
\t<size>
\t\t<width>{width}</width>
\t\t<height>{height}</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
{objects}</annotation>
"""
OBJECT = """\t<object>
\t\t<name>{label}</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>{truncated}</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox>
\t\t\t<xmin>{x1}</xmin>
\t\t\t<ymin>{y1}</ymin>
\t\t\t<xmax>{x2}</xmax>
\t\t\t<ymax>{y2}</ymax>
\t\t</bndbox>
\t</object>
"""


def generate(root: Path, images: int, seed: int = 0) -> None:
    """``root/Annotations/*.xml`` and ``root/images/*.jpg``, seeded."""
    import cv2
    import numpy as np

    rng = random.Random(seed)
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(parents=True, exist_ok=True)
    for index in range(images):
        name = f"shop_{index:06d}.jpg"
        width, height = rng.randint(480, 1024), rng.randint(480, 1024)
        pixels = np.full((height, width, 3), [rng.randrange(256) for _ in range(3)], np.uint8)
        objects = []
        for _ in range(rng.randint(1, 8)):
            x1, y1 = rng.randrange(width - 40), rng.randrange(height - 40)
            x2, y2 = rng.randint(x1 + 20, width), rng.randint(y1 + 20, height)
            cv2.rectangle(pixels, (x1, y1), (x2 - 1, y2 - 1), [rng.randrange(256) for _ in range(3)], -1)
            truncated = int(x1 == 0 or y1 == 0 or x2 == width or y2 == height)
            objects.append(OBJECT.format(label=rng.choice(DF2_NAMES), truncated=truncated, x1=x1, y1=y1, x2=x2, y2=y2))
        cv2.imwrite(str(root / "images" / name), pixels, [cv2.IMWRITE_JPEG_QUALITY, 85])
        xml = XML.format(name=name, width=width, height=height, objects="".join(objects))
        (root / "Annotations" / f"shop_{index:06d}.xml").write_text(xml)


FLOOR = """
from pathlib import Path
root = Path({root!r})
for xml in sorted((root / "Annotations").glob("*.xml")):
    xml.read_bytes()
    (root / "images" / (xml.stem + ".jpg")).read_bytes()
"""

BOUND = """
import hashlib
from pathlib import Path
import importlib.util
from lxml import etree
spec = importlib.util.spec_from_file_location("tfexample", {tfexample!r})  # not the whole formats package
tfexample = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tfexample)
encode_example, frame_record = tfexample.encode_example, tfexample.frame_record
root = Path({root!r})
parser = etree.XMLParser(resolve_entities=False, no_network=True)
labels = {{}}
with open({out!r}, "wb") as out:
    for xml in sorted((root / "Annotations").glob("*.xml")):
        objects = []
        for child in etree.fromstring(xml.read_bytes(), parser):  # one pass, no validation
            if child.tag == "filename":
                name = child.text
            elif child.tag == "size":
                size = {{c.tag: int(c.text) for c in child if c.tag in ("width", "height")}}
            elif child.tag == "object":
                fields = {{c.tag: c for c in child}}
                box = {{c.tag: float(c.text) for c in fields["bndbox"]}}
                objects.append((fields["name"].text, box, fields["pose"].text, int(fields["truncated"].text)))
        image = (root / "images" / name).read_bytes()
        width, height = size["width"], size["height"]
        features = {{
            "image/height": ("int64_list", [height]),
            "image/width": ("int64_list", [width]),
            "image/filename": ("bytes_list", [name.encode()]),
            "image/source_id": ("bytes_list", [name.encode()]),
            "image/key/sha256": ("bytes_list", [hashlib.sha256(image).hexdigest().encode()]),
            "image/encoded": ("bytes_list", [image]),
            "image/format": ("bytes_list", [b"jpeg"]),
            "image/object/bbox/xmin": ("float_list", [o[1]["xmin"] / width for o in objects]),
            "image/object/bbox/xmax": ("float_list", [o[1]["xmax"] / width for o in objects]),
            "image/object/bbox/ymin": ("float_list", [o[1]["ymin"] / height for o in objects]),
            "image/object/bbox/ymax": ("float_list", [o[1]["ymax"] / height for o in objects]),
            "image/object/class/text": ("bytes_list", [o[0].encode() for o in objects]),
            "image/object/class/label": ("int64_list", [labels.setdefault(o[0], len(labels) + 1) for o in objects]),
            "image/object/difficult": ("int64_list", [0 for o in objects]),
            "image/object/truncated": ("int64_list", [o[3] for o in objects]),
            "image/object/is_crowd": ("int64_list", [0 for o in objects]),
            "image/object/view": ("bytes_list", [o[2].encode() for o in objects]),
        }}
        out.write(frame_record(encode_example(features)))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # the children compile once and reuse bytecode, as users do
    root = (
        HERE / "_data" / f"voc_{args.images // 1000}k" if args.images >= 1000 else HERE / "_data" / f"voc_{args.images}"
    )
    if not (root / "Annotations").is_dir():
        generate(root, args.images)
    out = HERE / "_out" / "tfrecord"
    out.mkdir(parents=True, exist_ok=True)
    cpu: dict[str, float] = {}

    def measured(title: str, run) -> tuple[str, float, float]:
        """Run ``run()`` (wall s, peak MB) and note the CPU seconds its children used (load-independent).

        ``run()`` is called once untimed first (warm file cache and bytecode)."""
        run()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, peak = run()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[title] = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / args.repeat
        return title, wall, peak

    def median_of_runs(command: list[str]) -> tuple[float, float]:
        """Median wall seconds and max peak MB of ``command`` over ``--repeat`` runs."""
        walls, peaks = zip(*(run_command(command) for _ in range(args.repeat)))
        return sorted(walls)[len(walls) // 2], max(peaks)

    rows = [
        measured("read XML + image bytes (floor)", lambda: run_python(FLOOR.format(root=str(root)), repeat=args.repeat))
    ]
    tfexample = HERE.parent / "fashiondata" / "formats" / "tfexample.py"
    bound = BOUND.format(root=str(root), out=str(out / "bound.record"), tfexample=str(tfexample))
    rows.append(measured("bound: lxml + SHA-256 + Example + framing", lambda: run_python(bound, repeat=args.repeat)))
    fashiondata_bin = shutil.which("fashiondata")
    ours = [fashiondata_bin] if fashiondata_bin else [sys.executable, "-m", "fashiondata_cli"]
    # the fixed cost every fashiondata command pays before its first file: interpreter + imports
    rows.append(
        measured(
            "startup: fashiondata convert --help",
            lambda: median_of_runs([*ours, "convert", "--help"]),
        )
    )
    for title, extra in (("fashiondata voc2tfrecord", []), ("fashiondata voc2tfrecord -j 2", ["-j", "2"])):
        command = [
            *ours,
            "convert",
            "voc2tfrecord",
            str(root / "Annotations"),
            str(out / "shop.record"),
            "--images",
            str(root / "images"),
            "--overwrite",
            "--quiet",
            *extra,
        ]
        rows.append(measured(title, lambda command=command: median_of_runs(command)))
    peers = [name for name in ("datumaro", "fiftyone") if importlib.util.find_spec(name)]
    if not peers or importlib.util.find_spec("tensorflow") is None:
        print("note: peers (Datumaro, FiftyOne) write OD API records through TensorFlow, not importable here: skipped")
    size = sum(f.stat().st_size for f in (root / "images").iterdir()) / 1e6
    print(
        f"{root.name}: {args.images:,} images ({size:.0f} MB of JPEG), record {(out / 'shop.record').stat().st_size / 1e6:.0f} MB"
    )
    print_table(rows, items=args.images, unit="img", floor="read XML + image bytes (floor)")
    print(
        "CPU seconds (user+sys, mean per run): " + ", ".join(f"{title} {seconds:.2f}" for title, seconds in cpu.items())
    )


if __name__ == "__main__":
    main()
