"""The box CSV (filename,width,height,class,xmin,ymin,xmax,ymax): the seed's xml→csv, exactly."""

from __future__ import annotations

from collections import Counter

import pytest

import fashiondata
from fashiondata.context import RunContext
from fashiondata.dataset import Dataset
from fashiondata.errors import ParseError, ValidationError
from fashiondata.formats import csvfile
from fashiondata.model import Annotation, BBox, CategoryTable, ImageRecord, Polygons

HEADER = "filename,width,height,class,xmin,ymin,xmax,ymax\n"


def test_voc2csv_reproduces_the_seed_labels_csv(corpus, tmp_path):
    """Acceptance: the 920 LabelImg files give the project's own labels.csv, row for row."""
    seed = corpus / "weizh888_productimageseg"
    ctx = RunContext()
    fashiondata.convert(seed / "annotations", tmp_path / "labels.csv", src_format="voc", dst_format="csv", ctx=ctx)
    ours = (tmp_path / "labels.csv").read_text().splitlines()
    theirs = (seed / "model_six_classes" / "data" / "labels.csv").read_text().splitlines()
    assert ours[0] == theirs[0]
    assert Counter(ours) == Counter(theirs)
    assert ctx.report.skipped == {csvfile.NOT_REPRESENTABLE: 9}
    assert ctx.report.written == {"images": 911, "annotations": 1586}


def test_cli_voc2csv(run_cli, corpus, tmp_path):
    result = run_cli(
        "convert", "voc2csv", corpus / "weizh888_productimageseg" / "annotations", tmp_path / "out.csv", "--json"
    )
    assert result.exit_code == 0
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 1587


def test_rows_in_file_name_then_object_order_with_integers_kept(tmp_path):
    records = (
        ImageRecord("b.jpg", 10, 20, (Annotation(2, BBox(1, 2, 3, 4)), Annotation(1, BBox(0.5, 0.25, 1.0, 2.0)))),
        ImageRecord("a.jpg", 8, 8, (Annotation(1, BBox(0, 0, 8, 8)),)),
        ImageRecord("c.jpg", 8, 8),
    )
    dataset = Dataset(CategoryTable.from_names(["top", "skirt"]), records)
    ctx = RunContext()
    fashiondata.write(dataset, tmp_path / "out.csv", "csv", ctx=ctx)
    assert (tmp_path / "out.csv").read_text() == HEADER + (
        "a.jpg,8,8,top,0,0,8,8\nb.jpg,10,20,skirt,1,2,4,6\nb.jpg,10,20,top,0.5,0.25,1.5,2.25\n"
    )
    assert ctx.report.skipped_items == [("c.jpg", csvfile.NOT_REPRESENTABLE)]


def test_segmentation_only_boxes_are_derived_and_counted(tmp_path):
    ring = [1.0, 2.0, 5.0, 2.0, 5.0, 6.0]
    dataset = Dataset(
        CategoryTable.from_names(["top"]), (ImageRecord("a.jpg", 9, 9, (Annotation(1, None, Polygons((ring,))),)),)
    )
    ctx = RunContext()
    fashiondata.write(dataset, tmp_path / "out.csv", "csv", ctx=ctx)
    assert (tmp_path / "out.csv").read_text() == HEADER + "a.jpg,9,9,top,1,2,5,6\n"
    assert ctx.report.lossy == {
        "box derived from the segmentation (csv holds boxes)": 1,
        "segmentation dropped (csv holds boxes)": 1,
    }


def test_reads_the_seed_csv(corpus):
    dataset = fashiondata.read(corpus / "weizh888_productimageseg" / "model_six_classes" / "data" / "labels.csv")
    records = list(dataset.records)
    assert dataset.categories.names == ("Dresses", "Lingerie", "Pants_Leggings", "Shorts", "Skirts", "Tops")
    assert (len(records), sum(len(r.annotations) for r in records)) == (911, 1586)
    first = records[0]
    assert (first.file_name, first.width, first.height) == (
        "10029170_3c1f6789036e3101beb356fede0e39c0.thumbnail.jpg",
        640,
        640,
    )
    assert first.annotations == (Annotation(6, BBox(42, 5, 575, 635)),)


def test_csv_round_trip_is_byte_identical(corpus, tmp_path):
    source = corpus / "weizh888_productimageseg" / "model_one_class" / "data" / "test_labels.csv"
    fashiondata.convert(source, tmp_path / "a.csv", dst_format="csv")
    fashiondata.convert(tmp_path / "a.csv", tmp_path / "b.csv", dst_format="csv")
    lines = source.read_text().splitlines()
    by_file_name = sorted(lines[1:], key=lambda line: line.split(",")[0])  # stable: object order kept
    assert (tmp_path / "a.csv").read_text().splitlines() == [lines[0], *by_file_name]
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


@pytest.mark.parametrize(
    "text, location, reason",
    [
        ("", "line 1", "empty file"),
        ("filename,width,height,label,xmin,ymin,xmax,ymax\n", "line 1", "exactly the columns"),
        (HEADER + "a.jpg,10,10,top,1,2,3\n", "line 2", "expected 8 values"),
        (HEADER + "a.jpg,10,10,top,1,2,3,4\na.jpg,12,10,top,1,2,3,4\n", "line 3", "size 12x10 here but 10x10"),
        (HEADER + "a.jpg,10,0,top,1,2,3,4\n", "line 2 column height", "positive integer"),
        (HEADER + "a.jpg,10,10,top,1,x,3,4\n", "line 2 column ymin", "expected a number"),
        (HEADER + "a.jpg,10,10,top,5,2,3,4\n", "line 2", "xmax < xmin"),
        (HEADER + "a.jpg,10,10,,1,2,3,4\n", "line 2 column class", "empty class"),
        (HEADER + "../a.jpg,10,10,top,1,2,3,4\n", "line 2", "leaves its folder"),
    ],
)
def test_bad_csv_raises_with_line(tmp_path, text, location, reason):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ParseError) as info:
        fashiondata.read(path, "csv")
    assert (info.value.location, info.value.path) == (location, str(path))
    assert reason in info.value.reason


def test_columns_in_another_order_and_crlf(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"class,filename,width,height,xmin,ymin,xmax,ymax\r\ntop,a.jpg,10,10,1,2,3.5,4\r\n")
    (record,) = fashiondata.read(path, "csv").records
    assert record.annotations == (Annotation(1, BBox(1, 2, 2.5, 2)),)


def test_label_map_fixes_ids(tmp_path, fixtures):
    path = tmp_path / "a.csv"
    path.write_text(HEADER + "a.jpg,10,10,Skirts,1,2,3,4\n")
    dataset = fashiondata.read(path, "csv", label_map=str(fixtures / "voc" / "label_map.pbtxt"))
    assert next(iter(dataset.records)).annotations[0].category_id == 3
    with pytest.raises(ValidationError, match="class 'Skirts'"):
        fashiondata.read(path, "csv", label_map=str(fixtures / "voc" / "label_map_without_skirts.pbtxt"))


def test_sniff(tmp_path, corpus):
    assert csvfile.sniff(str(corpus / "weizh888_productimageseg" / "model_six_classes" / "data" / "labels.csv"))
    assert not csvfile.sniff(str(corpus / "weizh888_productimageseg" / "model_six_classes" / "data" / "summary.csv"))
