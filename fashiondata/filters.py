"""Dataset operations: subset, drop-empty, balance, split, merge and dedupe.

Record steps are picklable frozen dataclasses (``ImageRecord -> ImageRecord | None``); the steps that
need the whole dataset (balance, split, merge, dedupe) are functions over the records that run in the
driver. Every random choice comes from ``random.Random(seed)`` over records sorted by
:func:`record_key`, so a run gives the same result whatever order the reader produced, and every
image or annotation left out is counted in the report with its reason.

Examples:
    >>> from fashiondata.model import Annotation, CategoryTable, ImageRecord
    >>> table = CategoryTable.from_names(["top", "pants"])
    >>> records = [ImageRecord(f"{i}.jpg", 8, 8, (Annotation(1 + i % 2),) if i < 4 else ()) for i in range(10)]
    >>> kept = balance(Dataset(table, records), ratio=0.5, seed=0, report=Report())
    >>> sum(1 for r in kept.records if not r.annotations)   # round(0.5 × 4 positives) negatives
    2
    >>> largest_remainder(7, parse_ratios("0.8,0.1,0.1"))
    [5, 1, 1]
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import posixpath
import random
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from math import gcd
from pathlib import Path
from typing import Any

import orjson

from fashiondata.categories import RemapCategories, select_categories
from fashiondata.dataset import Dataset
from fashiondata.errors import ValidationError
from fashiondata.formats.coco import gc_paused
from fashiondata.io import join_inside
from fashiondata.model import Annotation, Category, CategoryTable, ImageRecord, normalize_name
from fashiondata.report import MAX_LISTED, Report

#: Split names used when ``--names`` is not given, by number of ratios.
DEFAULT_SPLIT_NAMES = {1: ("train",), 2: ("train", "val"), 3: ("train", "val", "test")}


def record_key(record: ImageRecord) -> tuple[str, str, int]:
    """The order every operation sorts records in: split, file name, then id."""
    return (record.split or "", record.file_name, record.id if isinstance(record.id, int) else -1)


# ---------------------------------------------------------------- filter


@dataclasses.dataclass(frozen=True)
class DropEmpty:
    """Record step: drop an image without annotations (a negative)."""

    def __call__(self, record: ImageRecord) -> ImageRecord | None:
        return record if record.annotations else None


def drop_empty(dataset: Dataset, *, report: Report) -> Dataset:
    """Drop images without annotations, lazily, counting each one."""
    step = DropEmpty()

    def iter_kept() -> Iterator[ImageRecord]:
        for record in dataset.records:
            if step(record) is None:
                report.skip("image without annotations (--drop-empty)", item=record.file_name)
            else:
                yield record

    return dataset.replace(records=iter_kept())


def filter_dataset(
    dataset: Dataset,
    *,
    categories: str | Sequence[str] | None = None,
    rename: str | Mapping[str, str] | None = None,
    drop_empty_images: bool = False,
    report: Report,
) -> Dataset:
    """Keep some categories (``--categories``), rename them (``--rename``), drop empty images.

    Images left without annotations by the category subset are dropped only with
    ``drop_empty_images``; otherwise they stay as negatives.
    """
    dataset = select_categories(dataset, categories, rename, report=report)
    return drop_empty(dataset, report=report) if drop_empty_images else dataset


# ---------------------------------------------------------------- balance


def round_half_up(value: Fraction) -> int:
    """Round to the nearest integer, halves up (``round()`` would round 2.5 to 2).

    >>> [round_half_up(Fraction(n, 2)) for n in (3, 4, 5)]
    [2, 2, 3]
    """
    return int((value + Fraction(1, 2)) // 1)


def exact(number: float | str | Fraction) -> Fraction:
    """A ratio as the exact fraction the user typed (``0.1`` is 1/10, not the nearest double)."""
    try:
        value = number if isinstance(number, Fraction) else Fraction(str(number))
    except (ValueError, ZeroDivisionError):
        raise ValidationError(f"{number!r} is not a number") from None
    if value < 0:
        raise ValidationError(f"{number!r}: a ratio cannot be negative")
    return value


def balance(dataset: Dataset, *, ratio: float | str = 1, seed: int = 0, report: Report) -> Dataset:
    """Keep every positive image and ``round(ratio × positives)`` negatives chosen at random.

    A negative is an image without annotations. The negatives are drawn with
    ``random.Random(seed).sample`` from the list sorted by :func:`record_key`; when fewer are
    available than asked for, all are kept and the report says so. The numbers are in
    ``report.data["balance"]``.
    """
    records = sorted(dataset.records, key=record_key)
    positives = [r for r in records if r.annotations]
    negatives = [r for r in records if not r.annotations]
    wanted = round_half_up(exact(ratio) * len(positives))
    kept_count = min(wanted, len(negatives))
    chosen = set(random.Random(seed).sample(range(len(negatives)), kept_count))
    kept = [r for i, r in enumerate(negatives) if i in chosen]
    dropped = len(negatives) - kept_count
    if dropped:
        report.skip("negative image not drawn by balance", count=dropped)
    if wanted > len(negatives):
        report.note(f"balance asked for {wanted} negatives but only {len(negatives)} exist: all kept")
    report.note(
        f"balance kept {len(positives)} positive images and {kept_count} of {len(negatives)} negatives "
        f"(ratio {ratio}, seed {seed})"
    )
    report.data["balance"] = {
        "ratio": float(ratio),
        "seed": seed,
        "positives": len(positives),
        "negatives_available": len(negatives),
        "negatives_wanted": wanted,
        "negatives_kept": kept_count,
        "negatives_dropped": dropped,
    }
    return dataset.replace(records=tuple(sorted(positives + kept, key=record_key)))


# ---------------------------------------------------------------- split


def parse_ratios(text: str | Sequence[float | str | Fraction]) -> tuple[Fraction, ...]:
    """``"0.8,0.1,0.1"`` or ``"4,1"`` → exact weights summing to 1.

    >>> [str(w) for w in parse_ratios("4,1")]
    ['4/5', '1/5']
    """
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    weights = tuple(exact(item) for item in items if str(item).strip())
    if not weights or sum(weights) == 0:
        raise ValidationError(f"--ratios {text!r}: give one or more non-negative numbers, not all zero")
    total = sum(weights)
    return tuple(w / total for w in weights)


def largest_remainder(total: int, weights: Sequence[Fraction]) -> list[int]:
    """Integer shares of ``total`` in proportion to ``weights`` (Hamilton's method).

    Each share is the floor of its quota; the units left go to the largest fractional parts, the
    earlier share first on a tie, so the shares always add up to ``total``.
    """
    whole = sum(weights)
    quotas = [total * w / whole for w in weights]
    shares = [int(q // 1) for q in quotas]
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def split_names(count: int, names: str | Sequence[str] | None) -> tuple[str, ...]:
    """The split names: given (``"train,test"``) or the defaults for 1 to 3 splits."""
    if names is None:
        if count not in DEFAULT_SPLIT_NAMES:
            raise ValidationError(f"{count} ratios: name the splits with --names")
        return DEFAULT_SPLIT_NAMES[count]
    chosen = tuple(n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip())
    if len(chosen) != count or len(set(chosen)) != count:
        raise ValidationError(f"--names {names!r}: give {count} different names, one per ratio")
    for name in chosen:
        if "/" in name or "\\" in name or name in (".", ".."):
            raise ValidationError(f"split name {name!r} cannot be a folder name")
    return chosen


def round_table(rows: Sequence[int], weights: Sequence[Fraction], column_caps: Sequence[int]) -> list[list[int]] | None:
    """Controlled rounding: cells ``rows[k] × weights[s]`` rounded down or up so that each row adds
    up to ``rows[k]`` and column ``s`` to at most ``column_caps[s]``; None when impossible.

    The cells rounded up are a maximum flow (source → row → column → sink, one unit per cell with a
    fractional part), so every cell stays within one of its exact share. Caps adding up to the
    total make the column sums exact.

    >>> round_table([3, 3], parse_ratios("1,1"), [3, 3])
    [[2, 1], [1, 2]]
    """
    ideal = [[n * w for w in weights] for n in rows]
    table = [[int(v // 1) for v in row] for row in ideal]
    row_need = [n - sum(row) for n, row in zip(rows, table)]
    column_room = [cap - sum(row[s] for row in table) for s, cap in enumerate(column_caps)]
    if any(room < 0 for room in column_room):
        return None
    up = max_flow_cells(row_need, column_room, [[v % 1 != 0 for v in row] for row in ideal])
    if up is None:
        return None
    return [[cell + extra for cell, extra in zip(row, extras)] for row, extras in zip(table, up)]


def max_flow_cells(
    supply: Sequence[int], capacity: Sequence[int], allowed: Sequence[Sequence[bool]]
) -> list[list[int]] | None:
    """Choose cells (k, s) with ``allowed[k][s]``, at most one each, so that row k has exactly
    ``supply[k]`` and column s at most ``capacity[s]``; None when impossible.

    A maximum flow found one unit at a time by augmenting paths over the (few) columns: row k takes a
    column with room, or one whose rows can shift along a chain of columns to one with room.

    >>> max_flow_cells([1, 1], [1, 1], [[True, True], [True, False]])
    [[0, 1], [1, 0]]
    """
    rows, columns = len(supply), len(capacity)
    up = [[0] * columns for _ in range(rows)]
    users: list[set[int]] = [set() for _ in range(columns)]
    room = list(capacity)
    for k in range(rows):
        for _ in range(supply[k]):
            # parent[s] = (the column a row leaves to take s, that row); None for row k's own step
            parent: dict[int, tuple[int | None, int]] = {
                s: (None, k) for s in range(columns) if allowed[k][s] and not up[k][s]
            }
            queue = list(parent)
            end = None
            for column in queue:
                if room[column] > 0:
                    end = column
                    break
                for other in sorted(users[column]):
                    for target in range(columns):
                        if target not in parent and allowed[other][target] and not up[other][target]:
                            parent[target] = (column, other)
                            queue.append(target)
            if end is None:
                return None
            room[end] -= 1
            column = end
            while True:
                previous, row = parent[column]
                up[row][column] = 1
                users[column].add(row)
                if previous is None:
                    break
                up[row][previous] = 0
                users[previous].discard(row)
                column = previous
    return up


def _group_value(record: ImageRecord, attribute: str) -> str | None:
    value = record.attributes.get(attribute)
    return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _rarest_category(records: Iterable[ImageRecord], image_counts: Mapping[int, int]) -> int | None:
    present = {a.category_id for r in records for a in r.annotations}
    return min(present, key=lambda c: (image_counts[c], c)) if present else None


def split_dataset(
    dataset: Dataset,
    *,
    ratios: str | Sequence[float | str | Fraction] = "0.8,0.1,0.1",
    names: str | Sequence[str] | None = None,
    seed: int = 0,
    stratify: bool = False,
    group_by: str | None = None,
    report: Report,
) -> tuple[Dataset, list[ImageRecord]]:
    """Give every image a split; returns the records sorted by split then :func:`record_key`, and
    the records as they were, in the same order (where each image was before).

    Without ``group_by`` the split sizes are the largest-remainder shares of the image count, exactly.
    ``stratify`` puts each image in the stratum of its rarest category (negatives in their own) and
    deals every stratum out in its own shares, rounded so that the totals stay exact: the number of
    images of a category in a split is then within one of its share for images of one category;
    :func:`improve_shares` then swaps images between splits to bring the commoner categories of
    multi-category images within one too where it can. ``group_by`` keeps the images
    sharing an attribute value (``pair_id``) together; groups are placed largest first where the
    split (and stratum) is furthest below its target, so the sizes are as close as the groups allow.
    """
    weights = parse_ratios(ratios)
    chosen_names = split_names(len(weights), names)
    records = sorted(dataset.records, key=record_key)
    previous = sorted({r.split for r in records if r.split})
    if previous:
        report.note(f"the source's splits ({', '.join(previous)}) are replaced by the new ones")
    rng = random.Random(seed)
    units = _units(records, group_by, report)
    image_counts: Counter[int] = Counter(c for r in records for c in {a.category_id for a in r.annotations})
    strata = [_rarest_category(unit, image_counts) if stratify else None for unit in units]
    targets = largest_remainder(len(records), weights)
    if group_by is None:
        placement = _deal_images(units, strata, weights, targets, rng, report)
        if stratify:
            categories_of = [frozenset(a.category_id for a in unit[0].annotations) for unit in units]
            swaps = improve_shares(categories_of, placement, weights, rng)
            if swaps:
                report.note(f"stratified split: {swaps} swaps brought multi-category shares closer")
    else:
        placement = _place_groups(units, strata, weights, targets, rng)
    pairs = sorted(
        ((record, _with_split(record, chosen_names[placement[i]])) for i, unit in enumerate(units) for record in unit),
        key=lambda pair: (chosen_names.index(pair[1].split), record_key(pair[1])),  # type: ignore[arg-type]
    )
    assigned = [new for _, new in pairs]
    report.data["split"] = split_summary(assigned, dataset.categories, chosen_names, targets, seed)
    for name, facts in report.data["split"]["splits"].items():
        report.note(
            f"split {name}: {facts['images']} images (target {facts['target_images']}), {facts['annotations']} annotations"
        )
    return dataset.replace(records=tuple(assigned)), [old for old, _ in pairs]


def _with_split(record: ImageRecord, name: str) -> ImageRecord:
    # the YOLO writer names its image lists after ``record.source`` when set: the new split must win
    if getattr(record, "source", None) is not None:
        return record.replace(split=name, source=None)
    return record.replace(split=name)


def _units(records: Sequence[ImageRecord], group_by: str | None, report: Report) -> list[list[ImageRecord]]:
    """One unit per image, or per value of the ``group_by`` attribute (images without it alone)."""
    if group_by is None:
        return [[r] for r in records]
    groups: dict[str, list[ImageRecord]] = {}
    alone: list[list[ImageRecord]] = []
    for record in records:
        value = _group_value(record, group_by)
        if value is None:
            alone.append([record])
        else:
            groups.setdefault(value, []).append(record)
    if alone:
        report.note(f"{len(alone)} images have no {group_by!r} attribute: each is its own group")
    return [groups[key] for key in sorted(groups)] + alone


def _deal_images(
    units: list[list[ImageRecord]],
    strata: list[int | None],
    weights: Sequence[Fraction],
    targets: Sequence[int],
    rng: random.Random,
    report: Report,
) -> list[int]:
    """Split index per single-image unit: shuffle each stratum, deal it out in exact counts."""
    by_stratum: dict[int | None, list[int]] = defaultdict(list)
    for index, stratum in enumerate(strata):
        by_stratum[stratum].append(index)
    order = sorted(by_stratum, key=lambda s: (s is None, s if s is not None else 0))
    sizes = [len(by_stratum[s]) for s in order]
    table = round_table(sizes, weights, targets)
    if table is None:  # rare: keep every category share, let the sizes leave their exact counts
        ceilings = [-(-(len(units) * w) // 1) for w in weights]
        table = round_table(sizes, weights, [int(c) for c in ceilings])
        report.note("stratified split: sizes off their exact targets to keep every category share")
        if table is None:  # the exact shares are a fractional flow under the ceilings
            raise ValidationError("stratified split: no rounding of the category shares found")
    placement = [0] * len(units)
    for stratum, counts in zip(order, table):
        members = by_stratum[stratum]
        rng.shuffle(members)
        start = 0
        for split_index, count in enumerate(counts):
            for index in members[start : start + count]:
                placement[index] = split_index
            start += count
    return placement


def improve_shares(
    categories_of: Sequence[frozenset[int]],
    placement: list[int],
    weights: Sequence[Fraction],
    rng: random.Random,
    *,
    rounds: int = 20,
    sample: int = 16,
    budget: int | None = None,
) -> int:
    """Swap images between splits (sizes stay exact) while that brings the number of images of each
    category per split closer to its share; returns the number of swaps, ``placement`` is updated.

    Images with several categories make the shares of the commoner ones drift; each round takes the
    (category, split) cells off by one image or more, worst first, and tries swapping an image of
    the category out of the split with too many for one without it from the split with too few
    (``sample`` seeded candidates each way). A swap is made when it lowers the sum of squared
    deviations and moves no cell that is within one image of its share out of it. At most ``budget``
    candidate pairs are scored (default 32 per image), so dense data (ten categories an image)
    costs seconds, not minutes; the result is deterministic for a seed.
    """
    budget = 32 * len(placement) if budget is None else budget
    splits = len(weights)
    scale = 1
    for weight in weights:
        scale = scale * weight.denominator // gcd(scale, weight.denominator)
    parts = [int(w * scale) for w in weights]  # deviations × scale are integers: exact and fast
    with_category: dict[int, list[int]] = defaultdict(list)
    for index, categories in enumerate(categories_of):
        for category in sorted(categories):
            with_category[category].append(index)
    target = {(c, t): len(images) * parts[t] for c, images in with_category.items() for t in range(splits)}
    count: Counter[tuple[int, int]] = Counter()
    for category, images in with_category.items():
        for index in images:
            count[(category, placement[index])] += scale
    members: list[list[int]] = [[] for _ in range(splits)]
    position = [0] * len(placement)
    for index, split in enumerate(placement):
        position[index] = len(members[split])
        members[split].append(index)

    def deviation(cell: tuple[int, int]) -> int:
        return count[cell] - target[cell]

    def changes(a: int, b: int) -> list[tuple[tuple[int, int], int]]:
        """The cells a swap of ``a`` and ``b`` changes, with the change (× scale)."""
        here, there = placement[a], placement[b]
        moved = []
        for c in categories_of[a] - categories_of[b]:
            moved += [((c, here), -scale), ((c, there), scale)]
        for c in categories_of[b] - categories_of[a]:
            moved += [((c, there), -scale), ((c, here), scale)]
        return moved

    def gain(a: int, b: int) -> int | None:
        total = 0
        for cell, step in changes(a, b):
            before = count[cell] - target[cell]
            after = before + step
            if abs(before) < scale <= abs(after):
                return None
            total += after * after - before * before
        return total

    swaps = 0
    for _ in range(rounds):
        cells = sorted(
            (cell for cell in target if abs(deviation(cell)) >= scale), key=lambda cell: (-abs(deviation(cell)), cell)
        )
        improved = False
        for category, split in cells:
            if abs(deviation((category, split))) < scale:
                continue  # mended by an earlier swap of this round
            others = [t for t in range(splits) if t != split]
            if deviation((category, split)) > 0:
                giver, taker = split, min(others, key=lambda t: (deviation((category, t)), t))
            else:
                giver, taker = max(others, key=lambda t: (deviation((category, t)), -t)), split
            holders = [i for i in with_category[category] if placement[i] == giver]
            pool = members[taker]
            outs = rng.sample(holders, min(sample, len(holders)))
            ins = [i for i in rng.sample(pool, min(4 * sample, len(pool))) if category not in categories_of[i]][:sample]
            if budget <= 0:
                return swaps
            budget -= len(outs) * len(ins)
            scored = [(g, a, b) for a in outs for b in ins if (g := gain(a, b)) is not None and g < 0]
            if not scored:
                continue
            _, a, b = min(scored)
            for cell, step in changes(a, b):
                count[cell] += step
            members[giver][position[a]], members[taker][position[b]] = b, a
            position[a], position[b] = position[b], position[a]
            placement[a], placement[b] = taker, giver
            swaps += 1
            improved = True
        if not improved:
            break
    return swaps


def _place_groups(
    units: list[list[ImageRecord]],
    strata: list[int | None],
    weights: Sequence[Fraction],
    targets: Sequence[int],
    rng: random.Random,
) -> list[int]:
    """Split index per group: largest groups first, each where its stratum and split lack most."""
    order = list(range(len(units)))
    rng.shuffle(order)
    order.sort(key=lambda i: -len(units[i]))  # stable: equal sizes keep the seeded order
    stratum_size: Counter[int | None] = Counter()
    for unit, stratum in zip(units, strata):
        stratum_size[stratum] += len(unit)
    filled = [0] * len(weights)
    stratum_filled: dict[int | None, list[int]] = defaultdict(lambda: [0] * len(weights))
    placement = [0] * len(units)
    for index in order:
        stratum = strata[index]
        mine = stratum_filled[stratum]
        best = max(
            range(len(weights)),
            key=lambda s: (stratum_size[stratum] * weights[s] - mine[s], targets[s] - filled[s], -s),
        )
        placement[index] = best
        filled[best] += len(units[index])
        mine[best] += len(units[index])
    return placement


def split_summary(
    records: Sequence[ImageRecord],
    categories: CategoryTable,
    names: Sequence[str],
    targets: Sequence[int],
    seed: int,
) -> dict[str, Any]:
    """Images, annotations and targets per split; images and instances per category and split."""
    images: Counter[str] = Counter(r.split for r in records)  # type: ignore[misc]
    annotations: Counter[str] = Counter()
    instances: dict[int, Counter[str]] = defaultdict(Counter)
    with_category: dict[int, Counter[str]] = defaultdict(Counter)
    for record in records:
        annotations[record.split] += len(record.annotations)  # type: ignore[index]
        for annotation in record.annotations:
            instances[annotation.category_id][record.split] += 1  # type: ignore[index]
        for category_id in {a.category_id for a in record.annotations}:
            with_category[category_id][record.split] += 1  # type: ignore[index]
    return {
        "seed": seed,
        "splits": {
            name: {"images": images[name], "target_images": target, "annotations": annotations[name]}
            for name, target in zip(names, targets)
        },
        "per_category": {
            c.name: {
                "images": {name: with_category[c.id][name] for name in names},
                "instances": {name: instances[c.id][name] for name in names},
            }
            for c in categories
        },
    }


def format_split_summary_csv(summary: Mapping[str, Any], names: Sequence[str]) -> bytes:
    """``class,counts_<split>…,total``: instances per category and split, every category listed.

    >>> summary = {"per_category": {"pants": {"instances": {"train": 3, "test": 0}}}}
    >>> format_split_summary_csv(summary, ["train", "test"]).decode().splitlines()
    ['class,counts_train,counts_test,total', 'pants,3,0,3']
    """
    lines = [",".join(["class", *(f"counts_{n}" for n in names), "total"])]
    for name, counts in summary["per_category"].items():
        row = [counts["instances"][n] for n in names]
        lines.append(",".join([_csv_field(name), *map(str, row), str(sum(row))]))
    return ("\n".join(lines) + "\n").encode()


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\n\r') else text


# ---------------------------------------------------------------- merge


def _mapped_name(name: str, category_map: Mapping[str, str]) -> str:
    return category_map.get(normalize_name(name), name)


def unite_categories(
    tables: Sequence[CategoryTable], category_map: Mapping[str, str] | None = None
) -> tuple[CategoryTable, list[dict[int, int]]]:
    """One table from several, categories united by (mapped) name, ids from 1 in first-seen order.

    Returns the table and, for each input table, its id map old id → new id.

    >>> table, maps = unite_categories([CategoryTable.from_names(["top", "pants"]),
    ...                                 CategoryTable.from_names(["Pants", "skirt"])])
    >>> table.names, maps
    (('top', 'pants', 'skirt'), [{1: 1, 2: 2}, {1: 2, 2: 3}])
    """
    mapping = {normalize_name(old): new for old, new in (category_map or {}).items()}
    united: dict[str, Category] = {}
    id_maps: list[dict[int, int]] = []
    for table in tables:
        id_map: dict[int, int] = {}
        for category in table:
            name = _mapped_name(category.name, mapping)
            key = normalize_name(name)
            if key not in united:
                united[key] = category.replace(id=len(united) + 1, name=name)
            id_map[category.id] = united[key].id
        id_maps.append(id_map)
    unknown = set(mapping) - {normalize_name(c.name) for t in tables for c in t}
    if unknown:
        raise ValidationError(f"--category-map names categories no source has: {', '.join(sorted(unknown))}")
    return CategoryTable(tuple(united.values())), id_maps


def _name_key(file_name: str) -> str:
    """What two file names must differ in to coexist in every writer: the path without extension,
    case-folded (YOLO label files are named by stem; some file systems ignore case)."""
    return posixpath.splitext(file_name)[0].casefold()


def _renamed(file_name: str, tag: str, taken: set[str]) -> str:
    """``dir/0001.jpg`` → ``dir/0001__tag.jpg`` (``__tag2``, ``__tag3``… while that is taken too)."""
    stem, extension = posixpath.splitext(file_name)
    candidate, number = f"{stem}__{tag}", 1
    while _name_key(candidate) in taken:
        number += 1
        candidate = f"{stem}__{tag}{number}"
    return candidate + extension


def source_tags(sources: Sequence[str]) -> list[str]:
    """A short unique tag per source for renamed files: the file or folder name without extension.

    >>> source_tags(["a/user.json", "b/shop.json", "c/shop.json"])
    ['user', 'shop', 'shop3']
    """
    tags: list[str] = []
    for index, source in enumerate(sources, 1):
        base = source.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
        tag = base.rsplit(".", 1)[0] if "." in base[1:] else base
        tags.append(tag if tag and tag not in tags else f"{tag}{index}")
    return tags


def merge_datasets(
    datasets: Sequence[Dataset],
    *,
    sources: Sequence[str],
    category_map: Mapping[str, str] | None = None,
    report: Report,
) -> Dataset:
    """One dataset from several: categories united by name, every image and annotation kept.

    Image and annotation ids are renumbered from 1 (sources in order, each in :func:`record_key`
    order). A file name already taken by an earlier source (same path and stem, any case or
    extension) gets the source's tag: ``0001.jpg`` → ``0001__shop.jpg``. Each image keeps where it
    came from in its attributes: ``merge_source`` (the path given), ``merge_file_name`` and
    ``merge_image_id`` (prefixed: DeepFashion2 images have a ``source`` of their own).
    """
    datasets = [d.materialize() for d in datasets]
    table, id_maps = unite_categories([d.categories for d in datasets], category_map)
    tags = source_tags(sources)
    taken: set[str] = set()
    records: list[ImageRecord] = []
    annotation_id = 0
    renamed = 0
    with gc_paused():  # a million new annotations and no reference cycle
        for dataset, id_map, source, tag in zip(datasets, id_maps, sources, tags):
            remap = RemapCategories(id_map)
            for record in sorted(dataset.records, key=record_key):
                # category-id lists among the image attributes (LVIS) follow the new ids
                attributes = remap(record.replace(annotations=())).attributes
                file_name = record.file_name
                if _name_key(file_name) in taken:
                    file_name = _renamed(file_name, tag, taken)
                    renamed += 1
                taken.add(_name_key(file_name))
                annotations = tuple(
                    a._replace(category_id=id_map[a.category_id], id=i)
                    for i, a in enumerate(record.annotations, annotation_id + 1)
                )
                annotation_id += len(annotations)
                provenance: dict[str, Any] = {"merge_source": source, "merge_file_name": record.file_name}
                if record.id is not None:
                    provenance["merge_image_id"] = record.id
                records.append(
                    record.replace(
                        file_name=file_name,
                        id=len(records) + 1,
                        annotations=annotations,
                        attributes={**attributes, **provenance},
                    )
                )
    if renamed:
        report.note(f"{renamed} images renamed because an earlier source had the same file name")
    report.note(f"merged {len(datasets)} sources: {len(records)} images, {len(table)} categories united by name")
    report.data["merge"] = {
        "sources": list(sources),
        "images": [len(d.records) for d in datasets],  # type: ignore[arg-type]
        "categories": len(table),
        "renamed": renamed,
    }
    info = dict(datasets[0].info) if datasets else {}
    return Dataset(table, tuple(records), info, tuple(sources))


def load_category_map(data: Any, path: str) -> dict[str, str]:
    """A parsed ``--category-map`` file: an object ``{"old name": "new name", …}``."""
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in data.items()):
        raise ValidationError(f"{path}: a category map must be an object of name → name")
    return dict(data)


# ---------------------------------------------------------------- dedupe


def find_image(root: str, file_name: str, split: str | None) -> Path:
    """An image file: ``root/<file_name>``, else ``root/<split>/<file_name>`` (the YOLO and COCO
    ``images/train2017/`` layout), as the YOLO writer looks it up; FileNotFoundError when neither is."""
    candidates = [join_inside(root, file_name)]
    if split is not None:
        candidates.append(join_inside(root, f"{split}/{file_name}"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(2, "image not found", str(candidates[-1]))


@dataclasses.dataclass(frozen=True)
class HashImage:
    """The BLAKE2b digest of an image's bytes (picklable for the executor); the job is
    ``(position, file_name, split)``, the image found by :func:`find_image`."""

    root: str

    def __call__(self, item: tuple[int, str, str | None]) -> tuple[int, str]:
        position, file_name, split = item
        digest = hashlib.blake2b(digest_size=20)
        with open(find_image(self.root, file_name, split), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return position, digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class PlaceImage:
    """Put an image into an output folder by symlink (absolute), hard link or copy (picklable).

    The job is ``(root, file_name, split, target)``; the image is found by :func:`find_image`.
    """

    link_mode: str

    def __call__(self, job: tuple[str, str, str | None, str]) -> str:
        root, file_name, split, target = job
        source = find_image(root, file_name, split)
        destination = Path(target)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if self.link_mode == "symlink":
            os.symlink(source.resolve(), destination)
        elif self.link_mode == "hardlink":
            os.link(source, destination)
        elif self.link_mode == "copy":
            shutil.copyfile(source, destination)
        else:
            raise ValidationError(f"--link-mode {self.link_mode!r}: use symlink, hardlink, copy or none")
        return target


def _same_annotation(a: Annotation, b: Annotation) -> bool:
    return a._replace(id=None) == b._replace(id=None)


def dedupe(
    dataset: Dataset,
    *,
    digest_of: Callable[[Sequence[ImageRecord]], Iterable[tuple[int, str]]],
    merge_annotations: bool = False,
    report: Report,
) -> Dataset:
    """Keep the first image (in :func:`record_key` order) of each set of byte-identical images.

    ``digest_of`` yields ``(position, digest)`` for the records it could hash (the caller maps
    :class:`HashImage` on its executor; a record it leaves out was counted as skipped). With
    ``merge_annotations`` the kept image also takes the duplicates' annotations, except those equal
    to one it already has; otherwise the duplicates' annotations are dropped and counted.
    """
    records = sorted(dataset.records, key=record_key)
    groups: dict[str, list[int]] = {}
    for position, digest in digest_of(records):
        groups.setdefault(digest, []).append(position)
    hashed = {p for positions in groups.values() for p in positions}
    unread = sum(len(r.annotations) for i, r in enumerate(records) if i not in hashed)
    if unread:
        report.skip("annotation of an image that could not be read", count=unread)
    kept: list[ImageRecord] = []
    listed: list[dict[str, Any]] = []
    merged = duplicates = 0
    for positions in sorted(groups.values()):
        first, *others = sorted(positions)
        record = records[first]
        annotations = list(record.annotations)
        for position in others:
            duplicate = records[position]
            duplicates += 1
            report.skip("duplicate image (same bytes as a kept one)", item=duplicate.file_name)
            for annotation in duplicate.annotations:
                if not merge_annotations:
                    report.skip("annotation of a duplicate image (give --merge-annotations to keep)")
                elif any(_same_annotation(annotation, a) for a in annotations):
                    report.skip("annotation equal to one of the kept image")
                else:
                    annotations.append(annotation._replace(id=None))
                    merged += 1
        if others and len(listed) < MAX_LISTED:
            listed.append({"kept": record.file_name, "duplicates": [records[p].file_name for p in others]})
        kept.append(
            record.replace(annotations=tuple(annotations)) if len(annotations) != len(record.annotations) else record
        )
    report.note(
        f"dedupe kept {len(kept)} of {len(records)} images: {duplicates} duplicates dropped"
        + (f", {merged} of their annotations merged into the kept images" if merge_annotations else "")
    )
    report.data["dedupe"] = {
        "images": len(records),
        "unique": len(kept),
        "duplicates": duplicates,
        "annotations_merged": merged,
        "groups": listed,
    }
    return dataset.replace(records=tuple(sorted(kept, key=record_key)))
