"""Issue 6, case 6: damaged or hostile export files are one clear error from
`search.load_policy_file`, which deserializes with safe_mode=True.

tests/results/test_export.py already covers a file truncated at 200 characters, format_version 99,
a foreign JSON document, the top-level pipeline naming os.system, the wrong layer type and a
Lambda in place of CutMix. Here: the same dangers where they hide deeper (inside the pipeline's
layer list), Keras objects that are not layers, and files cut anywhere."""

import json

import keras
import pytest

from search import export_policy, load_policy_file
from space import AugSearchError, Policy

POLICY = Policy(magnitude=0.5, ops=("brightness", "rotation"), cutmix_rate=0.5, mixup_rate=0.2)


def _lambda_layer():
    return keras.saving.serialize_keras_object(keras.layers.Lambda(lambda x: x * 2))


def _first_layer(document):
    return document["keras"]["pipeline"]["config"]["layers"]


EDITS = {
    "lambda inside the pipeline": (
        lambda d: _first_layer(d).__setitem__(0, _lambda_layer()),
        "the Keras config of pipeline does not load: Requested the deserialization of a `Lambda` layer",
    ),
    "lambda as MixUp": (
        lambda d: d["keras"]["batch_stage"]["mixup"].__setitem__("layer", _lambda_layer()),
        "the Keras config of batch_stage.mixup does not load: Requested the deserialization of a `Lambda` layer",
    ),
    "os.system inside the pipeline": (
        lambda d: _first_layer(d)[0].update(module="os", class_name="system", registered_name="os>system"),
        "the Keras config of pipeline does not load: it names the class os.system, "
        "which is not a Keras or KerasCV class.",
    ),
    "builtins.eval as the pipeline": (
        lambda d: d["keras"]["pipeline"].update(module="builtins", class_name="eval", registered_name=None),
        "the Keras config of pipeline does not load: it names the class builtins.eval, "
        "which is not a Keras or KerasCV class.",
    ),
    "subprocess in a factor sampler": (
        lambda d: _first_layer(d)[0]["config"]["factor"].update(module="subprocess", class_name="Popen"),
        "it names the class subprocess.Popen, which is not a Keras or KerasCV class.",
    ),
    "an optimizer inside the pipeline": (
        lambda d: _first_layer(d).__setitem__(0, keras.saving.serialize_keras_object(keras.optimizers.SGD())),
        "pipeline layer 0 must be a KerasCV augmentation layer, but its config gives keras.src.optimizers.sgd.SGD.",
    ),
    "a Dense layer inside the pipeline": (
        lambda d: _first_layer(d).__setitem__(1, keras.saving.serialize_keras_object(keras.layers.Dense(3))),
        "pipeline layer 1 must be a KerasCV augmentation layer, "
        "but its config gives keras.src.layers.core.dense.Dense.",
    ),
    "an optimizer as the pipeline": (
        lambda d: d["keras"].__setitem__("pipeline", keras.saving.serialize_keras_object(keras.optimizers.SGD())),
        "pipeline must be a RandomAugmentationPipeline, but its config gives SGD.",
    ),
    "format_version as a string": (
        lambda d: d.update(format_version="1"),
        "has format_version='1'; this AugSearch reads versions 1 and 2.",
    ),
    "batch_stage not an object": (
        lambda d: d["keras"].__setitem__("batch_stage", ["cutmix", "mixup"]),
        "is damaged: batch_stage.cutmix needs a rate in [0, 1] and a layer.",
    ),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_hostile_or_damaged_keras_config_is_one_clear_error(name, tmp_path):
    path = export_policy(POLICY, tmp_path / "policy.json")
    document = json.loads(path.read_text())
    edit, message = EDITS[name]
    edit(document)
    path.write_text(json.dumps(document))
    with pytest.raises(AugSearchError) as error:
        load_policy_file(path)
    text = str(error.value)
    assert text.startswith(f"policy file {str(path)!r}") and message in text, text
    assert "\n" not in text and len(text) < 700, "one line, not Keras' dump of the whole config"


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.99])
def test_file_cut_anywhere_is_a_clear_error(fraction, tmp_path):
    path = export_policy(POLICY, tmp_path / "policy.json")
    text = path.read_text().rstrip()
    path.write_text(text[: int(len(text) * fraction)])
    with pytest.raises(AugSearchError, match=r"is not valid JSON \(truncated or damaged\?\)"):
        load_policy_file(path)
