"""Issue 6, case 2: trials that crash, diverge (NaN loss) or run out of memory are FAIL with their
message while the others finish; a search whose trials keep failing stops after max_failures.

In this process, through the API (`search.run_search`), with real Ray workers (this process's
Ray, shared by the tests) and a real SQLite study. The faults come from
`search.testing.inject_faults`, Keras callbacks that the settings hand to each trial's training
in its worker: a RuntimeError, NaN weights (so the training loss really becomes NaN and the
trainer's own divergence check fails the trial), and TensorFlow's ResourceExhaustedError."""

import pytest
from search_process import TINY_MODEL, finished, load, states

from search import Resources, SearchSettings, run_search
from search.testing import inject_faults
from space import AugSearchError


def _settings(runs, **fields) -> SearchSettings:
    return SearchSettings(
        budget="smoke",
        model=TINY_MODEL,
        baselines=False,
        runs_dir=runs,
        **{"resources": Resources(concurrency=2), "race_top": 0, **fields},
    )


#: All three faulty trials at once, sharing the cores: each failure costs its worker.
THREE_AT_ONCE = Resources(concurrency=3, cpus_per_trial=0.5)


def test_crashed_diverged_and_out_of_memory_trials_fail_with_their_message_and_the_rest_finish(tmp_path, capsys):
    runs = tmp_path / "runs"
    result = run_search(
        _settings(runs, trials=3, resources=THREE_AT_ONCE, keras_callbacks=inject_faults("0:raise,1:nan,2:oom"))
    )
    err = capsys.readouterr().err
    assert not result.interrupted
    study = load(runs)
    errors = {t.number: t.user_attrs.get("error", "") for t in study.trials if t.state.name == "FAIL"}
    assert sorted(errors) == [0, 1, 2], states(study)
    assert errors[0].startswith("RuntimeError: injected fault: trial 0 raised")
    assert errors[1].startswith("TrainingDiverged: training diverged: the loss became nan at epoch 1, batch 1.")
    assert errors[2].startswith("ResourceExhaustedError: OOM when allocating tensor")
    assert finished(study) == 3 and states(study)["RUNNING"] == 0
    for number in errors:  # one line each on the terminal, not Ray's tracebacks
        assert f"trial {number} failed: {errors[number].splitlines()[0]}" in err
    assert "Traceback" not in err


def test_search_whose_trials_keep_failing_stops_after_max_failures(tmp_path, capsys):
    runs = tmp_path / "runs"
    with pytest.raises(AugSearchError) as error:
        run_search(_settings(runs, trials=20, max_failures=2, keras_callbacks=inject_faults("*:raise")))
    message = str(error.value)
    assert message.startswith("2 trials in a row failed (--max-failures=2), none finishing in between"), message
    assert "the last error was: RuntimeError: injected fault: trial" in message
    assert "run the same command to resume, or raise --max-failures" in message
    assert "\n" not in message, "one line"
    assert "Traceback" not in capsys.readouterr().err
    counts = states(load(runs))
    # Two failures stop it; a trial still running then is stopped too (and FAIL): far from 20.
    assert 2 <= counts["FAIL"] <= 3 and counts["RUNNING"] == 0 and finished(load(runs)) == 0, counts


def test_only_failures_in_a_row_of_this_run_count(tmp_path):
    import optuna
    from optuna.trial import TrialState

    from search.tune.failure_limit import FailureLimit

    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/search.db", study_name="s", direction="maximize")
    earlier = study.ask()
    study.tell(earlier, state=TrialState.FAIL)  # a previous run's: not this run's business
    limit = FailureLimit(study, max_failures=2)

    def end(state, error="boom"):
        trial = study.ask()
        trial.set_user_attr("error", error)
        study.tell(trial, 0.5 if state == TrialState.COMPLETE else None, state=state)

    end(TrialState.FAIL, "first")
    assert not limit.check() and limit.failures == 1
    end(TrialState.PRUNED)  # a finished trial in between starts the count again
    end(TrialState.FAIL, "second")
    assert not limit.check() and limit.failures == 1
    end(TrialState.FAIL, "third")
    assert limit.check() and limit.failures == 2 and limit.last_error == "third"
    assert limit.message().startswith("2 trials in a row failed (--max-failures=2)")
    end(TrialState.COMPLETE)  # once tripped it stays tripped: the search is stopping
    assert limit.check()
