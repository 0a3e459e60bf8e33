"""`search.tune.searcher.StudySearcher`: the study as a Ray Tune searcher over Optuna's ask and tell
(fake Tune calls in the order Tune makes them; and the real Tuner, ASHA and ConcurrencyLimiter at
the end)."""

import math
import types

import numpy as np
import optuna
import pytest
import ray.cloudpickle
from optuna.trial import TrialState
from ray.exceptions import RayTaskError

from results.stored import BASELINE_ATTR, ERROR_ATTR
from search.study import enqueue_baselines
from search.tune.searcher import StudySearcher
from space import BASELINES, AugSearchError, Policy, SearchSpace, suggest_policy

SPACE = SearchSpace()
EPOCHS = 4


@pytest.fixture
def storage(tmp_path):
    return f"sqlite:///{tmp_path / 'search.db'}"


@pytest.fixture
def study(storage):
    return optuna.create_study(
        storage=storage,
        study_name="augsearch",
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
        load_if_exists=True,
    )


def propose(trial):
    """The trainable's config for an asked trial, as the driver makes it (it also records the
    trial's settings as user attributes; see test_proposed_user_attrs_are_stored)."""
    return {"policy": suggest_policy(trial, SPACE).to_dict()}


@pytest.fixture
def searcher(study):
    return StudySearcher(study, propose, metric="accuracy", max_steps=EPOCHS, user_attrs=("policy", "budget"))


def stored_trials(storage):
    """The trials as a fresh reader of the SQLite file sees them."""
    return optuna.load_study(study_name="augsearch", storage=storage).trials


def result(epoch, accuracy, **extra):
    return {"accuracy": accuracy, "training_iteration": epoch, **extra}


def fake_tune_trial(tmp_path, trial_id, error):
    """What the callback reads from Ray's Trial: the pickled error Trial.handle_error wrote."""
    path = tmp_path / f"{trial_id}.pkl"
    path.write_bytes(ray.cloudpickle.dumps(error))
    return types.SimpleNamespace(trial_id=trial_id, pickled_error_file=str(path), error_file=None)


def test_suggest_asks_the_study_and_gives_what_propose_makes(searcher, storage):
    config = searcher.suggest("t0")
    policy = Policy.from_dict(config["policy"])
    (trial,) = stored_trials(storage)
    assert trial.state == TrialState.RUNNING
    assert trial.params["magnitude"] == policy.magnitude  # the raw parameters are the study's


def test_proposed_user_attrs_are_stored(study, storage):
    def propose_and_record(trial):
        config = propose(trial)
        trial.set_user_attr("policy", config["policy"])
        trial.set_user_attr("seed", 1000 + trial.number)
        return config

    searcher = StudySearcher(study, propose_and_record, metric="accuracy", max_steps=EPOCHS)
    config = searcher.suggest("t0")
    assert stored_trials(storage)[0].user_attrs == {"policy": config["policy"], "seed": 1000}  # set once, on asking
    searcher.on_trial_complete("t0", result=result(EPOCHS, 0.5, policy={"ignored": True}))
    (trial,) = stored_trials(storage)
    assert trial.state == TrialState.COMPLETE and trial.user_attrs == {"policy": config["policy"], "seed": 1000}


@pytest.mark.parametrize("stop_result_seen_before", [False, True], ids=["asha-stop", "duplicate-last"])
def test_early_stopped_trial_is_pruned_with_intermediate_values(searcher, storage, stop_result_seen_before):
    searcher.suggest("t0")
    searcher.on_trial_result("t0", result(1, 0.5))
    if stop_result_seen_before:
        searcher.on_trial_result("t0", result(2, 0.6))
    # Ray passes the result it stopped the trial on to on_trial_complete only.
    searcher.on_trial_complete("t0", result=result(2, 0.6, done=True))
    (trial,) = stored_trials(storage)
    assert trial.state == TrialState.PRUNED
    assert trial.intermediate_values == {1: 0.5, 2: 0.6}


