"""`ArrayData`: the user's own numpy arrays, checked on construction and loaded like other sources."""

import numpy as np
import pytest

from space.errors import AugSearchError
from trainers import subsets
from trainers.data import ArrayData, check_dataset, load_dataset

RNG = np.random.default_rng(0)
GREY = RNG.integers(0, 256, (12, 8, 8), dtype=np.uint8)  # 12 grey 8x8 images
LABELS = np.arange(12) % 3  # 3 classes, 4 images each


def grey(n=12, size=8, dtype=np.uint8):
    return RNG.integers(0, 256, (n, size, size)).astype(dtype)


INVALID = {
    "train-not-a-pair": (
        dict(train=GREY),
        r"^dataset train must be a pair \(images, labels\) of numpy arrays, "
        r"but got uint8 array of shape \(12, 8, 8\)\.$",
    ),
    "images-2d": (
        dict(train=(GREY.reshape(12, 64), LABELS)),
        r"^dataset train images must be a numpy array \(N, H, W\) or \(N, H, W, 1 or 3\) with N >= 1 and H, W >= 8, "
        r"but got uint8 array of shape \(12, 64\)\.$",
    ),
    "images-a-list": (
        dict(train=(GREY.tolist(), LABELS)),
        r"dataset train images must be a numpy array .*, but got a value of type list\.",
    ),
    "images-2-channels": (
        dict(train=(np.zeros((12, 8, 8, 2), np.uint8), LABELS)),
        r"but got uint8 array of shape \(12, 8, 8, 2\)\.",
    ),
    "images-too-small": (dict(train=(grey(size=4), LABELS)), r"H, W >= 8, but got uint8 array of shape \(12, 4, 4\)\."),
    "images-no-examples": (dict(train=(GREY[:0], LABELS[:0])), r"with N >= 1 .*shape \(0, 8, 8\)"),
    "images-in-0-1": (
        dict(train=(GREY / 255.0, LABELS)),
        r"^dataset train images must have values in \[0, 255\], but got float64 values in \[0\.0, 1\.0\]; "
        r"multiply images in \[0, 1\] by 255\.$",
    ),
    "images-out-of-range": (
        dict(train=(GREY * 2.0 - 1, LABELS)),
        r"^dataset train images must have values in \[0, 255\], but got float64 values in \[-1\.0, 509\.0\]\.$",
    ),
    "images-int-out-of-range": (
        dict(train=(GREY.astype(np.int16) + 1, LABELS)),
        r"but got int16 values in \[1, 256\]\.",
    ),
    "images-nan": (
        dict(train=(np.where(GREY > 250, np.nan, GREY * 1.0), LABELS)),
        r"must have values in \[0, 255\], but got float64 values in \[nan, nan\]",
    ),
    "images-bool": (
        dict(train=(GREY > 100, LABELS)),
        r"^dataset train images must be uint8, or floats or integers in \[0, 255\], "
        r"but got bool array of shape \(12, 8, 8\)\.$",
    ),
    "validation-other-size": (
        dict(validation=(np.zeros((3, 10, 10, 3), np.uint8), LABELS[:3])),
        r"^dataset validation images must be 8x8 with 1 channel\(s\) like the train images, "
        r"but got uint8 array of shape \(3, 10, 10, 3\)\.$",
    ),
    "test-other-channels": (
        dict(test=(np.zeros((3, 8, 8, 3), np.uint8), LABELS[:3])),
        r"^dataset test images must be 8x8 with 1 channel\(s\) like the train images",
    ),
    "labels-one-hot": (
        dict(train=(GREY, np.eye(3)[LABELS])),
        r"^dataset train labels must be integer class ids of shape \(12,\), "
        r"but got float64 array of shape \(12, 3\) \(one-hot\?\); pass labels\.argmax\(-1\)\.$",
    ),
    "labels-too-few": (
        dict(train=(GREY, LABELS[:11])),
        r"^dataset train labels must be integer class ids of shape \(12,\) like the images, "
        r"but got int64 array of shape \(11,\)\.$",
    ),
    "labels-float": (dict(train=(GREY, LABELS * 1.0)), r"but got float64 array of shape \(12,\)\.$"),
    "labels-negative": (
        dict(validation=(GREY[:2], np.array([-1, 0]))),
        r"^dataset validation labels must be class ids in \[0, 3\), but got labels from -1 to 0\.$",
    ),
    "labels-past-class-names": (
        dict(class_names=["a", "b"]),
        r"^dataset train labels must be class ids in \[0, 2\) \(class_names has 2\), but got labels from 0 to 2\.$",
    ),
    "train-one-class": (
        dict(train=(GREY, np.zeros(12, np.int64))),
        r"^dataset train labels must hold at least 2 classes, but got only class 0\.$",
    ),
    "class-names-repeated": (
        dict(class_names=("a", "b", "a")),
        r"^dataset class_names must be a list or tuple of distinct non-empty strings, "
        r"but got class_names=\('a', 'b', 'a'\)\.$",
    ),
    "class-names-empty": (dict(class_names=["a", "", "c"]), r"class_names=\['a', '', 'c'\]\.$"),
    "class-names-a-str": (dict(class_names="abc"), r"class_names='abc'\.$"),
}


