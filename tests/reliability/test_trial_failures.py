"""Issue 6, case 2: trials that crash, diverge (NaN loss) or run out of memory are FAIL with their
message while the others finish; a search whose trials keep failing stops after --max-failures.

Real `search run` processes with real Ray workers; the faults come from the trainer's test hook
`train(fault=...)`, which `search/trainable.py` builds from AUGSEARCH_TEST_FAULT in each worker:
a RuntimeError, NaN weights (so the training loss really becomes NaN and the trainer's own
divergence check fails the trial), and TensorFlow's ResourceExhaustedError."""

from search_process import SMOKE_RUN, finished, last_line_error, load, search, states


def test_crashed_diverged_and_out_of_memory_trials_fail_with_their_message_and_the_rest_finish(tmp_path):
    runs = tmp_path / "runs"
    done = search(
        *SMOKE_RUN, "--trials", 3, "--concurrency", 2, "--no-baselines", "--runs-dir", runs,
        env={"AUGSEARCH_TEST_FAULT": "0:raise,1:nan,2:oom"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    study = load(runs)
    errors = {t.number: t.user_attrs.get("error", "") for t in study.trials if t.state.name == "FAIL"}
    assert sorted(errors) == [0, 1, 2], states(study)
    assert errors[0].startswith("RuntimeError: injected fault: trial 0 raised")
    assert errors[1].startswith("TrainingDiverged: training diverged: the loss became nan at epoch 1, batch 1.")
    assert errors[2].startswith("ResourceExhaustedError: OOM when allocating tensor")
    assert finished(study) == 3 and states(study)["RUNNING"] == 0
    for number in errors:  # one line each on the terminal, not Ray's tracebacks
        assert f"trial {number} failed: {errors[number].splitlines()[0]}" in done.stderr
    assert "Traceback" not in done.stderr


def test_search_whose_trials_keep_failing_stops_after_max_failures(tmp_path):
    runs = tmp_path / "runs"
    done = search(
        *SMOKE_RUN, "--trials", 20, "--concurrency", 2, "--no-baselines", "--max-failures", 3, "--runs-dir", runs,
        env={"AUGSEARCH_TEST_FAULT": "*:raise"},
    )
    line = last_line_error(done)
    assert line.startswith("search run: error: 3 trials in a row failed (--max-failures=3), none finishing in between")
    assert "the last error was: RuntimeError: injected fault: trial" in line
    assert "run the same command to resume, or raise --max-failures" in line
    counts = states(load(runs))
    # Three failures stop it; a trial still running then is stopped too (and FAIL): far from 20.
    assert 3 <= counts["FAIL"] <= 4 and counts["RUNNING"] == 0 and finished(load(runs)) == 0, counts


def test_only_failures_in_a_row_of_this_run_count(tmp_path):
    import optuna
    from optuna.trial import TrialState

    from search.failures import FailureLimit

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
