"""`search evaluate` stopped by Ctrl-C keeps every finished training, and the same command again
trains only the rest: real Ray, real trainings at a tiny budget. The interrupted evaluation is a
real process (Ctrl-C is SIGINT to its process group, as a terminal sends it); the same command
again runs in this process (`search.cli.main`), on this process's Ray."""

import os
import signal
import time

from optuna.trial import TrialState
from search_process import TINY_MODEL, cli, load, reap, start_search, wait_for

EVALUATE = (
    "evaluate",
    "--baselines",
    "none,trivialaugment",
    "--seeds",
    "2",
    "--budget",
    "smoke",
    "--model",
    TINY_MODEL,
    "--epochs",
    "2",
    "--concurrency",
    "1",
)


def trainings(runs):
    return load(runs, "fashion_mnist.evaluation").get_trials(deepcopy=False)


def test_ctrl_c_keeps_finished_trainings_and_the_same_command_trains_the_rest(tmp_path):
    runs, log = tmp_path / "runs", tmp_path / "evaluate.log"
    process = start_search(*EVALUATE, "--runs-dir", runs, log=log)
    try:
        wait_for(lambda: "[1/4]" in log.read_text(), "the first training to finish", process, log)
        os.killpg(process.pid, signal.SIGINT)
        started = time.monotonic()
        exit_code = process.wait(timeout=120)
        stopped_in = time.monotonic() - started
    finally:
        reap(process)
    text = log.read_text()
    assert exit_code == 130, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert "run the same command again to train the rest" in text
    assert stopped_in < 60, text[-3000:]
    kept = trainings(runs)
    assert 1 <= len(kept) < 4 and {t.state for t in kept} == {TrialState.COMPLETE}, "only finished trainings are stored"
    before = {t.user_attrs["key"]: t.value for t in kept}

    again = cli(*EVALUATE, "--runs-dir", runs)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{len(kept)} trainings stored, {4 - len(kept)} to run" in again.stderr
    after = trainings(runs)
    assert len(after) == 4 and {t.state for t in after} == {TrialState.COMPLETE}
    assert {t.user_attrs["key"]: t.value for t in after if t.user_attrs["key"] in before} == before
