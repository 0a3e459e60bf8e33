"""Fixtures shared across packages."""

import os
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from space import GUIDE_POLICY, Policy


def _worker_python_path() -> str:
    """The repository, then every test folder: Ray's workers, started from this process, inherit
    the environment, and must import test modules (a user model defined in a test file) by the
    names pytest gives them. The repository comes first, so that its packages shadow the test
    folders of the same names."""
    tests = Path(__file__).resolve().parent
    folders = [tests.parent, tests] + sorted({path.parent for path in tests.rglob("test_*.py")})
    extra = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    return os.pathsep.join(dict.fromkeys([*map(str, folders), *extra]))


os.environ["PYTHONPATH"] = _worker_python_path()

#: The best trial of `small_study` (trial 1).
BEST_POLICY = Policy(magnitude=0.7, ops="rotation,brightness", cutmix_rate=0.2)


@pytest.fixture
def best_policy() -> Policy:
    """The policy of `small_study`'s best trial (a fixture: test modules cannot import conftest
    by name, since tests/scale has a conftest of its own)."""
    return BEST_POLICY


@pytest.fixture
def small_study(tmp_path) -> optuna.Study:
    """A real SQLite study in tmp_path/"runs" as `search run` leaves it, with trials written by
    `create_trial`: 0 and 1 COMPLETE (0.80, 0.85: the best), 2 PRUNED after one epoch, 3 FAIL."""
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    study = optuna.create_study(
        study_name="fashion_mnist", storage=f"sqlite:///{runs_dir}/search.db", direction="maximize"
    )
    study.set_user_attr(
        "augsearch",
        {
            "dataset": "fashion_mnist",
            "budget": {"epochs": 2, "image_size": 32},
            "search_space": {},
            "seed": 0,
        },
    )
    distributions = {"magnitude": FloatDistribution(0, 1)}

    def add(state, curve, policy, wall_seconds, **attrs):
        study.add_trial(
            create_trial(
                # Optuna stores a pruned trial's last intermediate value as its value, like this.
                state=state,
                value=curve[-1] if state in (TrialState.COMPLETE, TrialState.PRUNED) else None,
                params={"magnitude": policy.magnitude},
                distributions=distributions,
                intermediate_values=dict(enumerate(curve, start=1)),
                user_attrs={
                    "policy": policy.to_dict(),
                    "dataset": "fashion_mnist",
                    "budget": {"epochs": 2},
                    "epochs_run": len(curve) or None,
                    "wall_seconds": wall_seconds,
                    **attrs,
                },
            )
        )

    add(TrialState.COMPLETE, [0.6, 0.80], GUIDE_POLICY, 61.0, reference="guide")
    add(TrialState.COMPLETE, [0.7, 0.85], BEST_POLICY, 59.0)
    add(TrialState.PRUNED, [0.1], Policy(), 20.0)
    add(TrialState.FAIL, [], Policy(), 3.0, error="FloatingPointError: loss is NaN")
    return study
