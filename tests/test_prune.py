"""prune: a dry run changes nothing, --apply moves (keeping relative paths) or deletes, nothing else."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from fashiondata import api
from fashiondata.errors import OutputExistsError, ValidationError
from fashiondata.prune import find_unpaired, pairing_key


def tree_digest(root: Path) -> dict[str, str]:
    """Every file and link under ``root`` with a hash of its bytes (or link target)."""
    digest = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            digest[path.relative_to(root).as_posix()] = hashlib.sha256(data).hexdigest()
    return digest


@pytest.fixture
def yolo_tree(tmp_path: Path) -> Path:
    """images/ and labels/ with 3 pairs, 2 lonely images and 2 lonely labels (one per sub-folder)."""
    for relative in ("train/a.jpg", "train/b.png", "val/c.JPG", "train/lonely.jpg", "val/sub/alone.jpeg"):
        path = tmp_path / "data" / "images" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"image " + relative.encode())
    for relative in ("train/a.txt", "train/b.txt", "val/c.txt", "train/orphan.txt", "val/sub/gone.txt", "classes.txt"):
        path = tmp_path / "data" / "labels" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("0 0.5 0.5 0.1 0.1\n")
    (tmp_path / "data" / "labels" / "train" / ".hidden.txt").write_text("")
    (tmp_path / "outside.txt").write_text("not ours")
    return tmp_path


LONELY_IMAGES = ["train/lonely.jpg", "val/sub/alone.jpeg"]
LONELY_LABELS = ["train/orphan.txt", "val/sub/gone.txt"]


@pytest.mark.parametrize(
    "relative, suffix, expected",
    [
        ("a/0001.jpg", "", "a/0001"),
        ("a/0001_segm.png", "_segm", "a/0001"),
        ("a.b/0001", "", "a.b/0001"),  # a dot in a folder name is not an extension
        ("0001.tar.gz", "", "0001.tar"),  # only the last extension
    ],
)
def test_pairing_key(relative, suffix, expected):
    assert pairing_key(relative, suffix) == expected


def test_find_unpaired_lists_both_sides_sorted(yolo_tree):
    found = find_unpaired(yolo_tree / "data/images", yolo_tree / "data/labels")
    assert list(found.images) == LONELY_IMAGES
    assert list(found.labels) == LONELY_LABELS
    assert (found.paired_images, found.paired_labels) == (3, 3)


def test_dry_run_changes_nothing(yolo_tree):
    before = tree_digest(yolo_tree)
    report = api.prune(yolo_tree / "data/images", yolo_tree / "data/labels", move_to=yolo_tree / "q")
    assert tree_digest(yolo_tree) == before
    facts = report.data["prune"]
    assert facts["action"] == "dry run" and facts["changed"] == 0
    assert facts["images_without_label"] == LONELY_IMAGES
    assert facts["labels_without_image"] == LONELY_LABELS
    assert not (yolo_tree / "q").exists()


def test_apply_move_to_moves_keeping_relative_paths(yolo_tree):
    before = tree_digest(yolo_tree)
    report = api.prune(yolo_tree / "data/images", yolo_tree / "data/labels", apply=True, move_to=yolo_tree / "q")
    after = tree_digest(yolo_tree)
    moved = {f"data/images/{p}": f"q/images/{p}" for p in LONELY_IMAGES}
    moved |= {f"data/labels/{p}": f"q/labels/{p}" for p in LONELY_LABELS}
    assert after == {moved.get(path, path): digest for path, digest in before.items()}
    assert report.written == {"moved images": 2, "moved labels": 2}
    again = api.prune(yolo_tree / "data/images", yolo_tree / "data/labels")
    assert again.data["prune"]["images_without_label"] == again.data["prune"]["labels_without_image"] == []


def test_apply_delete_deletes_only_the_unpaired(yolo_tree):
    before = tree_digest(yolo_tree)
    api.prune(yolo_tree / "data/images", yolo_tree / "data/labels", apply=True, delete=True)
    gone = {f"data/images/{p}" for p in LONELY_IMAGES} | {f"data/labels/{p}" for p in LONELY_LABELS}
    assert tree_digest(yolo_tree) == {p: d for p, d in before.items() if p not in gone}


def test_list_to_writes_both_lists(yolo_tree):
    images, labels = f"{yolo_tree}/data/images", f"{yolo_tree}/data/labels"
    api.prune(images, labels, list_to=yolo_tree / "lists.txt")
    assert (yolo_tree / "lists.txt").read_text().splitlines() == [
        "# images without a label: 2",
        *(f"{images}/{p}" for p in LONELY_IMAGES),
        "# labels without an image: 2",
        *(f"{labels}/{p}" for p in LONELY_LABELS),
    ]


def test_a_taken_destination_stops_before_any_move(yolo_tree):
    (yolo_tree / "q/labels/val/sub").mkdir(parents=True)
    (yolo_tree / "q/labels/val/sub/gone.txt").write_text("someone else's")
    before = tree_digest(yolo_tree)
    with pytest.raises(OutputExistsError, match="gone.txt"):
        api.prune(yolo_tree / "data/images", yolo_tree / "data/labels", apply=True, move_to=yolo_tree / "q")
    assert tree_digest(yolo_tree) == before


@pytest.mark.parametrize(
    "options, message",
    [
        ({"apply": True}, "needs --move-to"),
        ({"apply": True, "delete": True, "move_to": "q"}, "not both"),
        ({"apply": True, "move_to": "data/images/q"}, "inside a scanned folder"),
        ({"list_to": "data/labels/list.txt"}, "inside a scanned folder"),
    ],
)
def test_refused_requests_change_nothing(yolo_tree, options, message):
    options = {k: yolo_tree / v if isinstance(v, str) else v for k, v in options.items()}
    before = tree_digest(yolo_tree)
    with pytest.raises(ValidationError, match=message):
        api.prune(yolo_tree / "data/images", yolo_tree / "data/labels", **options)
    assert tree_digest(yolo_tree) == before


def test_same_folder_and_label_suffix(tmp_path):
    for name in ("a.jpg", "a_segm.png", "b.jpg", "c_segm.png"):
        (tmp_path / name).write_bytes(name.encode())
    found = find_unpaired(tmp_path, tmp_path, label_extensions=[".png"], label_suffix="_segm")
    assert (found.images, found.labels) == (("b.jpg",), ("c_segm.png",))


def test_a_linked_file_is_moved_as_a_link_and_its_target_is_untouched(yolo_tree):
    target = yolo_tree / "outside.txt"
    os.symlink(target, yolo_tree / "data/labels/train/linked.txt")
    api.prune(yolo_tree / "data/images", yolo_tree / "data/labels", apply=True, move_to=yolo_tree / "q")
    moved = yolo_tree / "q/labels/train/linked.txt"
    assert moved.is_symlink() and os.readlink(moved) == str(target)
    assert target.read_text() == "not ours"