def test_trial_that_runs_all_epochs_is_complete(searcher, storage):
    searcher.suggest("t0")
    for epoch in range(1, EPOCHS):
        searcher.on_trial_result("t0", result(epoch, 0.1 * epoch))
    searcher.on_trial_complete("t0", result=result(EPOCHS, 0.9, done=True))
    (trial,) = stored_trials(storage)
    assert trial.state == TrialState.COMPLETE
    assert trial.value == 0.9
    assert trial.intermediate_values == {1: 0.1, 2: 0.2, 3: pytest.approx(0.3), 4: 0.9}


def test_a_final_score_is_the_value_and_the_epochs_are_the_curve(study, storage):
    # The objective scored once at the end, on more images, differs from the last epoch's curve.
    searcher = StudySearcher(study, propose, metric="objective", curve_metric="accuracy", max_steps=EPOCHS)
    searcher.suggest("t0")
    for epoch in range(1, EPOCHS):
        searcher.on_trial_result("t0", result(epoch, 0.1 * epoch, objective=0.1 * epoch))
    searcher.on_trial_complete("t0", result=result(EPOCHS, 0.9, objective=0.87, done=True))
    (trial,) = stored_trials(storage)
    assert trial.state == TrialState.COMPLETE and trial.value == 0.87
    assert trial.intermediate_values == {1: 0.1, 2: 0.2, 3: pytest.approx(0.3), 4: 0.9}


@pytest.mark.parametrize("message_first", [False, True], ids=["ray-order", "message-first"])
def test_raising_trial_fails_with_its_message(searcher, storage, tmp_path, message_first):
    callback = searcher.callback()
    callback.setup()
    searcher.suggest("t0")
    searcher.on_trial_result("t0", result(1, 0.5))
    tune_trial = fake_tune_trial(
        tmp_path, "t0", RayTaskError("train", "Traceback ...", FloatingPointError("loss is NaN at epoch 2"))
    )
    if message_first:
        callback.on_trial_error(iteration=1, trials=[], trial=tune_trial)
    # Ray's own order (TuneController._process_trial_failure): the searcher first, then callbacks.
    searcher.on_trial_complete("t0", error=True)
    if not message_first:
        callback.on_trial_error(iteration=1, trials=[], trial=tune_trial)
    (trial,) = stored_trials(storage)
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs[ERROR_ATTR] == "FloatingPointError: loss is NaN at epoch 2"
    assert trial.intermediate_values == {1: 0.5}


@pytest.mark.parametrize(
    "epochs, state", [(EPOCHS, TrialState.COMPLETE), (2, TrialState.PRUNED)], ids=["complete", "pruned"]
)
def test_before_tell_sees_the_trial_as_it_is_about_to_be_stored(study, storage, epochs, state):
    seen = []
    searcher = StudySearcher(
        study,
        propose,
        metric="accuracy",
        max_steps=EPOCHS,
        user_attrs=("epochs_run",),
        before_tell=lambda trial, snapshot: seen.append((trial.number, snapshot)),
    )
    searcher.suggest("t0")
    for epoch in range(1, epochs):
        searcher.on_trial_result("t0", result(epoch, 0.1 * epoch, epochs_run=epoch))
    searcher.on_trial_complete("t0", result=result(epochs, 0.5, epochs_run=epochs))
    ((number, snapshot),) = seen
    (stored,) = stored_trials(storage)
    assert number == stored.number == 0 and snapshot.state == stored.state == state
    if state == TrialState.COMPLETE:
        assert snapshot.value == stored.value == 0.5
    else:  # told without a value; Optuna stores the last intermediate one
        assert snapshot.value is None and stored.value == 0.5
    assert snapshot.intermediate_values == stored.intermediate_values and len(stored.intermediate_values) == epochs
    assert snapshot.user_attrs == stored.user_attrs == {"epochs_run": epochs}
    assert snapshot.params == stored.params


def test_raising_trial_without_the_callback_still_fails(searcher, storage):
    searcher.suggest("t0")
    searcher.on_trial_complete("t0", error=True)
    (trial,) = stored_trials(storage)
    assert trial.state == TrialState.FAIL
    assert "callback" in trial.user_attrs[ERROR_ATTR]


