import io

import optuna
import pytest
from optuna.artifacts import download_artifact, get_all_artifact_meta
from optuna.trial import TrialState, create_trial
from optuna_dashboard import get_note
from PIL import Image

from results.artifacts import (
    CURVE_FILE,
    GRID_FILE,
    artifact_dir,
    artifact_store,
    study_note,
    trial_artifact_names,
    upload_trial_artifacts,
    write_study_note,
)
from results.curves import learning_curve_png
from space import BASELINES, GUIDE_POLICY, SearchSpace

SETTINGS = {
    "dataset": "fashion_mnist",
    "budget": {"image_size": 32, "epochs": 3, "model": "small"},
    "search_space": SearchSpace().to_dict(),
    "seed": 7,
}


def png(color=(255, 0, 0), size=(8, 6)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def study(tmp_path):
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'search.db'}", study_name="s", direction="maximize")
    study.set_user_attr("augsearch", SETTINGS)
    return study


def running_trial(study, epochs=3):
    trial = study.ask()
    trial.suggest_float("magnitude", 0, 1)
    trial.set_user_attr("policy", GUIDE_POLICY.to_dict())
    trial.set_user_attr("budget", SETTINGS["budget"])
    for epoch in range(1, epochs + 1):
        trial.report(0.1 * epoch, epoch)
    return trial


def read(store, artifact_id, tmp_path):
    path = tmp_path / "download"
    download_artifact(artifact_store=store, artifact_id=artifact_id, file_path=str(path))
    data = path.read_bytes()
    path.unlink()
    return data


def test_uploaded_artifacts_are_listed_on_the_finished_trial_with_their_bytes(study, tmp_path):
    store = artifact_store(tmp_path / "runs")
    assert artifact_dir(tmp_path / "runs").is_dir()
    trial = running_trial(study)
    grid, curve = png((255, 0, 0)), png((0, 0, 255))
    assert upload_trial_artifacts(study, trial, store, grid, curve) == [GRID_FILE, CURVE_FILE]
    study.tell(trial, 0.3)

    reader = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'search.db'}")
    finished = reader.trials[0]
    assert finished.state == TrialState.COMPLETE
    metas = {meta.filename: meta for meta in get_all_artifact_meta(finished, storage=reader._storage)}
    assert set(metas) == {GRID_FILE, CURVE_FILE}
    assert {meta.mimetype for meta in metas.values()} == {"image/png"}
    assert read(store, metas[GRID_FILE].artifact_id, tmp_path) == grid
    assert read(store, metas[CURVE_FILE].artifact_id, tmp_path) == curve


def test_a_second_upload_adds_no_duplicates_and_none_is_left_out(study, tmp_path):
    store = artifact_store(tmp_path)
    trial = running_trial(study)
    assert upload_trial_artifacts(study, trial, store, None, png()) == [CURVE_FILE]
    assert upload_trial_artifacts(study, trial, store, png(), png()) == [GRID_FILE]
    assert upload_trial_artifacts(study, trial, store, png(), png()) == []
    assert sorted(trial_artifact_names(study, trial)) == [CURVE_FILE, GRID_FILE]
    assert len(get_all_artifact_meta(trial)) == 2


def test_a_finished_trial_cannot_take_artifacts(study, tmp_path):
    # Why the driver uploads before it tells the trial: Optuna refuses to change a finished one.
    study.add_trial(create_trial(value=0.5))
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        upload_trial_artifacts(study, study.trials[0], artifact_store(tmp_path), png(), None)


def test_the_study_note_gives_dataset_budget_space_and_references():
    note = study_note(SETTINGS, BASELINES, "fashion_mnist")
    assert note.startswith("## AugSearch study `fashion_mnist`")
    assert "`fashion_mnist`" in note and "**Seed:** 7" in note
    assert "| epochs | 3 |" in note and "| model | `small` |" in note
    assert "| magnitude | 0.0 to 1.0 |" in note and "| augmentations_per_image | 1 to 4 |" in note
    assert "`solarization`" in note and "| mixup_alpha | 0.2 (fixed) |" in note
    for name, policy in BASELINES.items():
        assert f"- **{name}**: `{policy!r}`" in note
    assert GRID_FILE in note and CURVE_FILE in note


def test_the_study_note_without_references_says_so():
    assert "None in this study" in study_note(SETTINGS, {})


def test_write_study_note_saves_it_for_the_dashboard_and_replaces_the_last(study):
    write_study_note(study, {})
    body = write_study_note(study, BASELINES)
    assert get_note(study) == body
    assert "guide" in body and "`s`" in body


@pytest.mark.parametrize("state", [TrialState.COMPLETE, TrialState.PRUNED], ids=["complete", "pruned"])
def test_learning_curve_is_a_small_png(state):
    values = {1: 0.2, 2: 0.35} if state == TrialState.PRUNED else {1: 0.2, 2: 0.35, 3: 0.5}
    trial = create_trial(
        state=state,
        value=0.5 if state == TrialState.COMPLETE else None,
        intermediate_values=values,
        user_attrs={"budget": {"epochs": 3}},
    )
    picture = Image.open(io.BytesIO(learning_curve_png(trial)))
    assert picture.format == "PNG"
    assert picture.size == (400, 300)


def test_learning_curve_without_values_is_still_a_picture():
    picture = Image.open(io.BytesIO(learning_curve_png(create_trial(state=TrialState.PRUNED))))
    assert picture.size == (400, 300)
