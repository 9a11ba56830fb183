"""Pascal VOC / LabelImg XML: reading by tag name, safety, the LabelImg-compatible writer."""

from __future__ import annotations

import shutil
from collections import Counter
from contextlib import nullcontext as does_not_raise
from pathlib import Path
from xml.etree import ElementTree

import pytest

import fashiondata
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import OutputExistsError, ParseError, ValidationError
from fashiondata.formats import voc
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord, Keypoints, Polygons, Rle


@pytest.fixture
def voc_dir(fixtures) -> Path:
    return fixtures / "voc"


@pytest.mark.parametrize(
    "text, expected, error",
    [
        ("134", 134, does_not_raise()),  # integers stay integers
        (" 5.5\r\n", 5.5, does_not_raise()),  # whitespace of CRLF files
        ("-3", -3, does_not_raise()),
        ("4.0", 4.0, does_not_raise()),  # a float stays a float
        ("", None, pytest.raises(ParseError)),  # empty element
        ("nan", None, pytest.raises(ParseError, match="finite")),
        ("1e400", None, pytest.raises(ParseError, match="finite")),  # overflows to infinity
        ("12px", None, pytest.raises(ParseError, match="expected a number")),
    ],
)
def test_parse_number(text, expected, error):
    with error:
        value = voc.parse_number(text, "a.xml", "/annotation/object[1]/bndbox/xmin")
        assert value == expected and type(value) is type(expected)


def test_reads_the_fixture_exactly(voc_dir):
    dataset = fashiondata.read(voc_dir / "annotations", "voc")
    assert dataset.categories.names == ("Dresses", "Skirts", "Tops")  # sorted names, ids from 1
    records = list(dataset.records)
    assert [(r.file_name, r.width, r.height) for r in records] == [
        ("shop_0001.jpg", 64, 48),
        ("shop_0002.png", 40, 60),
        ("shop_0003.jpg", 32, 32),
    ]
    first, second, negative = records
    assert first.annotations == (
        Annotation(1, BBox(10, 4, 30, 40), attributes={"pose": "Unspecified", "truncated": 0, "difficult": 0}),
        Annotation(3, BBox(30, 0, 34, 20), attributes={"pose": "Unspecified", "truncated": 1, "difficult": 0}),
    )
    assert all(type(v) is int for v in first.annotations[0].bbox)
    assert second.annotations == (
        Annotation(
            2,
            BBox(5.5, 12.5, 24.75, 37.5),
            Polygons(([5.5, 12.5, 30.25, 12.5, 18, 50],)),
            attributes={"pose": "Frontal", "difficult": 1},
        ),
    )
    assert negative.annotations == ()


def test_reads_the_920_labelimg_files(corpus):
    dataset = fashiondata.read(corpus / "weizh888_productimageseg" / "annotations", "voc")
    records = list(dataset.records)
    per_class = Counter(dataset.categories.get(a.category_id).name for r in records for a in r.annotations)
    assert len(records) == 920
    assert sum(1 for r in records if not r.annotations) == 9
    assert per_class == {
        "Dresses": 454,
        "Tops": 451,
        "Pants_Leggings": 301,
        "Shorts": 151,
        "Lingerie": 120,
        "Skirts": 109,
    }
    assert max(len(r.annotations) for r in records) == 17
    assert any(a.attributes.get("truncated") == 1 for r in records for a in r.annotations)


def test_crlf_file_with_a_windows_path(corpus):
    path = (
        corpus
        / "weizh888_productimageseg"
        / "annotations"
        / "annotations-1"
        / "10100881_b44d94ad5e877ececc87fe0ba0f5356f.thumbnail.xml"
    )
    assert b"\r\n" in path.read_bytes()
    image = voc.parse_voc(path.read_bytes(), path)
    assert image.file_name == "10100881_b44d94ad5e877ececc87fe0ba0f5356f.thumbnail.jpg"
    assert (image.width, image.height) == (640, 640)
    assert image.objects[0].name == "Pants_Leggings" and image.objects[0].bbox == BBox(134, 2, 352, 630)


def test_reads_datumaro_voc_by_tag_name(corpus):
    ctx = RunContext()
    dataset = fashiondata.read(corpus / "datumaro" / "voc_dataset" / "voc_dataset1" / "Annotations", "voc", ctx=ctx)
    (record,) = dataset.records
    names = [dataset.categories.get(a.category_id).name for a in record.annotations]
    assert names == ["cat", "person"]
    assert [a.bbox for a in record.annotations] == [BBox(1, 2, 2, 2), BBox(4, 5, 2, 2)]
    assert ctx.report.skipped == {"VOC <actions> elements not read": 1, "VOC <part> elements not read": 1}


