"""Find images without a label file and label files without an image; move or delete them on request.

Images and labels pair by their path relative to their folder, without extension
(``images/a/0001.jpg`` ↔ ``labels/a/0001.txt``, YOLO's rule), plus an optional label suffix
(``--label-suffix _segm`` pairs ``0001.jpg`` with ``0001_segm.png``)::

    IMAGES_DIR/                LABELS_DIR/                 DIR/ (--apply --move-to DIR)
      a/0001.jpg  ✓              a/0001.txt  ✓               images/a/0002.jpg
      a/0002.jpg  no label       a/0003.txt  no image        labels/a/0003.txt
                                 classes.txt (not a label)

The default is a dry run that changes nothing. ``apply=True`` with ``move_to`` moves the unpaired files
into ``DIR/images/…`` and ``DIR/labels/…`` keeping their relative paths (nothing is overwritten); with
``delete=True`` it deletes them. Nothing outside the two folders and ``DIR`` is touched, symbolic links
to folders are not followed, and a link to a file is moved or deleted as a link, never its target.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from fashiondata.errors import OutputExistsError, ValidationError
from fashiondata.io import write_bytes_atomic
from fashiondata.report import Report

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
#: Files in the labels folder's root that describe the dataset rather than label an image.
NOT_LABELS = ("classes.txt",)


@dataclasses.dataclass(frozen=True)
class Unpaired:
    """The result of a scan: relative ``/`` paths, sorted."""

    images: tuple[str, ...]
    labels: tuple[str, ...]
    paired_images: int
    paired_labels: int


def iter_files(root: Path, extensions: Sequence[str]) -> Iterator[str]:
    """Relative ``/`` paths of the files under ``root`` with one of ``extensions`` (any case),
    hidden files and folders left out, folder links not followed."""
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        relative = Path(folder).relative_to(root).as_posix()
        for name in sorted(files):
            if not name.startswith(".") and name.lower().endswith(tuple(extensions)):
                yield name if relative == "." else f"{relative}/{name}"


def pairing_key(relative: str, suffix: str = "") -> str:
    """The path without extension (and without the label suffix): what images and labels share.

    >>> pairing_key("a/0001.jpg"), pairing_key("a/0001_segm.png", "_segm")
    ('a/0001', 'a/0001')
    """
    stem = relative.rsplit(".", 1)[0] if "." in relative.rsplit("/", 1)[-1] else relative
    return stem[: -len(suffix)] if suffix and stem.endswith(suffix) else stem


def find_unpaired(
    images_dir: str | os.PathLike[str],
    labels_dir: str | os.PathLike[str],
    *,
    label_extensions: Sequence[str] = (".txt",),
    label_suffix: str = "",
) -> Unpaired:
    """Scan both folders (read-only) and list the images without a label and the labels without an image."""
    images_root, labels_root = Path(images_dir), Path(labels_dir)
    for root in (images_root, labels_root):
        if not root.is_dir():
            raise ValidationError(f"{root}: not a folder")
    extensions = tuple(e if e.startswith(".") else f".{e}" for e in (x.lower() for x in label_extensions))
    images = list(iter_files(images_root, IMAGE_EXTENSIONS))
    labels = [p for p in iter_files(labels_root, extensions) if p not in NOT_LABELS]
    if images_root.resolve() == labels_root.resolve():
        images = [p for p in images if not p.lower().endswith(extensions)]
    label_keys = {pairing_key(p, label_suffix) for p in labels}
    image_keys = {pairing_key(p) for p in images}
    lonely_images = tuple(p for p in images if pairing_key(p) not in label_keys)
    lonely_labels = tuple(p for p in labels if pairing_key(p, label_suffix) not in image_keys)
    return Unpaired(
        images=lonely_images,
        labels=lonely_labels,
        paired_images=len(images) - len(lonely_images),
        paired_labels=len(labels) - len(lonely_labels),
    )


def format_listing(unpaired: Unpaired, images_dir: str, labels_dir: str) -> str:
    """The two lists as text: a ``#`` header with the count, then one path per line.

    >>> print(format_listing(Unpaired(("b.jpg",), (), 1, 1), "imgs", "labels"), end="")
    # images without a label: 1
    imgs/b.jpg
    # labels without an image: 0
    """
    lines = [f"# images without a label: {len(unpaired.images)}"]
    lines += [f"{images_dir.rstrip('/')}/{p}" for p in unpaired.images]
    lines.append(f"# labels without an image: {len(unpaired.labels)}")
    lines += [f"{labels_dir.rstrip('/')}/{p}" for p in unpaired.labels]
    return "\n".join(lines) + "\n"


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        shutil.move(str(source), str(target))  # another file system: copy, then remove


def prune(
    images_dir: str | os.PathLike[str],
    labels_dir: str | os.PathLike[str],
    *,
    apply: bool = False,
    move_to: str | os.PathLike[str] | None = None,
    delete: bool = False,
    list_to: str | os.PathLike[str] | None = None,
    label_extensions: Sequence[str] = (".txt",),
    label_suffix: str = "",
    report: Report,
) -> Report:
    """Find unpaired images and labels; with ``apply``, move them to ``move_to`` or delete them.

    The lists and counts are in ``report.data["prune"]``; ``list_to`` also writes them to a file.
    Every check (destination free, not inside the scanned folders) happens before the first move.
    """
    if move_to is not None and delete:
        raise ValidationError("give --move-to DIR or --delete, not both")
    if apply and move_to is None and not delete:
        raise ValidationError("--apply needs --move-to DIR (or --delete)")
    images_root, labels_root = Path(images_dir), Path(labels_dir)
    unpaired = find_unpaired(images_root, labels_root, label_extensions=label_extensions, label_suffix=label_suffix)
    moves = [(images_root / p, Path("images") / p) for p in unpaired.images]
    moves += [(labels_root / p, Path("labels") / p) for p in unpaired.labels]
    for extra, flag in ((move_to, "--move-to"), (list_to, "--list-to")):
        if extra is not None and any(_inside(Path(extra), root) for root in (images_root, labels_root)):
            raise ValidationError(f"{flag} {extra}: inside a scanned folder; choose a path outside both")
    if apply and move_to is not None:
        taken = [str(Path(move_to) / target) for _, target in moves if (Path(move_to) / target).exists()]
        if taken:
            raise OutputExistsError(f"{taken[0]}: already exists in {move_to} ({len(taken)} such files); nothing moved")
    if list_to is not None:
        listing = format_listing(unpaired, os.fspath(images_dir), os.fspath(labels_dir))
        write_bytes_atomic(list_to, listing.encode(), overwrite=True)
        report.outputs.append(os.fspath(list_to))
    action = "dry run"
    if apply:
        action = "moved" if move_to is not None else "deleted"
        for source, target in moves:
            if move_to is not None:
                _move(source, Path(move_to) / target)
            else:
                source.unlink()
    elif move_to is not None or delete:
        report.note("dry run: nothing changed (add --apply to act)")
    report.note(
        f"{len(unpaired.images)} images without a label, {len(unpaired.labels)} labels without an image"
        + (f": {action}" if apply else "")
    )
    report.read["images"] += unpaired.paired_images + len(unpaired.images)
    report.read["labels"] += unpaired.paired_labels + len(unpaired.labels)
    report.data["prune"] = {
        "action": action,
        "images_dir": os.fspath(images_dir),
        "labels_dir": os.fspath(labels_dir),
        "move_to": os.fspath(move_to) if move_to is not None else None,
        "paired_images": unpaired.paired_images,
        "paired_labels": unpaired.paired_labels,
        "images_without_label": list(unpaired.images),
        "labels_without_image": list(unpaired.labels),
        "changed": len(moves) if apply else 0,
    }
    if apply:
        report.written[f"{action} images"] += len(unpaired.images)
        report.written[f"{action} labels"] += len(unpaired.labels)
    return report
