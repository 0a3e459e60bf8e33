"""The final race of `run_search` end to end: real Ray, real trainings of the tiny model at
tiny budgets, a real SQLite study. The best searched trials race a baseline at a target budget
other than exploration's; the trainings are stored in the race study, the record in the
search study, and `export` writes the winner, a baseline when it wins; running the same search
again trains nothing, and exploring further clears the winner until a new race ends."""

import json

import pytest
from optuna.trial import TrialState

from search import Resources, SearchSettings, run_search
from search.race import searched_contestants
from search.storage import load_existing_study
from search.trainings import race_seeds, trial_seed
from space import BASELINES, Policy

MODEL = "tests_pkg.nets:build"


#: The race's budget: 2 epochs on 96 images, where exploration trains 1 epoch on 64.
TARGET = {"epochs": 2, "train_examples": 96, "score_examples": 256}


def settings(runs_dir, trials, **fields):
    fields = {"race_top": 2, "race_seeds": 2, "race_baselines": "none", **fields}
    return SearchSettings(
        trials=trials,
        budget="smoke",
        budget_overrides={"epochs": 1, "train_examples": 64, "score_examples": 256},
        model=MODEL,
        baselines=False,
        runs_dir=runs_dir,
        resources=Resources(concurrency=2),
        target_budget="smoke",
        target_overrides=TARGET,
        **fields,
    )


def race_trainings(runs):
    return load_existing_study(runs, None, "fashion_mnist.confirmation").get_trials(deepcopy=False)


def test_the_best_trials_race_a_baseline_at_the_target_budget_and_the_winner_is_exported(tmp_path, capsys):
    runs = tmp_path / "runs"
    result = run_search(settings(runs, 3))
    err = capsys.readouterr().err
    record = result.race
    assert record is not None and not result.interrupted
    chosen = [ref.label for ref in searched_contestants(result.study, 2)]
    labels = [r.label for r in record.results]
    assert sorted(labels) == sorted([*chosen, "none"])
    assert record.result("none").contestant.policy == BASELINES["none"]
    assert list(record.seeds) == race_seeds(0, 2)
    assert not set(record.seeds) & {trial_seed(0, n) for n in range(3)}, "fresh seeds, not exploration's"
    # The first line says what the race may cost: its trainings, and their time at exploration's speed.
    first = next(line for line in err.splitlines() if line.startswith("race: "))
    field = len(record.results)
    assert first.startswith(
        f"race: up to {field * 2} trainings ({field} contestants x 2 seeds) of 2 epochs x 96 images, about "
    )
    assert " with 2 at once (exploration's speed): trial " in first and ", none on paired seeds" in first
    assert "race winner: " in err and result.no_winner_reason is None

    trainings = race_trainings(runs)
    assert len(trainings) == sum(len(r.scores) for r in record.results)
    assert all(len(r.scores) == 2 for r in record.results if r.dropped_after is None)
    assert {t.state for t in trainings} == {TrialState.COMPLETE}
    for training in trainings:
        assert training.user_attrs["seed"] in record.seeds and training.user_attrs["labels"][0] in labels
        assert training.user_attrs["budget"] == {**result.study.trials[0].user_attrs["budget"], **TARGET}
        assert 0.0 <= training.value <= 1.0 and set(training.intermediate_values) == {1, 2}
        assert "test_accuracy" not in training.user_attrs
    # Exploration's objective is scored on 256 validation images after its one epoch.
    for trial in result.study.get_trials(states=(TrialState.COMPLETE,)):
        assert trial.value * 256 == pytest.approx(round(trial.value * 256), abs=1e-3)
        assert set(trial.intermediate_values) == {1}

    winner = record.winning.contestant
    assert result.best.label == winner.label and result.best_policy == winner.policy
    exported = json.loads(result.export(tmp_path / "policy.json").read_text())
    assert exported["policy"] == winner.policy.to_dict()
    assert exported["provenance"]["trial"] == winner.trial
    assert exported["provenance"]["baseline"] == (winner.label if winner.is_baseline else None)
    assert exported["provenance"]["confirmation"]["seeds"] == list(record.seeds)

    # The same search again: exploration and the race are both done; nothing is retrained.
    capsys.readouterr()
    again = run_search(settings(runs, 3))
    assert len(race_trainings(runs)) == len(trainings) and again.race == record
    assert f"seeds, {len(trainings)} already trained) of 2 epochs x 96 images, nothing left to train: " in (
        capsys.readouterr().err
    )

    # Exploring further clears the winner: until a new race ends, there is none (export falls back).
    explored = run_search(settings(runs, 4, race_top=0))
    complete = explored.study.get_trials(states=(TrialState.COMPLETE,))
    assert explored.race is None and explored.best_trial.value == max(t.value for t in complete)
    assert explored.no_winner_reason == "the race is off (race_top 0)"


