"""Training and its input pipeline, on the real Fashion-MNIST at smoke budgets."""

import dataclasses
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from space import GUIDE_POLICY, NO_AUGMENTATION, Policy
from space.errors import AugSearchError
from trainers import Budget, TrainingDiverged, TrainResult, load_dataset, train
from trainers.pipeline import layer_seed, train_dataset, validation_dataset

# The real Fashion-MNIST is needed: `make test` installs it, and a missing file fails these tests
# with the install instructions rather than skipping them.
MILD = Policy(magnitude=0.2, magnitude_stddev=0.1, rate=0.5, augmentations_per_image=1)
SMOKE = Budget.preset("smoke")
# For what any model shows the same way (divergence, the objective's scoring): it builds in a
# fraction of the proxy's time.
TINY = "tests_pkg.nets:build"


@pytest.fixture(scope="module")
def fashion():
    return load_dataset("fashion_mnist", image_size=32, train_examples=1000, validation_examples=400, seed=0)


@pytest.fixture(scope="module")
def smoke_run(fashion):
    """One smoke training with GUIDE_POLICY (CutMix and MixUp included), shared by several tests."""
    reports = []
    result = train(fashion, GUIDE_POLICY, SMOKE, seed=3, report=lambda epoch, metrics: reports.append((epoch, metrics)))
    return result, reports


# ---------------------------------------------------------------------------------------------
# The input pipeline


def test_train_batches_are_float_images_and_one_hot_labels(fashion):
    ds = train_dataset(fashion.train, GUIDE_POLICY, num_classes=10, batch_size=8, seed=0)
    images, labels = next(iter(ds))
    assert images.shape == (8, 32, 32, 3) and images.dtype == tf.float32
    assert labels.shape == (8, 10) and labels.dtype == tf.float32
    assert float(tf.reduce_min(images)) >= 0.0 and float(tf.reduce_max(images)) <= 255.0
    # MixUp and CutMix blend labels; label smoothing is the loss's job, so each row still sums to 1.
    np.testing.assert_allclose(tf.reduce_sum(labels, axis=1), 1.0, rtol=1e-5)


def test_identity_policy_passes_images_through_untouched_and_shuffled(fashion):
    ds = train_dataset(fashion.train, NO_AUGMENTATION, num_classes=10, batch_size=100, seed=0)
    batches = list(ds.take(20))  # two epochs of the endless stream
    images = np.concatenate([images.numpy() for images, _ in batches]).astype(np.uint8)
    labels = np.concatenate([labels.numpy() for _, labels in batches]).argmax(axis=1)
    originals = {
        image.tobytes(): label for image, label in zip(fashion.train.images, fashion.train.labels, strict=True)
    }
    # Each epoch holds every training image once, unchanged, with its label, in a new order.
    for epoch in (slice(0, 1000), slice(1000, 2000)):
        assert sorted(image.tobytes() for image in images[epoch]) == sorted(originals)
        assert all(
            originals[image.tobytes()] == label for image, label in zip(images[epoch], labels[epoch], strict=True)
        )
    assert not np.array_equal(images[:1000], images[1000:]) and not np.array_equal(images[:1000], fashion.train.images)


@pytest.mark.parametrize("shards", [1, 2])
def test_same_seed_gives_the_same_augmented_stream(fashion, shards):
    seed = 0  # the hard case: KerasCV's vectorized layers take seed 0 for "no seed"

    def first_batches(seed):
        keras.utils.set_random_seed(seed)
        ds = train_dataset(fashion.train, GUIDE_POLICY, num_classes=10, batch_size=16, seed=seed, shards=shards)
        return [images.numpy() for images, _ in ds.take(4)]

    a, b = first_batches(seed), first_batches(seed)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    if shards == 1:  # (once is enough: every pipeline trace costs seconds)
        assert not np.array_equal(a[0], first_batches(seed + 1)[0])


def test_layer_seed_is_never_zero():
    assert [layer_seed(s) for s in (0, 1, 2**31 - 2)] == [1, 2, 2**31 - 1]


