"""Issue 6, cases 1, 7 and 5, on one study (smoke trials cost tens of seconds each here, so the
runs are shared): real Ray and a real SQLite study.

1. `search run --trials 8 --budget smoke`, a real process, is SIGKILLed once 2 trials finished
   (another one RUNNING), run again in a process and stopped with Ctrl-C (SIGINT to its process
   group, as a terminal sends it), then run again to the end (in this process).
7. During the second run, `search trials` (in a loop in a reader process) and `search dashboard`
   (a process of its own, its HTTP API polled) read the study while the search writes it.
   Meanwhile a second `search run` on the same study, in this process, is refused: the driver
   lock holds between two processes.
5. Then the same study with another search space is refused (in this process: the check is the
   library's), and left as it was.
"""

import contextlib
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest
from search_process import (
    SEARCH,
    SMOKE_RUN,
    cli,
    finished,
    load,
    one_line_error,
    reap,
    start_search,
    states,
    study_ready,
    wait_for,
)

from search.study import STALE_RUNNING_MESSAGE

TRIALS = 8
CTRL_C_SECONDS = 20  # "within a few seconds", with room for two cores shared by other work

# Calls `search trials` in-process in a loop until told to stop, then prints what it saw.
READER = """
import contextlib, io, json, os, sys, time
from search.cli import main
runs, stop = sys.argv[1], sys.argv[2]
calls, failures = 0, []
while not os.path.exists(stop):
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["trials", "--runs-dir", runs])
        text = out.getvalue() + err.getvalue()
        if code != 0 or "locked" in text:
            failures.append(f"exit {code}: {text[-500:]}")
    except Exception as error:
        failures.append(f"{type(error).__name__}: {error}")
    calls += 1
    time.sleep(0.2)
print(json.dumps({"calls": calls, "failures": failures}))
"""


def _free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            body = response.read().decode()
            return response.status, body
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except OSError as error:
        return None, str(error)


def _snapshot(study):
    return {
        t.number: (t.state.name, t.value, dict(t.intermediate_values))
        for t in study.get_trials(deepcopy=False)
        if t.state.name in ("COMPLETE", "PRUNED")
    }


