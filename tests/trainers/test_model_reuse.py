"""`train` keeps the compiled model for the next training of the same key: trials stay independent.

The trainings here are of the tiny `nets.build_with_state`, which holds every kind of state the
proxy does (weights, batch-norm statistics, a dropout seed generator, the optimiser's): a reset is
the same for any model, and the tiny one builds in a fraction of the proxy's time. The proxy's own
kept model is checked in tests/trainers/test_training.py (`test_same_seed_gives_the_same_result`)."""

import importlib
import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from space import GUIDE_POLICY, NO_AUGMENTATION, Policy
from tests_pkg import nets
from trainers import Budget, TrainingDiverged, load_dataset, train
from trainers.model import model_name, set_random_seed

MILD = Policy(magnitude=0.2, magnitude_stddev=0.1, rate=0.5, augmentations_per_image=1)
# One short epoch pair: graph building dominates, as in a real trial's first epoch.
BUDGET = Budget.preset("smoke", train_examples=128, validation_examples=64)
STATEFUL = "tests_pkg.nets:build_with_state"
_train_module = importlib.import_module("trainers.training")


@pytest.fixture(scope="module")
def fashion():
    return load_dataset("fashion_mnist", image_size=32, train_examples=256, validation_examples=64, seed=0)


def curves(result):
    return [(row["train_loss"], row["val_loss"], row["val_accuracy"]) for row in result.history]


def run(fashion, policy, seed, budget=BUDGET, model=STATEFUL, **kwargs):
    result = train(fashion, policy, budget, seed=seed, model=model, **kwargs)
    return result, result.timings


class NanWeightsAtEpoch(keras.callbacks.Callback):
    """Damages the model as a diverging training would: NaN weights as epoch `epoch` (from 1) begins."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            for weight in self.model.trainable_weights:
                weight.assign(keras.ops.full(weight.shape, float("nan"), dtype=weight.dtype))


@pytest.fixture(scope="module")
def fresh(fashion):
    """GUIDE_POLICY (RandAugment, CutMix, MixUp) with seed 3 in a model built for it alone."""
    result, timings = run(fashion, GUIDE_POLICY, 3, reuse_model=False)
    assert not timings["model_reused"] and _train_module._compiled is None
    return result


def test_same_seed_and_policy_give_the_same_training_after_another_trial_in_the_process(fashion, fresh):
    run(fashion, MILD, 4)  # another seed and policy: it keeps its compiled model
    again, timings = run(fashion, GUIDE_POLICY, 3)
    assert timings["model_reused"]
    assert curves(again) == curves(fresh)  # exactly: every epoch's losses and accuracy
    also, timings = run(fashion, GUIDE_POLICY, 3)  # straight after itself
    assert timings["model_reused"] and curves(also) == curves(fresh)


def test_reuse_model_false_neither_uses_nor_keeps_a_model_and_a_kept_one_skips_graph_building(fashion):
    run(fashion, NO_AUGMENTATION, 1)
    _, new = run(fashion, NO_AUGMENTATION, 5, reuse_model=False)
    assert not new["model_reused"] and _train_module._compiled is None
    run(fashion, NO_AUGMENTATION, 6)
    model = _train_module._compiled.model
    traced_step = model.train_function
    _, kept = run(fashion, NO_AUGMENTATION, 5)
    assert kept["model_reused"] and _train_module._compiled.model is model
    # Its traced training step, not a new graph (benchmarks/trial_overhead.py measures the saving).
    assert traced_step is not None and model.train_function is traced_step


def test_nan_weights_left_by_a_diverged_trial_do_not_reach_the_next(fashion, fresh):
    run(fashion, MILD, 4)
    # The trainer's own loss check still raises after a callback of the caller's damaged the model.
    with pytest.raises(TrainingDiverged, match=r"the loss became nan at epoch 1, batch 1\."):
        run(fashion, MILD, 4, callbacks=[NanWeightsAtEpoch(1)])
    kept = _train_module._compiled.model
    assert any(np.isnan(w).any() for w in kept.get_weights()) and kept.optimizer.iterations.numpy() > 0
    again, timings = run(fashion, GUIDE_POLICY, 3)
    assert timings["model_reused"] and curves(again) == curves(fresh)


def test_an_error_in_the_middle_of_a_trial_does_not_reach_the_next(fashion, fresh):
    class Stop(Exception):
        pass

    def stop_in_epoch_2(epoch, metrics):
        if epoch == 1:
            raise Stop  # as Ray Tune stops a pruned trial: from inside report

    with pytest.raises(Stop):
        run(fashion, GUIDE_POLICY, 7, report=stop_in_epoch_2)
    again, timings = run(fashion, GUIDE_POLICY, 3)
    assert timings["model_reused"] and curves(again) == curves(fresh)


@pytest.mark.parametrize(
    "change, same",
    [
        ({"model": "efficientnetv2_b0"}, False),
        ({"image_size": 40}, False),
        ({"batch_size": 16}, False),
        ({"epochs": 3}, False),
        ({"learning_rate": 0.1}, False),
        ({"warmup_epochs": 0.0}, False),
        ({"train_examples": 160}, False),  # 5 steps an epoch, not 4
        ({"train_examples": 150, "validation_examples": 10}, True),  # still 4 steps of 32
        ({"augment_shards": 2}, True),  # the input pipeline's business
    ],
    ids=lambda value: ",".join(value) if isinstance(value, dict) else str(value),
)
def test_model_key_holds_what_shapes_the_compiled_model(change, same):
    budget = BUDGET.replace(**change)
    key = _train_module._model_key
    assert (
        key(budget, 10, budget.train_examples // budget.batch_size, "float32") == key(BUDGET, 10, 4, "float32")
    ) is same
    assert key(BUDGET, 10, 4, "float32") != key(BUDGET, 5, 4, "float32")
    assert key(BUDGET, 10, 4, "float32") != key(BUDGET, 10, 4, "mixed_float16")


def test_a_users_model_trains_the_same_with_and_without_a_kept_model(fashion):
    fresh, timings = run(fashion, MILD, 3, model=nets.build, reuse_model=False)
    assert not timings["model_reused"]
    run(fashion, GUIDE_POLICY, 4, model=nets.build)  # kept, then trained with another seed
    # Its import path names the same builder: the same key.
    again, timings = run(fashion, MILD, 3, model="tests_pkg.nets:build")
    assert timings["model_reused"] and curves(again) == curves(fresh)
    assert _train_module._compiled.key[0] == "tests_pkg.nets:build"


BUILDER_SOURCE = """
def build(input_shape, num_classes, seed):
    return nets.build(input_shape, num_classes, seed)
