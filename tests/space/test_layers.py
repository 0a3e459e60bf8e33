import keras
import keras_cv
import numpy as np
import pytest
import tensorflow as tf
from keras_cv.core import NormalFactorSampler, UniformFactorSampler

from space import BASELINES, EXTENDED_OPS, GUIDE_POLICY, OPS, STANDARD_OPS, TRIVIALAUGMENT_OPS, AugSearchError, Policy
from space.layers import (
    ERASING_FILL,
    BatchStage,
    build_base_stage,
    build_erasing,
    build_op,
    build_pipeline,
    image_stages,
    stage_configs,
    stages_from_configs,
)
from space.ops import VALUE_RANGE, Sampler

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
    pipeline = build_pipeline(
        Policy(ops=("rotation", "solarization", "grid_mask"), augmentations_per_image=2, rate=0.5)
    )
    assert type(pipeline) is keras_cv.layers.RandomAugmentationPipeline
    assert [type(layer) for layer in pipeline.layers] == [
        keras_cv.layers.Solarization,
        keras_cv.layers.RandomRotation,
        keras_cv.layers.GridMask,
    ]
    assert (pipeline.augmentations_per_image, pipeline.rate) == (2, 0.5)


def test_rate_zero_is_the_identity():
    out = build_pipeline(Policy(rate=0.0, magnitude=1.0, ops="extended"), seed=3)(IMAGES)
    np.testing.assert_array_equal(out.numpy(), IMAGES.numpy())


def test_strong_pipeline_stays_in_value_range():
    out = run_seeded(
        lambda: build_pipeline(
            Policy(magnitude=1.0, magnitude_stddev=0.5, rate=1.0, augmentations_per_image=4, ops="extended"), seed=3
        )(IMAGES)
    )
    assert float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 255.0


def test_fixed_seed_gives_the_same_output_and_another_seed_differs():
    policy = Policy(magnitude=0.6, rate=1.0, ops="extended")
    first = run_seeded(lambda: build_pipeline(policy, seed=11)(IMAGES), seed=11)
    again = run_seeded(lambda: build_pipeline(policy, seed=11)(IMAGES), seed=11)
    other = run_seeded(lambda: build_pipeline(policy, seed=12)(IMAGES), seed=12)
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert not np.array_equal(first.numpy(), other.numpy())


# The ops that draw a per-image strength from a factor sampler, and the (lower, upper) of each
# sampler at magnitude m under the uniform distribution.
UNIFORM_BOUNDS = {
    "solarization": {"addition_factor": lambda m: (0, 110 * m), "threshold_factor": lambda m: (255 - 255 * m, 255)},
    "color_degeneration": {"factor": lambda m: (0, m)},
    "shear_x": {"x_factor": lambda m: (0, m)},
    "shear_y": {"y_factor": lambda m: (0, m)},
    "grid_mask": {"ratio_factor": lambda m: (0, 0.6 * m)},
    "sharpness": {"factor": lambda m: (0, m)},
    "hue": {"factor": lambda m: (0, 0.5 * m)},
}


@pytest.mark.parametrize("name", UNIFORM_BOUNDS)
def test_uniform_distribution_gives_uniform_samplers_over_zero_to_the_magnitude(name):
    uniform = build_op(name, 0.8, 0.0, seed=1, magnitude_distribution="uniform")
    normal = build_op(name, 0.8, 0.1, seed=1)
    for attribute, bounds in UNIFORM_BOUNDS[name].items():
        sampler = getattr(uniform, attribute)
        assert type(sampler) is UniformFactorSampler
        assert (sampler.lower, sampler.upper) == pytest.approx(bounds(0.8))
        assert type(getattr(normal, attribute)) is NormalFactorSampler


@pytest.mark.parametrize("name", [name for name in EXTENDED_OPS if name not in UNIFORM_BOUNDS])
def test_ops_that_already_draw_uniformly_or_have_no_strength_keep_their_mapping(name):
    uniform = build_op(name, 0.7, 0.0, seed=1, magnitude_distribution="uniform")
    normal = build_op(name, 0.7, 0.3, seed=1)
    assert _config(uniform) == _config(normal)


def _config(layer):
    config = keras.saving.serialize_keras_object(layer)
    config["config"].pop("name")  # unique per instance
    return config


def test_uniform_strengths_spread_over_zero_to_magnitude_and_normal_with_no_stddev_is_constant():
    def draws(distribution, stddev):
        layer = build_op("shear_x", 1.0, stddev, seed=1, magnitude_distribution=distribution)
        return run_seeded(lambda: layer.x_factor(shape=(2000,))).numpy()

    uniform = draws("uniform", 0.0)
    assert uniform.min() >= 0.0 and uniform.max() <= 1.0
    assert uniform.min() < 0.01 and uniform.max() > 0.99
    assert abs(uniform.mean() - 0.5) < 0.03
    np.testing.assert_allclose(np.histogram(uniform, bins=4, range=(0, 1))[0] / 2000, 0.25, atol=0.04)
    np.testing.assert_array_equal(draws("normal", 0.0), 1.0)