def _running(study):
    return sorted(t.number for t in study.get_trials(deepcopy=False) if t.state.name == "RUNNING")


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """Runs the whole story once; each test checks one part of what it recorded."""
    root = tmp_path_factory.mktemp("interrupted")
    runs = root / "runs"
    command = (*SMOKE_RUN, "--trials", TRIALS, "--runs-dir", runs)
    seen = {}

    # 1a. SIGKILL once 2 trials finished and another is running.
    log = root / "killed.log"
    killed = start_search(*command, log=log)
    try:
        wait_for(
            lambda: study_ready(runs) and finished(load(runs)) >= 2 and _running(load(runs)),
            "2 finished trials and a running one",
            killed,
            log,
        )
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
    finally:
        reap(killed)
    study = load(runs)
    seen["before_kill"] = _snapshot(study)
    seen["left_running"] = _running(study)

    # 1b + 7. The same command again, in a process, with a dashboard and `search trials` reading
    # the study while it writes it and a second driver refused; then stopped with Ctrl-C while its
    # own trials run.
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    dashboard = subprocess.Popen(
        [*SEARCH, "dashboard", "--runs-dir", str(runs), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stop = root / "stop-reading"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(runs), str(stop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    log = root / "interrupted.log"
    trials_so_far = len(study.trials)
    interrupted = start_search(*command, log=log)
    polls, poll_failures = 0, []
    try:
        wait_for(
            lambda: _get(f"{base}/api/meta")[0] == 200, "the dashboard to answer", dashboard, root / "none", timeout=180
        )
        study_id = json.loads(_get(f"{base}/api/studies")[1])["study_summaries"][0]["study_id"]
        wait_for(
            lambda: [n for n in _running(load(runs)) if n >= trials_so_far],
            "a trial of this run running",
            interrupted,
            log,
        )
        seen["second_driver"] = cli(*command)
        while polls < 10 and interrupted.poll() is None:  # well into the trial
            for url in (f"{base}/api/studies", f"{base}/api/studies/{study_id}"):
                status, body = _get(url)
                polls += 1
                if status != 200 or "locked" in body:
                    poll_failures.append(f"{url}: {status} {body[:300]}")
            time.sleep(0.3)
        os.killpg(interrupted.pid, signal.SIGINT)
        started = time.monotonic()
        interrupted.wait(timeout=120)
        seen["ctrl_c_seconds"] = time.monotonic() - started
        seen["ctrl_c_exit"] = interrupted.returncode
    finally:
        stop.touch()
        reader_out, reader_err = reader.communicate(timeout=120)
        dashboard.send_signal(signal.SIGINT)
        try:
            dashboard.wait(timeout=20)
        finally:
            reap(dashboard)
            reap(interrupted)
    seen["ctrl_c_log"] = log.read_text()
    seen["dashboard"] = {"polls": polls, "failures": poll_failures}
    seen["reader"] = (
        json.loads(reader_out.strip().splitlines()[-1]) if reader_out.strip() else {"error": reader_err[-2000:]}
    )
    study = load(runs)
    seen["after_ctrl_c"] = {t.number: (t.state.name, t.user_attrs.get("error")) for t in study.trials}

    # 1c. The same command to the end (in this process: what is left is the library's).
    seen["resumed"] = cli(*command)
    study = load(runs)
    seen["final"] = study
    seen["final_snapshot"] = _snapshot(study)

    # 5. Another search space on the same study and run directory.
    db = runs / "search.db"
    digest = _content_digest(db)
    seen["other_space"] = cli(*command, "--ops", "brightness,contrast", "--magnitude", "0,0.5")
    seen["db_unchanged"] = _content_digest(db) == digest
    return seen


def _content_digest(db) -> str:
    """The database's content, not its file's bytes: in WAL mode any connection may checkpoint the
    log into the file, which rewrites pages without changing a row."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()


def test_sigkill_keeps_finished_trials_and_the_next_run_fails_the_stale_ones_and_finishes(story):
    assert len(story["before_kill"]) >= 2 and story["left_running"], story["before_kill"]
    assert story["resumed"].returncode == 0, story["resumed"].stderr[-3000:]
    final = story["final"]
    counts = states(final)
    assert finished(final) == TRIALS and counts["RUNNING"] == 0 and counts["WAITING"] == 0, counts
    # Every trial finished before the kill is still there, with the same state, value and curve.
    assert {n: story["final_snapshot"][n] for n in story["before_kill"]} == story["before_kill"]
    # The trials the dead run left RUNNING are FAIL, saying why.
    for number in story["left_running"]:
        trial = final.trials[number]
        assert trial.state.name == "FAIL" and trial.user_attrs["error"] == STALE_RUNNING_MESSAGE
    assert f"marked trials {', '.join(map(str, story['left_running']))} FAIL" in story["ctrl_c_log"]


def test_ctrl_c_stops_within_seconds_and_leaves_no_running_trial(story):
    assert story["ctrl_c_exit"] == 130, story["ctrl_c_log"][-3000:]
    assert story["ctrl_c_seconds"] < CTRL_C_SECONDS, story["ctrl_c_log"][-3000:]
    assert "stopping: running trials end as FAIL" in story["ctrl_c_log"]
    assert "Traceback" not in story["ctrl_c_log"]
    after = story["after_ctrl_c"]
    assert "RUNNING" not in {state for state, _ in after.values()}, after
    stopped = [
        n for n, (state, error) in after.items() if error and error.startswith("interrupted by the user (Ctrl-C)")
    ]
    assert stopped and all(after[n][0] == "FAIL" for n in stopped), after


def test_trials_and_dashboard_read_the_study_while_the_search_writes_it(story):
    reader, dashboard = story["reader"], story["dashboard"]
    assert reader.get("calls", 0) >= 5 and reader.get("failures") == [], reader
    assert dashboard["polls"] >= 10 and dashboard["failures"] == [], dashboard
    assert "locked" not in story["ctrl_c_log"] and "locked" not in story["resumed"].stderr


def test_a_second_search_on_the_same_study_is_refused_while_one_runs(story):
    line = one_line_error(story["second_driver"])
    assert "another `search run` is already running study 'fashion_mnist'" in line, line


def test_resuming_with_another_search_space_is_refused_saying_what_differs(story):
    line = one_line_error(story["other_space"])
    assert "study 'fashion_mnist' in sqlite:///" in line and "was made with different settings (search_space: " in line
    assert "stored {'magnitude': [0.0, 1.0], 'ops': ['auto_contrast'," in line
    assert "now {'magnitude': [0.0, 0.5], 'ops': ['contrast', 'brightness']}" in line
    assert "run with the original flags to resume it, or pass --study NEW_NAME to start a new study" in line
    assert story["db_unchanged"], "the refused run wrote to the study"