@pytest.mark.parametrize(
    "final, message",
    [(result(EPOCHS, float("nan")), "accuracy is NaN"), ({"training_iteration": EPOCHS}, "no 'accuracy'")],
    ids=["nan", "missing"],
)
def test_trial_without_a_usable_objective_fails(searcher, storage, final, message):
    searcher.suggest("t0")
    searcher.on_trial_result("t0", result(1, 0.5))
    searcher.on_trial_complete("t0", result=final)
    (trial,) = stored_trials(storage)
    assert trial.state == TrialState.FAIL
    assert message in trial.user_attrs[ERROR_ATTR]


@pytest.mark.parametrize(
    "interrupt, message",
    [(None, "the run ended before the trial finished"), ("stopped by the user", "stopped by the user")],
    ids=["ended", "interrupted"],
)
def test_trials_open_when_the_run_ends_fail(searcher, storage, interrupt, message):
    callback = searcher.callback()
    callback.setup()
    searcher.suggest("t0")
    searcher.suggest("t1")
    searcher.on_trial_result("t0", result(1, 0.5))
    searcher.on_trial_complete("t1", result=result(EPOCHS, 0.7))
    if interrupt:
        searcher.interrupt(interrupt)
    assert stored_trials(storage)[0].state == TrialState.RUNNING  # interrupt() only records
    callback.on_experiment_end(trials=[])
    first, second = stored_trials(storage)
    assert first.state == TrialState.FAIL and first.user_attrs[ERROR_ATTR] == message
    assert first.intermediate_values == {1: 0.5}
    assert second.state == TrialState.COMPLETE


def test_the_baselines_run_first_and_once(study, storage):
    assert enqueue_baselines(study, SearchSpace()) == list(BASELINES)
    enqueue_baselines(study, SearchSpace())  # a resumed run enqueues again: no-op
    searcher = StudySearcher(
        study,
        lambda trial: {"policy": suggest_policy(trial, SearchSpace()).to_dict()},
        metric="accuracy",
        max_steps=EPOCHS,
    )
    count = len(BASELINES) + 1
    policies = [Policy.from_dict(searcher.suggest(f"t{i}")["policy"]) for i in range(count)]
    assert policies[:-1] == list(BASELINES.values()), "each baseline exactly, from the default space"
    trials = stored_trials(storage)
    assert len(trials) == count  # nothing left WAITING
    assert [t.user_attrs.get(BASELINE_ATTR) for t in trials] == [*BASELINES, None]
    # Also once after they ran: skip_if_exists looks at finished trials too.
    searcher.on_trial_complete("t0", result=result(EPOCHS, 0.5))
    enqueue_baselines(study, SearchSpace())
    assert len(stored_trials(storage)) == count


def test_a_space_without_the_stages_leaves_the_photo_recipes_out(study):
    assert enqueue_baselines(study, SearchSpace(stages="none")) == [
        "none",
        "guide",
        "randaugment",
        "trivialaugment",
    ]


def test_a_baseline_outside_the_space_is_left_out_but_no_augmentation_fits_any_space(study):
    # The others use ops outside this space; no augmentation and crop + flip (rate 0) run no op at all.
    assert enqueue_baselines(study, SearchSpace(ops="rotation,hue")) == ["none", "cropflip"]
    waiting, _ = study.trials
    fixed = waiting.system_attrs["fixed_params"]
    assert fixed["rate"] == 0.0 and fixed["op.rotation"] is True


def test_whitelisted_result_keys_become_user_attrs(searcher, storage):
    policy = searcher.suggest("t0")["policy"]
    # Ray flattens nested results ("policy/magnitude"); NumPy scalars come from the trainer.
    flat_policy = {f"policy/{key}": value for key, value in policy.items()}
    last = result(EPOCHS, np.float32(0.75), budget=np.int64(4), node_ip="10.0.0.1", **flat_policy)
    searcher.on_trial_complete("t0", result=last)
    (trial,) = stored_trials(storage)
    assert trial.user_attrs == {"policy": policy, "budget": 4}
    assert trial.value == pytest.approx(0.75)