def test_a_baseline_that_wins_the_race_is_exported_and_the_search_says_so(tmp_path, capsys):
    """The race's trainings are planted in its study as finished, the baseline scoring higher on
    every seed: the race replays them (training nothing), names the baseline, and export writes it."""
    from results.stored import RACE_STUDY_ATTR, TrainingJob, open_trainings_study, training_key, write_training
    from search.cli import main
    from search.race import contestants

    runs = tmp_path / "runs"
    explored = run_search(settings(runs, 2, race_top=0))
    race_settings = settings(runs, 2, race_top=1)
    budget = race_settings.race_budget_for(gpus=False)
    trainings = open_trainings_study(explored.storage_url, "fashion_mnist.confirmation", RACE_STUDY_ATTR, {})
    for contestant in contestants(race_settings, explored.study):
        for seed in race_seeds(0, 2):
            score = 0.9 if contestant.is_baseline else 0.5 + seed % 7 / 100
            job = TrainingJob(
                training_key(contestant.policy, seed, budget, "fashion_mnist"),
                contestant.policy,
                seed,
                [contestant.label],
            )
            write_training(trainings, job, budget, "fashion_mnist", {"objective": score}, "objective")
    capsys.readouterr()

    result = run_search(race_settings)
    err = capsys.readouterr().err
    assert "race winner: baseline none, validation accuracy 0.9000" in err
    assert "No searched policy beat it: the best, trial " in err and "so `search export` exports none" in err
    assert len(race_trainings(runs)) == 4, "the stored trainings were replayed, none retrained"
    assert result.best.is_baseline and result.best.label == "none" and result.best_trial is None
    assert result.best_policy == BASELINES["none"]

    assert main(["export", "--runs-dir", str(runs), "--out", str(tmp_path / "policy.json")]) == 0
    assert "the baseline none of study 'fashion_mnist'" in capsys.readouterr().err
    exported = json.loads((tmp_path / "policy.json").read_text())
    assert Policy.from_dict(exported["policy"]) == BASELINES["none"]
    assert exported["provenance"]["baseline"] == "none" and exported["provenance"]["trial"] is None


def test_a_searched_trial_that_augments_like_a_racing_baseline_is_not_raced_twice():
    import optuna
    from optuna.distributions import FloatDistribution

    from space import STANDARD_OPS

    study = optuna.create_study(direction="maximize")
    no_augmentation_with_other_ops = Policy(rate=0.0, magnitude=0.0, magnitude_stddev=0.0, ops=STANDARD_OPS)
    policies = [no_augmentation_with_other_ops, Policy(magnitude=0.3), Policy(magnitude=0.3, mixup_alpha=0.9)]
    for value, policy in zip([0.9, 0.8, 0.7], policies, strict=True):
        study.add_trial(
            optuna.trial.create_trial(
                value=value,
                params={"x": 0.0},
                distributions={"x": FloatDistribution(0, 1)},
                user_attrs={"policy": policy.to_dict()},
            )
        )
    chosen = searched_contestants(study, 3, exclude=[BASELINES["none"]])
    # Trial 0 is `none` under another op set, trial 2 trial 1 with an unused MixUp alpha.
    assert [ref.trial for ref in chosen] == [1]
