"""Tests for trainers.data: Fashion-MNIST (the real files), TFDS (mocked) and image folders."""

from __future__ import annotations

import collections
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from space.budget import Budget
from space.errors import AugSearchError
from trainers import data
from trainers.data import check_dataset, load_dataset
from trainers.sources import fashion_mnist
from trainers.subsets import stratified_indices

FMNIST = Path(fashion_mnist.FASHION_MNIST_DIR)
# Tests of the real Fashion-MNIST do not skip when it is missing: `make test` installs it, and a
# missing file fails them with the install instructions.


def small(seed: int = 0, **changes) -> data.ImageDataset:
    kwargs = dict(image_size=32, train_examples=200, validation_examples=100, seed=seed)
    return load_dataset("fashion_mnist", **{**kwargs, **changes})


# ---------------------------------------------------------------------------------------------
# stratified_indices


@pytest.mark.parametrize("n", [1, 3, 10, 57, 199], ids=lambda n: f"n={n}")
def test_stratified_indices_keep_class_proportions(n):
    labels = np.repeat(np.arange(5), [100, 50, 30, 15, 5])  # imbalanced on purpose
    indices = stratified_indices(labels, n, seed=7)
    assert len(indices) == n and len(np.unique(indices)) == n
    assert np.all(np.diff(indices) > 0)  # sorted, as documented
    counts = np.bincount(labels[indices], minlength=5)
    assert np.all(np.abs(counts - n * np.bincount(labels) / len(labels)) < 1)
    np.testing.assert_array_equal(indices, stratified_indices(labels, n, seed=7))


def test_stratified_indices_depend_on_the_seed_and_return_all_when_n_is_large():
    labels = np.arange(1000) % 4
    assert not np.array_equal(stratified_indices(labels, 100, 0), stratified_indices(labels, 100, 1))
    np.testing.assert_array_equal(stratified_indices(labels, 5000, 0), np.arange(1000))


# ---------------------------------------------------------------------------------------------
# fashion_mnist: the real files


@pytest.fixture(scope="module")
def fashion():
    return small(include_test=True)


