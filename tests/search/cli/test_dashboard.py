"""`search dashboard`: the real command in a subprocess, its HTTP API, and the trial page in a
real headless Chromium (Debian's `chromium`, which `make test` installs)."""

import io
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import optuna
import pytest
from PIL import Image

from results.artifacts import CURVE_FILE, GRID_FILE, artifact_store, upload_trial_artifacts, write_study_note
from results.curves import learning_curve_png
from results.samples import Samples, png_bytes
from search.cli import main
from search.grid_images import policy_grid
from space import BASELINES, GUIDE_POLICY, SearchSpace

SEARCH = Path(sys.executable).parent / "search"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


def confirmation_study(study):
    """The race of `study`'s trial 0 on 2 seeds, stored the way `search run` stores it."""
    from results.race_record import markdown, to_record
    from results.racing import race
    from results.stored import RACE_SUFFIX
    from search.race import _write_note
    from space import PRESETS
    from space.policy_ref import PolicyRef

    trainings = optuna.create_study(
        storage=study._storage, study_name=study.study_name + RACE_SUFFIX, direction="maximize"
    )
    for seed, value in ((11, 0.61), (12, 0.63)):
        trainings.add_trial(optuna.trial.create_trial(value=value, user_attrs={"seed": seed, "labels": ["trial 0"]}))
    finished = race(["trial 0"], [11, 12], {"trial 0": {11: 0.61, 12: 0.63}})
    contestants = [PolicyRef.of_trial(0, GUIDE_POLICY)]
    record = to_record(
        finished, contestants, budget=PRESETS["smoke"], race_study=trainings.study_name, exploration_trials=2
    )
    _write_note(trainings, record)
    assert markdown(record).startswith("# The race")
    return trainings


def small_study(runs):
    """Two finished trials with their artifacts, written the way `search run` writes them:
    uploaded while the trial is still open, then told."""
    storage = f"sqlite:///{runs / 'search.db'}"
    runs.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(storage=storage, study_name="fashion_mnist", direction="maximize")
    study.set_user_attr(
        "augsearch",
        {
            "dataset": "fashion_mnist",
            "budget": {"epochs": 2, "image_size": 32},
            "search_space": SearchSpace().to_dict(),
            "seed": 0,
        },
    )
    write_study_note(study, BASELINES)
    rng = np.random.default_rng(0)
    samples = Samples(rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8), np.array([0, 1, 0, 1]), ("a", "b"))
    store = artifact_store(runs)
    grids = {}
    for number, (state, epochs) in enumerate(
        [(optuna.trial.TrialState.COMPLETE, 2), (optuna.trial.TrialState.PRUNED, 1)]
    ):
        trial = study.ask()
        trial.suggest_float("magnitude", 0, 1)
        trial.set_user_attr("policy", GUIDE_POLICY.to_dict())
        trial.set_user_attr("budget", {"epochs": 2})
        for epoch in range(1, epochs + 1):
            trial.report(0.3 * epoch, epoch)
        grids[number] = png_bytes(policy_grid(samples, GUIDE_POLICY))
        frozen = study._storage.get_trial(trial._trial_id)
        frozen.state, frozen.value = state, (0.6 if epochs == 2 else None)
        upload_trial_artifacts(study, trial, store, grids[number], learning_curve_png(frozen))
        study.tell(trial, 0.6 if state == optuna.trial.TrialState.COMPLETE else None, state=state)
    return study, grids


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.headers.get("Content-Type"), response.read()


def wait_until_served(server, base, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"search dashboard exited with {server.returncode}: {server.communicate()[1][-2000:]}")
        try:
            return get(f"{base}/api/meta", timeout=2)
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"search dashboard did not answer on {base} within {seconds} s")


def test_dashboard_serves_the_study_its_trials_and_artifacts_to_a_real_browser(tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail(
            "Debian's chromium is not installed: run `make test`, which installs it (apt-get install -y chromium)"
        )
    runs = tmp_path / "runs"
    study, grids = small_study(runs)
    confirmation = confirmation_study(study)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(SEARCH), "dashboard", "--runs-dir", str(runs), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, _, meta = wait_until_served(server, base)
        assert json.loads(meta)["artifact_is_available"] is True

        summaries = json.loads(get(f"{base}/api/studies")[2])["study_summaries"]
        # The race's trainings are a study of their own beside the search's.
        assert [s["study_name"] for s in summaries] == ["fashion_mnist", confirmation.study_name]
        study_id = summaries[0]["study_id"]
        race = json.loads(get(f"{base}/api/studies/{summaries[1]['study_id']}")[2])
        assert len(race["trials"]) == 2 and race["note"]["body"].startswith("# The race")

        detail = json.loads(get(f"{base}/api/studies/{study_id}")[2])
        assert [t["number"] for t in detail["trials"]] == [0, 1]
        assert [t["state"] for t in detail["trials"]] == ["Complete", "Pruned"]
        assert "guide" in detail["note"]["body"]
        first = detail["trials"][0]
        artifacts = {a["filename"]: a for a in first["artifacts"]}
        assert set(artifacts) == {GRID_FILE, CURVE_FILE}

        url = f"{base}/artifacts/{study_id}/{first['trial_id']}/{artifacts[GRID_FILE]['artifact_id']}"
        status, content_type, body = get(url)
        assert status == 200 and content_type == "image/png"
        assert body == grids[0]

        shot = tmp_path / "shot.png"
        page = f"{base}/dashboard/studies/{study_id}/trials?numbers=0"
        browser = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / 'chromium-profile'}",
                "--window-size=1280,900",
                "--virtual-time-budget=15000",
                f"--screenshot={shot}",
                page,
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert shot.is_file(), f"no screenshot (chromium exit {browser.returncode}): {browser.stderr[-2000:]}"
        picture = Image.open(io.BytesIO(shot.read_bytes()))
        assert picture.format == "PNG" and picture.size == (1280, 900)
        # A blank page would be one colour: the dashboard drew something.
        assert len(picture.convert("RGB").getcolors(maxcolors=1 << 16) or range(2)) > 1
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            stdout, stderr = server.communicate(timeout=60)  # seconds here; room for a loaded machine
        except subprocess.TimeoutExpired:
            server.kill()
            stdout, stderr = server.communicate()
    assert f"optuna-dashboard: {base}/dashboard/studies/{study_id}" in stdout
    assert server.returncode == 130 and "Traceback" not in stderr, stderr[-2000:]


def test_dashboard_without_a_study_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["dashboard", "--runs-dir", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("search dashboard: error: --runs-dir") and "search.db" in err


@pytest.mark.parametrize("port", [0, 70000], ids=["zero", "too-big"])
def test_dashboard_bad_port_is_one_line_and_exit_2(tmp_path, capsys, port):
    assert main(["dashboard", "--runs-dir", str(tmp_path), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--port must be an integer from 1 to 65535, but got --port={port}" in err


def test_dashboard_on_a_busy_port_is_one_line_naming_port(tmp_path, capsys):
    runs = tmp_path / "runs"
    runs.mkdir()
    optuna.create_study(storage=f"sqlite:///{runs / 'search.db'}", study_name="fashion_mnist")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["dashboard", "--runs-dir", str(runs), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--port {port} is already in use" in err
