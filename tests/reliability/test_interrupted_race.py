"""A race interrupted in the middle keeps every finished training, and the same command
again finishes the race without retraining them: real Ray, real trainings of the tiny model at a
tiny budget. Exploration runs first in this process (it has tests of its own); the interrupted
search is then a real process that goes straight to the race (stopped by Ctrl-C, SIGINT to its
process group as a terminal sends it; a SIGKILLed one loses no more, since only finished
trainings are stored); the same command then finishes it in this process."""

import os
import signal

from optuna.trial import TrialState
from search_process import TINY_MODEL, cli, load, reap, start_search, study_ready, wait_for

from results.race_record import read_record

EXPLORATION = (
    "run",
    "--budget",
    "smoke",
    "--model",
    TINY_MODEL,
    "--epochs",
    "1",
    "--train-examples",
    "64",
    "--trials",
    "2",
    "--no-baselines",
    "--concurrency",
    "2",
)
#: The race at a target budget other than exploration's (both tiny), against one baseline.
COMMAND = (
    *EXPLORATION,
    "--race-top",
    "2",
    "--race-seeds",
    "2",
    "--race-baselines",
    "none",
    "--target-budget",
    "smoke",
    "--target-train-examples",
    "96",
    "--target-epochs",
    "1",
)


def trainings(runs):
    if not study_ready(runs):
        return []
    try:
        return load(runs, "fashion_mnist.confirmation").get_trials(deepcopy=False)
    except KeyError:  # the race study does not exist yet
        return []


def test_an_interrupted_race_finishes_without_retraining(tmp_path):
    runs = tmp_path / "runs"
    command = (*COMMAND, "--runs-dir", runs)
    explored = cli(*EXPLORATION, "--race-top", "0", "--runs-dir", runs)
    assert explored.returncode == 0, explored.stderr[-3000:]

    log = tmp_path / "interrupted.log"
    interrupted = start_search(*command, log=log)
    try:
        wait_for(lambda: len(trainings(runs)) >= 1, "a race training stored", interrupted, log)
        os.killpg(interrupted.pid, signal.SIGINT)
        exit_code = interrupted.wait(timeout=120)
    finally:
        reap(interrupted)
    text = log.read_text()
    assert exit_code == 130, text[-3000:]
    assert "Traceback" not in text and "run the same command again to train the rest" in text, text[-3000:]
    before = {t.user_attrs["key"]: t.value for t in trainings(runs)}
    assert before and {t.state for t in trainings(runs)} == {TrialState.COMPLETE}
    assert load(runs).user_attrs.get("augsearch_confirmation") is None, "no winner before the race ends"

    done = cli(*command)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2/2 trials finished" in done.stderr, "exploration was already done"
    record = read_record(load(runs))
    assert f"race winner: {'baseline ' if record.winning.contestant.is_baseline else ''}{record.winner}" in done.stdout
    final = trainings(runs)
    assert {t.user_attrs["key"]: t.value for t in final if t.user_attrs["key"] in before} == before, "kept as they were"
    assert len({t.user_attrs["key"] for t in final}) == len(final), "nothing trained twice"
    assert len(final) == sum(len(r.scores) for r in record.results)
    assert {t.user_attrs["budget"]["train_examples"] for t in final} == {96}, "the race trains at the target budget"
