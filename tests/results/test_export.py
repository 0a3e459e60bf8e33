import json
import subprocess
import sys
import textwrap

import keras
import keras_cv
import numpy as np
import pytest

from results.export import FORMAT_VERSION, keras_configs, policy_document, read_policy_document, write_policy_document
from search import export_policy, load_policy_file
from space import BASELINES, TRIVIALAUGMENT_OPS, AugSearchError, Policy

POLICY = Policy(
    magnitude=0.6,
    magnitude_stddev=0.1,
    rate=0.9,
    augmentations_per_image=2,
    ops=("solarization", "brightness", "rotation", "grid_mask"),
    cutmix_rate=0.5,
    mixup_rate=0.25,
)
PROVENANCE = {
    "study": "fashion_mnist",
    "trial": 7,
    "objective": 0.81,
    "dataset": "fashion_mnist",
    "budget": {"epochs": 4},
}

# What a plain Keras + KerasCV user runs: docs/export.md shows the same lines. AugSearch's own
# packages are blocked so that the file is shown to need nothing but keras and keras_cv.
PLAIN_KERAS_SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys
    class NoAugSearch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("space", "search", "trainers", "results"):
                raise ImportError(f"AugSearch module {name} must not be needed")
    mode, images_path, out_folder, policy_files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    if mode == "plain":
        sys.meta_path.insert(0, NoAugSearch())

    import json
    import keras, keras_cv
    import numpy as np
    import tensorflow as tf

    def run(index, policy_file):
        # Unseeded KerasCV layers capture TF's global generator when built: fix it to compare runs.
        keras.utils.set_random_seed(0)
        tf.random.set_global_generator(tf.random.Generator.from_seed(0))
        config = json.load(open(policy_file))["keras"]
        # docs/export.md's order: the base stage, the pipeline, erasing (a version-1 file has neither).
        base_stage = [keras.saving.deserialize_keras_object(layer) for layer in config.get("base_stage", [])]
        pipeline = keras.saving.deserialize_keras_object(config["pipeline"])
        erasing = [keras.saving.deserialize_keras_object(config["erasing"])] if config.get("erasing") else []
        stages = [*base_stage, pipeline, *erasing]
        if mode == "augsearch":  # AugSearch's own training stages for the file's policy, one image at a time
            from space import Policy
            from space.layers import image_stages
            keras.utils.set_random_seed(0)
            tf.random.set_global_generator(tf.random.Generator.from_seed(0))
            stages = image_stages(Policy.from_dict(json.load(open(policy_file))["policy"]))

        def apply_pipeline(inputs):
            for layer in stages:
                inputs["images"] = layer(inputs["images"], training=True)
            return inputs

        batch_stage = [
            (keras.saving.deserialize_keras_object(stage["layer"]), stage["rate"])
            for stage in (config["batch_stage"]["cutmix"], config["batch_stage"]["mixup"])
        ]

        def apply_batch_stage(samples):
            for layer, rate in batch_stage:
                samples = tf.cond(tf.random.uniform(()) < rate, lambda: layer(samples, training=True), lambda: samples)
            return samples

        images = np.load(images_path)
        labels = tf.one_hot(np.arange(8) % 4, 4)
        data = tf.data.Dataset.from_tensor_slices({"images": images, "labels": labels}).batch(4)
        # Byte-exact comparison image by image, as AugSearch trains: on a batch KerasCV runs a
        # parallel tf.map_fn whose iterations race for the layer's random generator.
        singles = tf.data.Dataset.from_tensor_slices({"images": images})
        out = np.stack([e["images"].numpy() for e in singles.map(apply_pipeline)])
        mixed = [b for b in data.map(apply_pipeline).map(apply_batch_stage)]
        np.save(f"{out_folder}/{mode}-{index}.npy", out)
        return {
            "base_stage": [type(layer).__name__ for layer in base_stage],
            "erasing": [type(layer).__name__ for layer in erasing],
            "pipeline": type(pipeline).__name__,
            "layers": [type(layer).__name__ for layer in pipeline.layers],
            "augmentations_per_image": pipeline.augmentations_per_image,
            "rate": pipeline.rate,
            "batch_stage": [[type(layer).__name__, rate] for layer, rate in batch_stage],
            "label_sums": [float(s) for b in mixed for s in tf.reduce_sum(b["labels"], 1).numpy()],
        }

    seen = [run(index, policy_file) for index, policy_file in enumerate(policy_files)]
    modules = sorted(m for m in sys.modules if m.split(".")[0] in ("space", "search", "trainers", "results"))
    print(json.dumps({"files": seen, "augsearch_modules": modules}))
    """
)


def run_script(tmp_path, policy_files, mode):
    """Runs the script over `policy_files` in a fresh `python -I` process; both modes start from
    the same TF state, and reseed before each file. Returns what it saw and its images per file."""
    script = tmp_path / "plain_keras.py"
    script.write_text(PLAIN_KERAS_SCRIPT)
    done = subprocess.run(
        [sys.executable, "-I", str(script), mode, str(tmp_path / "images.npy"), str(tmp_path), *map(str, policy_files)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    return seen, [np.load(tmp_path / f"{mode}-{index}.npy") for index in range(len(policy_files))]


TRIVIALAUGMENT_LAYERS = [
    "AutoContrast",
    "Equalization",
    "Solarization",
    "RandomColorDegeneration",
    "RandomContrast",
    "RandomBrightness",
    "RandomShear",
    "RandomShear",
    "RandomTranslation",
    "RandomTranslation",
    "RandomRotation",
    "Posterization",
    "RandomSharpness",
]


# Three policies per process (a fresh Python with TensorFlow costs seconds): one of each magnitude
# sampler, and one with every stage.
EXPORTED = [
    (POLICY, ["Solarization", "RandomBrightness", "RandomRotation", "GridMask"], [["CutMix", 0.5], ["MixUp", 0.25]]),
    # Its uniform magnitude is plain KerasCV too: UniformFactorSampler configs.
    (BASELINES["trivialaugment"], TRIVIALAUGMENT_LAYERS, [["CutMix", 0.0], ["MixUp", 0.0]]),
    # The base stage and erasing are plain Keras layers.
    (BASELINES["torchvision"], TRIVIALAUGMENT_LAYERS, [["CutMix", 0.5], ["MixUp", 0.5]]),
]


def test_plain_keras_and_kerascv_rebuild_and_apply_the_exported_pipeline(tmp_path):
    paths = [
        export_policy(policy, tmp_path / f"policy-{index}.json", PROVENANCE)
        for index, (policy, _, _) in enumerate(EXPORTED)
    ]
    images = np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    np.save(tmp_path / "images.npy", images)
    seen, theirs = run_script(tmp_path, paths, "plain")
    assert seen["augsearch_modules"] == []
    for (policy, layers, batch_stage), file_seen, augmented in zip(EXPORTED, seen["files"], theirs, strict=True):
        assert file_seen["pipeline"] == "RandomAugmentationPipeline"
        assert file_seen["layers"] == layers
        assert (file_seen["augmentations_per_image"], file_seen["rate"]) == (
            policy.augmentations_per_image,
            policy.rate,
        )
        assert file_seen["batch_stage"] == batch_stage
        assert file_seen["base_stage"] == ["RandomTranslation", "RandomFlip"][: 2 * policy.has_base_stage]
        assert file_seen["erasing"] == ["RandomErasing"][: policy.erasing_rate > 0]
        np.testing.assert_allclose(file_seen["label_sums"], 1.0, rtol=1e-5)
        assert np.abs(augmented - images).mean() > 1.0

    # AugSearch's own training pipeline for each policy augments identically under the same seeds.
    _, ours = run_script(tmp_path, paths, "augsearch")
    for mine, augmented in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(mine, augmented)


def _class_names(config):
    """Every class a Keras config names, nested ones included."""
    children = config.values() if isinstance(config, dict) else config if isinstance(config, list) else ()
    own = [config["class_name"]] if isinstance(config, dict) and "class_name" in config else []
    return own + [name for child in children for name in _class_names(child)]


def test_uniform_magnitude_exports_uniform_factor_samplers_and_loads_back(tmp_path):
    trivial = BASELINES["trivialaugment"]
    path = export_policy(trivial, tmp_path / "policy.json")
    names = _class_names(json.loads(path.read_text())["keras"]["pipeline"])
    assert "UniformFactorSampler" in names and "NormalFactorSampler" not in names
    loaded = load_policy_file(path)
    assert loaded.policy == trivial
    assert len(loaded.pipeline.layers) == len(TRIVIALAUGMENT_OPS)
    shear = loaded.pipeline.layers[TRIVIALAUGMENT_OPS.index("shear_x")]
    assert type(shear.x_factor) is keras_cv.core.UniformFactorSampler
    assert (shear.x_factor.lower, shear.x_factor.upper) == (0, 1.0)


def test_file_holds_version_policy_and_provenance(tmp_path):
    path = export_policy(POLICY, tmp_path / "sub" / "policy.json", PROVENANCE)
    document = json.loads(path.read_text())
    assert document["format_version"] == FORMAT_VERSION
    assert Policy.from_dict(document["policy"]) == POLICY
    provenance = document["provenance"]
    assert {k: provenance[k] for k in PROVENANCE} == PROVENANCE
    assert provenance["augsearch_version"] and provenance["exported_at"].endswith("+00:00")
    assert not list(path.parent.glob(".policy.json.*")), "the temporary file was left behind"


def test_every_stage_is_in_the_file_as_keras_layers_and_loads_back(tmp_path):
    recipe = BASELINES["ta-cifar"]
    path = export_policy(recipe, tmp_path / "policy.json")
    document = json.loads(path.read_text())["keras"]
    assert [layer["class_name"] for layer in document["base_stage"]] == ["RandomTranslation", "RandomFlip"]
    assert document["erasing"]["class_name"] == "RandomErasing"
    loaded = load_policy_file(path)
    assert loaded.policy == recipe
    crop, flip = loaded.base_stage
    assert isinstance(crop, keras.layers.RandomTranslation)
    assert (crop.height_factor, crop.width_factor) == (0.125, 0.125)
    assert (crop.fill_mode, crop.interpolation) == ("constant", "nearest")
    assert isinstance(flip, keras.layers.RandomFlip) and flip.mode == "horizontal"
    assert isinstance(loaded.erasing, keras.layers.RandomErasing)
    assert (tuple(loaded.erasing.factor), tuple(loaded.erasing.scale)) == ((1.0, 1.0), (0.25, 0.25))


def test_the_file_itself_is_plain_json(tmp_path):
    # results.export alone, no Keras: the "keras" entry goes in and comes back out as JSON, a
    # version-1 entry (no base stage, no erasing) in version 2's layout.
    layer = {"module": "keras_cv.layers", "class_name": "MixUp", "config": {}}
    configs = {
        "pipeline": layer,
        "batch_stage": {"cutmix": {"rate": 0.5, "layer": layer}, "mixup": {"rate": 1, "layer": layer}},
    }
    path = write_policy_document(policy_document(POLICY, configs, PROVENANCE), tmp_path / "policy.json")
    document = read_policy_document(path)
    assert document["provenance"]["trial"] == 7 and Policy.from_dict(document["policy"]) == POLICY
    assert keras_configs(document, path) == {**configs, "base_stage": [], "erasing": None}


def test_a_policy_without_the_new_stages_exports_none_of_them(tmp_path):
    loaded = load_policy_file(export_policy(POLICY, tmp_path / "policy.json"))
    assert (loaded.base_stage, loaded.erasing) == ([], None)


def test_a_version_1_file_still_loads_with_no_base_stage_and_no_erasing(tmp_path):
    def as_version_1(document):
        # What the earlier version wrote: no base_stage or erasing entries, no such Policy fields.
        document["format_version"] = 1
        del document["keras"]["base_stage"], document["keras"]["erasing"]
        for name in ("crop_padding", "flip", "erasing_rate", "erasing_area"):
            del document["policy"][name]

    loaded = load_policy_file(_export_and_edit(tmp_path, as_version_1))
    assert loaded.policy == POLICY
    assert (loaded.base_stage, loaded.erasing) == ([], None)
    assert isinstance(loaded.pipeline, keras_cv.layers.RandomAugmentationPipeline)


def test_a_foreign_layer_in_the_base_stage_is_refused(tmp_path):
    def edit(document):
        document["keras"]["base_stage"] = [document["keras"]["batch_stage"]["mixup"]["layer"]]

    with pytest.raises(
        AugSearchError, match=r"base_stage\[0\] must be a RandomTranslation or RandomFlip, but its config gives MixUp"
    ):
        load_policy_file(_export_and_edit(tmp_path, edit))


def test_loader_returns_the_policy_and_real_layers(tmp_path):
    loaded = load_policy_file(export_policy(POLICY, tmp_path / "policy.json", PROVENANCE))
    assert loaded.policy == POLICY
    assert isinstance(loaded.pipeline, keras_cv.layers.RandomAugmentationPipeline)
    assert [type(layer) for layer, _ in loaded.batch_stage.stages] == [keras_cv.layers.CutMix, keras_cv.layers.MixUp]
    assert [rate for _, rate in loaded.batch_stage.stages] == [0.5, 0.25]
    assert loaded.provenance["trial"] == 7


def _export_and_edit(tmp_path, edit):
    path = export_policy(POLICY, tmp_path / "policy.json")
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    return path


def test_truncated_file_is_a_clear_error(tmp_path):
    path = export_policy(POLICY, tmp_path / "policy.json")
    path.write_text(path.read_text()[:200])
    with pytest.raises(AugSearchError, match="not valid JSON"):
        load_policy_file(path)


def test_unknown_version_is_a_clear_error(tmp_path):
    path = _export_and_edit(tmp_path, lambda d: d.update(format_version=99))
    with pytest.raises(AugSearchError, match="format_version=99; this AugSearch reads versions 1 and 2"):
        load_policy_file(path)


def test_foreign_json_is_a_clear_error(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(AugSearchError, match="not an AugSearch policy export"):
        load_policy_file(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(AugSearchError, match="does not exist"):
        load_policy_file(tmp_path / "nope.json")


def test_config_naming_a_foreign_class_is_rejected(tmp_path):
    def edit(document):
        document["keras"]["pipeline"].update(class_name="system", module="os", registered_name="os>system")

    with pytest.raises(AugSearchError, match="Keras config of pipeline does not load"):
        load_policy_file(_export_and_edit(tmp_path, edit))


def test_config_of_the_wrong_layer_type_is_rejected(tmp_path):
    def edit(document):
        document["keras"]["pipeline"] = document["keras"]["batch_stage"]["mixup"]["layer"]

    with pytest.raises(
        AugSearchError, match="pipeline must be a RandomAugmentationPipeline, but its config gives MixUp"
    ):
        load_policy_file(_export_and_edit(tmp_path, edit))


def test_lambda_is_refused_in_safe_mode(tmp_path):
    lambda_config = keras.saving.serialize_keras_object(keras.layers.Lambda(lambda x: x * 2))

    def edit(document):
        document["keras"]["batch_stage"]["cutmix"]["layer"] = lambda_config

    with pytest.raises(AugSearchError, match="batch_stage.cutmix does not load"):
        load_policy_file(_export_and_edit(tmp_path, edit))
