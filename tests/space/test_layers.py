import keras
import keras_cv
import numpy as np
import pytest
import tensorflow as tf

from space import EXTENDED_OPS, GUIDE_POLICY, OPS, STANDARD_OPS, Policy
from space.layers import BatchStage, build_op, build_pipeline

IMAGES = tf.random.stateless_uniform((4, 32, 32, 3), seed=(1, 2), minval=0, maxval=255)
LABELS = tf.one_hot([0, 1, 2, 3], 4)


def run_seeded(fn, seed=7):
    # KerasCV layers mix seeded tf.random.Generators with stateful ops that follow TF's global
    # seed: the trainer sets both, and so do these tests.
    keras.utils.set_random_seed(seed)
    return fn()


@pytest.mark.parametrize("name", EXTENDED_OPS)
def test_each_op_keeps_shape_dtype_and_value_range(name):
    out = run_seeded(lambda: build_op(name, 1.0, 0.3, seed=1)(IMAGES))
    assert out.shape == IMAGES.shape and out.dtype == tf.float32
    assert float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 255.0


@pytest.mark.parametrize("name", [name for name in EXTENDED_OPS if OPS[name].has_strength])
def test_magnitude_zero_is_close_to_identity(name):
    weak = run_seeded(lambda: build_op(name, 0.0, 0.0, seed=1)(IMAGES))
    strong = run_seeded(lambda: build_op(name, 1.0, 0.0, seed=1)(IMAGES))
    weak_change = float(tf.reduce_mean(tf.abs(weak - IMAGES)))
    strong_change = float(tf.reduce_mean(tf.abs(strong - IMAGES)))
    # Posterization rounds to integers and cutout keeps a sub-pixel patch, hence "close".
    assert weak_change < 1.0, f"{name} at magnitude 0 changed pixels by {weak_change:.2f} on average"
    assert strong_change > 3 * max(weak_change, 0.5), f"{name} at magnitude 1 barely changed the image"


def test_standard_policy_is_exactly_kerascv_randaugment():
    policy = Policy(magnitude=0.4, magnitude_stddev=0.2, augmentations_per_image=2, rate=0.8, ops=STANDARD_OPS)
    ours = run_seeded(lambda: build_pipeline(policy, seed=5)(IMAGES), seed=5)
    theirs = run_seeded(
        lambda: keras_cv.layers.RandAugment(
            value_range=(0, 255), magnitude=0.4, magnitude_stddev=0.2, augmentations_per_image=2, rate=0.8, seed=5
        )(IMAGES),
        seed=5,
    )
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert float(tf.reduce_mean(tf.abs(ours - IMAGES))) > 1.0  # it did augment


def test_pipeline_is_a_kerascv_random_augmentation_pipeline_of_the_chosen_ops():
    pipeline = build_pipeline(Policy(ops=("rotation", "solarization", "grid_mask"), augmentations_per_image=2, rate=0.5))
    assert type(pipeline) is keras_cv.layers.RandomAugmentationPipeline
    assert [type(layer) for layer in pipeline.layers] == [
        keras_cv.layers.Solarization, keras_cv.layers.RandomRotation, keras_cv.layers.GridMask,
    ]
    assert (pipeline.augmentations_per_image, pipeline.rate) == (2, 0.5)


def test_rate_zero_is_the_identity():
    out = build_pipeline(Policy(rate=0.0, magnitude=1.0, ops="extended"), seed=3)(IMAGES)
    np.testing.assert_array_equal(out.numpy(), IMAGES.numpy())


def test_strong_pipeline_stays_in_value_range():
    out = run_seeded(lambda: build_pipeline(Policy(magnitude=1.0, magnitude_stddev=0.5, rate=1.0, augmentations_per_image=4, ops="extended"), seed=3)(IMAGES))
    assert float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 255.0


def test_fixed_seed_gives_the_same_output_and_another_seed_differs():
    policy = Policy(magnitude=0.6, rate=1.0, ops="extended")
    first = run_seeded(lambda: build_pipeline(policy, seed=11)(IMAGES), seed=11)
    again = run_seeded(lambda: build_pipeline(policy, seed=11)(IMAGES), seed=11)
    other = run_seeded(lambda: build_pipeline(policy, seed=12)(IMAGES), seed=12)
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert not np.array_equal(first.numpy(), other.numpy())


def test_batch_stage_mixes_labels_that_still_sum_to_one():
    stage = BatchStage.from_policy(GUIDE_POLICY, seed=1)
    out = run_seeded(lambda: stage({"images": IMAGES, "labels": LABELS}))
    np.testing.assert_allclose(tf.reduce_sum(out["labels"], axis=1).numpy(), 1.0, rtol=1e-5)
    assert not np.array_equal(out["labels"].numpy(), LABELS.numpy())  # rate 1: labels were mixed
    assert float(tf.reduce_min(out["images"])) >= 0.0 and float(tf.reduce_max(out["images"])) <= 255.0


def test_batch_stage_with_zero_rates_is_the_identity():
    stage = BatchStage.from_policy(Policy(cutmix_rate=0.0, mixup_rate=0.0), seed=1)
    assert stage.is_identity
    out = stage({"images": IMAGES, "labels": LABELS})
    np.testing.assert_array_equal(out["images"].numpy(), IMAGES.numpy())


def test_batch_stage_coin_is_per_batch_with_the_policy_rate_inside_tf_data():
    stage = BatchStage.from_policy(Policy(cutmix_rate=0.0, mixup_rate=0.5), seed=2)
    data = tf.data.Dataset.from_tensors({"images": IMAGES, "labels": LABELS}).repeat(200).map(stage)
    mixed = [not np.array_equal(batch["labels"].numpy(), LABELS.numpy()) for batch in run_seeded(lambda: list(data))]
    assert 0.35 < np.mean(mixed) < 0.65


@pytest.mark.parametrize("build", [lambda: build_pipeline(Policy(), seed=0), lambda: BatchStage.from_policy(Policy(), seed=0), lambda: build_op("rotation", 0.5, 0.1, seed=-1)], ids=["pipeline", "batch-stage", "op"])
def test_seed_zero_is_refused_because_kerascv_takes_it_for_no_seed(build):
    from space import AugSearchError

    with pytest.raises(AugSearchError, match="seed must be None or an integer >= 1"):
        build()
