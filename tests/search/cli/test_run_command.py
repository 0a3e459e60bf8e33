"""`search run` end to end through the CLI (in-process `search.cli.main`: real Ray, started once
per test process, real trainings, a real SQLite file), with the user's own model; and each way
a --model can be wrong, refused before anything is written."""

import optuna
import pytest
from optuna.artifacts import get_all_artifact_meta
from optuna.trial import TrialState
from optuna_dashboard import get_note

from results.race_record import read_record
from search.cli import main
from search.tune.trainable import MEASURED
from space import BASELINES, Policy

#: What the driver records on each trial when it asks for it.
RECORDED = ("policy", "budget", "dataset", "seed")


def load(runs_dir):
    return optuna.load_study(study_name="fashion_mnist", storage=f"sqlite:///{runs_dir}/search.db")


def test_search_run_with_my_model_end_to_end(tmp_path, capsys):
    runs = tmp_path / "runs"
    argv = [
        "run",
        "--model",
        "tests_pkg.nets:build",
        "--budget",
        "smoke",
        "--train-examples",
        "64",
        "--trials",
        "6",
        "--concurrency",
        "2",
        "--race-top",
        "2",
        "--race-seeds",
        "2",
        "--runs-dir",
        str(runs),
        # The race at a budget of its own: the target (tiny here), not exploration's. No pruning, so
        # that searched trials complete and race (ASHA's own tests: tests/search/tune/test_searcher.py).
        "--pruner",
        "none",
        "--target-budget",
        "smoke",
        "--target-train-examples",
        "64",
        "--target-epochs",
        "2",
        "--race-baselines",
        "none",
        # The four baselines without the optional stages, then two searched trials to race.
        "--stages",
        "none",
    ]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    study = load(runs)
    assert study.user_attrs["augsearch"]["budget"]["model"] == "tests_pkg.nets:build"
    assert "model tests_pkg.nets:build" in err and "0/6 trials finished" in err
    states = [t.state for t in study.trials]
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 6, [(t.number, t.state, t.user_attrs.get("error")) for t in study.trials]
    assert TrialState.RUNNING not in states and TrialState.WAITING not in states
    # A new study's first trials are the baselines its space holds, each exactly as `space.BASELINES` has it.
    references = [t.user_attrs.get("reference") for t in study.trials[:4]]
    assert references == ["none", "guide", "randaugment", "trivialaugment"]
    assert "reference" not in study.trials[4].user_attrs
    for trial in study.trials[:4]:
        assert Policy.from_dict(trial.user_attrs["policy"]) == BASELINES[trial.user_attrs["reference"]]
    for trial in finished:
        missing = [key for key in (*RECORDED, *MEASURED) if key not in trial.user_attrs]
        assert not missing, f"trial {trial.number} lacks {missing}"
        assert trial.user_attrs["dataset"] == "fashion_mnist" and trial.user_attrs["accelerator"] == "cpu"
        assert trial.user_attrs["budget"]["model"] == "tests_pkg.nets:build"
        assert trial.user_attrs["budget"]["train_examples"] == 64
        assert trial.intermediate_values, "per-epoch values are reported"
        # The dashboard's per-trial pictures, made by the driver before it stored the trial.
        files = sorted(meta.filename for meta in get_all_artifact_meta(trial, storage=study._storage))
        assert files == ["learning_curve.png", "samples.png"], f"trial {trial.number} has artifacts {files}"
    assert "guide" in get_note(study), "the study note lists the reference policies"
    assert "6 trials finished" in out
    record = read_record(study)
    assert record.budget.epochs == 2 and record.budget.train_examples == 64
    assert [r.label for r in record.results if r.contestant.is_baseline] == ["none"]
    winner = record.winner
    assert f"race winner: {'baseline ' if winner == 'none' else ''}{winner}, validation accuracy " in out
    assert f"Export the best ({winner}): search export --study fashion_mnist --runs-dir {runs} --out" in out
    assert main(["trials", "--runs-dir", str(runs)]) == 0
    out, _ = capsys.readouterr()
    assert "race winner: " in out and "(its trainings: study 'fashion_mnist.confirmation')" in out
    assert "; highest objective: trial " in out.splitlines()[0]
    assert (runs / "ray").is_dir(), "Ray Tune's results belong under the run directory"


