"""BatchedPipeline draws what KerasCV's RandomAugmentationPipeline draws, image by image.

Marker layers make the ops an image went through readable from its pixel: layer k maps x to
x * (N + 1) + (k + 1), so a zero image ends as the base-(N + 1) number of its op sequence.
"""

import itertools
from collections import Counter

import keras
import keras_cv
import numpy as np
import pytest
import tensorflow as tf

from space import Policy
from space.layers import build_pipeline
from trainers import pipeline as input_pipeline
from trainers.augment import BatchedPipeline
from trainers.subsets import Split

N_OPS, SLOTS, RATE = 3, 2, 0.7
IMAGES = 3000
# Chi-square critical values at p = 0.001: a correct implementation fails one run in a thousand
# at most (the seeds are fixed, so a passing test passes every time).
CHI2_CRITICAL = {2: 13.82, 3: 16.27, 4: 18.47, 12: 32.91}


class Marker(keras.layers.Layer):
    def __init__(self, k, **kwargs):
        super().__init__(**kwargs)
        self.k = k

    def call(self, inputs):
        if isinstance(inputs, dict):  # KerasCV's RandomChoice hands its layers {"images": ...}
            return {**inputs, "images": self.call(inputs["images"])}
        return inputs * (N_OPS + 1) + (self.k + 1)


def decode(value: float) -> tuple[int, ...]:
    digits, value = [], int(round(value))
    while value:
        digits.append(value % (N_OPS + 1) - 1)
        value //= N_OPS + 1
    return tuple(reversed(digits))


def expected_sequences() -> dict[tuple[int, ...], float]:
    """Each slot independently: skipped with 1 - RATE, else op k with RATE / N_OPS."""
    probabilities = {}
    for outcome in itertools.product([None, *range(N_OPS)], repeat=SLOTS):
        p = np.prod([(1 - RATE) if o is None else RATE / N_OPS for o in outcome])
        key = tuple(o for o in outcome if o is not None)
        probabilities[key] = probabilities.get(key, 0.0) + p
    return probabilities


def chi2(counts: Counter, probabilities: dict) -> float:
    total = sum(counts.values())
    return sum((counts.get(key, 0) - total * p) ** 2 / (total * p) for key, p in probabilities.items())


def kerascv_sequences(seed) -> Counter:
    pipeline = keras_cv.layers.RandomAugmentationPipeline(
        [Marker(k) for k in range(N_OPS)], augmentations_per_image=SLOTS, rate=RATE, seed=seed
    )
    ds = tf.data.Dataset.from_tensors(tf.zeros((1, 1, 1))).repeat(IMAGES).map(lambda x: pipeline(x, training=True))
    return Counter(decode(float(x.numpy().ravel()[0])) for x in ds)


def batched_codes(seed) -> list[tuple[int, ...]]:
    pipeline = BatchedPipeline([Marker(k) for k in range(N_OPS)], SLOTS, RATE, seed)
    out = tf.function(pipeline)(tf.zeros((IMAGES, 1, 1, 1)))
    return [decode(v) for v in out.numpy().ravel()]


def test_op_sequences_match_kerascv_within_sampling_error():
    keras.utils.set_random_seed(11)
    ours, theirs = Counter(batched_codes(seed=5)), kerascv_sequences(seed=5)
    expected = expected_sequences()
    assert set(ours) <= set(expected) and set(theirs) <= set(expected)
    assert chi2(ours, expected) < CHI2_CRITICAL[12]
    assert chi2(theirs, expected) < CHI2_CRITICAL[12]
    # Homogeneity of the two samples (same size): sum (a - b)^2 / (a + b) is chi-square, df = 12.
    homogeneity = sum((ours[k] - theirs[k]) ** 2 / (ours[k] + theirs[k]) for k in expected if ours[k] + theirs[k])
    assert homogeneity < CHI2_CRITICAL[12]


