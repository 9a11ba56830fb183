"""Safety rules, one test each: nothing written outside the output, sources never modified, XML
entities refused, the pixel limit, no partial file after SIGKILL, --on-error skip lists what it skips."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

import fashiondata
from fashiondata import io
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import FashionDataError, ParseError
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord, Polygons
from fashiondata.registry import all_formats

WRITERS = [spec.name for spec in all_formats() if spec.write is not None]
HOSTILE_NAMES = ["../../x.jpg", "a/../../../x.jpg", "/tmp/absolute_x.jpg", "C:\\Windows\\x.jpg", "..\\..\\x.jpg"]


def snapshot(root: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under root (folders as "dir")."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        found[key] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return found


def jpeg(width: int = 40, height: int = 30) -> bytes:
    return cv2.imencode(".jpg", np.full((height, width, 3), 100, np.uint8))[1].tobytes()


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A small PNG whose header claims width × height 1-bit pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 2000))
        + chunk(b"IEND", b"")
    )


def hostile_dataset(file_name: str) -> Dataset:
    ring = [2.0, 2.0, 20.0, 2.0, 20.0, 20.0, 2.0, 20.0]
    record = ImageRecord(
        file_name=file_name,
        width=40,
        height=30,
        id=1,
        split="train",
        annotations=(Annotation(1, bbox=BBox(2, 2, 18, 18), segmentation=Polygons((ring,)), id=1),),
    )
    return Dataset(CategoryTable.from_names(["top"]), (record,))


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """tmp/a/b/work holds images (also at every place ../../x.jpg could reach) and the output."""
    work = tmp_path / "a" / "b" / "work"
    (work / "images").mkdir(parents=True)
    for folder in (tmp_path, tmp_path / "a", tmp_path / "a" / "b", work, work / "images"):
        (folder / "x.jpg").write_bytes(jpeg())
    return work


# ---------------------------------------------------------------- never outside the output


@pytest.mark.parametrize("file_name", HOSTILE_NAMES)
@pytest.mark.parametrize("writer", WRITERS)
def test_writers_never_write_outside_the_output(writer: str, file_name: str, sandbox: Path, tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    out = sandbox / "out"
    spec = fashiondata.registry.get_format(writer)
    options = {"images": str(sandbox / "images")} if any(o.name == "images" for o in spec.write_options) else {}
    destination = out if spec.output == "dir" else out / f"data.{writer}"
    try:
        fashiondata.write(hostile_dataset(file_name), destination, writer, **options)
    except FashionDataError:
        pass  # refusing is fine; writing outside is not
    after = snapshot(tmp_path)
    outside = {k: v for k, v in after.items() if not k.startswith("a/b/work/out")}
    assert outside == before


@pytest.mark.parametrize(
    "fmt, name, content",
    [
        (
            "coco",
            "instances.json",
            {
                "images": [{"id": 1, "file_name": "../../x.jpg", "width": 40, "height": 30}],
                "annotations": [],
                "categories": [{"id": 1, "name": "top"}],
            },
        ),
        (
            "coco",
            "instances.json",
            {
                "images": [{"id": 1, "file_name": "/etc/x.jpg", "width": 40, "height": 30}],
                "annotations": [],
                "categories": [{"id": 1, "name": "top"}],
            },
        ),
        ("via", "via.json", {"x.jpg1": {"filename": "../../x.jpg", "size": 1, "regions": [], "file_attributes": {}}}),
        (
            "voc",
            "ann/a.xml",
            (
                "<annotation><filename>../../x.jpg</filename><size><width>40</width>"
                "<height>30</height></size></annotation>"
            ),
        ),
        (
            "voc",
            "ann/a.xml",
            (
                "<annotation><filename>/etc/x.jpg</filename><size><width>40</width>"
                "<height>30</height></size></annotation>"
            ),
        ),
    ],
)
@pytest.mark.parametrize("writer", ["yolo", "voc", "masks"])
def test_hostile_file_names_in_sources_are_refused(
    fmt, name, content, writer, sandbox: Path, tmp_path: Path, run_cli
) -> None:
    source = sandbox / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(content if isinstance(content, str) else json.dumps(content))
    before = snapshot(tmp_path)
    src = source.parent if fmt == "voc" else source
    specs = [fashiondata.registry.get_format(fmt).read_options, fashiondata.registry.get_format(writer).write_options]
    images = ["--images", sandbox / "images"] if any(o.name == "images" for options in specs for o in options) else []
    result = run_cli("convert", f"{fmt}2{writer}", src, *images, sandbox / "out", "-q")
    assert result.exit_code == 2
    assert "leaves its folder" in result.stderr or "is absolute" in result.stderr
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------- sources never modified


@pytest.mark.parametrize("writer", WRITERS)
def test_conversions_leave_the_sources_untouched(writer: str, fixtures: Path, tmp_path: Path) -> None:
    source = fixtures / "coco" / "datumaro_instances_val.json"
    images = tmp_path / "images"
    images.mkdir()
    (images / "b.jpg").write_bytes(jpeg(10, 5))
    before = source.read_bytes(), snapshot(images)
    spec = fashiondata.registry.get_format(writer)
    options = {"images": str(images)} if any(o.name == "images" for o in spec.write_options) else {}
    try:
        fashiondata.convert(source, tmp_path / "out" / "data", dst_format=writer, **options)
    except FashionDataError:
        pass  # a writer may refuse this content; it still must not touch the source
    assert (source.read_bytes(), snapshot(images)) == before


def test_validate_and_fix_leave_the_sources_untouched(fixtures: Path, tmp_path: Path) -> None:
    source = fixtures / "coco" / "datumaro_instances_val.json"
    before = source.read_bytes()
    fashiondata.api.validate(source, images=fixtures)
    fashiondata.api.fix(source, tmp_path / "fixed.json")
    assert source.read_bytes() == before


# ---------------------------------------------------------------- XML entities


def test_xml_external_entity_is_refused_without_reading_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    folder = tmp_path / "ann"
    folder.mkdir()
    (folder / "a.xml").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE annotation [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        "<annotation><filename>&xxe;</filename><size><width>4</width><height>4</height></size></annotation>"
    )
    with pytest.raises(ParseError, match="entit") as caught:
        fashiondata.read(folder, "voc").materialize()
    assert "TOP-SECRET" not in str(caught.value)
    with pytest.raises(ParseError, match="entit"):
        io.parse_xml(folder / "a.xml")


def test_xml_entity_expansion_is_refused(tmp_path: Path) -> None:
    levels = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 9))
    folder = tmp_path / "ann"
    folder.mkdir()
    (folder / "a.xml").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE annotation [<!ENTITY e0 "ha">{levels}]>\n'
        "<annotation><filename>a.jpg</filename><folder>&e8;</folder>"
        "<size><width>4</width><height>4</height></size></annotation>"
    )
    with pytest.raises(ParseError):
        fashiondata.read(folder, "voc").materialize()
    with pytest.raises(ParseError, match="entit"):
        io.parse_xml(folder / "a.xml")


# ---------------------------------------------------------------- the pixel limit


@pytest.fixture
def bomb_dataset(tmp_path: Path) -> Path:
    """A VOC folder whose one image, with no <size>, claims 50000 × 50000 pixels."""
    (tmp_path / "ann").mkdir()
    (tmp_path / "images").mkdir()
    (tmp_path / "ann" / "a.xml").write_text("<annotation><filename>a.png</filename></annotation>")
    (tmp_path / "images" / "a.png").write_bytes(bomb_png())
    return tmp_path


def test_images_over_the_pixel_limit_are_refused(bomb_dataset: Path) -> None:
    with pytest.raises(io.ImageTooLargeError, match="50000x50000"):
        fashiondata.read(bomb_dataset / "ann", "voc", images=str(bomb_dataset / "images")).materialize()


def test_the_pixel_limit_is_configurable(bomb_dataset: Path, monkeypatch) -> None:
    monkeypatch.setattr(io, "MAX_IMAGE_PIXELS", 50_000 * 50_000)
    records = fashiondata.read(bomb_dataset / "ann", "voc", images=str(bomb_dataset / "images")).materialize().records
    assert (records[0].width, records[0].height) == (50_000, 50_000)


def test_the_pixel_limit_follows_the_environment(bomb_dataset: Path, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-c",
        "from fashiondata_cli.main import main; main()",
        "convert",
        "voc2coco",
        str(bomb_dataset / "ann"),
        "--images",
        str(bomb_dataset / "images"),
        str(tmp_path / "out.json"),
        "-q",
    ]
    refused = subprocess.run(command, capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "exceeds the limit" in refused.stderr
    allowed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "FASHIONDATA_MAX_IMAGE_PIXELS": str(50_000 * 50_000)},
    )
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads((tmp_path / "out.json").read_bytes())["images"][0]["width"] == 50_000


# ---------------------------------------------------------------- SIGKILL leaves no partial file


def big_coco(path: Path, images: int = 3000) -> None:
    rng = np.random.default_rng(7)
    doc = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "top"}]}
    for i in range(1, images + 1):
        doc["images"].append({"id": i, "file_name": f"{i:06d}.jpg", "width": 640, "height": 480})
        for j in range(4):
            ring = np.round(rng.uniform(0, 400, 40), 2).tolist()
            doc["annotations"].append(
                {
                    "id": i * 10 + j,
                    "image_id": i,
                    "category_id": 1,
                    "iscrowd": 0,
                    "segmentation": [ring],
                    "bbox": [0, 0, 400, 400],
                    "area": 1.0,
                }
            )
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("writer, final", [("coco", "out.json"), ("yolo", "out")])
def test_sigkill_leaves_no_partial_output_and_a_rerun_is_identical(writer: str, final: str, tmp_path: Path) -> None:
    source = tmp_path / "instances.json"
    big_coco(source, images=1500)
    reference, target = tmp_path / "reference" / final, tmp_path / "killed" / final
    target.parent.mkdir()

    def command(destination: Path) -> list[str]:
        return [
            sys.executable,
            "-c",
            "from fashiondata_cli.main import main; main()",
            "convert",
            f"coco2{writer}",
            str(source),
            str(destination),
            "-q",
        ]

    subprocess.run(command(reference), check=True)
    for _attempt in range(5):  # the write can finish between a poll and the kill: then try again
        process = subprocess.Popen(command(target))
        while process.poll() is None and not any(p.name.startswith(".") for p in target.parent.iterdir()):
            time.sleep(0.002)  # wait for the temp file or staging folder: the write has begun
        process.send_signal(signal.SIGKILL)
        process.wait()
        if not target.exists():
            break
        assert snapshot_of(target) == snapshot_of(reference)  # finished first: then it is complete
        subprocess.run(["rm", "-rf", str(target)], check=True)
    assert process.returncode == -signal.SIGKILL
    assert not target.exists()  # killed mid-write: nothing at the final path
    subprocess.run(command(target), check=True)  # the leftover temp does not stop a re-run
    assert snapshot_of(target) == snapshot_of(reference)


def snapshot_of(path: Path) -> object:
    return snapshot(path) if path.is_dir() else path.read_bytes()


# ---------------------------------------------------------------- --on-error skip


def test_on_error_skip_goes_past_a_bad_source_and_lists_it(fixtures: Path, tmp_path: Path, run_cli) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [{"id": 1, "file_name": "a.jpg", "width": "wide", "height": 2}]}')
    good = fixtures / "coco" / "datumaro_instances_val.json"
    out = tmp_path / "out.json"
    assert run_cli("convert", "coco2coco", good, bad, out).exit_code == 2
    assert not out.exists()
    result = run_cli("convert", "coco2coco", good, bad, out, "--on-error", "skip")
    assert result.exit_code == 0
    assert f"  skipped {bad}: expected an integer, got 'wide'" in result.stderr.splitlines()
    assert len(json.loads(out.read_bytes())["images"]) == 1


def test_on_error_skip_goes_past_bad_label_files(tmp_path: Path, run_cli) -> None:
    root = tmp_path / "yolo"
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "data.yaml").write_text("train: images\nnames: [top]\n")
    for stem, label in (("a", "0 0.5 0.5 0.2 0.2\n"), ("b", "0 0.5 oops 0.2 0.2\n"), ("c", "0 0.5 0.5 0.4 0.4\n")):
        (root / "images" / f"{stem}.jpg").write_bytes(jpeg())
        (root / "labels" / f"{stem}.txt").write_text(label)
    out = tmp_path / "out.json"
    assert run_cli("convert", "yolo2coco", root, out, "-q").exit_code == 2
    result = run_cli("convert", "yolo2coco", root, out, "--on-error", "skip")
    assert result.exit_code == 0
    assert any("skipped" in line and "b" in line for line in result.stderr.splitlines())
    assert [i["file_name"] for i in json.loads(out.read_bytes())["images"]] == ["a.jpg", "c.jpg"]


def test_every_error_the_context_skips_is_counted(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    ctx = RunContext(on_error="skip")
    with pytest.raises(FashionDataError, match="every one was skipped"):
        fashiondata.read([bad], "coco", ctx=ctx)
    assert ctx.report.skipped == {"a COCO file must hold a JSON object": 1}
