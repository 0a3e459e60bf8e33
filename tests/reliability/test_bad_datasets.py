"""Issue 6, case 3: a bad dataset is a one-line error before Ray starts (exit status 2), and
nothing is written: `search run` (`search.cli.main`, in this process), real folders of real (or
broken) files.

The messages themselves are unit-tested in tests/trainers/test_data.py (test_folder_*,
test_tfds_unknown_name); here the whole command is."""

import hashlib
import re

import numpy as np
import optuna
import pytest
from PIL import Image
from search_process import SMOKE_RUN, cli, one_line_error


def _png(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)


def missing(root):
    return root / "no_such_folder"


def one_class(root):
    for i in range(4):
        _png(root / "cats" / f"{i}.png", i)
    return root


def empty_class(root):
    one_class(root)
    (root / "dogs").mkdir()
    return root


def only_corrupt_images(root):
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            (root / name / f"{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(i, 40)))  # a header, then junk
            (root / name / f"{i}.jpg").write_bytes(b"")
    return root


def split_classes_differ(root):
    for split, classes in (("train", ("cats", "dogs")), ("test", ("cats", "zebras"))):
        for name in classes:
            _png(root / split / name / "0.png", 1)
    return root


@pytest.mark.parametrize(
    "make, message",
    [
        (
            missing,
            r"no_such_folder does not exist; "
            r"expected folder:PATH to name a folder with one sub-folder of images per class",
        ),
        (one_class, r"has 1 class folder\(s\) \('cats'\); expected at least 2 sub-folders"),
        (empty_class, r"class folder 'dogs' is empty"),
        (only_corrupt_images, r"class folder 'cats' has no decodable images \(none of its 6 files is an image"),
        (None, r"dataset='tfds:no_such_dataset_xyz' is not a TensorFlow Datasets dataset .*expected tfds:NAME"),
        (split_classes_differ, r"test/ has class folders that train/ lacks \('zebras'\)"),
    ],
    ids=[
        "missing path",
        "one class",
        "empty class folder",
        "only corrupt images",
        "unknown tfds name",
        "split classes",
    ],
)
def test_bad_dataset_is_a_one_line_error_before_anything_starts(make, message, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    # A study from an earlier search sits in the run directory: it must come out untouched.
    storage = f"sqlite:///{runs}/search.db"
    earlier = optuna.create_study(storage=storage, study_name="fashion_mnist")
    earlier.enqueue_trial({"magnitude": 0.5})
    before = hashlib.sha256((runs / "search.db").read_bytes()).hexdigest()

    dataset = f"folder:{make(tmp_path / 'images')}" if make else "tfds:no_such_dataset_xyz"
    done = cli(*SMOKE_RUN, "--trials", 2, "--runs-dir", runs, "--dataset", dataset)

    line = one_line_error(done)
    assert f"dataset={dataset!r}" in line
    assert re.search(message, line), line
    assert hashlib.sha256((runs / "search.db").read_bytes()).hexdigest() == before, "the study file changed"
    assert sorted(p.name for p in runs.iterdir()) == ["search.db"], "no lock, no Ray folder: it stopped before them"
    assert [s.study_name for s in optuna.get_all_study_summaries(storage)] == ["fashion_mnist"]
