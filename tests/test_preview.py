"""Preview grid: size, deterministic choice, masks drawn, categories, missing images."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise
from pathlib import Path

import cv2
import numpy as np
import pytest

import fashiondata
from fashiondata.context import RunContext
from fashiondata.errors import OutputExistsError, ValidationError
from fashiondata.model import ImageRecord
from fashiondata.preview import choose_records, parse_grid

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stats" / "instances_stats.json"


@pytest.mark.parametrize(
    "text, expected, error",
    [
        ("4x4", (4, 4), does_not_raise()),
        ("3X2", (3, 2), does_not_raise()),
        ((1, 16), (1, 16), does_not_raise()),
        ("4", None, pytest.raises(ValidationError)),  # no rows
        ("0x3", None, pytest.raises(ValidationError)),  # empty side
        ("17x1", None, pytest.raises(ValidationError)),  # too wide
    ],
)
def test_parse_grid(text, expected, error) -> None:
    with error:
        assert parse_grid(text) == expected


def test_choice_is_seeded_and_independent_of_input_order() -> None:
    records = [ImageRecord(f"{i:02d}.jpg", 4, 4) for i in range(30)]
    first = choose_records(records, 5, seed=3, annotated_only=False)
    again = choose_records(list(reversed(records)), 5, seed=3, annotated_only=False)
    assert first == again
    assert first != choose_records(records, 5, seed=4, annotated_only=False)
    assert len(choose_records(records, 50, seed=0, annotated_only=False)) == 30


def test_grid_png_has_the_asked_size_and_shows_masks(tmp_path: Path, sample_photos: Path) -> None:
    out = tmp_path / "grid.png"
    report = fashiondata.api.preview(FIXTURE, out, grid="2x2", tile_size=128, images=sample_photos)
    grid = cv2.imread(str(out))
    assert grid.shape == (256, 256, 3)
    assert sorted(report.data["preview"]["images"]) == [
        "astronaut.jpg",
        "astronaut_gray.png",
        "chelsea.jpg",
        "coffee.jpg",
    ]
    # chelsea (451x300) is covered by one "top" mask: its tile differs from the plain scaled photo
    index = report.data["preview"]["images"].index("chelsea.jpg")
    row, col = divmod(index, 2)
    tile = grid[row * 128 : (row + 1) * 128, col * 128 : (col + 1) * 128]
    plain = cv2.resize(cv2.imread(str(sample_photos / "chelsea.jpg")), (128, 85), interpolation=cv2.INTER_AREA)
    top = (128 - 85) // 2
    centre = (slice(top + 30, top + 55), slice(40, 90))  # inside the mask, away from lines and labels
    difference = np.abs(tile[centre].astype(int) - plain[30:55, 40:90].astype(int)).mean()
    assert difference > 20
    assert report.outputs == [str(out)]


def test_same_seed_same_bytes(tmp_path: Path, sample_photos: Path) -> None:
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    for path in paths:
        fashiondata.api.preview(FIXTURE, path, grid="2x1", tile_size=64, seed=7, images=sample_photos)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_categories_keep_only_images_holding_them(tmp_path: Path, sample_photos: Path) -> None:
    report = fashiondata.api.preview(
        FIXTURE, tmp_path / "p.png", grid="3x3", tile_size=32, categories="pants", images=sample_photos
    )
    assert report.data["preview"]["images"] == ["coffee.jpg"]


def test_missing_images_raise_or_are_drawn_blank_and_counted(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fashiondata.api.preview(FIXTURE, tmp_path / "p.png", grid="1x1", tile_size=32, images=tmp_path)
    assert not (tmp_path / "p.png").exists()
    ctx = RunContext(on_error="skip")
    report = fashiondata.api.preview(FIXTURE, tmp_path / "p.png", grid="2x2", tile_size=32, images=tmp_path, ctx=ctx)
    assert sum(report.skipped.values()) == 4
    assert cv2.imread(str(tmp_path / "p.png")).shape == (64, 64, 3)


def test_existing_output_is_refused(tmp_path: Path, sample_photos: Path) -> None:
    out = tmp_path / "p.png"
    out.write_bytes(b"keep")
    with pytest.raises(OutputExistsError):
        fashiondata.api.preview(FIXTURE, out, images=sample_photos)
    assert out.read_bytes() == b"keep"