"""


def define(source: str):
    """`build` as a notebook cell defines it (module __main__, pickled by value to Ray workers)."""
    namespace = {"__name__": "__main__", "nets": nets}
    exec(source, namespace)
    return namespace["build"]


def test_a_builder_edited_and_redefined_under_the_same_name_gets_its_own_model():
    from ray import cloudpickle

    first, rerun = define(BUILDER_SOURCE), define(BUILDER_SOURCE)
    edited = define(BUILDER_SOURCE.replace("seed)\n", "seed + 1)\n"))
    assert model_name(first) == model_name(edited) == "__main__:build"
    key = lambda model: _train_module._model_key(BUDGET, 10, 4, "float32", model)  # noqa: E731
    # The same code (a cell run again unchanged, a copy in a Ray worker) keeps the compiled model...
    assert key(first) == key(rerun) == key(cloudpickle.loads(cloudpickle.dumps(first)))
    # ...edited code may build another graph: a new one.
    assert key(first) != key(edited)
    assert key("small") == _train_module._model_key(BUDGET, 10, 4, "float32")  # budget.model


def test_another_image_size_builds_a_new_model_and_keeps_only_that(fashion):
    # The key is the same for any model: the tiny one builds in a fraction of the proxy's time.
    run(fashion, NO_AUGMENTATION, 1, model=nets.build)
    before = _train_module._compiled
    larger = load_dataset("fashion_mnist", image_size=40, train_examples=256, validation_examples=64, seed=0)
    _, timings = run(larger, NO_AUGMENTATION, 1, budget=BUDGET.replace(image_size=40), model=nets.build)
    assert not timings["model_reused"]
    assert _train_module._compiled.model is not before.model and _train_module._compiled.key[1] == 40
    _, timings = run(larger, NO_AUGMENTATION, 2, budget=BUDGET.replace(image_size=40), model=nets.build)
    assert timings["model_reused"]


def test_set_random_seed_seeds_like_keras_without_clearing_compiled_kernels():
    def draws():
        order = list(tf.data.Dataset.range(20).shuffle(20).as_numpy_iterator())  # op seed from the global seed
        return random.random(), np.random.rand(), keras.random.uniform(()).numpy(), order

    keras.utils.set_random_seed(11)
    expected = draws()
    set_random_seed(11)
    assert draws() == expected