def test_validation_keeps_every_example_in_order(fashion):
    batches = list(validation_dataset(fashion.validation, num_classes=10, batch_size=64))
    assert sum(len(labels) for _, labels in batches) == 400  # the last batch is partial, not dropped
    np.testing.assert_array_equal(batches[0][0].numpy(), fashion.validation.images[:64].astype(np.float32))


# ---------------------------------------------------------------------------------------------
# train()


REPORTED_NUMBERS = {
    "objective",
    "val_accuracy",
    "val_loss",
    "train_loss",
    "train_accuracy",
    "epoch_seconds",
    "train_seconds",
    "images_per_second",
}
TIMINGS = {"pipeline", "model", "first_batch", "model_reused"}


def test_report_is_called_once_per_epoch_in_order(smoke_run):
    result, reports = smoke_run
    assert [epoch for epoch, _ in reports] == [1, 2]
    for _, metrics in reports:
        assert set(metrics) == REPORTED_NUMBERS | {"timings"}
        assert all(isinstance(metrics[k], float) and math.isfinite(metrics[k]) for k in REPORTED_NUMBERS)
        assert 0 < metrics["train_seconds"] < metrics["epoch_seconds"]  # validation is not training
        assert set(metrics["timings"]) == TIMINGS and metrics["timings"] is not result.timings  # a copy
    assert 0.0 <= reports[-1][1]["val_accuracy"] <= 1.0


def test_reported_speed_and_timings_are_the_results_so_far(smoke_run):
    result, reports = smoke_run
    images = SMOKE.steps_per_epoch * SMOKE.batch_size
    # One definition: epoch 1 alone while it is the only one, then epochs 2 and later.
    assert reports[0][1]["images_per_second"] == images / reports[0][1]["train_seconds"]
    assert reports[-1][1]["images_per_second"] == result.images_per_second == images / reports[-1][1]["train_seconds"]
    assert reports[-1][1]["timings"] == result.timings
    timings = result.timings
    assert set(timings) == TIMINGS and timings["model_reused"] in (True, False)
    assert 0 < timings["pipeline"] < timings["model"] < timings["first_batch"] < result.wall_seconds


def test_result_describes_the_run(smoke_run):
    result, reports = smoke_run
    assert isinstance(result, TrainResult)
    assert result.epochs_run == 2 and len(result.history) == 2
    assert result.val_accuracy == reports[-1][1]["val_accuracy"]
    assert result.val_loss == reports[-1][1]["val_loss"]
    assert result.images_per_second > 0
    assert result.wall_seconds >= sum(row["epoch_seconds"] for row in result.history)
    assert [row["epoch"] for row in result.history] == [1, 2]


def test_same_seed_gives_the_same_result(fashion, smoke_run):
    # On the proxy's kept model (tests/trainers/test_model_reuse.py checks reuse on a tiny one).
    again = train(fashion, GUIDE_POLICY, SMOKE, seed=3)
    before = smoke_run[0]
    assert again.timings["model_reused"]
    assert again.val_accuracy == before.val_accuracy
    assert [row["train_loss"] for row in again.history] == [row["train_loss"] for row in before.history]


def test_score_test_scores_the_test_split_after_training_and_changes_nothing_else(fashion, smoke_run):
    assert smoke_run[0].test_accuracy is None and smoke_run[0].test_loss is None  # a search never scores it
    # With the validation images the budget validates on as the test split, the test scores are
    # the last validation's.
    validated = dataclasses.replace(
        fashion.validation,
        images=fashion.validation.images[: SMOKE.validation_examples],
        labels=fashion.validation.labels[: SMOKE.validation_examples],
    )
    scored = train(dataclasses.replace(fashion, test=validated), GUIDE_POLICY, SMOKE, seed=3, score_test=True)
    assert scored.test_accuracy == pytest.approx(scored.val_accuracy, abs=1e-6)
    assert scored.test_loss == pytest.approx(scored.val_loss, rel=1e-5)
    assert scored.val_accuracy == smoke_run[0].val_accuracy
    with pytest.raises(
        AugSearchError,
        match=r"score_test must be False for a dataset loaded without its test split, but got score_test=True",
    ):
        train(fashion, NO_AUGMENTATION, SMOKE, seed=3, score_test=True)