def test_each_slot_skips_at_one_minus_rate_and_draws_ops_uniformly():
    choices = BatchedPipeline([Marker(k) for k in range(N_OPS)], SLOTS, RATE, seed=3).draw(IMAGES).numpy()
    assert choices.shape == (SLOTS, IMAGES)
    for slot in choices:
        counts = Counter(slot.tolist())
        probabilities = {-1: 1 - RATE, **{k: RATE / N_OPS for k in range(N_OPS)}}
        assert chi2(counts, probabilities) < CHI2_CRITICAL[3]


def test_images_draw_independently_of_their_neighbours():
    applied = np.array([len(codes) for codes in batched_codes(seed=7)])  # 0, 1 or 2 ops per image
    pairs = Counter(zip(applied[:-1:2].tolist(), applied[1::2].tolist(), strict=True))  # disjoint neighbour pairs
    total = sum(pairs.values())
    left, right = Counter(a for a, _ in pairs.elements()), Counter(b for _, b in pairs.elements())
    statistic = sum(
        (pairs[(a, b)] - left[a] * right[b] / total) ** 2 / (left[a] * right[b] / total)
        for a in range(3)
        for b in range(3)
    )
    assert statistic < CHI2_CRITICAL[4]


@pytest.mark.parametrize("op", ["auto_contrast", "equalization", "grayscale"])
def test_a_single_deterministic_op_gives_kerascvs_output_exactly(op):
    policy = Policy(ops=op, rate=1.0, augmentations_per_image=2, magnitude=0.4)
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (6, 16, 16, 3)), tf.float32)
    ours = BatchedPipeline.from_policy(policy, seed=2)(images)
    theirs = tf.stack([build_pipeline(policy, seed=2)(image, training=True) for image in images])
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-3)


def test_rate_zero_is_the_identity_and_shapes_are_kept():
    images = tf.random.uniform((5, 8, 8, 3), 0, 255)
    np.testing.assert_array_equal(BatchedPipeline.from_policy(Policy(rate=0.0), seed=1)(images), images)
    out = BatchedPipeline.from_policy(Policy(rate=1.0), seed=1)(images)
    assert out.shape == images.shape and out.dtype == tf.float32
    assert float(tf.reduce_min(out)) >= 0 and float(tf.reduce_max(out)) <= 255


@pytest.mark.parametrize("chunk", [1, 8], ids=["one-image-at-a-time", "batched"])
def test_training_stream_is_reproducible_in_both_executions(monkeypatch, chunk):
    """Large images go one at a time through KerasCV's pipeline, small ones in chunks: either way
    the same seed gives the same stream, and the chunk decides which execution runs."""
    monkeypatch.setattr(input_pipeline, "augment_chunk", lambda shape: chunk)
    rng = np.random.default_rng(0)
    split = Split(rng.integers(0, 256, (32, 16, 16, 3), dtype=np.uint8), np.arange(32, dtype=np.int64) % 4)
    policy = Policy(rate=1.0, augmentations_per_image=2, crop_padding=0.125, flip=True, erasing_rate=0.5)

    def first_batches(seed):
        keras.utils.set_random_seed(seed)
        ds = input_pipeline.train_dataset(split, policy, num_classes=4, batch_size=8, seed=seed, shards=2)
        return np.stack([images.numpy() for images, _ in ds.take(3)])

    a, b = first_batches(3), first_batches(3)
    np.testing.assert_array_equal(a, b)
    if chunk == 8:  # (once is enough: every pipeline trace costs seconds)
        assert not np.array_equal(a, first_batches(4))


def test_the_base_stage_alone_augments_the_training_stream():
    """At rate 0 with a base stage, every image still goes through the crop and the flip."""
    images = np.tile(np.arange(16, dtype=np.uint8).reshape(1, 1, 16, 1) * 10 + 50, (32, 16, 1, 3))
    split = Split(images, np.arange(32, dtype=np.int64) % 4)

    def batches(policy):
        keras.utils.set_random_seed(1)
        ds = input_pipeline.train_dataset(split, policy, num_classes=4, batch_size=16, seed=1)
        return np.concatenate([batch.numpy() for batch, _ in ds.take(2)])

    plain = batches(Policy(rate=0.0))
    assert np.all(plain == images[0])
    based = batches(Policy(rate=0.0, crop_padding=0.25, flip=True))
    assert sum(not np.array_equal(image, images[0]) for image in based) > 16
