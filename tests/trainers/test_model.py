import keras
import keras_cv
import numpy as np
import pytest

from space.errors import AugSearchError
from trainers.model import MODELS, build_model


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
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, z) for x, z in zip(a, c))


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
