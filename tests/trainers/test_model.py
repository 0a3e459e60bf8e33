import keras
import keras_cv
import numpy as np
import pytest

from space.errors import AugSearchError
from tests_pkg import nets
from trainers.model import MODELS, build_model, check_model, model_name


def test_small_model_classifies_0_255_images():
    model = build_model("small", num_classes=10, image_size=32, seed=0)
    assert 110_000 <= model.count_params() <= 140_000
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    probs = model(images, training=False)
    assert probs.shape == (2, 10) and probs.dtype == "float32"
    np.testing.assert_allclose(np.sum(probs, axis=1), 1.0, rtol=1e-5)
    # The backbone rescales [0, 255] itself: a [0, 1] input would be a near-black image.
    backbone = model.get_layer(index=1)
    assert isinstance(backbone, keras_cv.models.EfficientNetV2Backbone) and backbone.include_rescaling


def test_weights_depend_on_the_seed_only():
    a, b, c = (build_model("small", 3, 16, seed=s).get_weights() for s in (1, 1, 2))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, z) for x, z in zip(a, c, strict=True))


@pytest.mark.parametrize(
    "name, backbone_params",
    # KerasCV's preset metadata: the in-code configurations are the published architectures.
    [("efficientnetv2_b0", 5_919_312), ("efficientnetv2_s", 20_331_360)],
)
def test_full_size_configs_match_kerascv_presets(name, backbone_params):
    model = build_model(name, num_classes=5, image_size=32, seed=0)
    head = 1280 * 5 + 5
    assert model.count_params() == backbone_params + head


def test_head_stays_float32_under_mixed_precision():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build_model("small", 4, 16, seed=0)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert model.get_layer("top_dropout").compute_dtype == "float16"
    assert model.get_layer("predictions").compute_dtype == "float32"
    assert model(np.zeros((1, 16, 16, 3), "float32")).dtype == "float32"


def test_unknown_model_lists_the_models():
    expected = r"model must be one of: small, efficientnetv2_b0, efficientnetv2_s .*but got model='resnet9000'\."
    with pytest.raises(AugSearchError, match=expected):
        build_model("resnet9000", 10, 32, seed=0)
    assert list(MODELS) == ["small", "efficientnetv2_b0", "efficientnetv2_s"]


def test_kerascv_preset_names_load_through_kerascv(monkeypatch):
    # A preset downloads; here the download is replaced by an in-code backbone.
    calls = []

    def from_preset(name, **kwargs):
        calls.append((name, kwargs))
        backbone = keras_cv.models.EfficientNetV2Backbone(include_rescaling=True, **MODELS["small"])
        return keras_cv.models.ImageClassifier(backbone=backbone, num_classes=kwargs["num_classes"])

    monkeypatch.setattr(keras_cv.models.ImageClassifier, "from_preset", from_preset)
    model = build_model("efficientnetv2_b1_imagenet", num_classes=7, image_size=32, seed=0)
    assert [name for name, _ in calls] == ["efficientnetv2_b1_imagenet"]
    assert model.output_shape == (None, 7)


# ---------------------------------------------------------------------------------------------
# The user's own model: an import path or a callable (tests/tests_pkg/nets.py)


def test_model_name_is_a_str_as_is_and_module_qualname_for_a_callable():
    assert model_name("small") == "small" and model_name("tests_pkg.nets:build") == "tests_pkg.nets:build"
    assert model_name(nets.build) == "tests_pkg.nets:build"
    assert (
        model_name(lambda shape, n, seed: None)
        == f"{__name__}:test_model_name_is_a_str_as_is_and_module_qualname_for_a_callable.<locals>.<lambda>"
    )
    with pytest.raises(
        AugSearchError, match=r"^model must be a model name, an import path .* or a callable .*, but got model=3\.$"
    ):
        model_name(3)


