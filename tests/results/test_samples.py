import numpy as np
import pytest
from PIL import Image

from results.samples import (
    CAPTION_HEIGHT,
    Samples,
    batch_label,
    cell_size,
    grid_shape,
    png_bytes,
    sample_grid,
    stacked,
    write_png,
)


def tiny_samples(n=4, size=16, classes=3):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    return Samples(images=images, labels=np.arange(n) % classes, class_names=tuple(f"c{i}" for i in range(classes)))


@pytest.mark.parametrize(
    "count, size, expected",
    [
        (1, 16, (2 + 3 * 98, 96 + 2 + 98)),
        (8, 32, (2 + 3 * 98, 96 + 2 + 8 * 98)),
        (9, 100, (2 + 6 * 102 + 4, 96 + 2 + 8 * 102)),
    ],
    ids=["one", "one-band", "two-bands"],
)
def test_grid_shape(count, size, expected):
    assert grid_shape(count, size) == expected


def test_small_pictures_are_enlarged_by_a_whole_factor():
    assert cell_size(28) == 112 and cell_size(32) == 96 and cell_size(224) == 224


def test_sample_grid_has_its_shape_and_its_three_rows_in_order():
    samples = tiny_samples(n=3, size=16)
    per_image, batch = 255 - samples.images, samples.images // 2
    grid = sample_grid(samples, per_image, batch, [("MixUp", 0.25)])
    assert grid.shape == (*grid_shape(3, 16), 3) and grid.dtype == np.uint8
    cell = cell_size(16)
    for row, images in enumerate((samples.images, per_image, batch)):
        top = 2 + row * (cell + 2)  # PAD, then a cell and PAD per row
        first = grid[top : top + cell, 98 : 98 + cell]  # LABEL_WIDTH + PAD
        np.testing.assert_array_equal(first, np.kron(images[0], np.ones((6, 6, 1), np.uint8)))


def test_the_batch_row_label_names_each_layer_with_its_rate():
    assert batch_label([("CutMix", 0.5), ("MixUp", 0.25)]) == "CutMix p=0.5 + MixUp p=0.25"
    assert batch_label([]) == "no batch stage"


def test_stacked_grids_keep_their_columns_aligned(tmp_path):
    a, b = np.zeros((10, 20, 3), np.uint8), np.full((12, 15, 3), 7, np.uint8)
    picture = stacked([a, b], ["a", "b"])
    assert picture.shape == (2 * CAPTION_HEIGHT + 10 + 12 + 8, 20, 3)
    np.testing.assert_array_equal(picture[CAPTION_HEIGHT + 10 + 8 + CAPTION_HEIGHT :, :15], b)


def test_write_png_round_trips(tmp_path):
    picture = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = write_png(picture, tmp_path / "sub" / "grid.png")
    np.testing.assert_array_equal(np.asarray(Image.open(path)), picture)
    assert path.read_bytes() == png_bytes(picture)
    assert [p.name for p in path.parent.iterdir()] == ["grid.png"]  # no temporary file left