@pytest.mark.parametrize("changes, match", INVALID.values(), ids=INVALID.keys())
def test_invalid_arrays_are_refused_in_one_line_naming_the_part(changes, match):
    with pytest.raises(AugSearchError, match=match) as raised:
        ArrayData(**{"train": (GREY, LABELS), **changes})
    assert "\n" not in str(raised.value)


def test_valid_arrays_are_kept_as_read_only_views_with_default_class_names():
    arrays = ArrayData((GREY, LABELS), validation=(GREY[:3] * 1.0, np.array([0, 1, 5])))
    assert arrays.class_names == ("0", "1", "2", "3", "4", "5")  # the largest label of any split
    assert arrays.train[0].base is GREY and not arrays.train[0].flags.writeable and GREY.flags.writeable
    assert ArrayData((GREY, LABELS), class_names=["a", "b", "c", "d"]).class_names == ("a", "b", "c", "d")


def test_spec_identifies_the_arrays():
    spec = ArrayData((GREY, LABELS)).spec
    assert spec.startswith("arrays:") and len(spec) == len("arrays:") + 12 and int(spec[7:], 16) >= 0
    assert ArrayData((GREY.copy(), LABELS.copy())).spec == spec  # the same arrays: the same spec
    changed = GREY.copy()
    changed[5, 3, 3] ^= 1
    others = [
        ArrayData((changed, LABELS)),
        ArrayData((GREY, LABELS[::-1].copy())),
        ArrayData((GREY, LABELS.astype(np.int32))),
        ArrayData((GREY, LABELS), class_names=("a", "b", "c")),
        ArrayData((GREY, LABELS), validation=(GREY[:2], LABELS[:2])),
        ArrayData((GREY, LABELS), test=(GREY[:2], LABELS[:2])),
    ]
    specs = {spec, *(other.spec for other in others)}
    assert len(specs) == len(others) + 1
    assert repr(ArrayData((GREY, LABELS))) == f"ArrayData({spec!r}, train=12, validation=None, test=None, classes=3)"


def test_load_carves_validation_like_other_sources_and_keeps_pixels_exact_at_their_size():
    arrays = ArrayData((GREY, LABELS), class_names=["a", "b", "c"])
    check_dataset(arrays)
    loaded = load_dataset(arrays, image_size=8, train_examples=None, validation_examples=None, seed=0)
    assert loaded.spec == arrays.spec and loaded.class_names == ("a", "b", "c") and loaded.test is None
    # 10% held out, stratified and seeded as for fashion_mnist.
    assert (len(loaded.train), len(loaded.validation)) == (11, 1)
    again = load_dataset(arrays, image_size=8, train_examples=None, validation_examples=None, seed=0)
    np.testing.assert_array_equal(again.validation.images, loaded.validation.images)
    images = np.concatenate([loaded.train.images, loaded.validation.images])
    labels = np.concatenate([loaded.train.labels, loaded.validation.labels])
    assert images.shape == (12, 8, 8, 3) and images.dtype == np.uint8 and labels.dtype == np.int64
    assert np.array_equal(images[..., 0], images[..., 2])  # grey became RGB
    originals = {image.tobytes(): label for image, label in zip(GREY, LABELS, strict=True)}
    assert {image[..., 0].tobytes(): label for image, label in zip(images, labels, strict=True)} == originals


def test_load_resizes_floats_and_grey_as_other_sources_and_reads_test_only_when_asked():
    test = (GREY[:3], LABELS[:3])
    arrays = ArrayData((np.clip(GREY + 0.3, 0, 255), LABELS), validation=(GREY[3:9, ..., None], LABELS[3:9]), test=test)
    loaded = load_dataset(
        arrays, image_size=16, train_examples=None, validation_examples=None, seed=0, include_test=True
    )
    # The validation split given is kept whole, the training set in its order; floats are rounded.
    np.testing.assert_array_equal(loaded.train.images, subsets.resize(GREY[..., None], 16))
    np.testing.assert_array_equal(loaded.validation.images, subsets.resize(GREY[3:9, ..., None], 16))
    np.testing.assert_array_equal(loaded.test.labels, LABELS[:3])
    assert load_dataset(arrays, image_size=8, train_examples=4, validation_examples=None, seed=0).test is None
    without_test = ArrayData((GREY, LABELS))
    with pytest.raises(
        AugSearchError, match=rf"^dataset='{without_test.spec}' has no 'test' split; load it with include_test=False\.$"
    ):
        load_dataset(
            without_test, image_size=8, train_examples=None, validation_examples=None, seed=0, include_test=True
        )


def test_an_arrays_spec_string_cannot_be_loaded():
    spec = ArrayData((GREY, LABELS)).spec
    with pytest.raises(
        AugSearchError,
        match=(
            rf"^dataset='{spec}' names in-memory arrays, which cannot be loaded from their spec; "
            r"pass the trainers\.ArrayData itself"
        ),
    ):
        check_dataset(spec)
