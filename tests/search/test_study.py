"""`search.study`: the study's sampler and settings, and trials a dead run left RUNNING."""

from dataclasses import replace

import optuna
import pytest
from optuna.trial import TrialState

from results.stored import StudySettings
from results.trials import progress
from search.study import (
    STALE_RUNNING_MESSAGE,
    fail_stale_trials,
    make_sampler,
    open_study,
)
from space import PRESETS, AugSearchError, SearchSpace, suggest_policy

SETTINGS = StudySettings("fashion_mnist", {"epochs": 2}, {"ops": ["brightness"]}, seed=0)


@pytest.mark.parametrize("name", ["tpe", "tpe-univariate", "random", "cmaes", "gp", "qmc"])
def test_samplers_are_optunas_own(name):
    assert isinstance(make_sampler(name, seed=0), optuna.samplers.BaseSampler)


@pytest.mark.parametrize("name", ["tpe", "tpe-univariate", "random", "cmaes", "qmc"])
def test_each_installed_sampler_proposes_policies_past_its_random_start(name):
    # 12 trials: past the samplers' random start-up trials, where they import what they need
    # (cmaes, scipy): a missing dependency would fail here, not mid-search.
    study = optuna.create_study(sampler=make_sampler(name, seed=0), direction="maximize")
    for _ in range(12):
        trial = study.ask()
        policy = suggest_policy(trial, SearchSpace())
        study.tell(trial, policy.magnitude)
    assert len({trial.params["magnitude"] for trial in study.trials}) == 12


def test_the_gp_sampler_without_pytorch_is_one_line_before_anything_starts():
    import importlib.util

    from search import SearchSettings

    if importlib.util.find_spec("torch") is not None:
        assert SearchSettings(sampler="gp").sampler == "gp"
        return
    with pytest.raises(
        AugSearchError,
        match=(
            r"^sampler 'gp' \(Optuna's GPSampler\) needs PyTorch, which is not installed: pip install 'augsearch\[gp\]'"
        ),
    ):
        SearchSettings(sampler="gp")


def test_an_unknown_sampler_is_refused():
    with pytest.raises(
        AugSearchError,
        match=r"^sampler must be one of tpe, tpe-univariate, random, cmaes, gp, qmc, but got sampler='bayes'\.$",
    ):
        make_sampler("bayes", seed=0)


def test_resuming_with_other_settings_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/search.db"
    open_study(url, "s", make_sampler("random", 0), SETTINGS)
    assert open_study(url, "s", make_sampler("random", 0), SETTINGS).user_attrs["augsearch"] == SETTINGS.to_dict()
    changed = replace(SETTINGS, search_space={"ops": ["brightness", "rotation"]})
    with pytest.raises(AugSearchError, match=r"different settings \(search_space: stored .* --study NEW_NAME"):
        open_study(url, "s", make_sampler("random", 0), changed)


def test_a_study_made_with_an_earlier_preset_is_refused_with_the_flags_that_resume_it(tmp_path):
    url = f"sqlite:///{tmp_path}/search.db"
    earlier_cpu = {**PRESETS["cpu"].to_dict(), "train_examples": 2048, "epochs": 15}  # `cpu` until 1,024 x 30
    open_study(url, "s", make_sampler("random", 0), replace(SETTINGS, budget=earlier_cpu))
    now = replace(SETTINGS, budget=PRESETS["cpu"].to_dict())
    with pytest.raises(AugSearchError) as refused:
        open_study(url, "s", make_sampler("random", 0), now)
    message = str(refused.value)
    assert "\n" not in message and "budget: stored {'train_examples': 2048, 'epochs': 15}" in message
    assert "run with the original flags (--epochs 15 --train-examples 2048) to resume it" in message


def test_a_study_stored_before_distributions_were_searched_resumes_with_its_space_or_is_refused_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path}/search.db"
    then = SearchSpace(ops="standard", magnitude_distributions="normal").to_dict()
    del then["magnitude_distributions"]  # as the code before the field stored it
    open_study(url, "s", make_sampler("random", 0), replace(SETTINGS, search_space=then))
    same = SearchSpace(ops="standard", magnitude_distributions="normal").to_dict()
    assert open_study(url, "s", make_sampler("random", 0), replace(SETTINGS, search_space=same)).study_name == "s"
    with pytest.raises(AugSearchError) as refused:
        open_study(url, "s", make_sampler("random", 0), replace(SETTINGS, search_space=SearchSpace().to_dict()))
    message = str(refused.value)
    assert "\n" not in message and "'magnitude_distributions': ['normal']" in message and "--study NEW_NAME" in message


def test_trials_a_dead_run_left_running_become_fail_and_finished_ones_stay(tmp_path):
    url = f"sqlite:///{tmp_path}/search.db"
    study = open_study(url, "s", make_sampler("random", 0), SETTINGS)
    done = study.ask()
    study.tell(done, 0.5)
    pruned = study.ask()
    study.tell(pruned, state=TrialState.PRUNED)
    stale = study.ask()
    assert fail_stale_trials(study) == [stale.number]
    reloaded = optuna.load_study(study_name="s", storage=url)
    states = {t.number: t.state for t in reloaded.trials}
    assert states == {done.number: TrialState.COMPLETE, pruned.number: TrialState.PRUNED, stale.number: TrialState.FAIL}
    assert reloaded.trials[stale.number].user_attrs["error"] == STALE_RUNNING_MESSAGE
    assert reloaded.trials[done.number].value == 0.5
    assert progress(reloaded).finished == 2
