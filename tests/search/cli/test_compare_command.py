import numpy as np
from PIL import Image

from results.samples import CAPTION_HEIGHT, PAD, grid_shape
from search import export_policy
from search.cli import main


def run(tmp_path, *args):
    return main(["compare", "--runs-dir", str(tmp_path / "runs"), *args])


def test_compare_prints_fields_marks_differences_and_the_curves(small_study, tmp_path, capsys):
    assert run(tmp_path, "0", "best", "2") == 0
    out = capsys.readouterr().out.splitlines()
    lines = {line[:25].strip(" *"): line for line in out[1:]}  # the name column, then one per policy
    assert lines["magnitude"].split() == ["*", "magnitude", "0.30", "0.70", "0.50"]
    assert lines["mixup_alpha"].split() == ["mixup_alpha", "0.20", "0.20", "0.20"]  # not marked
    assert lines["val_accuracy"].split() == ["val_accuracy", "0.8000", "0.8500", "-"]
    assert lines["epoch 1"].split()[2:] == ["0.6000", "0.7000", "0.1000"]
    assert lines["epoch 2"].split()[2:] == ["0.8000", "0.8500", "-"]
    assert lines["wall time"].split()[2:] == ["1m01s", "0m59s", "0m20s"]


def test_compare_files_without_a_study_and_write_the_grids(best_policy, tmp_path, capsys):
    a = export_policy(best_policy, tmp_path / "a.json")
    b = export_policy(best_policy.replace(rate=0.0, cutmix_rate=0.0), tmp_path / "b.json")
    out = tmp_path / "grids.png"
    # --runs-dir names no study: the files alone are enough; the grid uses Fashion-MNIST.
    assert run(tmp_path, str(a), str(b), "--out", str(out), "--images", "3", "--image-size", "32") == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header == ["a.json", "b.json"]
    picture = np.asarray(Image.open(out))
    height, width = grid_shape(3, 32)
    assert picture.shape == (2 * (CAPTION_HEIGHT + height) + 4 * PAD, width, 3)
    # Both grids start from the same pictures: their "original" rows are identical.
    top, bottom = picture[CAPTION_HEIGHT : CAPTION_HEIGHT + 98], picture[2 * CAPTION_HEIGHT + height + 4 * PAD :][:98]
    np.testing.assert_array_equal(top[:, 98:], bottom[:, 98:])


def test_compare_needs_two_and_known_trials(small_study, tmp_path, capsys):
    assert run(tmp_path, "1") == 2
    assert "at least two policies" in capsys.readouterr().err
    assert run(tmp_path, "1", "7") == 2
    assert "'7' is not a trial of study 'fashion_mnist' (trials 0 to 3)" in capsys.readouterr().err
