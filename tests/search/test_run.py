"""`search run` end to end: the real CLI in a subprocess, real Ray (local), a real SQLite file."""

import subprocess
import sys

import optuna
from optuna.artifacts import get_all_artifact_meta
from optuna.trial import TrialState
from optuna_dashboard import get_note

from search.trainable import TRIAL_ATTRS
from space import GUIDE_POLICY, NO_AUGMENTATION, Policy


def run_search(runs_dir, *flags, timeout=420):
    done = subprocess.run(
        [sys.executable, "-m", "search.cli", "run", "--budget", "smoke", "--runs-dir", str(runs_dir), *flags],
        capture_output=True, text=True, timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def load(runs_dir):
    return optuna.load_study(study_name="fashion_mnist", storage=f"sqlite:///{runs_dir}/search.db")


def test_search_run_end_to_end(tmp_path):
    runs = tmp_path / "runs"
    done = run_search(runs, "--trials", "6", "--concurrency", "2")
    study = load(runs)
    states = [t.state for t in study.trials]
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 6
    assert TrialState.RUNNING not in states and TrialState.WAITING not in states
    references = {t.user_attrs.get("reference"): t for t in study.trials if "reference" in t.user_attrs}
    assert set(references) == {"no_augmentation", "kerascv_guide"}
    assert Policy.from_dict(references["kerascv_guide"].user_attrs["policy"]) == GUIDE_POLICY
    assert Policy.from_dict(references["no_augmentation"].user_attrs["policy"]).rate == NO_AUGMENTATION.rate == 0
    for trial in finished:
        missing = [key for key in TRIAL_ATTRS if key not in trial.user_attrs]
        assert not missing, f"trial {trial.number} lacks {missing}"
        assert trial.user_attrs["dataset"] == "fashion_mnist" and trial.user_attrs["accelerator"] == "cpu"
        assert trial.intermediate_values, "per-epoch values are reported"
        # The dashboard's per-trial pictures, made by the driver before it stored the trial.
        files = sorted(meta.filename for meta in get_all_artifact_meta(trial, storage=study._storage))
        assert files == ["learning_curve.png", "samples.png"], f"trial {trial.number} has artifacts {files}"
    assert "kerascv_guide" in get_note(study), "the study note lists the reference policies"
    assert "Export the best: search export" in done.stdout
    assert (runs / "ray").is_dir(), "Ray Tune's results belong under the run directory"


def test_same_command_with_more_trials_continues(tmp_path):
    runs = tmp_path / "runs"
    run_search(runs, "--trials", "3", "--concurrency", "2", "--no-baselines")
    first = {t.number: t.value for t in load(runs).trials}
    run_search(runs, "--trials", "5", "--concurrency", "2", "--no-baselines")
    study = load(runs)
    assert len([t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]) == 5
    assert {n: v for n, v in ((t.number, t.value) for t in study.trials) if n in first} == first
    done = run_search(runs, "--trials", "5", "--no-baselines")  # already there: nothing to do
    assert "5/5 trials finished" in done.stderr
