"""File-system safety: atomic writes, staged folders, safe names, image headers."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise
from pathlib import Path

import cv2
import numpy as np
import pytest

from fashiondata.errors import OutputExistsError, ParseError, ValidationError
from fashiondata.io import (
    image_format,
    image_size,
    join_inside,
    open_atomic,
    safe_relative_path,
    staged_dir,
    write_bytes_atomic,
)


@pytest.mark.parametrize(
    "name, expected, expectation",
    [
        ("a.jpg", "a.jpg", does_not_raise()),  # plain
        ("./images/a.jpg", "images/a.jpg", does_not_raise()),  # VIA's ./images/ prefix
        ("images\\a.jpg", "images/a.jpg", does_not_raise()),  # Windows separators
        ("x/../a.jpg", "a.jpg", does_not_raise()),  # .. that stays inside
        ("../../x.jpg", None, pytest.raises(ValidationError)),  # leaves the folder
        ("a/../../x.jpg", None, pytest.raises(ValidationError)),  # leaves it after normalising
        ("/etc/passwd", None, pytest.raises(ValidationError)),  # absolute
        ("C:\\Users\\x.jpg", None, pytest.raises(ValidationError)),  # drive letter
        ("", None, pytest.raises(ValidationError)),  # empty
        ("a\x00.jpg", None, pytest.raises(ValidationError)),  # NUL byte
    ],
)
def test_safe_relative_path(name: str, expected: str | None, expectation) -> None:
    with expectation:
        assert safe_relative_path(name) == expected


def test_join_inside_stays_under_the_root(tmp_path: Path) -> None:
    assert join_inside(tmp_path, "a/b.jpg") == tmp_path / "a" / "b.jpg"
    with pytest.raises(ValidationError):
        join_inside(tmp_path, "../b.jpg")


def test_open_atomic_leaves_nothing_when_the_write_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with open_atomic(target) as f:
            f.write(b"half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_open_atomic_refuses_an_existing_file_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_bytes_atomic(target, b"first")
    with pytest.raises(OutputExistsError):
        write_bytes_atomic(target, b"second", overwrite=False)
    assert target.read_bytes() == b"first"


def test_staged_dir_swaps_in_whole_and_drops_stale_files(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    with staged_dir(target, overwrite=True) as stage:
        (stage / "new.txt").write_text("new")
        assert not (target / "new.txt").exists()  # nothing visible before the swap
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old folder left


def test_staged_dir_leaves_the_destination_untouched_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with staged_dir(target, overwrite=False) as stage:
            (stage / "half.txt").write_text("x")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_staged_dir_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError):
        with staged_dir(tmp_path / "out", overwrite=False):
            pass
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("extension", [".png", ".jpg", ".bmp", ".webp", ".tif"])
def test_image_size_reads_headers_of_every_common_format(tmp_path: Path, extension: str) -> None:
    path = tmp_path / f"image{extension}"
    cv2.imwrite(str(path), np.zeros((37, 53, 3), dtype=np.uint8))
    assert image_size(path) == (53, 37)


def test_image_size_of_a_truncated_jpeg_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    ok, data = cv2.imencode(".jpg", np.zeros((8, 8, 3), dtype=np.uint8))
    path.write_bytes(data.tobytes()[:10])
    with pytest.raises(ParseError):
        image_size(path)


@pytest.mark.parametrize(
    "head, kind",
    [(b"\xff\xd8\xff\xe0", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF89a", "gif"), (b"nope", None)],
)
def test_image_format_from_leading_bytes(head: bytes, kind: str | None) -> None:
    assert image_format(head) == kind


def test_outputs_get_the_usual_permissions_not_private_temp_ones(tmp_path: Path) -> None:
    import os

    mask = os.umask(0o022)
    try:
        write_bytes_atomic(tmp_path / "a.json", b"{}")
        with staged_dir(tmp_path / "out", overwrite=False) as stage:
            (stage / "x.txt").write_text("x")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
