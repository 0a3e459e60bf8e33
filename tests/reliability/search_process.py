"""Helpers for the reliability tests: the real `search` CLI, in this process (`cli`: what the
library does) or in a subprocess (`search`, `start_search`: what only a process shows, signals
and locks between two processes), and the real study file."""

from __future__ import annotations

import collections
import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna

from search.storage import open_storage

SEARCH = (sys.executable, "-m", "search.cli")
# A suite started with `&` from a script (a non-interactive shell) inherits SIGINT ignored, and so would
# the searches it starts, which must take Ctrl-C as a terminal sends it: an ignored signal stays
# ignored across exec, a handled one is reset to the default there.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# The tiny model of tests/tests_pkg: what these tests check is the search, not the proxy, and a
# fresh Ray worker builds its graph in a fraction of the small EfficientNet's seconds.
TINY_MODEL = "tests_pkg.nets:build"
# No race: it has tests of its own (tests/search/test_race.py and others).
SMOKE_RUN = ("run", "--budget", "smoke", "--model", TINY_MODEL, "--race-top", "0")


def cli(*argv) -> subprocess.CompletedProcess:
    """Run `search ARGV...` in this process (`search.cli.main`) to the end, its stdout and stderr
    captured, as `search` does for a process: the same checks (exit status, one line on stderr)
    without a Python, TensorFlow and Ray of its own. A search here runs on this process's Ray,
    which the first one starts and the later ones share."""
    from search.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(arg) for arg in argv])
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(["search", *map(str, argv)], code, out.getvalue(), err.getvalue())


def search(*argv, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `search ARGV...` in a process of its own to the end."""
    return subprocess.run([*SEARCH, *map(str, argv)], capture_output=True, text=True, timeout=timeout, env=_env(env))


def start_search(*argv, log: Path, env: dict | None = None) -> subprocess.Popen:
    """Start `search ARGV...` in its own session (so that its Ray processes can be told apart and
    signalled the way a terminal does), stdout and stderr to `log`."""
    with open(log, "w") as out:
        return subprocess.Popen(
            [*SEARCH, *map(str, argv)],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(env),
            start_new_session=True,
        )


def reap(process: subprocess.Popen) -> None:
    """Kill what is left of the process group we started (Ray's agents outlive a SIGKILLed driver)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def one_line_error(done: subprocess.CompletedProcess, command: str = "run") -> str:
    """The CLI's error for bad input: exit status 2 and one line on stderr, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith(f"search {command}: error: "), lines[0]
    return lines[0]


def last_line_error(done: subprocess.CompletedProcess, command: str = "run") -> str:
    """A search that stopped with an error after it started: exit status 2, its progress lines, then
    the error as the last line, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    line = done.stderr.splitlines()[-1]
    assert line.startswith(f"search {command}: error: "), done.stderr[-3000:]
    return line


def study_ready(runs: Path, name: str = "fashion_mnist") -> bool:
    """The search has created its study: read-only, so that a reader polling while the search
    creates the database never races it to create the tables (Optuna would, on an empty file)."""
    import sqlite3

    path = runs / "search.db"
    if not path.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            return db.execute("SELECT 1 FROM studies WHERE study_name = ?", (name,)).fetchone() is not None
    except sqlite3.Error:
        return False


def load(runs: Path, name: str = "fashion_mnist") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(f"sqlite:///{runs}/search.db"))


def states(study: optuna.Study) -> collections.Counter:
    return collections.Counter(trial.state.name for trial in study.get_trials(deepcopy=False))


def finished(study: optuna.Study) -> int:
    counts = states(study)
    return counts["COMPLETE"] + counts["PRUNED"]


def wait_for(condition, what: str, process: subprocess.Popen, log: Path, timeout: float = 600, every: float = 0.5):
    """Poll `condition()` until it returns something true; fail if the process ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = condition()
        except KeyError:  # Optuna's "Record does not exist": the database is there, the study not yet
            found = None
        if found:
            return found
        if process.poll() is not None:
            raise AssertionError(f"search ended ({process.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")


def _env(extra: dict | None) -> dict:
    return {**os.environ, **(extra or {})}
