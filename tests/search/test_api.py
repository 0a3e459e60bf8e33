"""The Python API end to end: a search from Python with a model defined here and images held in
memory, its policy exported and loaded back. Real Ray (started once per test process), real
trainings at a tiny budget."""

import keras
import numpy as np
import pytest

import search
from search import load_policy_file
from search.trainings import trial_seed
from space import Policy
from trainers.data import ArrayData


def tiny_cnn(input_shape, num_classes, seed):
    """A user's model: float32 [0, 255] images in, class probabilities out. Ray's workers import
    it from this module (tests/conftest.py puts the test folders on their PYTHONPATH)."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(
        4, 3, strides=2, activation="relu", kernel_initializer=keras.initializers.HeNormal(seed=seed)
    )(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1)
    )(x)
    return keras.Model(inputs, outputs)


@pytest.fixture
def arrays():
    """200 random 16x16 RGB images of 3 classes (20 of them are carved out for validation)."""
    rng = np.random.default_rng(0)
    return ArrayData(train=(rng.integers(0, 256, (200, 16, 16, 3), dtype=np.uint8), np.arange(200) % 3))


def test_a_search_from_python_with_my_model_and_my_arrays(arrays, tmp_path):
    settings = search.SearchSettings(
        dataset=arrays,
        model=tiny_cnn,
        trials=3,
        budget="smoke",
        budget_overrides={"epochs": 1, "image_size": 16, "train_examples": 64, "validation_examples": 20},
        runs_dir=tmp_path / "runs",
        resources=search.Resources(concurrency=2),
        race_top=2,
        race_seeds=2,
        race_baselines="none",
        target_budget="smoke",
        target_overrides={"epochs": 2, "image_size": 16, "train_examples": 64, "validation_examples": 20},
    )
    result = search.run_search(settings)

    assert not result.interrupted and result.storage_url == f"sqlite:///{tmp_path}/runs/search.db"
    study = result.study
    assert study.study_name == "arrays-" + arrays.spec.split(":")[1]
    model = f"{tiny_cnn.__module__}:tiny_cnn"
    assert model == f"{__name__}:tiny_cnn"
    assert study.user_attrs["augsearch"]["dataset"] == arrays.spec and arrays.spec.startswith("arrays:")
    assert study.user_attrs["augsearch"]["budget"]["model"] == model
    trials = study.trials
    assert len(trials) == 3 and {t.state.name for t in trials} == {"COMPLETE"}, [
        (t.state, t.user_attrs.get("error")) for t in trials
    ]
    for trial in trials:
        attrs = trial.user_attrs
        # Set by the driver when it asked the trial: what was trained, on what, with which seed.
        assert Policy.from_dict(attrs["policy"]).to_dict() == attrs["policy"]
        assert attrs["dataset"] == arrays.spec
        assert attrs["seed"] == trial_seed(0, trial.number)
        assert attrs["budget"] == settings.budget_for(gpus=False).to_dict()
        assert (
            attrs["budget"]["model"] == model and attrs["budget"]["image_size"] == 16 and attrs["budget"]["epochs"] == 1
        )
        # Measured by the training in the worker.
        assert (
            attrs["epochs_run"] == 1 and attrs["accelerator"] == "cpu" and trial.intermediate_values == {1: trial.value}
        )

    # The best is the race's winner: the two best searched (trial 0 is the `none` baseline, which
    # races as itself) and `none`, trained again on 2 paired seeds at the target budget.
    record = result.race
    assert [r.label for r in record.results if r.contestant.is_baseline] == ["none"]
    assert sorted(r.contestant.trial for r in record.results if not r.contestant.is_baseline) == [1, 2]
    assert record.budget == settings.race_budget_for(gpus=False) and record.budget.epochs == 2
    assert result.confirmation == record, "the record's earlier name is an alias"
    best = result.best
    assert best.label == record.winner and result.best_policy == best.policy
    if best.trial is None:
        assert best.label == "none" and result.best_trial is None and result.best_value is None
    else:
        trial = result.best_trial
        assert trial.number == best.trial and result.best_value == trial.value
        assert result.best_policy == Policy.from_dict(trial.user_attrs["policy"])
    path = result.export(tmp_path / "policy.json")
    assert path == tmp_path / "policy.json"
    assert load_policy_file(path).policy == result.best_policy

    # The same settings again: the study already holds its trials, nothing runs.
    again = search.run_search(settings)
    assert [t.number for t in again.study.trials] == [0, 1, 2] and again.best_policy == result.best_policy


def test_search_result_of_a_study_without_a_complete_trial(tmp_path):
    import optuna

    from search.searching import SearchResult
    from space import AugSearchError

    study = optuna.create_study(storage=f"sqlite:///{tmp_path}/search.db", study_name="s", direction="maximize")
    result = SearchResult(study, f"sqlite:///{tmp_path}/search.db")
    assert result.best_trial is None and result.best_value is None and result.best_policy is None
    with pytest.raises(
        AugSearchError, match=r"^trial 'best': study 's' has no complete trial yet; run a search first\.$"
    ):
        result.export(tmp_path / "policy.json")
    assert not (tmp_path / "policy.json").exists()


def test_run_search_refuses_other_settings_objects():
    from space import AugSearchError

    with pytest.raises(AugSearchError, match=r"^settings must be a search\.SearchSettings, but got settings="):
        search.run_search(search.EvaluationSettings())
    with pytest.raises(AugSearchError, match=r"^settings must be a search\.EvaluationSettings, but got settings="):
        search.evaluate(search.SearchSettings())
