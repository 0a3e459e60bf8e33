"""A search reuses Ray workers and their compiled models between trials, and the trials stay what
they would be in a new worker each: the same values, a failed trial's damage gone."""

from optuna.trial import TrialState

from search import Resources, SearchSettings, run_search
from search.testing import inject_faults

C, F = TrialState.COMPLETE, TrialState.FAIL


def search(runs_dir, reuse: bool):
    # Reused workers run the trials one after another; new ones may run them all at once (the
    # trials' seeds and policies do not depend on their order), sharing the cores.
    resources = Resources(concurrency=1) if reuse else Resources(concurrency=4, cpus_per_trial=0.5)
    settings = SearchSettings(
        trials=3,
        budget="smoke",
        model="tests_pkg.nets:build",
        # Fewer steps than the smoke budget's, and a compiled-model key no other test uses: a
        # worker Ray reuses from another test's Ray tasks cannot hold this model.
        budget_overrides={"epochs": 1, "train_examples": 96},
        resources=resources,
        pruner="none",
        baselines=False,
        runs_dir=runs_dir,
        reuse_workers=reuse,
        race_top=0,
        # Trial 2 diverges (NaN weights) in a worker that ran trials 0 and 1 before.
        keras_callbacks=inject_faults("2:nan"),
    )
    return run_search(settings).study.trials


def test_reused_workers_give_the_same_trials_and_a_failed_trial_reaches_no_other(tmp_path):
    new = search(tmp_path / "new", reuse=False)
    reused = search(tmp_path / "reused", reuse=True)
    for trials in (new, reused):
        assert [t.state for t in trials] == [C, C, F, C], [
            (t.number, t.state, t.user_attrs.get("error")) for t in trials
        ]
        assert trials[2].user_attrs["error"].startswith("TrainingDiverged"), trials[2].user_attrs["error"]
    # The same seeds and policies: the same values, to the last bit.
    assert [t.values for t in reused] == [t.values for t in new]
    assert [t.intermediate_values for t in reused] == [t.intermediate_values for t in new]
    assert [t.user_attrs["policy"] for t in reused] == [t.user_attrs["policy"] for t in new]

    def worker(trial):
        timings = trial.user_attrs["timings"]
        return timings["process_trials"], timings["model_reused"]

    assert [worker(new[n]) for n in (0, 1, 3)] == [(0, False)] * 3
    # Trial 1 ran in trial 0's worker on its compiled model; trial 2 failed there, and Tune
    # replaced that worker: trial 3 started a new one.
    assert [worker(reused[n]) for n in (0, 1, 3)] == [(0, False), (1, True), (0, False)]
