"""`search.tune.training_tasks.run_jobs` on a real local Ray: a worker that dies costs its own
training only, and every worker is gone when the trainings end."""

import time

from results.stored import Training
from search.settings import Placement
from search.tune.cluster import start_ray
from search.tune.training_tasks import run_jobs
from space import NO_AUGMENTATION
from tests_pkg import nets
from trainers import Budget, load_dataset

BUDGET = Budget.preset("smoke", epochs=1, train_examples=64, validation_examples=32)


def test_a_dead_worker_fails_its_training_only_and_no_worker_outlives_the_trainings():
    ray = start_ray(None)
    data = load_dataset(
        "fashion_mnist", image_size=BUDGET.image_size, train_examples=64, validation_examples=32, seed=0
    )
    jobs = [Training(f"seed {seed}", NO_AUGMENTATION, seed, [f"seed {seed}"]) for seed in (1, 2, 3, 4)]
    outcomes, lines = {}, []
    completed = run_jobs(
        jobs,
        data,
        BUDGET,
        model=nets.dies_on_odd_seeds,
        placement=Placement(1.0, 0.0, 1),
        on_result=lambda job, outcome: outcomes.__setitem__(job.seed, outcome),
        say=lines.append,
        metric="objective",
    )
    assert completed
    assert sorted(outcomes) == [1, 2, 3, 4] and len(lines) == 4
    # Odd seeds killed their worker; the next training ran on a new one.
    assert [("error" in outcomes[seed]) for seed in (1, 2, 3, 4)] == [True, False, True, False], outcomes
    assert all(0 <= outcomes[seed]["objective"] <= 1 for seed in (2, 4))
    assert "FAILED" in lines[0] and "objective" in lines[1]
    deadline = time.monotonic() + 30
    while ray.available_resources().get("CPU", 0) < ray.cluster_resources()["CPU"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray.available_resources().get("CPU", 0) == ray.cluster_resources()["CPU"], "a worker still holds its CPU"