def test_fashion_mnist_shapes_dtypes_and_stratification(fashion):
    assert fashion.spec == "fashion_mnist" and fashion.num_classes == 10
    assert fashion.class_names[0] == "T-shirt/top" and fashion.class_names[-1] == "Ankle boot"
    for split, n in ((fashion.train, 200), (fashion.validation, 100), (fashion.test, 10_000)):
        assert split.images.shape == (n, 32, 32, 3) and split.images.dtype == np.uint8
        assert split.labels.shape == (n,) and split.labels.dtype == np.int64
        # Fashion-MNIST's classes are balanced, so stratified subsets are exactly balanced.
        np.testing.assert_array_equal(np.bincount(split.labels, minlength=10), np.full(10, n // 10))
    # Grey images become RGB: three equal channels.
    assert np.array_equal(fashion.train.images[..., 0], fashion.train.images[..., 2])
    assert fashion.skipped_files == 0


def test_fashion_mnist_arrays_are_read_only(fashion):
    with pytest.raises(ValueError, match="read-only"):
        fashion.train.images[0, 0, 0, 0] = 1


def test_fashion_mnist_train_and_validation_partition_the_real_train_split():
    # At 28 px nothing is resampled, so returned images are the raw ones, byte for byte.
    full = load_dataset("fashion_mnist", image_size=28, train_examples=None, validation_examples=None, seed=3)
    assert (len(full.train), len(full.validation), full.test) == (54_000, 6_000, None)
    raw = np.frombuffer(gzip.open(FMNIST / "train-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
    raw_rows = collections.Counter(row.tobytes() for row in raw.reshape(-1, 784))
    train_rows = collections.Counter(row.tobytes() for row in full.train.images[..., 0].reshape(-1, 784))
    validation_rows = collections.Counter(row.tobytes() for row in full.validation.images[..., 0].reshape(-1, 784))
    assert not train_rows.keys() & validation_rows.keys()
    assert train_rows + validation_rows == raw_rows


def test_fashion_mnist_validation_carve_depends_on_seed_only(fashion):
    other_size = small(train_examples=50)
    np.testing.assert_array_equal(other_size.validation.images, fashion.validation.images)
    again = small()
    np.testing.assert_array_equal(again.train.images, fashion.train.images)
    np.testing.assert_array_equal(again.validation.labels, fashion.validation.labels)
    other_seed = small(seed=1)
    assert not np.array_equal(other_seed.train.images, fashion.train.images)
    assert not np.array_equal(other_seed.validation.images, fashion.validation.images)


def test_fashion_mnist_more_train_examples_than_exist_means_all():
    dataset = load_dataset("fashion_mnist", image_size=28, train_examples=10**9, validation_examples=10, seed=0)
    assert len(dataset.train) == 54_000 and len(dataset.validation) == 10


def test_fashion_mnist_missing_files_say_how_to_install(tmp_path):
    with pytest.raises(
        AugSearchError, match=r"data_dir=.*missing train-images-idx3-ubyte\.gz.*apt-get install dataset-fashion-mnist"
    ):
        check_dataset("fashion_mnist", data_dir=str(tmp_path))


def test_fashion_mnist_data_dir_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(fashion_mnist.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(AugSearchError, match=r"AUGSEARCH_DATA_DIR=.*apt-get"):
        check_dataset("fashion_mnist")


def test_fashion_mnist_data_dir_wins_over_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(fashion_mnist.DATA_DIR_ENV, str(tmp_path))  # empty: would fail if it were used
    for data_dir in (FMNIST, FMNIST.parent):  # the files' folder, or one with a fashion-mnist/ sub-folder
        check_dataset("fashion_mnist", data_dir=str(data_dir))
        loaded = load_dataset(
            "fashion_mnist", image_size=28, train_examples=20, validation_examples=10, seed=0, data_dir=str(data_dir)
        )
        assert (len(loaded.train), len(loaded.validation)) == (20, 10) and loaded.class_names[0] == "T-shirt/top"


def _gz(payload: bytes) -> bytes:
    return gzip.compress(payload)


_REAL_LABELS = FMNIST / "train-labels-idx1-ubyte.gz"
DAMAGED_LABELS = {
    "not-gzip": lambda: b"this is not a gzip file",
    "wrong-magic": lambda: _gz(struct.pack(">II", 0x0803, 10) + bytes(10)),
    "truncated-gzip": lambda: _REAL_LABELS.read_bytes()[:5000],
    "fewer-bytes-than-header": lambda: _gz(struct.pack(">II", 0x0801, 60_000) + bytes(10)),
}


@pytest.mark.parametrize("damage", DAMAGED_LABELS.values(), ids=DAMAGED_LABELS.keys())
def test_fashion_mnist_damaged_idx_file_is_a_clear_error(tmp_path, damage):
    for name in fashion_mnist.FASHION_MNIST_FILES.values():
        (tmp_path / name).symlink_to(FMNIST / name)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(damage())
    with pytest.raises(AugSearchError, match=r"train-labels-idx1-ubyte\.gz is damaged .*reinstall"):
        load_dataset(
            "fashion_mnist", image_size=8, train_examples=10, validation_examples=10, seed=0, data_dir=str(tmp_path)
        )


# ---------------------------------------------------------------------------------------------
# Arguments and specs

INVALID_ARGUMENTS = {
    "image_size-small": (dict(image_size=4), r"image_size must be an integer >= 8, but got image_size=4\."),
    "image_size-float": (dict(image_size=32.0), r"image_size=32\.0"),
    "image_size-bool": (dict(image_size=True), r"image_size=True"),
    "train_examples-zero": (
        dict(train_examples=0),
        r"train_examples must be None \(all\) or an integer >= 1, but got train_examples=0\.",
    ),
    "train_examples-float": (dict(train_examples=1.5), r"train_examples=1\.5"),
    "validation_examples-negative": (dict(validation_examples=-3), r"validation_examples=-3"),
    "seed-negative": (dict(seed=-1), r"seed must be an integer >= 0, but got seed=-1\."),
    "include_test-str": (dict(include_test="yes"), r"include_test='yes'"),
}


@pytest.mark.parametrize("changes, match", INVALID_ARGUMENTS.values(), ids=INVALID_ARGUMENTS.keys())
def test_invalid_arguments(changes, match):
    kwargs = dict(image_size=32, train_examples=10, validation_examples=10, seed=0)
    with pytest.raises(AugSearchError, match=match):
        load_dataset("fashion_mnist", **{**kwargs, **changes})


@pytest.mark.parametrize("spec", ["mnist", "tfds:", "folder:", "", "Fashion_MNIST", None], ids=repr)
def test_unknown_spec_lists_the_three_forms(spec):
    with pytest.raises(
        AugSearchError, match=r"dataset must be one of 'fashion_mnist', 'tfds:NAME' .* or 'folder:PATH'"
    ):
        check_dataset(spec)


def test_data_dir_must_be_a_path():
    with pytest.raises(AugSearchError, match=r"data_dir must be a folder path or None, but got data_dir=3\."):
        check_dataset("fashion_mnist", data_dir=3)


# ---------------------------------------------------------------------------------------------
# tfds:NAME
#
# Nothing can be downloaded here, so tfds.testing.mock_data stands in for TFDS's download: tfds.load
# then serves random examples shaped like the real dataset's features. The dataset_info.json written
# below gives the mock the real dataset's split names (the mock documents this as its USE_FILES mode).


def _mock_tfds_metadata(data_dir: Path, name: str, splits: tuple[str, ...]) -> None:
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=str(data_dir))
    builder.info.set_splits(
        tfds.core.SplitDict(
            [
                tfds.core.SplitInfo(name=split, shard_lengths=[10], num_bytes=0, filename_template=None)
                for split in splits
            ]
        )
    )
    Path(builder.data_dir).mkdir(parents=True)
    builder.info.write_to_directory(builder.data_dir)


def _load_mocked(tmp_path, name, splits, num_examples, **kwargs):
    import tensorflow_datasets as tfds

    _mock_tfds_metadata(tmp_path, name, splits)
    with tfds.testing.mock_data(num_examples=num_examples, data_dir=str(tmp_path)):
        return load_dataset(f"tfds:{name}", data_dir=str(tmp_path), seed=0, **kwargs)


def test_tfds_without_validation_split_carves_one_from_train(tmp_path):
    dataset = _load_mocked(
        tmp_path,
        "mnist",
        ("train", "test"),
        60,
        image_size=16,
        train_examples=20,
        validation_examples=None,
        include_test=True,
    )
    assert dataset.class_names == tuple(str(i) for i in range(10))
    assert len(dataset.validation) == 6  # 10% of the 60 mocked train examples
    assert dataset.train.images.shape == (20, 16, 16, 3) and dataset.train.images.dtype == np.uint8
    assert dataset.test.images.shape == (60, 16, 16, 3)
    assert dataset.train.labels.dtype == np.int64 and dataset.train.labels.max() < 10


def test_tfds_with_validation_split_uses_it(tmp_path):
    dataset = _load_mocked(
        tmp_path,
        "patch_camelyon",
        ("train", "validation", "test"),
        30,
        image_size=8,
        train_examples=None,
        validation_examples=None,
    )
    # Not carved: all 30 mocked validation examples, and the train split stays whole.
    assert (len(dataset.train), len(dataset.validation), dataset.test) == (30, 30, None)
    assert dataset.num_classes == 2 and dataset.validation.images.shape == (30, 8, 8, 3)


def test_tfds_without_test_split_says_so_when_asked(tmp_path):
    with pytest.raises(AugSearchError, match=r"dataset='tfds:eurosat' has no 'test' split"):
        _load_mocked(
            tmp_path,
            "eurosat",
            ("train",),
            20,
            image_size=8,
            train_examples=5,
            validation_examples=None,
            include_test=True,
        )


def test_tfds_unknown_name():
    with pytest.raises(
        AugSearchError, match=r"dataset='tfds:no_such_dataset_xyz' is not a TensorFlow Datasets dataset"
    ):
        check_dataset("tfds:no_such_dataset_xyz")


def test_tfds_not_image_classification():
    with pytest.raises(
        AugSearchError, match=r"dataset must be an image classification dataset.*dataset='tfds:imdb_reviews'"
    ):
        check_dataset("tfds:imdb_reviews")


# ---------------------------------------------------------------------------------------------
# folder:PATH

GREY_LEVEL, RGBA_COLOUR = 100, (10, 200, 30)


def _save(path: Path, array: np.ndarray, mode: str | None = None, format: str = "PNG") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path, format)


def _solid(colour, size=(12, 9)) -> np.ndarray:
    return np.broadcast_to(np.asarray(colour, np.uint8), (*size, len(colour))).copy()


def _write_folder(root: Path, good_per_class: int = 6) -> Path:
    """Classes 'cat' and 'dog' of PNG and JPEG files, plus one RGBA, one grey and three bad files."""
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        for i in range(good_per_class):
            image = rng.integers(0, 256, (20 + i, 17, 3), dtype=np.uint8)
            _save(root / name / f"{i}.{'jpg' if i % 2 else 'png'}", image, format="JPEG" if i % 2 else "PNG")
    _save(root / "cat" / "rgba.png", _solid((*RGBA_COLOUR, 90)), "RGBA")
    _save(root / "dog" / "nested" / "grey.png", _solid((GREY_LEVEL,))[..., 0], "L")
    png = (root / "cat" / "0.png").read_bytes()
    (root / "cat" / "corrupt.png").write_bytes(png[: len(png) // 2])
    (root / "dog" / "empty.jpg").write_bytes(b"")
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / "dog" / ".DS_Store").write_bytes(b"\0\1")  # hidden: not a file of the dataset at all
    return root


def test_folder_loads_rgb_and_counts_skipped_files(tmp_path, capsys):
    root = _write_folder(tmp_path / "pets")
    dataset = load_dataset(
        f"folder:{root}", image_size=8, train_examples=None, validation_examples=None, seed=0, include_test=True
    )
    assert dataset.class_names == ("cat", "dog") and dataset.skipped_files == 3
    stderr = capsys.readouterr().err
    assert stderr.count("skipped 3 files that are not decodable images") == 1
    splits = (dataset.train, dataset.validation, dataset.test)
    assert [len(s) for s in splits] == [12, 1, 1]  # 14 images: 10% test, 10% validation, the rest
    images = np.concatenate([s.images for s in splits])
    labels = np.concatenate([s.labels for s in splits])
    assert images.shape == (14, 8, 8, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), [7, 7])
    # Solid images stay solid when resized: the RGBA one loses its alpha, the grey one becomes RGB.
    colours = {tuple(image[0, 0]) for image in images if (image == image[0, 0]).all()}
    assert colours == {RGBA_COLOUR, (GREY_LEVEL,) * 3}


def test_folder_splits_are_seeded(tmp_path):
    root = _write_folder(tmp_path / "pets", good_per_class=20)
    load = lambda seed, include_test: load_dataset(  # noqa: E731
        f"folder:{root}",
        image_size=8,
        train_examples=10,
        validation_examples=None,
        seed=seed,
        include_test=include_test,
    )
    first, again, other = load(0, True), load(0, False), load(1, False)
    np.testing.assert_array_equal(first.validation.images, again.validation.images)
    np.testing.assert_array_equal(first.train.images, again.train.images)
    assert not np.array_equal(first.train.images, other.train.images)


def test_folder_missing():
    with pytest.raises(AugSearchError, match=r"dataset='folder:/no/such/folder': /no/such/folder does not exist"):
        check_dataset("folder:/no/such/folder")


def test_folder_is_a_file(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(AugSearchError, match=r"a\.png is not a folder"):
        check_dataset(f"folder:{tmp_path / 'a.png'}")


def test_folder_with_one_class(tmp_path):
    _save(tmp_path / "only" / "a.png", _solid((1, 2, 3)))
    with pytest.raises(AugSearchError, match=r"has 1 class folder\(s\) \('only'\); expected at least 2"):
        check_dataset(f"folder:{tmp_path}")


def test_folder_with_an_empty_class_folder(tmp_path):
    _write_folder(tmp_path)
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(AugSearchError, match=r"class folder 'empty_class' is empty"):
        check_dataset(f"folder:{tmp_path}")


def test_folder_with_too_many_bad_files(tmp_path):
    _write_folder(tmp_path, good_per_class=2)  # 6 images, 3 bad files: 33% bad
    with pytest.raises(AugSearchError, match=r"3 of 9 files \(33%\) are not decodable images .*MAX_BAD_FILE_SHARE=20%"):
        load_dataset(f"folder:{tmp_path}", image_size=8, train_examples=None, validation_examples=None, seed=0)


def test_folder_class_without_decodable_images(tmp_path):
    for i in range(10):
        _save(tmp_path / "good" / f"{i}.png", _solid((i, i, i)))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "readme.txt").write_text("no images here")
    with pytest.raises(AugSearchError, match=r"class folder 'bad' has no decodable images"):
        load_dataset(f"folder:{tmp_path}", image_size=8, train_examples=None, validation_examples=None, seed=0)


# A split folder: every image is solid, its red the split folder it was written in, its green
# its label (the class's index among train/'s sorted names), its blue its number in its class;
# so each loaded image says where it came from.
SPLIT_RED = {"train": 10, "val": 120, "validation": 120, "test": 240}


def _write_split_folder(root: Path, per_class: dict[str, int], classes=("dog", "cat")) -> Path:
    for split, count in per_class.items():
        for name in classes:
            for i in range(count):
                _save(root / split / name / f"{i}.png", _solid((SPLIT_RED[split], sorted(classes).index(name), i)))
    return root


def _load_all(root: Path, include_test: bool = True) -> data.ImageDataset:
    return load_dataset(
        f"folder:{root}", image_size=8, train_examples=None, validation_examples=None, seed=0, include_test=include_test
    )


@pytest.mark.parametrize(
    "per_class, sizes, written_in",
    [
        ({"train": 10, "val": 3, "test": 4}, (20, 6, 8), ("train", "val", "test")),
        ({"train": 10, "validation": 3, "test": 4}, (20, 6, 8), ("train", "validation", "test")),
        ({"train": 10, "test": 4}, (18, 2, 8), ("train", "train", "test")),
        ({"train": 10}, (16, 2, 2), ("train", "train", "train")),
    ],
    ids=["train val test", "validation/ as val/", "train test: validation carved", "train only: both carved"],
)
def test_split_folder_reads_each_split_from_its_folder(tmp_path, per_class, sizes, written_in):
    root = _write_split_folder(tmp_path / "pets", per_class)
    check_dataset(f"folder:{root}")  # the cheap check `search run` makes first
    dataset = _load_all(root)
    assert dataset.class_names == ("cat", "dog") and dataset.skipped_files == 0
    splits = (dataset.train, dataset.validation, dataset.test)
    assert tuple(len(split) for split in splits) == sizes
    for split, folder in zip(splits, written_in, strict=True):
        assert (split.images == split.images[:, :1, :1]).all()  # solid, as written
        np.testing.assert_array_equal(split.images[:, 0, 0, 0], SPLIT_RED[folder])  # from that split's folder
        np.testing.assert_array_equal(split.images[:, 0, 0, 1], split.labels)  # train/'s labels in every split
    seen = [{tuple(image[0, 0]) for image in split.images} for split in splits]
    assert len(set.union(*seen)) == sum(sizes), "an image is in two splits"
    if "test" in per_class:  # the test folder's images, all of them and nothing else
        assert seen[2] == {(SPLIT_RED["test"], label, i) for label in (0, 1) for i in range(4)}


def test_split_folder_without_include_test_draws_the_same_train_and_validation(tmp_path):
    root = _write_split_folder(tmp_path / "pets", {"train": 10, "test": 4})
    with_test, without = _load_all(root), _load_all(root, include_test=False)
    assert without.test is None
    np.testing.assert_array_equal(with_test.train.images, without.train.images)
    np.testing.assert_array_equal(with_test.validation.images, without.validation.images)


def test_plain_folder_with_a_class_named_train_stays_plain(tmp_path):
    for name in ("train", "cat", "test"):
        for i in range(5):
            _save(tmp_path / name / f"{i}.png", _solid((i, i, i)))
    dataset = _load_all(tmp_path)
    assert dataset.class_names == ("cat", "test", "train")
    assert [len(split) for split in (dataset.train, dataset.validation, dataset.test)] == [11, 2, 2]


def test_split_folder_whose_classes_differ_from_train(tmp_path):
    root = _write_split_folder(tmp_path / "pets", {"train": 4, "test": 2})
    _save(root / "test" / "zebra" / "0.png", _solid((1, 2, 3)))
    for file in (root / "test" / "dog").iterdir():
        file.unlink()
    (root / "test" / "dog").rmdir()
    with pytest.raises(AugSearchError) as error:
        check_dataset(f"folder:{root}")
    assert str(error.value) == (
        f"dataset='folder:{root}': test/ has class folders that train/ lacks ('zebra') and lacks train/'s 'dog'; "
        f"expected every split folder to hold the same class folders as train/."
    )


def test_split_folder_with_both_val_and_validation(tmp_path):
    root = _write_split_folder(tmp_path / "pets", {"train": 4, "val": 2, "validation": 2})
    with pytest.raises(AugSearchError, match=r"pets has both val/ and validation/; expected at most one") as error:
        check_dataset(f"folder:{root}")
    assert "\n" not in str(error.value)


def test_split_folder_applies_the_bad_file_rules_to_each_split(tmp_path, capsys):
    root = _write_split_folder(tmp_path / "pets", {"train": 10, "val": 3, "test": 4})
    (root / "test" / "cat" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert _load_all(root).skipped_files == 1
    assert "skipped 1 files that are not decodable images (test/cat/corrupt.png)" in capsys.readouterr().err
    for i in range(3):
        (root / "val" / "dog" / f"bad{i}.png").write_bytes(b"")  # val/: 3 of 9 files bad
    with pytest.raises(AugSearchError, match=r"3 of 9 files in val/ \(33%\) are not decodable images"):
        _load_all(root)
    (root / "val" / "extra").mkdir()  # checked before any file is decoded
    with pytest.raises(AugSearchError, match=r"val/ has class folders that train/ lacks \('extra'\);"):
        check_dataset(f"folder:{root}")
    (root / "val" / "extra").rmdir()
    for i in range(3):
        (root / "val" / "dog" / f"{i}.png").write_bytes(b"")
    with pytest.raises(AugSearchError, match=r"class folder 'val/dog' has no decodable images \(none of its 6"):
        check_dataset(f"folder:{root}")


def test_split_folder_train_too_small_for_what_is_carved_out_of_it(tmp_path):
    root = _write_split_folder(tmp_path / "pets", {"train": 1})
    needs = r"2 decodable images in train/; it needs at least 3: .*\(validation, test\)"
    with pytest.raises(AugSearchError, match=needs):
        _load_all(root)
    _write_split_folder(root, {"test": 1})  # only validation is carved now: 2 images are enough
    dataset = _load_all(root)
    assert [len(split) for split in (dataset.train, dataset.validation, dataset.test)] == [1, 1, 2]


def test_load_for_budget_loads_what_a_training_at_that_budget_needs():
    budget = Budget.preset("smoke", image_size=24, train_examples=60, validation_examples=20, score_examples=50)
    dataset = data.load_for_budget("fashion_mnist", budget, seed=1)
    assert dataset.train.images.shape == (60, 24, 24, 3)
    assert len(dataset.validation.labels) == 50  # enough for the final score, the larger of the two
    assert dataset.test is None
    assert np.array_equal(
        dataset.train.labels, small(seed=1, image_size=24, train_examples=60, validation_examples=50).train.labels
    )