@pytest.mark.parametrize("model", ["tests_pkg.nets:build", nets.build, "small", "efficientnetv2_b0"], ids=str)
def test_check_model_accepts_names_import_paths_and_callables(model):
    check_model(model, num_classes=4, image_size=32)
    assert build_model(model, num_classes=4, image_size=32, seed=0).output_shape == (None, 4)


BAD_MODELS = {
    "unimportable": (
        "nope.mod:build",
        r"model cannot be imported: No module named 'nope' \(model='nope\.mod:build'\); "
        r"expected an import path 'package\.module:function'",
    ),
    "no-such-function": (
        "tests_pkg.nets:nope",
        r"model cannot be imported: module 'tests_pkg\.nets' has no attribute 'nope'",
    ),
    "no-colon": (
        "tests_pkg.nets.build",
        r"model must be one of: .*but got model='tests_pkg\.nets\.build' "
        r"\(an import path needs a colon: 'tests_pkg\.nets:build'\)\.",
    ),
    "empty-function": (
        "tests_pkg.nets:",
        r"model must be an import path 'package\.module:function' \(dotted Python names around one colon\), "
        r"but got model='tests_pkg\.nets:'\.",
    ),
    "empty-module": (":build", r"model must be an import path .*, but got model=':build'\."),
    "two-colons": ("a:b:c", r"model must be an import path .*, but got model='a:b:c'\."),
    "not-callable": (
        "tests_pkg.nets:NOT_CALLABLE",
        r"model must name a callable \(input_shape, num_classes, seed\) -> keras\.Model, "
        r"but got model='tests_pkg\.nets:NOT_CALLABLE', which is a value of type int\.",
    ),
    "not-a-callable-object": (
        3,
        r"model must be a model name, an import path 'package\.module:function' or a callable .*, but got model=3\.",
    ),
    "one-argument": (
        nets.one_argument,
        r"model must accept three positional arguments \(input_shape, num_classes, seed\), "
        r"but got model='tests_pkg\.nets:one_argument' with signature \(input_shape\)\.",
    ),
    "not-a-model": (
        "tests_pkg.nets:not_a_model",
        r"model must return a keras\.Model from \(input_shape, num_classes, seed\), "
        r"but got model='tests_pkg\.nets:not_a_model', which returned a value of type str\.",
    ),
    "wrong-output": (
        nets.wrong_output,
        r"model must output class probabilities of shape \(None, 4\), "
        r"but got model='tests_pkg\.nets:wrong_output', whose output shape is \(None, 5\)\.",
    ),
    "raises": (
        lambda shape, n, seed: 1 / 0,
        r"model must build a keras\.Model when called as model\(\(16, 16, 3\), 4, 1\), "
        r"but got model='.*<lambda>', which raised ZeroDivisionError: division by zero\.",
    ),
}


@pytest.mark.parametrize("model, match", BAD_MODELS.values(), ids=BAD_MODELS.keys())
def test_check_model_says_what_is_wrong_in_one_line_starting_with_model(model, match):
    with pytest.raises(AugSearchError, match=match) as raised:
        check_model(model, num_classes=4, image_size=16)
    message = str(raised.value)
    assert message.startswith("model ") and "\n" not in message  # the CLI rewrites "model" to "--model"


def test_build_model_builds_a_users_model_seeded_before_the_call():
    a, b, c = (
        build_model(m, 3, 16, seed=s).get_weights()
        for m, s in ((nets.build, 1), ("tests_pkg.nets:build", 1), (nets.build, 2))
    )
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, z) for x, z in zip(a, c, strict=True))
    draws = []

    def unseeded(input_shape, num_classes, seed):
        draws.append(np.random.random())  # the global state, seeded by build_model
        return nets.build(input_shape, num_classes, seed)

    model = build_model(unseeded, 5, 16, seed=4)
    build_model(unseeded, 5, 16, seed=4)
    assert draws[0] == draws[1] and model.output_shape == (None, 5)
    with pytest.raises(AugSearchError, match=r"^model must return a keras\.Model .*'tests_pkg\.nets:not_a_model'"):
        build_model(nets.not_a_model, 3, 16, seed=0)