def test_unknown_magnitude_distribution_is_refused():
    with pytest.raises(AugSearchError, match="magnitude_distribution must be one of 'normal', 'uniform'"):
        build_op("shear_x", 0.5, 0.0, magnitude_distribution="beta")


class _Tag(keras_cv.layers.BaseImageAugmentationLayer):
    """Adds 1000 * index + 1: the output says which ops ran on an image, and how many."""

    def __init__(self, index, **kwargs):
        super().__init__(**kwargs)
        self.index = index

    def augment_image(self, image, transformation=None, **kwargs):
        return image + 1000.0 * self.index + 1.0


def test_trivialaugment_pipeline_applies_at_most_one_op_per_image_and_none_as_often_as_each_op():
    pipeline = build_pipeline(BASELINES["trivialaugment"], seed=4)
    assert [type(layer) for layer in pipeline.layers] == [type(build_op(name, 1.0, 0.0)) for name in TRIVIALAUGMENT_OPS]
    assert pipeline.augmentations_per_image == 1 and pipeline.rate == pytest.approx(13 / 14)

    # The same pipeline with each op replaced by a tag: 0 means the identity was drawn.
    tags = [_Tag(index) for index in range(len(pipeline.layers))]
    tagged = keras_cv.layers.RandomAugmentationPipeline.from_config({**pipeline.get_config(), "layers": tags})
    out = run_seeded(lambda: tagged(tf.zeros((1400, 1, 1, 3)))).numpy()[:, 0, 0, 0]
    assert set(np.unique(out % 1000)) <= {0, 1}, "some image got more than one op"
    identity = np.mean(out == 0)
    # 1/14 = 0.071; with 1,400 images its standard error is 0.007.
    assert 0.045 < identity < 0.1, f"the identity was drawn for {identity:.3f} of the images, not about 1/14"
    assert len(np.unique(out[out > 0] // 1000)) > 10, "the one op is not drawn among the 13 ops"


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


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_pipeline(Policy(), seed=0),
        lambda: BatchStage.from_policy(Policy(), seed=0),
        lambda: build_op("rotation", 0.5, 0.1, seed=-1),
    ],
    ids=["pipeline", "batch-stage", "op"],
)
def test_seed_zero_is_refused_because_kerascv_takes_it_for_no_seed(build):
    from space import AugSearchError

    with pytest.raises(AugSearchError, match="seed must be None or an integer >= 1"):
        build()


# The layers are built from the catalogue's data: check that each built layer holds what the data
# (and so docs/ops.md) says, for several magnitudes and both distributions.
CONFIG_CASES = [
    (0.0, 0.0, "normal"),
    (0.4, 0.2, "normal"),
    (1.0, 0.5, "normal"),
    (0.0, 0.0, "uniform"),
    (0.7, 0.0, "uniform"),
]

# KerasCV keeps these plain numbers f as the range [-f, f].
SYMMETRIC_NUMBERS = {("RandomBrightness", "factor")}


@pytest.mark.parametrize("m, s, distribution", CONFIG_CASES, ids=lambda case: str(case))
@pytest.mark.parametrize("name", EXTENDED_OPS)
def test_built_layer_config_is_what_the_catalogue_says(name, m, s, distribution):
    op = OPS[name]
    layer = build_op(name, m, s, seed=9, magnitude_distribution=distribution)
    assert type(layer) is getattr(keras_cv.layers, op.layer)
    config = layer.get_config()
    for key, value in op.arguments(m, s, distribution).items():
        assert _plain(config[key]) == _as_kept(value, op.layer, key), f"{name}: {key}"
    if "value_range" in config:
        assert tuple(config["value_range"]) == VALUE_RANGE
    if "seed" in config:
        assert config["seed"] == 9


def _plain(value):
    """A layer's config value as plain data: a factor sampler as (class name, arguments)."""
    if isinstance(value, keras_cv.core.ConstantFactorSampler):
        return value.get_config()["value"]
    if isinstance(value, keras_cv.core.FactorSampler):
        return type(value).__name__, {key: v for key, v in value.get_config().items() if key != "seed"}
    return value


def _as_kept(value, layer, key):
    """How a KerasCV layer keeps an argument given as the catalogue's `value`."""
    if isinstance(value, Sampler):
        return value.kind, value.args
    if (layer, key) in SYMMETRIC_NUMBERS:
        value = (-value, value)
    if isinstance(value, tuple):  # a range is read as "uniform in [low, high]", an empty one as a constant
        low, high = value
        return low if low == high else ("UniformFactorSampler", {"lower": low, "upper": high})
    return value


# The base stage and erasing: Keras' own layers, drawing per image.
SAME_IMAGE = tf.tile(IMAGES[:1], (16, 1, 1, 1))
STAGES_ON = Policy(rate=0.0, crop_padding=0.125, flip=True, erasing_rate=1.0, erasing_area=0.25)


