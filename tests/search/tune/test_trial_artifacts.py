import pickle

import numpy as np
import optuna
import pytest
from optuna.artifacts import get_all_artifact_meta
from optuna.trial import TrialState
from optuna_dashboard import get_note
from PIL import Image

from results.artifacts import CURVE_FILE, GRID_FILE, artifact_store
from results.samples import Samples
from search.study import enqueue_baselines, enqueued_baselines
from search.tune.searcher import StudySearcher
from search.tune.trial_artifacts import TrialArtifacts, start_artifacts
from space import BASELINES, SearchSpace, suggest_policy

EPOCHS = 3


def tiny_samples(n=4, size=32):
    rng = np.random.default_rng(0)
    return Samples(
        images=rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8),
        labels=np.arange(n) % 2,
        class_names=("a", "b"),
    )


@pytest.fixture
def study(tmp_path):
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'search.db'}", study_name="s", direction="maximize")
    study.set_user_attr(
        "augsearch", {"dataset": "fashion_mnist", "budget": {"epochs": EPOCHS}, "search_space": {}, "seed": 0}
    )
    return study


def searcher_with(study, hook, policy=None):
    """As the driver makes it: `propose` records the trial's policy (`policy` in place of the
    sampled one, when given) and budget; the trainable reports only metrics."""

    def propose(trial):
        sampled = suggest_policy(trial, SearchSpace()).to_dict()
        trial.set_user_attr("policy", sampled if policy is None else policy)
        trial.set_user_attr("budget", {"epochs": EPOCHS})
        return {"policy": sampled}

    return StudySearcher(
        study, propose, metric="accuracy", max_steps=EPOCHS, user_attrs=("epochs_run",), before_tell=hook
    )


def run_fake_trial(searcher, trial_id, epochs):
    searcher.suggest(trial_id)
    for epoch in range(1, epochs + 1):
        result = {"accuracy": 0.1 * epoch, "training_iteration": epoch, "epochs_run": epoch}
        if epoch < epochs:
            searcher.on_trial_result(trial_id, result)
    searcher.on_trial_complete(trial_id, result)


def artifacts_of(study, trial):
    return {meta.filename: meta for meta in get_all_artifact_meta(trial, storage=study._storage)}


@pytest.mark.parametrize(
    "epochs, state", [(EPOCHS, TrialState.COMPLETE), (1, TrialState.PRUNED)], ids=["complete", "pruned"]
)
def test_finished_trials_get_a_sample_grid_and_a_learning_curve(study, tmp_path, epochs, state):
    store = artifact_store(tmp_path / "runs")
    searcher = searcher_with(study, TrialArtifacts(store, tiny_samples()), BASELINES["guide"].to_dict())
    run_fake_trial(searcher, "t0", epochs)
    trial = study.trials[0]
    assert trial.state == state and trial.user_attrs["epochs_run"] == epochs
    metas = artifacts_of(study, trial)
    assert set(metas) == {GRID_FILE, CURVE_FILE}
    grid = Image.open(store.open_reader(metas[GRID_FILE].artifact_id))
    assert grid.format == "PNG" and grid.size[0] > 4 * 32
    curve = Image.open(store.open_reader(metas[CURVE_FILE].artifact_id))
    assert curve.size == (400, 300)


def test_failed_trials_get_no_artifacts(study, tmp_path):
    calls = []
    searcher = searcher_with(study, lambda *args: calls.append(args))
    searcher.suggest("t0")
    searcher.on_trial_complete("t0", error=True)  # no callback active: FAIL at once
    assert study.trials[0].state == TrialState.FAIL and calls == []


def test_a_grid_that_cannot_be_made_is_one_warning_and_the_trial_still_completes(study, tmp_path, capsys):
    store = artifact_store(tmp_path)
    broken = Samples(images=np.zeros((2, 5, 3), np.uint8), labels=np.zeros(2, int), class_names=("a",))
    searcher = searcher_with(study, TrialArtifacts(store, broken), BASELINES["guide"].to_dict())
    run_fake_trial(searcher, "t0", EPOCHS)
    trial = study.trials[0]
    assert trial.state == TrialState.COMPLETE and trial.value == pytest.approx(0.3)
    assert set(artifacts_of(study, trial)) == {CURVE_FILE}
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"artifacts for trial 0 not made: {GRID_FILE}: ")


def test_an_upload_that_fails_never_fails_the_trial(study, tmp_path, capsys):
    store = artifact_store(tmp_path / "gone", create=False)  # its folder does not exist
    searcher = searcher_with(study, TrialArtifacts(store, None), {"not": "a policy"})
    run_fake_trial(searcher, "t0", EPOCHS)
    assert study.trials[0].state == TrialState.COMPLETE
    assert "artifacts for trial 0 not made: upload: FileNotFoundError" in capsys.readouterr().err


def test_the_hook_pickles_as_tune_pickles_the_searcher(tmp_path):
    hook = pickle.loads(pickle.dumps(TrialArtifacts(artifact_store(tmp_path), tiny_samples())))
    assert hook.samples.images.shape == (4, 32, 32, 3)


class FakeDataset:
    class validation:
        images = tiny_samples(6).images
        labels = np.array([0, 1, 0, 1, 0, 1])

    class_names = ("a", "b")


def test_start_artifacts_writes_the_note_and_picks_the_samples(study, tmp_path):
    enqueue_baselines(study, SearchSpace())
    hook = start_artifacts(study, tmp_path / "runs", FakeDataset(), images=4, seed=1)
    assert (tmp_path / "runs" / "artifacts").is_dir()
    assert hook.samples.images.shape == (4, 32, 32, 3)
    assert set(enqueued_baselines(study)) == set(BASELINES)
    note = get_note(study)
    assert "fashion_mnist" in note and "guide" in note and "none" in note


def test_start_artifacts_never_raises(study, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert start_artifacts(study, tmp_path / "file", FakeDataset()) is None  # the runs dir is a file
    assert "trial artifacts will not be made" in capsys.readouterr().err
