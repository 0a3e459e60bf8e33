"""`search.run_search`: the same search again resumes it (real Ray, started once per test process;
real trainings at a tiny budget; a real SQLite file)."""

import optuna
import pytest
from optuna.trial import TrialState

from search import Resources, SearchSettings, run_search
from space import AugSearchError

TINY = {"epochs": 1, "train_examples": 64}
MODEL = "tests_pkg.nets:build"  # the search is under test, not the proxy: the tiny model builds fast


def settings(runs_dir, trials, **fields):
    fields = {"resources": Resources(concurrency=1), "race_top": 0, **fields}
    return SearchSettings(
        trials=trials, budget="smoke", budget_overrides=TINY, model=MODEL, baselines=False, runs_dir=runs_dir, **fields
    )


def finished(study):
    return [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]


def test_the_same_search_with_more_trials_continues(tmp_path, capsys):
    runs = tmp_path / "runs"
    first = {t.number: t.value for t in run_search(settings(runs, 3)).study.trials}
    assert len(first) == 3
    study = run_search(settings(runs, 5)).study
    assert len(finished(study)) == 5
    assert {n: v for n, v in ((t.number, t.value) for t in study.trials) if n in first} == first
    assert "3/5 trials finished" in capsys.readouterr().err
    result = run_search(settings(runs, 5, resources=Resources()))  # already there: nothing to do
    assert "5/5 trials finished" in capsys.readouterr().err
    assert not result.interrupted and len(result.study.trials) == 5
    # What the study was made with is stored with it, and another budget is refused, not mixed in.
    reloaded = optuna.load_study(study_name="fashion_mnist", storage=f"sqlite:///{runs}/search.db")
    assert reloaded.user_attrs["augsearch"]["budget"]["epochs"] == 1
    with pytest.raises(
        AugSearchError,
        match=(
            r"study 'fashion_mnist' in sqlite:///.* was made with different settings "
            r"\(budget: stored \{'epochs': 1\}, now \{'epochs': 2\}\)"
        ),
    ):
        run_search(
            SearchSettings(
                trials=6,
                budget="smoke",
                budget_overrides={"train_examples": 64},
                model=MODEL,
                baselines=False,
                runs_dir=runs,
            )
        )