class Stop(Exception):
    pass


def test_an_exception_from_report_propagates(fashion):
    epochs = []

    def report(epoch, metrics):
        epochs.append(epoch)
        raise Stop(f"stopped at epoch {epoch}")

    with pytest.raises(Stop, match="stopped at epoch 1"):
        train(fashion, NO_AUGMENTATION, SMOKE, seed=0, report=report)
    assert epochs == [1]


class OutOfMemoryAtEpoch2(keras.callbacks.Callback):
    """Records the epochs it sees begin (numbered from 1) and raises as the second begins."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch + 1)
        assert isinstance(self.model, keras.Model)
        if epoch + 1 == 2:
            raise tf.errors.ResourceExhaustedError(None, None, "out of memory (injected)")


def test_callbacks_run_in_the_training_and_their_errors_propagate(fashion):
    callback = OutOfMemoryAtEpoch2()
    with pytest.raises(tf.errors.ResourceExhaustedError, match="injected"):
        train(fashion, NO_AUGMENTATION, SMOKE, seed=0, callbacks=[callback])
    assert callback.epochs == [1, 2]


def test_callbacks_must_be_keras_callbacks(fashion):
    with pytest.raises(
        AugSearchError,
        match=(
            r"^callbacks must be keras\.callbacks\.Callback instances, "
            r"but got callbacks=\[<built-in function len>\]\.$"
        ),
    ):
        # Not `print`: ray.experimental.tqdm_ray replaces it in a process whose Ray showed a progress bar.
        train(fashion, NO_AUGMENTATION, SMOKE, seed=0, callbacks=[len])


def test_divergence_raises_training_diverged(fashion):
    # A learning rate that overflows the tiny model's float32 weights in its first steps.
    with pytest.raises(TrainingDiverged, match=r"loss became (nan|inf|-inf) at epoch 1"):
        train(fashion, NO_AUGMENTATION, SMOKE.replace(learning_rate=1e30, warmup_epochs=0), seed=0, model=TINY)


def test_too_few_training_examples_for_a_batch_is_a_clear_error(fashion):
    tiny = type(fashion)(
        spec=fashion.spec,
        class_names=fashion.class_names,
        test=None,
        train=type(fashion.train)(images=fashion.train.images[:8], labels=fashion.train.labels[:8]),
        validation=fashion.validation,
    )
    with pytest.raises(AugSearchError, match=r"batch_size must be at most the 8 training examples"):
        train(tiny, NO_AUGMENTATION, SMOKE, seed=0)


def test_acceptance_small_proxy_learns_fashion_mnist_in_two_epochs(fashion):
    """The issue's acceptance test: 2 epochs on 1,000 real images, a mild policy, a fixed seed."""
    budget = Budget.preset(
        "smoke",
        model="small",
        image_size=32,
        train_examples=1000,
        validation_examples=400,
        epochs=2,
        batch_size=16,
    )
    result = train(fashion, MILD, budget, seed=0)
    assert result.epochs_run == 2
    assert result.val_accuracy > 0.4, result.history  # chance is 0.1


def test_the_objective_is_scored_once_after_the_last_epoch_on_score_examples(fashion):
    budget = Budget.preset("smoke", epochs=2, train_examples=64, score_examples=400)
    assert budget.validation_to_load == 400
    result = train(fashion, NO_AUGMENTATION, budget, seed=3, model=TINY)
    first, last = result.history
    assert first["objective"] == first["val_accuracy"], "before the last epoch: the per-epoch validation"
    # After it: the accuracy over the 400 validation images, not the per-epoch 128.
    assert result.objective == last["objective"] and result.objective * 400 == pytest.approx(
        round(result.objective * 400), abs=1e-3
    )
    scored_by_hand = train(
        fashion, NO_AUGMENTATION, budget.replace(validation_examples=400, score_examples=0), seed=3, model=TINY
    )
    assert result.objective == pytest.approx(scored_by_hand.val_accuracy)