def test_reads_xmin_xmax_in_any_order(corpus):
    # Roboflow writes xmin, xmax, ymin, ymax: positional readers swap them
    dataset = fashiondata.read(corpus / "datumaro" / "roboflow_dataset" / "voc" / "train", "voc")
    first = next(iter(dataset.records))
    assert first.annotations[0].bbox == BBox(2, 1, 3, 1)


def test_missing_size_comes_from_the_image(voc_dir, tmp_path):
    text = (voc_dir / "annotations" / "shop_0003.xml").read_text()
    (tmp_path / "a.xml").write_text(text.replace("<width>32</width>", "<width>0</width>"))
    with pytest.raises(ParseError, match="--images"):
        fashiondata.read(tmp_path / "a.xml", "voc")
    (record,) = fashiondata.read(tmp_path / "a.xml", "voc", images=str(voc_dir / "images")).records
    assert (record.width, record.height) == (32, 32)


@pytest.mark.parametrize(
    "name, location, reason",
    [
        ("corrupt.xml", "line 4", "invalid XML"),
        ("entity_expansion.xml", "DOCTYPE", "entities"),  # billion laughs
        ("external_entity.xml", "DOCTYPE", "entities"),  # SYSTEM file:///…
        ("path_escape.xml", "/annotation/filename", "leaves its folder"),
        ("bad_number.xml", "/annotation/object[1]/bndbox/ymin", "expected a number"),
    ],
)
def test_bad_files_raise_parse_error_with_location(voc_dir, name, location, reason):
    with pytest.raises(ParseError) as info:
        fashiondata.read(voc_dir / "broken" / name, "voc")
    assert info.value.location == location and reason in info.value.reason
    assert info.value.path.endswith(name)


@pytest.mark.parametrize("name", ["corrupt.xml", "entity_expansion.xml", "external_entity.xml", "path_escape.xml"])
def test_cli_bad_file_exits_2_and_writes_nothing(run_cli, voc_dir, tmp_path, name):
    result = run_cli("convert", "voc2csv", voc_dir / "broken" / name, tmp_path / "out.csv", "-q")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "xml, reason",
    [
        ("<annotation><size><width>1</width><height>1</height></size></annotation>", "no <filename>"),
        (
            (
                "<annotation><filename>a.jpg</filename><size><width>2</width><height>2</height></size>"
                "<object><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>1</xmax><ymax>1</ymax></bndbox></object></annotation>"
            ),
            "no <name>",
        ),
        (
            (
                "<annotation><filename>a.jpg</filename><size><width>2</width><height>2</height></size>"
                "<object><name>a</name></object></annotation>"
            ),
            "neither <bndbox> nor <polygon>",
        ),
        (
            (
                "<annotation><filename>a.jpg</filename><size><width>2</width><height>2</height></size><object><name>a</name>"
                "<bndbox><xmin>2</xmin><ymin>0</ymin><xmax>1</xmax><ymax>1</ymax></bndbox></object></annotation>"
            ),
            "xmax < xmin",
        ),
        (
            (
                "<annotation><filename>a.jpg</filename><size><width>2</width><height>2</height></size><object><name>a</name>"
                "<truncated>maybe</truncated><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>1</xmax><ymax>1</ymax></bndbox></object></annotation>"
            ),
            "0 or 1",
        ),
        ("<annotation><filename>/etc/passwd</filename></annotation>", "absolute"),
        ("<doc><filename>a.jpg</filename></doc>", "root element is <doc>"),
    ],
)
def test_parse_voc_rejects(xml, reason):
    with pytest.raises(ParseError, match=reason):
        voc.parse_voc(xml.encode(), "a.xml")


BOX = "<bndbox><xmin>0</xmin><ymin>0</ymin><xmax>1</xmax><ymax>1</ymax></bndbox>"


