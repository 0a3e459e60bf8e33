"""`search run` reuses Ray workers and their compiled models between trials, and the trials stay
what they would be in a new worker each: the same values, a failed trial's damage gone."""

import os
import subprocess
import sys

import optuna
from optuna.trial import TrialState

from search.trainable import FAULT_ENV, REUSE_ENV

C, F = TrialState.COMPLETE, TrialState.FAIL


def search(runs_dir, reuse: str):
    done = subprocess.run(
        [
            sys.executable, "-m", "search.cli", "run", "--budget", "smoke", "--trials", "3", "--concurrency", "1",
            "--pruner", "none", "--no-baselines", "--runs-dir", str(runs_dir),
        ],
        capture_output=True, text=True, timeout=420,
        # Trial 2 diverges (NaN weights) in a worker that ran trials 0 and 1 before.
        env={**os.environ, REUSE_ENV: reuse, FAULT_ENV: "2:nan"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return optuna.load_study(study_name="fashion_mnist", storage=f"sqlite:///{runs_dir}/search.db").trials


def test_reused_workers_give_the_same_trials_and_a_failed_trial_reaches_no_other(tmp_path):
    new = search(tmp_path / "new", reuse="0")
    reused = search(tmp_path / "reused", reuse="1")
    for trials in (new, reused):
        assert [t.state for t in trials] == [C, C, F, C], [(t.number, t.state, t.user_attrs.get("error")) for t in trials]
    # The same seeds and policies: the same values, to the last bit.
    assert [t.values for t in reused] == [t.values for t in new]
    assert [t.intermediate_values for t in reused] == [t.intermediate_values for t in new]

    def worker(trial):
        timings = trial.user_attrs["timings"]
        return timings["process_trials"], timings["model_reused"]

    assert [worker(new[n]) for n in (0, 1, 3)] == [(0, False)] * 3
    # Trial 1 ran in trial 0's worker on its compiled model; trial 2 failed there, and Tune
    # replaced that worker: trial 3 started a new one.
    assert [worker(reused[n]) for n in (0, 1, 3)] == [(0, False), (1, True), (0, False)]
