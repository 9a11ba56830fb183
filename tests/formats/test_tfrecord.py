"""TFRecord for the TF Object Detection API: our records read by the independent `tfrecord` package,
real records (written by TensorFlow) read by us, corruption caught by both CRCs."""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from tfrecord.reader import tfrecord_loader
from tfrecord.writer import TFRecordWriter

import fashiondata
from fashiondata import raster
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import OutputExistsError, ParseError, ValidationError
from fashiondata.executor import ProcessExecutor
from fashiondata.formats import tfexample, tfrecord
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord, Polygons, Rle


@pytest.fixture
def voc_dir(fixtures) -> Path:
    return fixtures / "voc"


def load(path: Path) -> list[dict]:
    """Every Example of a file, decoded by the `tfrecord` package (not our code)."""
    return list(tfrecord_loader(str(path), None))


def as_list(value) -> list:
    """The tfrecord package gives one bytes value unwrapped and several as an array."""
    return [value] if isinstance(value, bytes) else list(value)


# ---------------------------------------------------------------- framing and Example


def test_protobuf_and_crc32c_load_only_for_tfrecords() -> None:
    """Every verb registers the TFRecord format; only reading or writing records imports its libraries."""
    probe = (
        "import sys, fashiondata.formats\n"
        "before = {'google.protobuf', 'crc32c'} & set(sys.modules)\n"
        "from fashiondata.formats import tfrecord\n"
        "tfrecord.tfexample.frame_record(b'')\n"
        "print(sorted(before), sorted({'google.protobuf', 'crc32c'} & set(sys.modules)))"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["[]", "['crc32c',", "'google.protobuf']"]


def test_masked_crc32c_of_nothing():
    assert tfexample.masked_crc32c(b"") == 0xA282EAD8


def test_framing_matches_the_tfrecord_package(tmp_path):
    writer = TFRecordWriter(str(tmp_path / "theirs.record"))
    writer.write({"image/height": (7, "int"), "image/filename": (b"a.jpg", "byte"), "x": ([0.5, 0.25], "float")})
    writer.close()
    ((index, offset, data),) = tfexample.iter_records(tmp_path / "theirs.record")
    assert (index, offset) == (0, 0)
    assert tfexample.decode_example(data) == {
        "image/height": ("int64_list", [7]),
        "image/filename": ("bytes_list", [b"a.jpg"]),
        "x": ("float_list", [0.5, 0.25]),
    }
    assert tfexample.frame_record(data) == (tmp_path / "theirs.record").read_bytes()


def test_real_records_pass_both_crcs(corpus):
    records = list(
        tfexample.iter_records(corpus / "weizh888_productimageseg" / "model_one_class" / "data" / "test.record")
    )
    assert len(records) == 20 and all(isinstance(data, bytes) for _, _, data in records)


# ---------------------------------------------------------------- writer


def voc_to_tfrecord(voc_dir, out, **options):
    """``convert voc2tfrecord`` of the VOC fixture with its images; returns the report."""
    return fashiondata.convert(
        voc_dir / "annotations", out, src_format="voc", dst_format="tfrecord", images=str(voc_dir / "images"), **options
    )


def test_voc2tfrecord_every_key(voc_dir, tmp_path):
    ctx = RunContext()
    voc_to_tfrecord(voc_dir, tmp_path / "shop.record", ctx=ctx)
    first, second, negative = load(tmp_path / "shop.record")
    image = (voc_dir / "images" / "shop_0001.jpg").read_bytes()
    assert sorted(first) == sorted(
        [
            "image/height",
            "image/width",
            "image/filename",
            "image/source_id",
            "image/key/sha256",
            "image/encoded",
            "image/format",
            "image/object/bbox/xmin",
            "image/object/bbox/xmax",
            "image/object/bbox/ymin",
            "image/object/bbox/ymax",
            "image/object/class/text",
            "image/object/class/label",
            "image/object/difficult",
            "image/object/truncated",
            "image/object/is_crowd",
            "image/object/view",
        ]
    )
    assert (first["image/height"].tolist(), first["image/width"].tolist()) == ([48], [64])
    assert first["image/filename"] == first["image/source_id"] == b"shop_0001.jpg"
    assert first["image/encoded"] == image
    assert first["image/key/sha256"] == hashlib.sha256(image).hexdigest().encode()
    assert first["image/format"] == b"jpeg" and second["image/format"] == b"png"
    boxes = np.stack([first[f"image/object/bbox/{k}"] for k in ("xmin", "ymin", "xmax", "ymax")], axis=1)
    np.testing.assert_array_equal(boxes, np.float32([[10 / 64, 4 / 48, 40 / 64, 44 / 48], [30 / 64, 0, 1, 20 / 48]]))
    assert as_list(first["image/object/class/text"]) == [b"Dresses", b"Tops"]
    assert first["image/object/class/label"].tolist() == [1, 3]  # sorted names: Dresses 1, Skirts 2, Tops 3
    assert first["image/object/truncated"].tolist() == [0, 1]
    assert first["image/object/difficult"].tolist() == [0, 0]
    assert first["image/object/is_crowd"].tolist() == [0, 0]
    assert as_list(first["image/object/view"]) == [b"Unspecified", b"Unspecified"]
    assert (as_list(second["image/object/view"]), second["image/object/difficult"].tolist()) == ([b"Frontal"], [1])
    assert second["image/object/class/label"].tolist() == [2]
    assert negative["image/object/bbox/xmin"].size == 0 and negative["image/object/class/label"].size == 0
    assert (tmp_path / "label_map.pbtxt").read_text() == (
        "item {\n  id: 1\n  name: 'Dresses'\n}\n\nitem {\n  id: 2\n  name: 'Skirts'\n}\n\nitem {\n  id: 3\n  name: 'Tops'\n}\n"
    )
    assert ctx.report.written == {"images": 3, "annotations": 3}
    assert ctx.report.lossy == {"segmentation not written (give --masks to write PNG masks)": 1}


def test_output_bytes_are_deterministic(voc_dir, fixtures, tmp_path):
    voc_to_tfrecord(voc_dir, tmp_path / "shop.record")
    assert (tmp_path / "shop.record").read_bytes() == (fixtures / "tfrecord" / "shop.record").read_bytes()


def test_label_map_fixes_labels(voc_dir, tmp_path):
    voc_to_tfrecord(voc_dir, tmp_path / "shop.record", label_map=str(voc_dir / "label_map.pbtxt"))
    first, second, _ = load(tmp_path / "shop.record")
    assert first["image/object/class/label"].tolist() == [2, 1] and second["image/object/class/label"].tolist() == [3]
    assert (tmp_path / "label_map.pbtxt").read_text() == (voc_dir / "label_map.pbtxt").read_text()


def test_a_class_missing_from_the_label_map_writes_nothing(voc_dir, tmp_path, run_cli):
    dataset = fashiondata.read(voc_dir / "annotations", "voc")
    with pytest.raises(ValidationError, match="class 'Skirts' is not in the label map"):
        fashiondata.write(
            dataset,
            tmp_path / "shop.record",
            "tfrecord",
            images=str(voc_dir / "images"),
            label_map=str(voc_dir / "label_map_without_skirts.pbtxt"),
        )
    result = run_cli(
        "convert",
        "csv2tfrecord",
        _csv(tmp_path, voc_dir),
        tmp_path / "out" / "shop.record",
        "--images",
        voc_dir / "images",
        "--label-map",
        voc_dir / "label_map_without_skirts.pbtxt",
        "-q",
    )
    assert result.exit_code == 2 and "'Skirts'" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv"]


def _csv(tmp_path: Path, voc_dir: Path) -> Path:
    fashiondata.convert(voc_dir / "annotations", tmp_path / "labels.csv", src_format="voc", dst_format="csv")
    return tmp_path / "labels.csv"


def test_csv2tfrecord_cli_with_shards(voc_dir, tmp_path, run_cli):
    result = run_cli(
        "convert",
        "csv2tfrecord",
        _csv(tmp_path, voc_dir),
        tmp_path / "shop.record",
        "--images",
        voc_dir / "images",
        "--shards",
        "2",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    shard0, shard1 = tmp_path / "shop.record-00000-of-00002", tmp_path / "shop.record-00001-of-00002"
    assert not (tmp_path / "shop.record").exists()
    # record i goes to shard i mod N; the CSV has no row for the negative image
    assert [e["image/filename"] for e in load(shard0)] == [b"shop_0001.jpg"]
    assert [e["image/filename"] for e in load(shard1)] == [b"shop_0002.png"]
    again = fashiondata.read(tmp_path / "shop.record", "tfrecord")  # NAME finds its shards
    assert [r.file_name for r in again.records] == ["shop_0001.jpg", "shop_0002.png"]


def test_coco2tfrecord_masks_decode_to_the_source_masks(fixtures, corpus, tmp_path):
    source = fixtures / "coco" / "datumaro_instances_val.json"
    images = corpus / "datumaro" / "coco_dataset" / "coco_instances" / "images" / "val"
    ctx = RunContext()
    fashiondata.convert(source, tmp_path / "val.record", dst_format="tfrecord", images=str(images), masks=True, ctx=ctx)
    (example,) = load(tmp_path / "val.record")
    (record,) = fashiondata.read(source).records
    pngs = as_list(example["image/object/mask"])
    assert len(pngs) == len(record.annotations) == 2
    for png, ann in zip(pngs, record.annotations):
        decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(decoded, raster.decode(ann.segmentation, record.height, record.width))
    assert example["image/object/is_crowd"].tolist() == [0, 1]
    assert example["image/source_id"] == b"40"
    assert [(c.id, c.name) for c in fashiondata.read(tmp_path / "val.record").categories][:2] == [(1, "a"), (2, "b")]


def test_box_only_instances_get_their_box_as_mask(voc_dir, tmp_path):
    ctx = RunContext()
    voc_to_tfrecord(voc_dir, tmp_path / "shop.record", masks=True, ctx=ctx)
    first, second, _ = load(tmp_path / "shop.record")
    dress = cv2.imdecode(np.frombuffer(as_list(first["image/object/mask"])[0], np.uint8), cv2.IMREAD_UNCHANGED)
    expected = np.zeros((48, 64), np.uint8)
    expected[4:44, 10:40] = 1
    np.testing.assert_array_equal(dress, expected)
    skirt = cv2.imdecode(np.frombuffer(as_list(second["image/object/mask"])[0], np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(skirt, raster.decode(Polygons(([5.5, 12.5, 30.25, 12.5, 18, 50],)), 60, 40))
    assert ctx.report.lossy == {"mask drawn from the box (instance has no segmentation)": 2}


def test_writer_needs_images(voc_dir, tmp_path):
    with pytest.raises(ValidationError, match="--images"):
        fashiondata.convert(voc_dir / "annotations", tmp_path / "a.record", src_format="voc", dst_format="tfrecord")
    assert list(tmp_path.iterdir()) == []


def test_missing_image_raises_or_is_skipped(voc_dir, tmp_path):
    images = tmp_path / "images"
    shutil.copytree(voc_dir / "images", images)
    (images / "shop_0002.png").unlink()
    with pytest.raises(FileNotFoundError):
        fashiondata.convert(
            voc_dir / "annotations", tmp_path / "a.record", src_format="voc", dst_format="tfrecord", images=str(images)
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images"]
    ctx = RunContext(on_error="skip")
    fashiondata.convert(
        voc_dir / "annotations",
        tmp_path / "a.record",
        src_format="voc",
        dst_format="tfrecord",
        images=str(images),
        ctx=ctx,
    )
    assert [e["image/filename"] for e in load(tmp_path / "a.record")] == [b"shop_0001.jpg", b"shop_0003.jpg"]
    assert ctx.report.skipped_items[0][0] == "shop_0002.png"


def test_image_size_must_match_the_annotation(voc_dir, tmp_path):
    record = ImageRecord("shop_0001.jpg", 100, 48, (Annotation(1, BBox(1, 1, 2, 2)),))
    with pytest.raises(ParseError, match="image is 64x48 but its annotation says 100x48"):
        fashiondata.write(
            Dataset(CategoryTable.from_names(["a"]), (record,)),
            tmp_path / "a.record",
            "tfrecord",
            images=str(voc_dir / "images"),
        )


def test_out_of_image_boxes_are_clipped_and_counted(voc_dir, tmp_path):
    record = ImageRecord("shop_0003.jpg", 32, 32, (Annotation(1, BBox(-4, 0, 40, 16)),))
    ctx = RunContext()
    fashiondata.write(
        Dataset(CategoryTable.from_names(["a"]), (record,)),
        tmp_path / "a.record",
        "tfrecord",
        images=str(voc_dir / "images"),
        ctx=ctx,
    )
    (example,) = load(tmp_path / "a.record")
    assert (example["image/object/bbox/xmin"].tolist(), example["image/object/bbox/xmax"].tolist()) == ([0.0], [1.0])
    assert ctx.report.lossy == {"box clipped to the image (normalised coordinates outside [0, 1])": 2}


def test_refuses_existing_outputs(voc_dir, tmp_path):
    (tmp_path / "label_map.pbtxt").write_text("item { id: 1 name: 'other' }\n")
    with pytest.raises(OutputExistsError, match="label_map.pbtxt"):
        voc_to_tfrecord(voc_dir, tmp_path / "a.record")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["label_map.pbtxt"]
    (tmp_path / "a.record-00001-of-00002").write_bytes(b"")
    with pytest.raises(OutputExistsError, match="00001-of-00002"):
        voc_to_tfrecord(voc_dir, tmp_path / "a.record", shards=2, overwrite=False)


# ---------------------------------------------------------------- reader


@pytest.mark.parametrize(
    "name, boxes, skipped",
    [
        ("train.tfrecord", [("label_2", [0, 4, 4, 8]), ("label_3", [0, 4, 4, 4])], 1),  # 3rd object has no class
        ("val.tfrecord", [("label_3", [1, 2, 4, 2])], 0),
        ("test.tfrecord", [], 0),  # no object keys at all
    ],
)
def test_reads_datumaro_records(corpus, name, boxes, skipped):
    ctx = RunContext()
    dataset = fashiondata.read(corpus / "datumaro" / "tf_detection_api_dataset" / name, ctx=ctx)
    (record,) = dataset.records
    assert [(dataset.categories.get(a.category_id).name, list(a.bbox)) for a in record.annotations] == boxes
    assert len(dataset.categories) == 10  # from label_map.pbtxt beside the records
    assert ctx.report.skipped.get(tfrecord.NO_CLASS, 0) == skipped


def test_reads_the_seed_record_like_its_csv(corpus):
    seed = corpus / "weizh888_productimageseg" / "model_one_class" / "data"
    dataset = fashiondata.read(seed / "test.record", "tfrecord")
    records = list(dataset.records)
    assert (len(records), sum(len(r.annotations) for r in records)) == (20, 24)
    assert dataset.categories.names == ("Pants_Leggings",)  # no label map beside: labels and texts
    ours = sorted(
        (r.file_name, r.width, r.height, "Pants_Leggings", *(round(v) for v in a.bbox.xyxy))
        for r in records
        for a in r.annotations
    )
    rows = (seed / "test_labels.csv").read_text().splitlines()[1:]
    theirs = sorted((f, int(w), int(h), c, *map(int, box)) for f, w, h, c, *box in (row.split(",") for row in rows))
    assert ours == theirs
    assert all(v == round(v, 3) for r in records for a in r.annotations for v in a.bbox)


def test_tfrecord2coco_writes_the_embedded_images(fixtures, tmp_path, run_cli):
    result = run_cli(
        "convert",
        "tfrecord2coco",
        fixtures / "tfrecord" / "shop.record",
        tmp_path / "shop.json",
        "--images-out",
        tmp_path / "images",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    for name in ("shop_0001.jpg", "shop_0002.png", "shop_0003.jpg"):
        assert (tmp_path / "images" / name).read_bytes() == (fixtures / "voc" / "images" / name).read_bytes()
    coco = fashiondata.read(tmp_path / "shop.json")
    assert [c.name for c in coco.categories] == ["Dresses", "Skirts", "Tops"]
    assert [a.bbox for a in next(iter(coco.records)).annotations] == [
        BBox(10.0, 4.0, 30.0, 40.0),
        BBox(30.0, 0.0, 34.0, 20.0),
    ]


def test_round_trip_voc_tfrecord_voc(voc_dir, tmp_path):
    voc_to_tfrecord(voc_dir, tmp_path / "shop.record")
    again = fashiondata.read(tmp_path / "shop.record")
    source = fashiondata.read(voc_dir / "annotations", "voc")
    assert again.categories == source.categories
    for ours, theirs in zip(again.records, source.records, strict=True):
        assert (ours.file_name, ours.width, ours.height) == (theirs.file_name, theirs.width, theirs.height)
        assert [(a.category_id, a.bbox) for a in ours.annotations] == [
            (a.category_id, a.bbox) for a in theirs.annotations
        ]


def test_masks_read_back_as_rle(voc_dir, tmp_path):
    voc_to_tfrecord(voc_dir, tmp_path / "shop.record", masks=True)
    second = list(fashiondata.read(tmp_path / "shop.record").records)[1]
    (skirt,) = second.annotations
    assert isinstance(skirt.segmentation, Rle)
    np.testing.assert_array_equal(
        raster.decode(skirt.segmentation, 60, 40), raster.decode(Polygons(([5.5, 12.5, 30.25, 12.5, 18, 50],)), 60, 40)
    )


@pytest.mark.parametrize(
    "name, location, reason",
    [
        ("truncated.record", "record 2 at byte 2649", "truncated record"),
        ("bad_data_crc.record", "record 0 at byte 0", "data CRC mismatch"),
        ("bad_length_crc.record", "record 1 at byte 1558", "length CRC mismatch"),
        ("not_an_example.record", "record 0 at byte 0", "not a tf.train.Example"),
    ],
)
def test_corrupt_records_raise_parse_error(fixtures, name, location, reason):
    with pytest.raises(ParseError) as info:
        fashiondata.read(fixtures / "tfrecord" / name, "tfrecord")
    assert info.value.location == location and reason in info.value.reason


@pytest.mark.parametrize("name", ["truncated.record", "bad_data_crc.record", "bad_length_crc.record"])
def test_cli_corrupt_record_exits_2_and_writes_nothing(fixtures, tmp_path, run_cli, name):
    result = run_cli(
        "convert",
        "tfrecord2coco",
        fixtures / "tfrecord" / name,
        tmp_path / "out.json",
        "--images-out",
        tmp_path / "img",
        "-q",
    )
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "record " in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name, read, skipped",
    [
        ("bad_data_crc.record", ["shop_0002.png", "shop_0003.jpg"], 1),  # the next record is found
        ("bad_length_crc.record", ["shop_0001.jpg"], 1),  # nothing after a bad length can be trusted
        ("truncated.record", ["shop_0001.jpg", "shop_0002.png"], 1),
    ],
)
def test_skip_policy_keeps_the_good_records(fixtures, name, read, skipped):
    ctx = RunContext(on_error="skip")
    dataset = fashiondata.read(fixtures / "tfrecord" / name, "tfrecord", ctx=ctx)
    assert [r.file_name for r in dataset.records] == read
    assert sum(ctx.report.skipped.values()) == skipped


def _one_box_example(file_name: str, label: int, text: bytes) -> bytes:
    """A 4×4 image's Example holding one whole-image box of class ``label`` named ``text``."""
    return tfexample.encode_example(
        {
            "image/height": ("int64_list", [4]),
            "image/width": ("int64_list", [4]),
            "image/filename": ("bytes_list", [file_name.encode()]),
            "image/object/bbox/xmin": ("float_list", [0.0]),
            "image/object/bbox/ymin": ("float_list", [0.0]),
            "image/object/bbox/xmax": ("float_list", [1.0]),
            "image/object/bbox/ymax": ("float_list", [1.0]),
            "image/object/class/label": ("int64_list", [label]),
            "image/object/class/text": ("bytes_list", [text]),
        }
    )


def test_label_with_two_names_is_a_parse_error(tmp_path):
    data = [_one_box_example(f"{i}.jpg", 1, name) for i, name in enumerate((b"top", b"skirt"))]
    (tmp_path / "a.record").write_bytes(b"".join(tfexample.frame_record(d) for d in data))
    with pytest.raises(ParseError, match="label 1 is named both"):
        fashiondata.read(tmp_path / "a.record", "tfrecord")


def test_length_field_is_little_endian_uint64(fixtures):
    data = (fixtures / "tfrecord" / "shop.record").read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    assert tfexample.decode_example(data[12 : 12 + length])["image/filename"] == ("bytes_list", [b"shop_0001.jpg"])


def test_labels_without_text_take_the_name_given_elsewhere(tmp_path):
    data = [
        _one_box_example(f"{i}.jpg", label, name) for i, (label, name) in enumerate(((1, b""), (1, b"top"), (2, b"")))
    ]
    (tmp_path / "a.record").write_bytes(b"".join(tfexample.frame_record(d) for d in data))
    dataset = fashiondata.read(tmp_path / "a.record", "tfrecord")
    assert [(c.id, c.name) for c in dataset.categories] == [(1, "top"), (2, "class_2")]
    assert [r.annotations[0].category_id for r in dataset.records] == [1, 1, 2]


def test_process_executor_writes_the_same_bytes(voc_dir, fixtures, tmp_path):
    executor = ProcessExecutor(2)
    try:
        voc_to_tfrecord(voc_dir, tmp_path / "shop.record", ctx=RunContext(executor=executor))
    finally:
        executor.close()
    assert (tmp_path / "shop.record").read_bytes() == (fixtures / "tfrecord" / "shop.record").read_bytes()