@pytest.mark.parametrize(
    ("fields", "name", "attributes", "unread"),
    [
        (
            "<name> a </name><pose>Left</pose><truncated>1</truncated><difficult>0</difficult>",
            "a",
            {"pose": "Left", "truncated": 1, "difficult": 0},
            (),
        ),
        ("<name>a</name><truncated> </truncated><difficult/><occluded> Yes </occluded>", "a", {"occluded": 1}, ()),
        ("<name>a</name><pose>  </pose>", "a", {"pose": ""}, ()),  # present but blank: kept as ""
        ("<name>a</name><pose/>", "a", {}, ()),  # no text: not kept
        ("<name>a</name><name>b</name><truncated>0</truncated><truncated>1</truncated>", "a", {"truncated": 0}, ()),
        (
            "<!-- LabelImg --><name>a</name><part><name>hand</name></part><part/><actions/>",
            "a",
            {},
            (("VOC <actions> elements not read", 1), ("VOC <part> elements not read", 2)),
        ),
    ],
)
def test_object_fields_by_tag(fields, name, attributes, unread):
    xml = f"<annotation><filename>a.jpg</filename><size><width>2</width><height>2</height></size><object>{fields}{BOX}</object></annotation>"
    image = voc.parse_voc(xml.encode(), "a.xml")
    ((obj,),) = (image.objects,)
    assert (obj.name, obj.attributes, image.unread) == (name, attributes, unread)


def test_pt_style_polygon_points():
    xml = (
        b"<annotation><filename>a.jpg</filename><size><width>9</width><height>9</height></size><object><name>a</name>"
        b"<polygon><pt><x>1</x><y>1</y></pt><pt><x>5</x><y>1</y></pt><pt><x>3</x><y>4</y></pt></polygon></object></annotation>"
    )
    (obj,) = voc.parse_voc(xml, "a.xml").objects
    assert obj.polygons == Polygons(([1, 1, 5, 1, 3, 4],)) and obj.bbox == BBox(1, 1, 4, 3)


def test_two_files_for_one_image_are_refused(voc_dir, tmp_path):
    for name in ("a.xml", "b.xml"):
        shutil.copy(voc_dir / "annotations" / "shop_0003.xml", tmp_path / name)
    with pytest.raises(ParseError, match="also annotated by"):
        fashiondata.read(tmp_path, "voc")
    ctx = RunContext(on_error="skip")
    assert len(list(fashiondata.read(tmp_path, "voc", ctx=ctx).records)) == 1
    assert sum(ctx.report.skipped.values()) == 1


def test_label_map_fixes_ids_and_refuses_unknown_classes(voc_dir):
    dataset = fashiondata.read(voc_dir / "annotations", "voc", label_map=str(voc_dir / "label_map.pbtxt"))
    assert [(c.id, c.name) for c in dataset.categories] == [(1, "Tops"), (2, "Dresses"), (3, "Skirts"), (4, "Shorts")]
    assert [a.category_id for a in next(iter(dataset.records)).annotations] == [2, 1]
    with pytest.raises(ParseError, match="class 'Skirts' is not in the label map") as info:
        fashiondata.read(voc_dir / "annotations", "voc", label_map=str(voc_dir / "label_map_without_skirts.pbtxt"))
    assert info.value.location == "/annotation/object[1]/name"


# ---------------------------------------------------------------- writer


def test_round_trip_keeps_every_record(voc_dir, tmp_path):
    fashiondata.convert(voc_dir / "annotations", tmp_path / "out", src_format="voc", dst_format="voc")
    source = fashiondata.read(voc_dir / "annotations", "voc")
    again = fashiondata.read(tmp_path / "out", "voc")
    assert again.categories == source.categories
    defaults = {"pose": "Unspecified", "truncated": 0, "difficult": 0}  # LabelImg always writes them
    expected = [
        r.replace(annotations=tuple(a.replace(attributes={**defaults, **a.attributes}) for a in r.annotations))
        for r in source.records
    ]
    assert list(again.records) == expected
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["shop_0001.xml", "shop_0002.xml", "shop_0003.xml"]


