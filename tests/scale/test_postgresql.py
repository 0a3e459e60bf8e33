"""The study in a real PostgreSQL server (started by tests/scale/conftest.py on loopback): a
search writes it, `search trials`, `export` and the dashboard read it back by its URL, and the
database refuses a second driver on the same study, from any run directory.

The server runs in processes of its own; the search, `trials` and `export` run in this process
(`search.cli.main`, the search on this process's Ray); the dashboard (a server) and a driver to
SIGKILL are processes of their own."""

import json
import signal
import subprocess
import sys
import time
import urllib.request

import optuna
import pytest
from optuna.trial import TrialState
from reliability.search_process import SMOKE_RUN, cli, one_line_error
from scale_servers import PG_PASSWORD, free_port

from search.locks import driver_lock
from search.storage import open_storage
from space import AugSearchError


def test_search_on_postgresql_then_trials_export_and_dashboard_read_it(postgres_url, tmp_path):
    runs = tmp_path / "runs"
    done = cli(*SMOKE_RUN, "--trials", "2", "--concurrency", "2", "--storage", postgres_url, "--runs-dir", runs)
    assert done.returncode == 0, done.stderr[-4000:]
    assert PG_PASSWORD not in done.stdout + done.stderr, "the password is masked wherever the URL is printed"
    assert "in postgresql://augsearch:***@127.0.0.1:" in done.stderr

    study = optuna.load_study(study_name="fashion_mnist", storage=open_storage(postgres_url))
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 2 and all(t.user_attrs.get("node_id") for t in finished)
    assert not (runs / "search.db").exists(), "no SQLite study beside the PostgreSQL one"

    # Readers need only the URL: another run directory, none of the search's files.
    elsewhere = tmp_path / "elsewhere"
    trials = cli("trials", "--storage", postgres_url, "--runs-dir", elsewhere)
    assert trials.returncode == 0, trials.stderr[-3000:]
    numbers = [line.split()[0] for line in trials.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert numbers == ["0", "1"], trials.stdout
    assert "none" in trials.stdout or "guide" in trials.stdout, trials.stdout

    exported = cli("export", "--storage", postgres_url, "--runs-dir", elsewhere, "--out", tmp_path / "policy.json")
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert json.loads((tmp_path / "policy.json").read_text())

    # The dashboard on the URL, with the search's run directory for the trials' pictures.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "search.cli",
            "dashboard",
            "--storage",
            postgres_url,
            "--runs-dir",
            str(runs),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        summaries = _get_json(f"{base}/api/studies", server)["study_summaries"]
        assert [s["study_name"] for s in summaries] == ["fashion_mnist"]
        detail = _get_json(f"{base}/api/studies/{summaries[0]['study_id']}", server)
        assert [t["number"] for t in detail["trials"]] == [0, 1]
        assert all(
            {a["filename"] for a in t["artifacts"]} == {"samples.png", "learning_curve.png"} for t in detail["trials"]
        )
    finally:
        server.send_signal(signal.SIGINT)
        try:
            stdout, stderr = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            stdout, stderr = server.communicate()
    assert PG_PASSWORD not in stdout + stderr


def test_the_database_refuses_a_second_driver_from_another_run_directory(postgres_url, tmp_path):
    with driver_lock(tmp_path / "machine-a", "s", postgres_url):
        with (
            pytest.raises(
                AugSearchError, match=r"already running study 's' in postgresql://augsearch:\*\*\*@.*another machine"
            ),
            driver_lock(tmp_path / "machine-b", "s", postgres_url),
        ):
            pass
        with driver_lock(tmp_path / "machine-b", "other", postgres_url):  # another study is fine
            pass
    with driver_lock(tmp_path / "machine-b", "s", postgres_url):  # released with the first driver
        pass


def test_a_killed_driver_leaves_no_lock_in_the_database(postgres_url, tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom search.locks import driver_lock\n"
            f"with driver_lock({str(tmp_path / 'a')!r}, 'killed', {postgres_url!r}):\n"
            "    print('locked', flush=True)\n    time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(AugSearchError, match="already running study 'killed'"):
            with driver_lock(tmp_path / "b", "killed", postgres_url):
                pass
    finally:
        holder.kill()  # SIGKILL: no clean-up runs in the holder
        holder.wait(timeout=30)
    deadline = time.monotonic() + 30  # the server ends the session once it sees the socket closed
    while True:
        try:
            with driver_lock(tmp_path / "b", "killed", postgres_url):
                break
        except AugSearchError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_an_unreachable_server_is_one_line_with_the_password_masked(tmp_path):
    url = f"postgresql://augsearch:{PG_PASSWORD}@127.0.0.1:{free_port()}/augsearch"
    done = cli("trials", "--storage", url, "--runs-dir", tmp_path)
    line = one_line_error(done, "trials")
    assert "cannot be opened" in line and "postgresql://augsearch:***@127.0.0.1" in line
    assert PG_PASSWORD not in line


def _get_json(url, server, seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        if server.poll() is not None:
            pytest.fail(f"search dashboard exited with {server.returncode}: {server.communicate()[1][-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
