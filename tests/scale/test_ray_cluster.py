"""`search run --address` on an existing two-node Ray cluster (started by tests/scale/conftest.py
with `ray start`, head and worker, one CPU each, each with its own temp folder, on loopback).

A process joins one Ray cluster, once (`search.tune.cluster.start_ray`), and this one may already
run the tests' own Ray: the searches that join a cluster are processes of their own. What is
refused before Ray starts is checked in this process."""

import optuna
import pytest
from optuna.trial import TrialState
from reliability.search_process import SMOKE_RUN, last_line_error, search
from scale_servers import free_port

from search.cli import main
from search.storage import open_storage


def test_search_joins_the_cluster_and_its_trials_run_on_both_nodes(ray_cluster, tmp_path):
    runs = tmp_path / "runs"
    # The default proxy (the small EfficientNet), as a user's search runs it: the other searches of
    # the suite use the tiny test model.
    done = search(
        "run",
        "--budget",
        "smoke",
        "--trials",
        "2",
        "--race-top",
        "1",
        "--race-seeds",
        "2",
        "--pruner",
        "none",
        "--race-baselines",
        "none",
        "--target-budget",
        "smoke",
        "--address",
        ray_cluster.address,
        "--runs-dir",
        runs,
        env=ray_cluster.env,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    # The default concurrency is what the cluster fits: two nodes of one CPU each, so the two
    # trials (the first two baselines) run one on each node.
    assert "2 at once, 1 CPU + 0 GPU each" in done.stderr, done.stderr[-3000:]
    assert "race winner: " in done.stdout, "the race's trainings run on the cluster too"

    study = optuna.load_study(study_name="fashion_mnist", storage=open_storage(f"sqlite:///{runs}/search.db"))
    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 2
    ran_on = {t.user_attrs["node_id"] for t in finished}
    assert ran_on == set(ray_cluster.nodes), (
        f"trials ran on {sorted(ran_on)}, the cluster's nodes are {ray_cluster.nodes}"
    )

    # Without the cluster's token (Ray 2.60's `ray start --head` turns token authentication on),
    # joining fails with what to set. (Two connection attempts instead of Ray's twenty.)
    tokenless = {k: v for k, v in ray_cluster.env.items() if not k.startswith("RAY_AUTH")}
    done = search(
        *SMOKE_RUN,
        "--trials",
        "1",
        "--address",
        ray_cluster.address,
        "--runs-dir",
        tmp_path / "other",
        env={**tokenless, "RAY_NUM_REDIS_GET_RETRIES": "2"},
    )
    line = last_line_error(done)
    assert "cannot join the Ray cluster" in line and "RAY_AUTH_MODE=token" in line, line


@pytest.mark.parametrize("address", ["ray://127.0.0.1:10001", "RAY://head:10001"])
def test_a_ray_client_address_is_refused_before_anything_starts(address, tmp_path, capsys):
    assert main(["run", "--runs-dir", str(tmp_path / "runs"), "--address", address]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("search run: error: --address must be auto or the HOST:PORT"), err
    assert "run `search run --address auto` on a machine of the cluster" in err
    assert not (tmp_path / "runs").exists()


def test_an_address_nothing_answers_on_is_one_line_at_once(tmp_path):
    port = free_port()
    done = search(*SMOKE_RUN, "--trials", "1", "--address", f"127.0.0.1:{port}", "--runs-dir", tmp_path, timeout=120)
    line = last_line_error(done)
    assert f"--address '127.0.0.1:{port}': cannot join the Ray cluster: nothing answers there" in line, line