def test_writes_labelimg_layout(voc_dir, tmp_path):
    fashiondata.convert(voc_dir / "annotations", tmp_path / "out", src_format="voc", dst_format="voc")
    assert (tmp_path / "out" / "shop_0001.xml").read_text() == (
        "<annotation>\n\t<folder></folder>\n\t<filename>shop_0001.jpg</filename>\n"
        "\t<source>\n\t\t<database>Unknown</database>\n\t</source>\n"
        "\t<size>\n\t\t<width>64</width>\n\t\t<height>48</height>\n\t\t<depth>3</depth>\n\t</size>\n"
        "\t<segmented>0</segmented>\n"
        "\t<object>\n\t\t<name>Dresses</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n"
        "\t\t<difficult>0</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>10</xmin>\n\t\t\t<ymin>4</ymin>\n"
        "\t\t\t<xmax>40</xmax>\n\t\t\t<ymax>44</ymax>\n\t\t</bndbox>\n\t</object>\n"
        "\t<object>\n\t\t<name>Tops</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>1</truncated>\n"
        "\t\t<difficult>0</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>30</xmin>\n\t\t\t<ymin>0</ymin>\n"
        "\t\t\t<xmax>64</xmax>\n\t\t\t<ymax>20</ymax>\n\t\t</bndbox>\n\t</object>\n"
        "</annotation>\n"
    )


def test_output_reads_with_labelimg_rules(voc_dir, tmp_path):
    """LabelImg's reader: find('filename'), every object's name/difficult and int(float()) box values."""
    fashiondata.convert(voc_dir / "annotations", tmp_path / "out", src_format="voc", dst_format="voc")
    root = ElementTree.parse(tmp_path / "out" / "shop_0002.xml").getroot()
    assert root.find("filename").text == "shop_0002.png"
    (obj,) = root.findall("object")
    box = obj.find("bndbox")
    shape = [int(float(box.find(tag).text)) for tag in ("xmin", "ymin", "xmax", "ymax")]
    assert (obj.find("name").text, bool(int(obj.find("difficult").text)), shape) == ("Skirts", True, [5, 12, 30, 50])
    assert [c.text for c in obj.find("polygon")] == ["5.5", "12.5", "30.25", "12.5", "18", "50"]


def _dataset(*annotations: Annotation, file_name: str = "img/a.jpg", split: str | None = None) -> Dataset:
    record = ImageRecord(file_name, 10, 10, annotations, split=split)
    return Dataset(CategoryTable.from_names(["top"]), (record,))


def test_writer_counts_what_voc_cannot_hold(tmp_path):
    ring = [1.0, 1.0, 4.0, 1.0, 4.0, 4.0]
    dataset = _dataset(
        Annotation(1, None, Rle((10, 10), [0, 5, 95]), iscrowd=True),
        Annotation(1, BBox(0.1, 0.2, 0.3, 0.4), Polygons((ring, ring)), keypoints=Keypoints([1, 1, 2])),
        split="train",
    )
    ctx = RunContext()
    fashiondata.write(dataset, tmp_path / "out", "voc", ctx=ctx)
    assert ctx.report.lossy == {
        "RLE mask dropped (VOC holds boxes and polygons), box kept": 1,
        "iscrowd dropped (VOC has no crowd flag)": 1,
        "keypoints dropped (VOC holds none)": 1,
    }
    root = ElementTree.parse(tmp_path / "out" / "train" / "img" / "a.xml").getroot()
    first, second = root.findall("object")
    assert [first.find("bndbox").find(t).text for t in ("xmin", "ymin", "xmax", "ymax")] == ["0", "0", "1", "5"]
    assert [second.find("bndbox").find(t).text for t in ("xmin", "ymin", "xmax", "ymax")] == [
        "0.1",
        "0.2",
        "0.4",
        "0.6",
    ]
    assert len(second.findall("polygon")) == 2


def test_writer_refuses_a_file_name_leaving_the_output(tmp_path):
    with pytest.raises(ValidationError, match="leaves its folder"):
        fashiondata.write(_dataset(file_name="../../evil.jpg"), tmp_path / "out", "voc")
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_two_images_with_one_xml_name(tmp_path):
    records = (ImageRecord("a.jpg", 5, 5), ImageRecord("a.png", 5, 5))
    with pytest.raises(ValidationError, match="both be written to a.xml"):
        fashiondata.write(Dataset(CategoryTable(), records), tmp_path / "out", "voc")
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_a_non_empty_destination(voc_dir, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError):
        fashiondata.convert(voc_dir / "annotations", tmp_path / "out", src_format="voc", dst_format="voc")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_sniff_tells_voc_from_labelme_xml(corpus, voc_dir):
    assert voc.sniff(str(voc_dir / "annotations"))
    assert voc.sniff(str(voc_dir / "annotations" / "shop_0001.xml"))
    labelme = next((corpus / "datumaro" / "labelme_dataset").rglob("*.xml"))
    assert not voc.sniff(str(labelme))
