import numpy as np

from space import GUIDE_POLICY, NO_AUGMENTATION
from trainers.pictures import augment_pictures


def tiny_pictures(n=4, size=16, classes=3):
    images = np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    return images, np.arange(n) % classes


def augment(policy, seed, n=4):
    images, labels = tiny_pictures(n)
    return images, augment_pictures(images, labels, 3, policy, seed)


def test_no_augmentation_leaves_the_pictures_as_they_are():
    images, augmented = augment(NO_AUGMENTATION, seed=3)
    np.testing.assert_array_equal(augmented.per_image, images)
    np.testing.assert_array_equal(augmented.batch, images)
    assert augmented.batch_layers == ()


def test_the_per_image_pictures_show_the_base_stage_and_erasing():
    images, augmented = augment(NO_AUGMENTATION.replace(crop_padding=0.25, flip=True, erasing_rate=1.0), seed=3)
    changed = [not np.array_equal(mine, original) for mine, original in zip(augmented.per_image, images, strict=True)]
    assert all(changed), "erasing at rate 1 changes every picture"
    # The grey square of erasing, the last stage, is in every picture.
    assert all((image == 128).all(axis=-1).any() for image in augmented.per_image)


def test_the_same_seed_gives_the_same_pictures_and_another_seed_others():
    (images, first), (_, again), (_, other) = (augment(GUIDE_POLICY, seed) for seed in (5, 5, 6))
    np.testing.assert_array_equal(first.per_image, again.per_image)
    np.testing.assert_array_equal(first.batch, again.batch)
    assert not np.array_equal(first.per_image, other.per_image)
    assert first.per_image.dtype == np.uint8 and first.per_image.shape == images.shape


def test_the_batch_stage_applies_and_names_the_layers_with_a_rate():
    images, only_mixup = augment(NO_AUGMENTATION.replace(mixup_rate=0.25), seed=2)
    assert only_mixup.batch_layers == (("MixUp", 0.25),)
    np.testing.assert_array_equal(only_mixup.per_image, images)
    assert not np.array_equal(only_mixup.batch, images)
    # One picture has nothing to mix with.
    _, single = augment(GUIDE_POLICY, seed=2, n=1)
    assert single.batch_layers == ()