def test_trial_whose_suggestion_raises_fails(study, storage):
    def broken(trial):
        trial.suggest_float("magnitude", 0.0, 1.0)
        raise RuntimeError("broken space")

    searcher = StudySearcher(study, broken, metric="accuracy", max_steps=EPOCHS)
    with pytest.raises(RuntimeError, match="broken space"):
        searcher.suggest("t0")
    (trial,) = stored_trials(storage)
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs[ERROR_ATTR] == "RuntimeError: broken space"


def test_invalid_arguments(study, storage):
    with pytest.raises(AugSearchError, match="max_steps must be an integer >= 1, but got max_steps=0"):
        StudySearcher(study, propose, metric="accuracy", max_steps=0)
    with pytest.raises(AugSearchError, match="metric must be a result key"):
        StudySearcher(study, propose, metric="", max_steps=EPOCHS)
    two = optuna.create_study(storage=storage, study_name="two", directions=["maximize", "minimize"])
    with pytest.raises(AugSearchError, match="single-objective"):
        StudySearcher(two, propose, metric="accuracy", max_steps=EPOCHS)


# End to end: the real Tuner, ConcurrencyLimiter and ASHA with a pure-Python trainable.


# ASHA takes np.nanpercentile of the NaN trial's rung values.
@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")
def test_end_to_end_with_ray_tune(tmp_path, storage, study):
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search import ConcurrencyLimiter

    from search.tune.cluster import start_ray

    raises, nan = Policy(magnitude=0.125), Policy(magnitude=0.375)

    # A local function: Ray pickles it by value.
    def trainable(config):
        magnitude = config["policy"]["magnitude"]
        for epoch in range(1, EPOCHS + 1):
            if magnitude == raises.magnitude and epoch == 2:
                raise FloatingPointError("loss is NaN at epoch 2")
            if magnitude == nan.magnitude:
                accuracy = float("nan")
            elif magnitude == raises.magnitude:
                accuracy = 1.0  # the best at rung 1, so ASHA lets it reach the epoch that raises
            else:
                accuracy = (1 - abs(magnitude - 0.5)) * epoch / EPOCHS
            tune.report({"accuracy": accuracy, "policy": config["policy"]})

    enqueue_baselines(study, SPACE, {"raises": raises, "nan": nan})
    searcher = StudySearcher(study, propose, metric="accuracy", max_steps=EPOCHS, user_attrs=("policy", "node_ip"))
    start_ray(None)  # once per process: later tests run on it too
    tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}),
        tune_config=tune.TuneConfig(
            search_alg=ConcurrencyLimiter(searcher, max_concurrent=2),
            scheduler=ASHAScheduler(
                metric="accuracy",
                mode="max",
                time_attr="training_iteration",
                grace_period=1,
                max_t=EPOCHS,
                reduction_factor=2,
            ),
            num_samples=8,
        ),
        run_config=tune.RunConfig(storage_path=str(tmp_path / "ray"), verbose=0, callbacks=[searcher.callback()]),
    ).fit()

    trials = stored_trials(storage)
    assert len(trials) == 8
    by_reference = {t.user_attrs.get(BASELINE_ATTR): t for t in trials}
    assert by_reference["raises"].state == TrialState.FAIL
    assert by_reference["raises"].user_attrs[ERROR_ATTR] == "FloatingPointError: loss is NaN at epoch 2"
    assert by_reference["raises"].intermediate_values == {1: 1.0}
    assert by_reference["nan"].state == TrialState.FAIL
    rest = [t for t in trials if BASELINE_ATTR not in t.user_attrs]
    assert len(rest) == 6 and {t.state for t in rest} <= {TrialState.PRUNED, TrialState.COMPLETE}
    for trial in rest:
        assert trial.user_attrs["policy"]["magnitude"] == trial.params["magnitude"]
        assert "node_ip" in trial.user_attrs
        steps = sorted(trial.intermediate_values)
        assert steps == list(range(1, steps[-1] + 1))
        assert (steps[-1] == EPOCHS) == (trial.state == TrialState.COMPLETE)
        assert not any(math.isnan(v) for v in trial.intermediate_values.values())
