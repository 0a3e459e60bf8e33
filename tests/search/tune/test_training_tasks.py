"""`search.tune.training_tasks.TrainingWorkers` on a real local Ray: a worker that dies costs its
own training only, a worker is kept from one run to the next, and every worker is gone at the end."""

import time

from results.stored import TrainingJob
from search.settings import Placement
from search.tune.cluster import start_ray
from search.tune.training_tasks import TrainingWorkers
from space import NO_AUGMENTATION
from tests_pkg import nets
from trainers import Budget, load_dataset

BUDGET = Budget.preset("smoke", epochs=1, train_examples=64, validation_examples=32)


def test_a_dead_worker_fails_its_training_only_and_no_worker_outlives_the_trainings():
    ray = start_ray(None)
    data = load_dataset(
        "fashion_mnist", image_size=BUDGET.image_size, train_examples=64, validation_examples=32, seed=0
    )
    jobs = [TrainingJob(f"seed {seed}", NO_AUGMENTATION, seed, [f"seed {seed}"]) for seed in (1, 2, 3, 4)]
    outcomes, lines = {}, []
    on_result = lambda job, outcome: outcomes.__setitem__(job.seed, outcome)  # noqa: E731
    with TrainingWorkers(
        data, BUDGET, model=nets.dies_on_odd_seeds, placement=Placement(1.0, 0.0, 1), metric="objective"
    ) as workers:
        completed = workers.run(jobs, on_result=on_result, say=lines.append)
        # Seed 4's worker is kept for the next run (a race's next round) and holds its CPU.
        cpus = ray.cluster_resources()["CPU"]
        free = lambda: ray.available_resources().get("CPU", 0)  # noqa: E731
        wait_until(lambda: free() == cpus - 1)
        assert free() == cpus - 1, "the last worker is kept between runs"
        again = TrainingJob("seed 6", NO_AUGMENTATION, 6, ["seed 6"])
        assert workers.run([again], on_result=on_result, say=lines.append)
    assert completed
    assert sorted(outcomes) == [1, 2, 3, 4, 6] and len(lines) == 5 and "error" not in outcomes[6]
    # Odd seeds killed their worker; the next training ran on a new one.
    assert [("error" in outcomes[seed]) for seed in (1, 2, 3, 4)] == [True, False, True, False], outcomes
    assert all(0 <= outcomes[seed]["objective"] <= 1 for seed in (2, 4))
    assert "FAILED" in lines[0] and "objective" in lines[1]
    wait_until(lambda: free() == cpus)
    assert free() == cpus, "a worker still holds its CPU"


def wait_until(condition, seconds: float = 30) -> None:
    """Ray frees a killed worker's resources a moment later."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
