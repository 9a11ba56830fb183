"""Dataset operations on independently generated datasets: exact counts, seeds, strata, groups, merge."""

from __future__ import annotations

import random
from collections import Counter
from contextlib import nullcontext as does_not_raise
from fractions import Fraction
from pathlib import Path

import orjson
import pytest

from fashiondata import api, filters
from fashiondata.dataset import Dataset
from fashiondata.errors import ValidationError
from fashiondata.model import Annotation, BBox, Category, CategoryTable, ImageRecord
from fashiondata.report import Report

NAMES = ("top", "pants", "skirt", "dress", "belt")


def make_records(
    positives: Counter[int] | dict[int, int], negatives: int, *, seed: int = 7, pairs: int = 1
) -> list[ImageRecord]:
    """``positives[category_id]`` single-category images (1–3 instances each) plus ``negatives`` empty
    ones, file names shuffled so that no order is given for free; ``pairs`` images share a pair_id."""
    rng = random.Random(seed)
    plan = [c for c, n in sorted(positives.items()) for _ in range(n)] + [None] * negatives
    rng.shuffle(plan)
    records = []
    for index, category_id in enumerate(plan):
        annotations = (
            ()
            if category_id is None
            else tuple(Annotation(category_id, BBox(k, k, 5, 5), area=25.0) for k in range(rng.randint(1, 3)))
        )
        name = f"{rng.randrange(10**8):08d}_{index}.jpg"
        records.append(ImageRecord(name, 64, 48, annotations, id=index + 1, attributes={"pair_id": index // pairs}))
    return records


def make_dataset(positives: dict[int, int], negatives: int, **kwargs) -> Dataset:
    return Dataset(CategoryTable.from_names(NAMES), tuple(make_records(positives, negatives, **kwargs)))


def write_coco(path: Path, dataset: Dataset) -> Path:
    api.write(dataset, path, "coco")
    return path


# ---------------------------------------------------------------- pure functions


@pytest.mark.parametrize(
    "total, ratios, expected",
    [
        (10, "0.8,0.1,0.1", [8, 1, 1]),  # exact quotas
        (7, "0.8,0.1,0.1", [5, 1, 1]),  # 5.6/0.7/0.7: the two largest remainders get the units
        (31, "0.8,0.1,0.1", [25, 3, 3]),  # 24.8/3.1/3.1
        (5, "4,1", [4, 1]),  # weights need not add up to 1
        (3, "1,1", [2, 1]),  # a tie goes to the earlier split
        (0, "0.8,0.2", [0, 0]),  # nothing to share
        (9, "1,0", [9, 0]),  # a zero weight gets nothing
    ],
)
def test_largest_remainder_gives_exact_shares(total, ratios, expected):
    assert filters.largest_remainder(total, filters.parse_ratios(ratios)) == expected


@pytest.mark.parametrize(
    "text, expectation",
    [
        ("0.8,0.1,0.1", does_not_raise()),
        ("4, 1", does_not_raise()),
        ("0,0", pytest.raises(ValidationError)),  # all zero
        ("0.8,-0.2", pytest.raises(ValidationError)),  # negative
        ("a,b", pytest.raises(ValidationError)),  # not numbers
        ("", pytest.raises(ValidationError)),  # nothing
    ],
)
def test_parse_ratios_accepts_weights_and_refuses_nonsense(text, expectation):
    with expectation:
        assert sum(filters.parse_ratios(text)) == 1


@pytest.mark.parametrize(
    "count, names, expected, expectation",
    [
        (3, None, ("train", "val", "test"), does_not_raise()),
        (2, "train,test", ("train", "test"), does_not_raise()),
        (2, "train", None, pytest.raises(ValidationError)),  # one name for two ratios
        (2, "a,a", None, pytest.raises(ValidationError)),  # same name twice
        (2, "a,../b", None, pytest.raises(ValidationError)),  # would leave the output folder
        (4, None, None, pytest.raises(ValidationError)),  # no default for four splits
    ],
)
def test_split_names(count, names, expected, expectation):
    with expectation:
        assert filters.split_names(count, names) == expected


@pytest.mark.parametrize(
    "ratio, expected",
    [
        ("0.5", 6),  # 0.5 × 12
        ("0.125", 2),  # 1.5 rounds half up
        ("1", 12),
        ("0", 0),
        (2.5, 30),  # all 30 negatives
        (3, 30),  # 36 asked, 30 exist: all kept, and said so
    ],
)
def test_balance_keeps_every_positive_and_the_stated_negatives(ratio, expected):
    dataset = make_dataset({1: 5, 2: 7}, 30)
    report = Report()
    kept = balance_records(dataset, ratio, 0, report)
    assert sum(1 for r in kept if r.annotations) == 12
    assert sum(1 for r in kept if not r.annotations) == expected
    facts = report.data["balance"]
    assert (facts["positives"], facts["negatives_available"], facts["negatives_kept"]) == (12, 30, expected)
    assert report.skipped["negative image not drawn by balance"] == 30 - expected
    assert any("only 30 exist" in n for n in report.notes) == (facts["negatives_wanted"] > 30)


def balance_records(dataset: Dataset, ratio, seed: int, report: Report | None = None) -> tuple[ImageRecord, ...]:
    return filters.balance(dataset, ratio=ratio, seed=seed, report=report or Report()).records  # type: ignore[return-value]


def test_balance_draw_depends_on_the_seed_not_on_the_input_order():
    records = make_records({1: 10}, 40)
    shuffled = list(records)
    random.Random(3).shuffle(shuffled)
    table = CategoryTable.from_names(NAMES)
    first = balance_records(Dataset(table, tuple(records)), 0.5, 1)
    again = balance_records(Dataset(table, iter(shuffled)), 0.5, 1)
    other = balance_records(Dataset(table, tuple(records)), 0.5, 2)
    assert [r.file_name for r in first] == [r.file_name for r in again]
    assert {r.file_name for r in first} != {r.file_name for r in other}


def test_balance_refuses_a_negative_ratio():
    with pytest.raises(ValidationError, match="negative"):
        balance_records(make_dataset({1: 2}, 2), -1, 0)


# ---------------------------------------------------------------- split


def split_counts(records) -> Counter[str]:
    return Counter(r.split for r in records)


@pytest.mark.parametrize("count", [0, 1, 7, 30, 31, 101])
@pytest.mark.parametrize("ratios", ["0.8,0.1,0.1", "0.7,0.2,0.1", "4,1"])
def test_split_sizes_are_the_largest_remainder_shares(count, ratios):
    dataset = make_dataset({1: count // 2}, count - count // 2)
    weights = filters.parse_ratios(ratios)
    names = filters.split_names(len(weights), None)
    result = filters.split_dataset(dataset, ratios=ratios, seed=0, report=Report())[0]
    expected = filters.largest_remainder(count, weights)
    assert [split_counts(result.records)[n] for n in names] == expected


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stratified_split_keeps_each_category_within_one_image_of_its_share(seed):
    sizes = {1: 53, 2: 17, 3: 9, 4: 4, 5: 1}
    dataset = make_dataset(sizes, 23, seed=seed)
    weights = filters.parse_ratios("0.7,0.2,0.1")
    report = Report()
    result = filters.split_dataset(dataset, ratios=weights, seed=seed, stratify=True, report=report)[0]
    names = ("train", "val", "test")
    assert [split_counts(result.records)[n] for n in names] == filters.largest_remainder(107, weights)
    for category_id, total in [*sizes.items(), (None, 23)]:
        per_split = Counter(r.split for r in result.records if _category(r) == category_id)
        for name, weight in zip(names, weights):
            assert abs(per_split[name] - total * weight) < 1, (category_id, name, per_split)
    assert report.data["split"]["per_category"]["pants"]["images"] == {
        n: sum(1 for r in result.records if r.split == n and _category(r) == 2) for n in names
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stratified_split_of_images_with_several_categories_keeps_every_share_within_one(seed):
    # DeepFashion2-like: 0–3 garments of 13 categories per image, common and rare ones
    rng = random.Random(seed)
    table = CategoryTable.from_names([f"garment {i}" for i in range(1, 14)])
    popularity = [30, 20, 15, 10, 8, 5, 4, 3, 2, 1, 1, 0.5, 0.5]
    records = []
    for index in range(500):
        present = set(rng.choices(range(1, 14), weights=popularity, k=rng.choice([0, 1, 1, 2, 2, 3])))
        records.append(ImageRecord(f"{index:04d}.jpg", 8, 8, tuple(Annotation(c) for c in sorted(present))))
    weights = filters.parse_ratios("0.8,0.1,0.1")
    result = filters.split_dataset(
        Dataset(table, tuple(records)), ratios=weights, seed=seed, stratify=True, report=Report()
    )[0]
    assert [split_counts(result.records)[n] for n in ("train", "val", "test")] == [400, 50, 50]
    images_of = Counter(c for r in records for c in {a.category_id for a in r.annotations})
    per_split = Counter((r.split, a.category_id) for r in result.records for a in r.annotations)
    for category_id, total in images_of.items():
        for name, weight in zip(("train", "val", "test"), weights):
            assert abs(per_split[(name, category_id)] - total * weight) < 1, (category_id, name)


def _category(record: ImageRecord) -> int | None:
    return record.annotations[0].category_id if record.annotations else None


def test_unstratified_split_can_miss_the_shares_stratification_keeps():
    # the same data without --stratify: some category drifts by more than one image (so the test above can fail)
    sizes = {1: 53, 2: 17, 3: 9, 4: 4, 5: 1}
    weights = filters.parse_ratios("0.7,0.2,0.1")
    worst = 0.0
    for seed in range(5):
        result = filters.split_dataset(make_dataset(sizes, 23, seed=seed), ratios=weights, seed=seed, report=Report())[
            0
        ]
        for category_id, total in sizes.items():
            per_split = Counter(r.split for r in result.records if _category(r) == category_id)
            worst = max(worst, *(abs(per_split[n] - total * w) for n, w in zip(("train", "val", "test"), weights)))
    assert worst >= 1


@pytest.mark.parametrize("stratify", [False, True])
def test_grouped_split_never_splits_a_group(stratify):
    dataset = make_dataset({1: 40, 2: 30, 3: 10}, 20, pairs=3)  # pair_id shared by 3 consecutive images
    report = Report()
    result = filters.split_dataset(
        dataset, ratios="0.8,0.1,0.1", seed=4, stratify=stratify, group_by="pair_id", report=report
    )[0]
    splits_of_group: dict[int, set[str]] = {}
    for record in result.records:
        splits_of_group.setdefault(record.attributes["pair_id"], set()).add(record.split)  # type: ignore[arg-type]
    assert all(len(s) == 1 for s in splits_of_group.values())
    sizes = split_counts(result.records)
    assert sum(sizes.values()) == 100
    for name, target in zip(("train", "val", "test"), (80, 10, 10)):
        assert abs(sizes[name] - target) <= 3  # within one group of its target


def test_images_without_the_group_attribute_are_groups_of_their_own():
    records = make_records({1: 6}, 4)
    records = [r.replace(attributes={}) if i % 2 else r for i, r in enumerate(records)]
    report = Report()
    result = filters.split_dataset(
        Dataset(CategoryTable.from_names(NAMES), tuple(records)),
        ratios="1,1",
        seed=0,
        group_by="pair_id",
        report=report,
    )[0]
    assert split_counts(result.records) == {"train": 5, "val": 5}
    assert "5 images have no 'pair_id' attribute: each is its own group" in report.notes


def test_split_depends_on_the_seed():
    dataset = make_dataset({1: 30}, 30)
    first = filters.split_dataset(dataset, ratios="0.5,0.5", seed=0, report=Report())[0]
    second = filters.split_dataset(dataset, ratios="0.5,0.5", seed=1, report=Report())[0]
    assert {r.file_name for r in first.records if r.split == "train"} != {
        r.file_name for r in second.records if r.split == "train"
    }


def test_round_table_keeps_rows_columns_and_cells_within_one():
    rng = random.Random(5)
    for _ in range(200):
        rows = [rng.randint(0, 12) for _ in range(rng.randint(1, 6))]
        weights = filters.parse_ratios([rng.randint(0, 9) for _ in range(3)] + [1])
        targets = filters.largest_remainder(sum(rows), weights)
        table = filters.round_table(rows, weights, targets)
        assert table is not None
        assert [sum(row) for row in table] == rows
        assert [sum(column) for column in zip(*table)] == targets
        assert all(abs(cell - n * w) < 1 for row, n in zip(table, rows) for cell, w in zip(row, weights))


def test_stratified_split_keeps_category_shares_when_exact_sizes_are_impossible():
    # 10/4/4 images over 1/4,1/4,1/10,1/5,1/5: no rounding keeps both the sizes 4,4,2,4,4 and the shares
    weights = filters.parse_ratios("0.25,0.25,0.1,0.2,0.2")
    assert filters.round_table([10, 4, 4], weights, [4, 4, 2, 4, 4]) is None
    report = Report()
    result = filters.split_dataset(
        make_dataset({1: 10, 2: 4, 3: 4}, 0), ratios=weights, names="a,b,c,d,e", stratify=True, report=report
    )[0]
    assert sum(split_counts(result.records).values()) == 18
    for category_id, total in ((1, 10), (2, 4), (3, 4)):
        per_split = Counter(r.split for r in result.records if _category(r) == category_id)
        assert all(abs(per_split[n] - total * w) < 1 for n, w in zip("abcde", weights))
    assert "stratified split: sizes off their exact targets to keep every category share" in report.notes


def test_split_summary_csv_lists_classes_absent_from_a_split():
    records = make_records({1: 3, 2: 1}, 0)
    result = filters.split_dataset(
        Dataset(CategoryTable.from_names(NAMES), tuple(records)),
        ratios="1,0",
        names="train,test",
        report=(r := Report()),
    )[0]
    assert {rec.split for rec in result.records} == {"train"}
    text = filters.format_split_summary_csv(r.data["split"], ("train", "test")).decode()
    instances = Counter(a.category_id for rec in records for a in rec.annotations)
    assert text.splitlines() == [
        "class,counts_train,counts_test,total",
        f"top,{instances[1]},0,{instances[1]}",
        f"pants,{instances[2]},0,{instances[2]}",
        "skirt,0,0,0",
        "dress,0,0,0",
        "belt,0,0,0",
    ]


# ---------------------------------------------------------------- filter


def test_filter_keeps_renames_and_drops_what_it_says():
    dataset = make_dataset({1: 4, 2: 3, 3: 2}, 5)
    before = Counter(a.category_id for r in dataset.records for a in r.annotations)
    report = Report()
    result = filters.filter_dataset(
        dataset, categories="Pants,skirt", rename="bottom", drop_empty_images=True, report=report
    ).materialize()
    assert result.categories.names == ("bottom",)
    assert [c.id for c in result.categories] == [2]
    assert len(result.records) == 5
    assert sum(len(r.annotations) for r in result.records) == before[2] + before[3]
    assert report.skipped["annotation of a category not selected"] == before[1]
    assert report.skipped["image without annotations (--drop-empty)"] == 4 + 5


# ---------------------------------------------------------------- merge


def test_unite_categories_by_name_and_by_map():
    user = CategoryTable((Category(3, "Trousers"), Category(7, "short_sleeved_shirt")))
    shop = CategoryTable((Category(1, "short sleeved shirt"), Category(2, "skirt")))
    table, maps = filters.unite_categories([user, shop], {"trousers": "pants"})
    assert table.names == ("pants", "short_sleeved_shirt", "skirt")
    assert table.ids == (1, 2, 3)
    assert maps == [{3: 1, 7: 2}, {1: 2, 2: 3}]


def test_a_category_map_naming_no_category_is_an_error():
    with pytest.raises(ValidationError, match="jeans"):
        filters.unite_categories([CategoryTable.from_names(["top"])], {"jeans": "pants"})


@pytest.mark.parametrize(
    "sources, expected",
    [
        (["a/user.json", "b/shop.json"], ["user", "shop"]),
        (["a/train.json", "b/train.json"], ["train", "train2"]),  # same name: numbered
        (["data/yolo_user/", "x.csv"], ["yolo_user", "x"]),  # folders keep their name
    ],
)
def test_source_tags(sources, expected):
    assert filters.source_tags(sources) == expected


def test_merge_keeps_every_image_and_annotation_with_provenance():
    user = make_dataset({1: 6, 2: 4}, 3, seed=1)
    shop_records = make_records({1: 5, 2: 5}, 2, seed=2)
    shop_records[0] = shop_records[0].replace(file_name=user.records[0].file_name.upper())  # type: ignore[index]
    shop_records[1] = shop_records[1].replace(file_name=user.records[1].file_name.replace(".jpg", ".png"))  # type: ignore[index]
    shop = Dataset(
        CategoryTable((Category(10, "PANTS"), Category(11, "top"))),
        tuple(
            r.replace(annotations=tuple(a._replace(category_id={1: 11, 2: 10}[a.category_id]) for a in r.annotations))
            for r in shop_records
        ),
    )
    report = Report()
    merged = filters.merge_datasets([user, shop], sources=["in/user.json", "in/shop.json"], report=report)
    assert merged.categories.names == NAMES
    assert len(merged.records) == 13 + 12
    assert [r.id for r in merged.records] == list(range(1, 26))
    assert [a.id for r in merged.records for a in r.annotations] == list(
        range(1, 1 + sum(len(r.annotations) for r in merged.records))
    )
    keys = [r.file_name.rsplit(".", 1)[0].casefold() for r in merged.records]
    assert len(set(keys)) == len(keys)
    assert report.data["merge"]["renamed"] == 2
    names = {c.id: c.name for c in merged.categories}
    for source, dataset in (("in/user.json", user), ("in/shop.json", shop)):
        old_names = {c.id: c.name.lower() for c in dataset.categories}
        for record in dataset.records:
            [out] = [
                r
                for r in merged.records
                if r.attributes["merge_source"] == source and r.attributes["merge_file_name"] == record.file_name
            ]
            assert out.attributes["merge_image_id"] == record.id
            assert [(names[a.category_id].lower(), a.bbox) for a in out.annotations] == [
                (old_names[a.category_id], a.bbox) for a in record.annotations
            ]
    renamed = [r.file_name for r in merged.records if r.file_name != r.attributes["merge_file_name"]]
    assert sorted(renamed) == sorted(
        f"{name.rsplit('.', 1)[0]}__shop.{name.rsplit('.', 1)[1]}"
        for name in (shop.records[0].file_name, shop.records[1].file_name)  # type: ignore[index]
    )


def test_merge_reads_a_category_map_file(tmp_path):
    a = write_coco(tmp_path / "a.json", make_dataset({1: 2}, 1, seed=1))
    b_table = CategoryTable((Category(1, "trousers"),))
    b = write_coco(tmp_path / "b.json", Dataset(b_table, tuple(make_records({1: 3}, 0, seed=9))))
    (tmp_path / "map.yaml").write_text("trousers: pants\n")
    report = api.merge([a, b], tmp_path / "out.json", category_map=tmp_path / "map.yaml")
    doc = orjson.loads((tmp_path / "out.json").read_bytes())
    assert [c["name"] for c in doc["categories"]] == list(NAMES)
    assert report.written["images"] == 6
    pants = {a["id"] for a in doc["annotations"] if a["category_id"] == 2}
    assert len(pants) == sum(
        1
        for a in doc["annotations"]
        if a["image_id"] in {i["id"] for i in doc["images"] if i["merge_source"].endswith("b.json")}
    )


# ---------------------------------------------------------------- dedupe


def test_dedupe_keeps_the_first_of_identical_images_and_merges_on_request(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    records = make_records({1: 6}, 2, seed=3)
    contents = [b"A", b"B", b"A", b"C", b"A", b"B", b"D", b"E"]  # 3 × A, 2 × B
    for record, content in zip(records, contents):
        (images / record.file_name).write_bytes(content)
    dataset = Dataset(CategoryTable.from_names(NAMES), tuple(records))
    ordered = sorted(records, key=filters.record_key)
    hasher = filters.HashImage(str(images))

    def digests(rows):
        return map(hasher, ((i, r.file_name, r.split) for i, r in enumerate(rows)))

    plain, merged = Report(), Report()
    kept = filters.dedupe(dataset, digest_of=digests, report=plain).records
    kept_merged = filters.dedupe(dataset, digest_of=digests, merge_annotations=True, report=merged).records
    assert len(kept) == len(kept_merged) == 5
    assert plain.data["dedupe"]["duplicates"] == 3
    by_content: dict[bytes, list[ImageRecord]] = {}
    for record in ordered:
        by_content.setdefault((images / record.file_name).read_bytes(), []).append(record)
    for group in by_content.values():
        first = next(r for r in kept_merged if r.file_name == group[0].file_name)
        expected = []
        for record in group:
            expected += [
                a for a in record.annotations if all(a._replace(id=None) != e._replace(id=None) for e in expected)
            ]
        assert [a._replace(id=None) for a in first.annotations] == [a._replace(id=None) for a in expected]
    dropped_annotations = sum(len(r.annotations) for r in records) - sum(len(r.annotations) for r in kept)
    assert plain.skipped["annotation of a duplicate image (give --merge-annotations to keep)"] == dropped_annotations
    assert (
        merged.data["dedupe"]["annotations_merged"] + merged.skipped["annotation equal to one of the kept image"]
        == dropped_annotations
    )


def test_dedupe_counts_a_missing_image_with_on_error_skip(tmp_path):
    from fashiondata.context import RunContext

    (tmp_path / "images").mkdir()
    records = make_records({1: 2}, 1, seed=4)
    for record in records[1:]:
        (tmp_path / "images" / record.file_name).write_bytes(b"same")
    source = write_coco(tmp_path / "in.json", Dataset(CategoryTable.from_names(NAMES), tuple(records)))
    ctx = RunContext(on_error="skip")
    report = api.dedupe(source, tmp_path / "out.json", images=tmp_path / "images", ctx=ctx)
    assert report.written["images"] == 1
    assert report.skipped["image not found"] == 1
    assert report.skipped["annotation of an image that could not be read"] == len(records[0].annotations)
    assert report.skipped["duplicate image (same bytes as a kept one)"] == 1
    assert records[0].file_name in {item for item, _ in report.skipped_items}


def test_fraction_ratio_is_the_typed_decimal():
    assert filters.exact(0.1) == Fraction(1, 10)


def test_merge_keeps_the_sources_own_attributes():
    # DeepFashion2 images carry their own "source" (user or shop) and "pair_id": provenance must not clobber them
    shop = make_records({1: 2}, 0, seed=5)
    shop = [r.replace(attributes={"source": "shop", "pair_id": 7}) for r in shop]
    merged = filters.merge_datasets(
        [Dataset(CategoryTable.from_names(NAMES), tuple(shop))], sources=["df2/validation"], report=Report()
    )
    assert [dict(r.attributes) for r in merged.records] == [
        {
            "source": "shop",
            "pair_id": 7,
            "merge_source": "df2/validation",
            "merge_file_name": r.file_name,
            "merge_image_id": r.id,
        }
        for r in sorted(shop, key=filters.record_key)
    ]


def test_merge_renumbers_lvis_category_id_lists_with_the_annotations():
    first = Dataset(CategoryTable((Category(5, "pants"),)), (ImageRecord("a.jpg", 8, 8, (Annotation(5),)),))
    second = Dataset(
        CategoryTable((Category(1, "top"), Category(2, "pants"))),
        (
            ImageRecord(
                "b.jpg",
                8,
                8,
                (Annotation(1),),
                attributes={"neg_category_ids": [2], "not_exhaustive_category_ids": [1, 2]},
            ),
        ),
    )
    merged = filters.merge_datasets([first, second], sources=["one.json", "two.json"], report=Report())
    assert merged.categories.names == ("pants", "top")
    record = merged.records[1]  # type: ignore[index]
    assert [a.category_id for a in record.annotations] == [2]
    assert (record.attributes["neg_category_ids"], record.attributes["not_exhaustive_category_ids"]) == ([1], [2, 1])
