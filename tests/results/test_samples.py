import numpy as np
import pytest
from PIL import Image

from results.samples import (
    CAPTION_HEIGHT,
    Samples,
    augment,
    cell_size,
    grid_shape,
    png_bytes,
    sample_grid,
    stacked,
    write_png,
)
from space import GUIDE_POLICY, NO_AUGMENTATION


def tiny_samples(n=4, size=16, classes=3):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    return Samples(images=images, labels=np.arange(n) % classes, class_names=tuple(f"c{i}" for i in range(classes)))


def test_no_augmentation_leaves_every_row_as_the_original():
    samples = tiny_samples()
    augmented = augment(samples, NO_AUGMENTATION, seed=3)
    np.testing.assert_array_equal(augmented.per_image, samples.images)
    np.testing.assert_array_equal(augmented.batch, samples.images)
    assert augmented.batch_label == "no batch stage"


def test_the_per_image_row_shows_the_base_stage_and_erasing():
    samples = tiny_samples()
    augmented = augment(samples, NO_AUGMENTATION.replace(crop_padding=0.25, flip=True, erasing_rate=1.0), seed=3)
    changed = [
        not np.array_equal(mine, original) for mine, original in zip(augmented.per_image, samples.images, strict=True)
    ]
    assert all(changed), "erasing at rate 1 changes every picture"
    # The grey square of erasing, the last stage, is in every picture.
    assert all((image == 128).all(axis=-1).any() for image in augmented.per_image)


def test_the_same_seed_gives_the_same_pictures_and_another_seed_others():
    samples = tiny_samples()
    first, again, other = (augment(samples, GUIDE_POLICY, seed) for seed in (5, 5, 6))
    np.testing.assert_array_equal(first.per_image, again.per_image)
    np.testing.assert_array_equal(first.batch, again.batch)
    assert not np.array_equal(first.per_image, other.per_image)
    assert first.per_image.dtype == np.uint8 and first.per_image.shape == samples.images.shape


def test_the_batch_row_applies_and_names_the_layers_with_a_rate():
    samples = tiny_samples()
    only_mixup = augment(samples, NO_AUGMENTATION.replace(mixup_rate=0.25), seed=2)
    assert only_mixup.batch_label == "MixUp p=0.25"
    np.testing.assert_array_equal(only_mixup.per_image, samples.images)
    assert not np.array_equal(only_mixup.batch, samples.images)
    # One picture has nothing to mix with.
    single = augment(tiny_samples(n=1), GUIDE_POLICY, seed=2)
    assert single.batch_label == "no batch stage"


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


def test_sample_grid_has_its_shape_and_the_originals_in_the_first_row():
    samples = tiny_samples(n=3, size=16)
    grid = sample_grid(samples, GUIDE_POLICY, seed=1)
    assert grid.shape == (*grid_shape(3, 16), 3) and grid.dtype == np.uint8
    cell = cell_size(16)
    first = grid[2 : 2 + cell, 98 : 98 + cell]  # PAD, then LABEL_WIDTH + PAD
    np.testing.assert_array_equal(first, np.kron(samples.images[0], np.ones((6, 6, 1), np.uint8)))


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
