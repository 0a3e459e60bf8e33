"""`search evaluate` end to end through the CLI (in-process `search.cli.main`): real Ray, started
once per test process, real trainings at a tiny budget on the real Fashion-MNIST training images,
a real SQLite study.

The test split is ours, written as IDX files beside links to the real training files, so that
what is scored can be told from the numbers: 40 copies of one image, so every test accuracy is
exactly 0 or 1 (a validation accuracy over 128 stratified images never is)."""

import gzip
import json
import struct

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from search.cli import main
from trainers.sources.fashion_mnist import FASHION_MNIST_DIR, FASHION_MNIST_FILES

TINY = (
    "--budget",
    "smoke",
    "--model",
    "tests_pkg.nets:build",
    "--epochs",
    "1",
    "--train-examples",
    "64",
    "--concurrency",
    "2",
)


def search(capsys, *argv):
    """`search ARGV...` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(item) for item in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_idx(path, array: np.ndarray) -> None:
    magic = 0x0800 + array.ndim
    path.write_bytes(
        gzip.compress(struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes())
    )


def data_dir_with_test_split(tmp_path, images: np.ndarray, labels: np.ndarray):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for key in ("train_images", "train_labels"):
        (folder / FASHION_MNIST_FILES[key]).symlink_to(f"{FASHION_MNIST_DIR}/{FASHION_MNIST_FILES[key]}")
    write_idx(folder / FASHION_MNIST_FILES["test_images"], images)
    write_idx(folder / FASHION_MNIST_FILES["test_labels"], labels)
    return folder


@pytest.fixture
def one_image_test_split(tmp_path):
    """40 copies of one picture (a trouser), all labelled 1."""
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 9:13] = image[4:24, 15:19] = 200  # two legs
    return data_dir_with_test_split(tmp_path, np.repeat(image[None], 40, axis=0), np.ones(40, np.uint8))


def evaluation_trials(runs):
    study = optuna.load_study(study_name="fashion_mnist.evaluation", storage=f"sqlite:///{runs}/search.db")
    return study.get_trials(deepcopy=False)


def test_evaluate_scores_top_k_and_baselines_on_the_test_split_and_resumes(
    small_study, tmp_path, one_image_test_split, best_policy, capsys
):
    runs = tmp_path / "runs"  # small_study's: trial 1 (0.85, the best) and trial 0 (0.80, the guide's policy)
    argv = (
        "evaluate",
        "--top-k",
        "2",
        "--baselines",
        "guide,trivialaugment",
        "--seeds",
        "2",
        *TINY,
        "--runs-dir",
        runs,
        "--data-dir",
        one_image_test_split,
    )
    code, out, err = search(capsys, *argv)
    assert code == 0, err[-4000:]
    assert "4 policies x 2 seeds" in err and "0 trainings stored, 6 to run" in err

    report = json.loads((runs / "evaluation" / "fashion_mnist.evaluation.json").read_text())
    assert [row["label"] for row in report["rows"]] == ["trial 1", "trial 0", "guide", "trivialaugment"]
    assert [row["kind"] for row in report["rows"]] == ["trial", "trial", "baseline", "baseline"]
    assert [row["proxy_objective"] for row in report["rows"]] == [0.85, 0.80, None, None]
    for row in report["rows"]:
        assert set(row["test_accuracy_by_seed"]) == {"0", "1"}
        assert set(row["test_accuracy_by_seed"].values()) <= {0.0, 1.0}, "scored on our 40 identical test images"
    # trial 0's policy is the guide's: trained once per seed, reported under both names.
    assert report["rows"][1]["test_accuracy_by_seed"] == report["rows"][2]["test_accuracy_by_seed"]
    assert report["budget"]["epochs"] == 1 and report["budget"]["train_examples"] == 64
    assert report["proxy_correlation"]["trials"] == 2
    assert report["command"].startswith("search evaluate --top-k 2")

    trials = evaluation_trials(runs)
    assert len(trials) == 6 and {t.state for t in trials} == {TrialState.COMPLETE}
    for trial in trials:
        assert trial.value in (0.0, 1.0) and 0.0 < trial.user_attrs["val_accuracy"] < 1.0
        assert trial.intermediate_values, "validation accuracy per epoch, for the dashboard"
        assert trial.user_attrs["dataset"] == "fashion_mnist" and trial.user_attrs["seed"] in (0, 1)
    assert {tuple(trial.user_attrs["labels"]) for trial in trials} == {
        ("trial 1",),
        ("trial 0", "guide"),
        ("trivialaugment",),
    }
    assert (runs / "evaluation" / "fashion_mnist.evaluation.md").read_text().count("\n| ") == 5
    assert (runs / "evaluation" / "fashion_mnist.evaluation.png").read_bytes()[:4] == b"\x89PNG"
    assert "trial 1" in out and "Proxy fidelity" in out

    code, out, err = search(capsys, *argv)
    assert code == 0, err[-4000:]
    assert "6 trainings stored, 0 to run" in err
    assert len(evaluation_trials(runs)) == 6, "nothing is trained twice"
    assert json.loads((runs / "evaluation" / "fashion_mnist.evaluation.json").read_text())["rows"] == report["rows"]

    # The evaluation study sits beside the search study; reading commands still find the search's.
    code, out, err = search(capsys, "trials", "--runs-dir", runs)
    assert code == 0 and "study 'fashion_mnist': 2 complete" in out, err


def test_the_search_never_reads_the_test_split_and_evaluate_does(tmp_path, capsys):
    # Test files whose headers are intact but whose pixels are cut short: a reader of the test
    # images fails, a check of the headers does not.
    data_dir = data_dir_with_test_split(tmp_path, np.zeros((40, 28, 28), np.uint8), np.ones(40, np.uint8))
    images = data_dir / FASHION_MNIST_FILES["test_images"]
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:1000]))
    runs = tmp_path / "runs"

    code, _, err = search(
        capsys,
        "run",
        "--budget",
        "smoke",
        "--epochs",
        "1",
        "--train-examples",
        "64",
        "--trials",
        "1",
        "--no-baselines",
        "--model",
        "tests_pkg.nets:build",
        "--race-top",
        "1",
        "--race-seeds",
        "2",
        "--race-baselines",
        "none",
        "--target-budget",
        "smoke",
        "--target-epochs",
        "1",
        "--target-train-examples",
        "96",
        "--runs-dir",
        runs,
        "--data-dir",
        data_dir,
    )
    assert code == 0, err[-4000:]
    assert "race winner: " in err, "the race at the target budget trains too, without the test split"

    code, _, err = search(
        capsys, "evaluate", "--baselines", "none", "--seeds", "1", *TINY, "--runs-dir", runs, "--data-dir", data_dir
    )
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("search evaluate: error: dataset='fashion_mnist': ")
    assert "t10k-images-idx3-ubyte.gz is damaged" in err


BAD_EVALUATE_ARGUMENTS = {
    "no seeds": (["--seeds", "0"], "--seeds must be an integer >= 1 (3 or more give an interval), but got --seeds=0."),
    "negative top-k": (["--top-k=-1"], "--top-k must be an integer >= 0, but got --top-k=-1."),
    "more top-k than complete trials": (
        ["--top-k", "5"],
        "--top-k must be at most the 2 complete trials of study 'fashion_mnist', but got --top-k=5.",
    ),
    "unknown baseline": (
        ["--baselines", "none,autoaugment"],
        "--baselines has unknown baseline 'autoaugment'; "
        "expected a comma-separated list of: none, guide, randaugment, trivialaugment",
    ),
    "a pruned trial": (["--trial", "2"], "--trial 2 is PRUNED, not COMPLETE"),
    "zero epochs": (["--epochs", "0"], "--epochs must be an integer >= 1, but got --epochs=0."),
    "unknown model": (["--model", "resnet9000"], "--model"),
    "zero concurrency": (["--concurrency", "0"], "--concurrency must be an integer >= 1, but got --concurrency=0."),
    "a study that is not there": (
        ["--study", "fashion_mnist", "--runs-dir", "{empty}"],
        "holds no study database (search.db); run `search run` first",
    ),
}


@pytest.mark.parametrize("name", list(BAD_EVALUATE_ARGUMENTS))
def test_bad_evaluate_arguments_are_one_line_before_anything_starts(name, small_study, tmp_path, capsys):
    argv, message = BAD_EVALUATE_ARGUMENTS[name]
    argv = [str(tmp_path / "empty") if item == "{empty}" else item for item in argv]
    runs = ["--runs-dir", str(tmp_path / "runs")] if "--runs-dir" not in argv else []
    assert main(["evaluate", *runs, *argv]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("search evaluate: error: ") and message in error[0], error
    names = [s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{tmp_path}/runs/search.db")]
    assert names == ["fashion_mnist"], "no evaluation study is made for bad input"


def test_nothing_to_evaluate_is_a_clear_error(tmp_path, capsys):
    assert main(["evaluate", "--baselines", "", "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "nothing to evaluate: give policy files, --trial N, --top-k K or --baselines" in capsys.readouterr().err
