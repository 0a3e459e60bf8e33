"""The private parts of Optuna that results/_optuna_internals.py reaches: a new Optuna that
changes them fails here, by name, rather than somewhere in a search."""

import optuna
import pytest

from results._optuna_internals import study_storage, trial_id

PINNED = "optuna>=5.0,<5.1"


@pytest.fixture
def study(tmp_path):
    return optuna.create_study(storage=f"sqlite:///{tmp_path}/s.db", study_name="s")


def test_study_storage_is_the_storage_the_study_writes(study):
    storage = study_storage(study)
    assert isinstance(storage, optuna.storages.BaseStorage), (
        f"optuna {optuna.__version__} changed Study._storage (pinned: {PINNED}): update results/_optuna_internals.py"
    )
    study.optimize(lambda trial: 1.0, n_trials=1)
    assert storage.get_all_trials(storage.get_study_id_from_name("s"))[0].value == 1.0


def test_trial_id_opens_the_trial_in_its_storage(study):
    study.ask()
    frozen = study.get_trials()[0]
    try:
        identity = trial_id(frozen)
    except AttributeError:
        pytest.fail(
            f"optuna {optuna.__version__} changed FrozenTrial._trial_id (pinned: {PINNED}): "
            "update results/_optuna_internals.py"
        )
    optuna.Trial(study, identity).set_user_attr("seen", True)
    assert study.get_trials()[0].user_attrs == {"seen": True}