def _apply(layers, images):
    for layer in layers:
        images = layer(images, training=True)
    return images.numpy()


def test_the_base_stage_is_crop_then_flip_and_empty_when_off():
    crop, flip = build_base_stage(STAGES_ON, seed=3)
    assert isinstance(crop, keras.layers.RandomTranslation) and isinstance(flip, keras.layers.RandomFlip)
    assert build_base_stage(Policy()) == [] and build_erasing(Policy()) is None
    assert [type(layer) for layer in build_base_stage(Policy(flip=True))] == [keras.layers.RandomFlip]


def test_pad_and_crop_shifts_each_image_by_whole_pixels_within_the_padding():
    crop = build_base_stage(Policy(crop_padding=0.125), seed=3)
    ramp = tf.tile(tf.reshape(tf.range(32, dtype=tf.float32) + 100, (1, 1, 32, 1)), (16, 32, 1, 3))
    out = _apply(crop, ramp)
    # A column of the middle row is a column of the original shifted by a whole number of pixels,
    # at most 4 (the padding at 32 px), zero where the image moved out.
    shifts = set()
    for image in out:
        row = image[16, :, 0]
        inside = row[row > 0]
        assert np.all(np.diff(inside) == 1), "columns keep their order and whole pixels"
        shifts.add(int(inside[0] - 100) - int(np.argmax(row > 0)))
    assert shifts <= set(range(-4, 5)) and len(shifts) > 3, shifts


def test_flip_mirrors_about_half_of_the_images():
    (flip,) = build_base_stage(Policy(flip=True), seed=5)
    images = tf.tile(IMAGES[:1], (200, 1, 1, 1))
    out = _apply([flip], images)
    mirrored = [np.array_equal(image, IMAGES[0].numpy()[:, ::-1]) for image in out]
    kept = [np.array_equal(image, IMAGES[0].numpy()) for image in out]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert 70 < sum(mirrored) < 130


def test_erasing_fills_a_square_of_the_area_with_grey_at_the_rate():
    erasing = build_erasing(Policy(erasing_rate=0.5, erasing_area=0.25), seed=5)
    out = _apply([erasing], tf.tile(IMAGES[:1] * 0 + 3.0, (200, 1, 1, 1)))
    grey = (out == ERASING_FILL).mean(axis=(1, 2, 3))
    assert set(np.round(grey, 4)) <= {0.0, 0.25}, "a 16 x 16 square of a 32 x 32 image, or nothing"
    assert 70 < (grey > 0).sum() < 130


def test_each_new_stage_draws_per_image_and_a_seed_reproduces_it():
    first, again = (
        _apply(build_base_stage(STAGES_ON, 3), SAME_IMAGE),
        _apply(build_base_stage(STAGES_ON, 3), SAME_IMAGE),
    )
    np.testing.assert_array_equal(first, again)
    assert len({image.tobytes() for image in first}) > 8, "identical inputs come out different"
    erased = [_apply([build_erasing(STAGES_ON, 3)], SAME_IMAGE) for _ in range(2)]
    np.testing.assert_array_equal(*erased)
    assert len({image.tobytes() for image in erased[0]}) > 8
    assert not np.array_equal(first, _apply(build_base_stage(STAGES_ON, 4), SAME_IMAGE))


def test_image_stages_are_base_then_ops_then_erasing_and_skip_the_ops_at_rate_0():
    policy = STAGES_ON.replace(rate=0.5)
    kinds = [type(layer) for layer in image_stages(policy, seed=2)]
    assert kinds == [
        keras.layers.RandomTranslation,
        keras.layers.RandomFlip,
        keras_cv.layers.RandomAugmentationPipeline,
        keras.layers.RandomErasing,
    ]
    assert keras_cv.layers.RandomAugmentationPipeline not in [type(layer) for layer in image_stages(STAGES_ON, 2)]


def test_stage_configs_rebuild_into_the_same_layers():
    policy = BASELINES["ta-cifar"].replace(cutmix_rate=0.5, mixup_rate=0.25)
    configs = stage_configs(policy)
    stages = stages_from_configs(configs, "test")
    assert [type(layer) for layer in stages.base_stage] == [keras.layers.RandomTranslation, keras.layers.RandomFlip]
    assert isinstance(stages.pipeline, keras_cv.layers.RandomAugmentationPipeline)
    assert len(stages.pipeline.layers) == len(policy.ops)
    assert isinstance(stages.erasing, keras.layers.RandomErasing)
    assert [rate for _, rate in stages.batch_stage.stages] == [0.5, 0.25]


def test_a_config_that_gives_another_layer_is_refused_with_its_source():
    configs = stage_configs(GUIDE_POLICY)
    configs["erasing"] = configs["batch_stage"]["mixup"]["layer"]
    with pytest.raises(
        AugSearchError, match=r"^policy file 'p.json': erasing must be a RandomErasing, but .* MixUp\.$"
    ):
        stages_from_configs(configs, "policy file 'p.json'")
