import pytest

from results.trials import best_rows, ops_line, policy_line, progress, select_rows, trial_rows
from space import EXTENDED_OPS, STANDARD_OPS, AugSearchError, Policy


def test_trial_rows_read_values_curves_and_attributes(small_study):
    rows = trial_rows(small_study)
    assert [(r.number, r.state, r.value) for r in rows] == [
        (0, "COMPLETE", 0.80),
        (1, "COMPLETE", 0.85),
        (2, "PRUNED", None),
        (3, "FAIL", None),
    ]
    assert rows[0].curve == (0.6, 0.8) and rows[2].curve == (0.1,) and rows[3].curve == ()
    assert rows[0].reference == "guide" and rows[3].error.startswith("FloatingPointError")
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
            {"states": "complete,done"},
            r"--state must be comma-separated trial states .* but got --state='complete,done'",
        ),
        ({"states": ","}, "--state must be"),
        ({"sort": "speed"}, r"--sort must be one of number, value, wall, epochs, but got --sort='speed'"),
        ({"limit": 0}, r"--limit must be an integer >= 1, but got --limit=0"),
    ],
    ids=["unknown-state", "empty-state", "sort", "limit"],
)
def test_select_rows_rejects_bad_flags(small_study, kwargs, message):
    with pytest.raises(AugSearchError, match=message):
        select_rows(trial_rows(small_study), **kwargs)


def test_progress_counts_states(small_study):
    p = progress(small_study)
    assert (p.complete, p.pruned, p.failed, p.running, p.finished) == (2, 1, 1, 0, 3)
    assert (p.best_number, p.best_value) == (1, 0.85)


@pytest.mark.parametrize(
    "ops, expected",
    [
        (STANDARD_OPS, "standard"),
        (tuple(op for op in STANDARD_OPS if op != "solarization"), "standard -solarization"),
        (("rotation", "contrast"), "rotation,contrast"),
        (EXTENDED_OPS, "extended"),
    ],
    ids=["standard", "standard-minus-one", "few", "extended"],
)
def test_ops_line_names_the_shortest_way(ops, expected):
    assert ops_line(ops) == expected


def test_policy_line_is_one_short_line():
    line = policy_line(Policy(magnitude=0.25, augmentations_per_image=2, cutmix_rate=0.5))
    assert line == "m=0.25±0.15 n=2 rate=0.91 ops=standard cutmix=0.50 mixup=0.00"
    uniform = Policy(magnitude=1.0, magnitude_stddev=0.0, magnitude_distribution="uniform", augmentations_per_image=1)
    assert policy_line(uniform).startswith("m=U(0,1.00) n=1 ")
