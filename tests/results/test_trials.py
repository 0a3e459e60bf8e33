import datetime

import optuna
import pytest
from optuna.trial import TrialState

from results.trials import best_rows, progress, select_rows, training_seconds, trial_rows
from space import AugSearchError, Budget


def test_trial_rows_read_values_curves_and_attributes(small_study):
    rows = trial_rows(small_study)
    assert [(r.number, r.state, r.value) for r in rows] == [
        (0, "COMPLETE", 0.80),
        (1, "COMPLETE", 0.85),
        (2, "PRUNED", None),
        (3, "FAIL", None),
    ]
    assert rows[0].curve == (0.6, 0.8) and rows[2].curve == (0.1,) and rows[3].curve == ()
    assert rows[0].baseline == "guide" and rows[3].error.startswith("FloatingPointError")
    assert rows[1].wall_seconds == 59.0 and rows[1].epochs == 2
    assert [r.number for r in best_rows(small_study, 1)] == [1]


@pytest.mark.parametrize(
    "states, sort, limit, numbers",
    [
        (None, "number", None, [0, 1, 2, 3]),
        (None, "value", None, [1, 0, 2, 3]),  # rows without a value go last, in number order
        ("complete,pruned", "wall", None, [0, 1, 2]),
        ("FAIL", "number", None, [3]),
        (None, "epochs", 2, [0, 1]),
        ("running", "number", None, []),
    ],
    ids=["all", "by-value", "by-wall", "fail-any-case", "limit", "none"],
)
def test_select_rows(small_study, states, sort, limit, numbers):
    assert [row.number for row in select_rows(trial_rows(small_study), states, sort, limit)] == numbers


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"state": "complete,done"},
            r"state must be comma-separated trial states .* but got state='complete,done'",
        ),
        ({"state": ","}, "state must be"),
        ({"sort": "speed"}, r"sort must be one of number, value, wall, epochs, but got sort='speed'"),
        ({"limit": 0}, r"limit must be an integer >= 1, but got limit=0"),
    ],
    ids=["unknown-state", "empty-state", "sort", "limit"],
)
def test_select_rows_rejects_bad_values_naming_the_argument(small_study, kwargs, message):
    with pytest.raises(AugSearchError, match=message):
        select_rows(trial_rows(small_study), **kwargs)


def test_progress_counts_states(small_study):
    p = progress(small_study)
    assert (p.complete, p.pruned, p.failed, p.running, p.finished) == (2, 1, 1, 0, 3)
    assert (p.best_number, p.best_value) == (1, 0.85)


def timed_study(*trials):
    """An in-memory study of trials (state, seconds from the driver's ask to the end, budget,
    per-epoch seconds), each with real start and end datetimes."""
    study = optuna.create_study(direction="maximize")
    start = datetime.datetime(2024, 5, 1, 12, 0, 0)
    for state, seconds, budget, epoch_seconds in trials:
        attrs = {"budget": budget} | ({"epoch_seconds": epoch_seconds} if epoch_seconds is not None else {})
        study.add_trial(
            optuna.trial.FrozenTrial(
                number=-1,
                state=state,
                value=0.8 if state.name == "COMPLETE" else None,
                datetime_start=start,
                datetime_complete=start + datetime.timedelta(seconds=seconds),
                params={},
                distributions={},
                user_attrs=attrs,
                system_attrs={},
                intermediate_values={},
                trial_id=-1,
            )
        )
        start += datetime.timedelta(minutes=5)
    return study


CPU = {"epochs": 10, "train_examples": 1000, "model": "small", "image_size": 32}
TARGET = {"epochs": 20, "train_examples": 3000, "model": "small", "image_size": 32}


def test_training_seconds_scale_exploration_speed_to_the_race_budget():
    # Each: a first epoch of graph building, then 10, 11 or 12 s per epoch, and 10 s outside the epochs.
    study = timed_study(
        (TrialState.COMPLETE, 110.0, CPU, [12.0] + [10.0] * 9),
        (TrialState.COMPLETE, 120.0, CPU, [14.0] + [11.0] * 9),
        (TrialState.COMPLETE, 130.0, CPU, [15.0] + [12.0] * 9),
        (TrialState.PRUNED, 5000.0, CPU, [100.0] * 5),  # neither pruned nor failed trials count
        (TrialState.FAIL, 3.0, CPU, None),
    )
    seconds, why = training_seconds(study, Budget(**TARGET))
    # The median: 11 s per 1,000 images, 20 x 3,000 image-epochs, plus the 10 s outside them.
    assert seconds == pytest.approx(10 + 0.011 * 20 * 3000) and why == ""
    assert training_seconds(study, Budget(**CPU))[0] == pytest.approx(120.0), "at its own budget: the median trial"

    # Without per-epoch times, the whole duration scales with the image-epochs.
    assert training_seconds(timed_study((TrialState.COMPLETE, 100.0, CPU, None)), Budget(**TARGET))[0] == pytest.approx(
        600.0
    )


def test_training_seconds_do_not_scale_a_smoke_trials_start_up():
    smoke = {"epochs": 2, "train_examples": 256, "model": "small", "image_size": 32}
    full = {"epochs": 60, "train_examples": 6144, "model": "small", "image_size": 32}
    study = timed_study((TrialState.COMPLETE, 15.0, smoke, [6.0, 0.32]))
    seconds, _ = training_seconds(study, Budget(**full))
    # 14.36 s of start-up and graph building, then 0.32 s per 256 images: not 15 s x 720.
    assert seconds == pytest.approx(15.0 - 0.64 + 0.32 / 256 * 60 * 6144)


def test_training_seconds_are_unknown_for_another_model_or_without_a_complete_trial():
    study = timed_study((TrialState.COMPLETE, 100.0, CPU, [10.0] * 10))
    gpu = {"epochs": 30, "train_examples": 60000, "model": "efficientnetv2_b0", "image_size": 64}
    assert training_seconds(study, Budget(**gpu)) == (
        None,
        "exploration trained small at 32px, the race efficientnetv2_b0 at 64px",
    )
    assert training_seconds(study, Budget(**{**TARGET, "image_size": 64}))[0] is None
    pruned = timed_study((TrialState.PRUNED, 100.0, CPU, [10.0] * 5))
    assert training_seconds(pruned, Budget(**TARGET)) == (None, "no complete exploration trial to time it by")