def test_a_search_of_baselines_alone_says_why_there_is_no_race(tmp_path, capsys):
    """Every trial of `--trials 4` is a baseline, and here every one of them races: no searched
    policy is left to race them, and the summary says so instead of blaming failed trainings."""
    runs = tmp_path / "runs"
    argv = ["run", "--model", "tests_pkg.nets:build", "--budget", "smoke", "--train-examples", "64", "--epochs", "1"]
    argv += ["--trials", "4", "--pruner", "none", "--concurrency", "2", "--runs-dir", str(runs)]
    assert main([*argv, "--race-baselines", ",".join(BASELINES)]) == 0
    out, err = capsys.readouterr()
    assert "race: " not in err, "no race was run"
    assert (
        "No race winner: no searched policy to race, since no complete trial has a policy other than the racing "
        f"baselines' ({', '.join(BASELINES)}); run more trials. The best trial is exploration's." in out
    )
    assert "every race training failed" not in out
    assert read_record(load(runs)) is None


BAD_MODELS = {
    "not-importable": ("nope.mod:build", "--model cannot be imported: No module named 'nope' (model='nope.mod:build')"),
    "no-such-function": (
        "tests_pkg.nets:missing",
        "--model cannot be imported: module 'tests_pkg.nets' has no attribute 'missing'",
    ),
    "not-callable": (
        "tests_pkg.nets:NOT_CALLABLE",
        "--model must name a callable (input_shape, num_classes, seed) -> keras.Model, "
        "but got --model='tests_pkg.nets:NOT_CALLABLE', which is a value of type int.",
    ),
    "one-argument": (
        "tests_pkg.nets:one_argument",
        "--model must accept three positional arguments (input_shape, num_classes, seed), "
        "but got --model='tests_pkg.nets:one_argument' with signature (input_shape).",
    ),
    "not-a-model": (
        "tests_pkg.nets:not_a_model",
        "--model must return a keras.Model from (input_shape, num_classes, seed), "
        "but got --model='tests_pkg.nets:not_a_model', which returned a value of type str.",
    ),
    "wrong-output": (
        "tests_pkg.nets:wrong_output",
        "--model must output class probabilities of shape (None, 10), "
        "but got --model='tests_pkg.nets:wrong_output', whose output shape is (None, 11).",
    ),
}


@pytest.mark.parametrize("model, message", BAD_MODELS.values(), ids=BAD_MODELS.keys())
def test_a_bad_model_is_one_line_and_exit_2_and_nothing_is_written(model, message, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["run", "--model", model, "--budget", "smoke", "--trials", "1", "--runs-dir", str(runs)]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("search run: error: --model ") and message in err, err
    assert out == ""
    assert not runs.exists(), "no run directory, study database or lock is made for a bad model"


def test_the_flags_become_search_settings():
    from search.cli import build_parser
    from search.cli.run import settings
    from search.settings import SearchSettings
    from space import SearchSpace

    args = build_parser().parse_args(
        [
            "run",
            "--trials",
            "7",
            "--budget",
            "smoke",
            "--epochs",
            "1",
            "--image-size",
            "16",
            "--model",
            "tests_pkg.nets:build",
            "--ops",
            "rotation,hue",
            "--magnitude",
            "0.2,0.4",
            "--sampler",
            "random",
            "--pruner",
            "none",
            "--seed",
            "3",
            "--no-baselines",
            "--max-failures",
            "2",
            "--no-reuse",
            "--concurrency",
            "1",
            "--cpus-per-trial",
            "2",
            "--runs-dir",
            "elsewhere",
            "--study",
            "mine",
            "--confirm-top",  # the earlier names of --race-top and --race-seeds, kept as aliases
            "3",
            "--confirm-seeds",
            "4",
        ]
    )
    made = settings(args)
    assert isinstance(made, SearchSettings)
    assert (made.trials, made.budget, made.budget_overrides, made.model) == (
        7,
        "smoke",
        {"epochs": 1, "image_size": 16},
        "tests_pkg.nets:build",
    )
    assert made.space == SearchSpace(ops="rotation,hue", magnitude=(0.2, 0.4))
    assert (made.sampler, made.pruner, made.seed, made.baselines, made.max_failures) == ("random", "none", 3, False, 2)
    assert made.reuse_workers is False and made.keras_callbacks is None
    assert (made.race_top, made.race_seeds) == (3, 4)
    assert (made.resources.concurrency, made.resources.cpus_per_trial, made.resources.gpus_per_trial) == (1, 2.0, None)
    assert (made.runs_dir, made.study, made.storage, made.dataset) == ("elsewhere", "mine", None, "fashion_mnist")
    defaults = settings(build_parser().parse_args(["run"]))
    assert defaults.reuse_workers is True and defaults.baselines is True and defaults.budget is None
    assert (defaults.race_top, defaults.race_seeds) == (3, 5), "the race is on by default"
    assert defaults.race_baselines == ("trivialaugment", "cropflip", "none") and defaults.target_budget is None
    assert defaults.space == SearchSpace(), "the default space, which holds every baseline"
