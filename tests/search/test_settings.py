"""`search.settings`: every field checked on construction, one line naming the field; cheap (no
TensorFlow, no Ray, nothing written)."""

import numpy as np
import pytest

from search.settings import EvaluationSettings, Placement, Resources, SearchSettings, default_study_name
from space import AugSearchError, Policy, SearchSpace
from space.budget import PRESETS
from trainers.data import ArrayData

RESOURCES = {
    "concurrency-0": (dict(concurrency=0), r"^concurrency must be None or an integer >= 1, but got concurrency=0\.$"),
    "concurrency-float": (
        dict(concurrency=1.5),
        r"^concurrency must be None or an integer >= 1, but got concurrency=1\.5\.$",
    ),
    "cpus-per-trial-0": (
        dict(cpus_per_trial=0),
        r"^cpus_per_trial must be None or a number > 0, but got cpus_per_trial=0\.$",
    ),
    "gpus-per-trial-negative": (
        dict(gpus_per_trial=-1),
        r"^gpus_per_trial must be None or a number >= 0, but got gpus_per_trial=-1\.$",
    ),
    "address-not-a-string": (dict(address=5), r"^address must be None or a string, but got address=5\.$"),
    "address-ray-client": (
        dict(address="ray://head:10001"),
        r"^address must be auto or the HOST:PORT that `ray start --head` prints, "
        r"but got address='ray://head:10001': with Ray Client",
    ),
}


@pytest.mark.parametrize("fields, match", RESOURCES.values(), ids=RESOURCES.keys())
def test_invalid_resources_are_refused(fields, match):
    with pytest.raises(AugSearchError, match=match) as raised:
        Resources(**fields)
    assert "\n" not in str(raised.value)


#: Fields of both settings (SearchSettings shown; EvaluationSettings shares the checks).
SEARCH = {
    "dataset-a-number": (
        dict(dataset=5),
        r"^dataset must be a dataset spec \('fashion_mnist', 'tfds:NAME', 'folder:PATH'\), "
        r"an ArrayData or \(images, labels\), but got dataset=5\.$",
    ),
    "dataset-an-array": (
        dict(dataset=np.zeros((4, 8, 8))),
        r"^dataset must be a dataset spec .* but got dataset='<ndarray>'\.$",
    ),
    "dataset-none": (dict(dataset=None), r"^dataset must be a dataset spec or an ArrayData, but got dataset=None\.$"),
    "data-dir": (dict(data_dir=3), r"^data_dir must be None or a folder path, but got data_dir=3\.$"),
    "budget-unknown": (
        dict(budget="huge"),
        r"^budget must be None, a Budget or one of smoke, cpu, gpu, but got budget='huge'\.$",
    ),
    "budget-of-an-evaluation": (
        dict(budget="full"),
        r"^budget must be None, a Budget or one of smoke, cpu, gpu, but got budget='full'\.$",
    ),
    "budget-overrides-not-a-dict": (
        dict(budget_overrides=[1]),
        r"^budget_overrides must be a dict of Budget fields, but got budget_overrides=\[1\]\.$",
    ),
    "budget-overrides-unknown-field": (
        dict(budget_overrides={"epoch": 3}),
        r"^budget has unknown field 'epoch'; expected fields: image_size, ",
    ),
    "budget-overrides-bad-value": (
        dict(budget_overrides={"epochs": 0}),
        r"^epochs must be an integer >= 1, but got epochs=0\.$",
    ),
    "model-empty": (
        dict(model=" "),
        r"^model must be None, a model name \(small, efficientnetv2_b0, efficientnetv2_s\), "
        r"'package\.module:function', or a callable \(input_shape, num_classes, seed\) -> keras\.Model, "
        r"but got model=' '\.$",
    ),
    "model-not-callable": (dict(model=3), r"^model must be None, a model name .* but got model=3\.$"),
    "study-empty": (dict(study=""), r"^study must be None or a name, but got study=''\.$"),
    "runs-dir": (dict(runs_dir=3), r"^runs_dir must be a folder path, but got runs_dir=3\.$"),
    "storage": (dict(storage=3), r"^storage must be None or a database URL, but got storage=3\.$"),
    "resources": (
        dict(resources={"concurrency": 2}),
        r"^resources must be a search\.Resources, but got resources=\{'concurrency': 2\}\.$",
    ),
    "trials-0": (dict(trials=0), r"^trials must be an integer >= 1, but got trials=0\.$"),
    "trials-bool": (dict(trials=True), r"^trials must be an integer >= 1, but got trials=True\.$"),
    "space": (dict(space="standard"), r"^space must be a space\.SearchSpace, but got space='standard'\.$"),
    "sampler": (
        dict(sampler="bayes"),
        r"^sampler must be one of tpe, tpe-univariate, random, cmaes, gp, qmc, but got sampler='bayes'\.$",
    ),
    "pruner": (dict(pruner="median"), r"^pruner must be one of asha, none, but got pruner='median'\.$"),
    "seed": (dict(seed=-1), r"^seed must be an integer >= 0, but got seed=-1\.$"),
    "max-failures": (dict(max_failures=0), r"^max_failures must be an integer >= 1, but got max_failures=0\.$"),
    "baselines": (dict(baselines="no"), r"^baselines must be True or False, but got baselines='no'\.$"),
    "reuse-workers": (dict(reuse_workers=0), r"^reuse_workers must be True or False, but got reuse_workers=0\.$"),
    "verbose": (dict(verbose=None), r"^verbose must be True or False, but got verbose=None\.$"),
    "race-top": (
        dict(race_top=-1),
        r"^race_top must be an integer >= 0 \(0: no race\), but got race_top=-1\.$",
    ),
    "race-baselines": (
        dict(race_baselines="none,autoaugment"),
        r"^race_baselines has unknown baseline 'autoaugment'; "
        r"expected a comma-separated list of: none, guide, randaugment, trivialaugment, cropflip, ta-cifar, "
        r"torchvision, but got race_baselines='none,autoaugment'\.$",
    ),
    "target-budget": (
        dict(target_budget="cpu"),
        r"^target_budget must be None, a Budget or one of full, full-gpu, smoke, proxy, "
        r"but got target_budget='cpu'\.$",
    ),
    "target-overrides": (
        dict(target_overrides={"epochs": 0}),
        r"^target_epochs must be an integer >= 1, but got target_epochs=0\.$",
    ),
    "race-seeds": (
        dict(race_seeds=1),
        r"^race_seeds must be an integer >= 2 \(an interval needs two seeds\), but got race_seeds=1\.$",
    ),
    "keras-callbacks": (
        dict(keras_callbacks=[1]),
        r"^keras_callbacks must be None or a callable trial_number -> list of keras\.callbacks\.Callback, "
        r"but got keras_callbacks=\[1\]\.$",
    ),
}


@pytest.mark.parametrize("fields, match", SEARCH.values(), ids=SEARCH.keys())
def test_invalid_search_settings_are_refused(fields, match):
    with pytest.raises(AugSearchError, match=match) as raised:
        SearchSettings(**fields)
    assert "\n" not in str(raised.value)


EVALUATION = {
    "seeds": (dict(seeds=0), r"^seeds must be an integer >= 1 \(3 or more give an interval\), but got seeds=0\.$"),
    "seed": (dict(seed=-1), r"^seed must be an integer >= 0, but got seed=-1\.$"),
    "top-k": (dict(top_k=-1), r"^top_k must be an integer >= 0, but got top_k=-1\.$"),
    "baselines": (
        dict(baselines=("none", "autoaugment")),
        r"unknown baseline 'autoaugment'; expected a comma-separated list of: none, guide, randaugment, trivialaugment",
    ),
    "policies-a-string": (
        dict(policies="policy.json"),
        r"^policies must be a list of policy files or Policy objects, but got policies='policy\.json'\.$",
    ),
    "policies-a-number": (
        dict(policies=[3]),
        r"^policies must be policy files or Policy objects, but got policies=3\.$",
    ),
    "trials-a-string": (
        dict(trials="best"),
        r"^trials must be a list of 'best' or trial numbers, but got trials='best'\.$",
    ),
    "trials-a-number": (dict(trials=3), r"^trials must be a list of 'best' or trial numbers, but got trials=3\.$"),
    "budget-of-a-search": (
        dict(budget="cpu"),
        r"^budget must be None, a Budget or one of full, full-gpu, smoke, but got budget='cpu'\.$",
    ),
    "dataset": (dict(dataset=5), r"^dataset must be a dataset spec .* but got dataset=5\.$"),
    "model": (dict(model=""), r"^model must be None, a model name "),
    "resources": (dict(resources=None), r"^resources must be a search\.Resources, but got resources=None\.$"),
}


@pytest.mark.parametrize("fields, match", EVALUATION.values(), ids=EVALUATION.keys())
def test_invalid_evaluation_settings_are_refused(fields, match):
    with pytest.raises(AugSearchError, match=match) as raised:
        EvaluationSettings(**fields)
    assert "\n" not in str(raised.value)


def test_settings_are_frozen_and_normalised():
    images, labels = np.zeros((20, 8, 8), np.uint8), np.arange(20) % 2
    settings = SearchSettings(dataset=(images, labels), budget_overrides={"epochs": 1})
    assert isinstance(settings.dataset, ArrayData) and settings.dataset_spec.startswith("arrays:")
    assert settings.study_name == "arrays-" + settings.dataset_spec.split(":")[1]
    with pytest.raises(AttributeError):
        settings.trials = 3
    evaluation = EvaluationSettings(baselines="guide,none", policies=[Policy()], trials=["best", 2])
    assert evaluation.baselines == ("guide", "none") and EvaluationSettings(baselines="").baselines == ()
    assert evaluation.policies == (Policy(),) and evaluation.trials == ("best", 2)


def test_the_budget_is_the_preset_then_the_overrides_then_the_model():
    def my_model(input_shape, num_classes, seed):
        raise AssertionError("settings never build the model")

    settings = SearchSettings(budget_overrides={"epochs": 1, "image_size": 16}, model=my_model)
    assert settings.budget_for(gpus=False) == PRESETS["cpu"].replace(
        epochs=1,
        image_size=16,
        model=f"{__name__}:test_the_budget_is_the_preset_then_the_overrides_then_the_model.<locals>.my_model",
    )
    assert (
        settings.budget_for(gpus=True).image_size == 16
        and settings.budget_for(gpus=True).batch_size == PRESETS["gpu"].batch_size
    )
    assert SearchSettings(budget="smoke", model="tests_pkg.nets:build").budget_for(gpus=True) == PRESETS[
        "smoke"
    ].replace(model="tests_pkg.nets:build")
    assert EvaluationSettings().budget_for(gpus=False) == PRESETS["full"]
    assert EvaluationSettings().budget_for(gpus=True) == PRESETS["full-gpu"]
    assert SearchSettings(space=SearchSpace(ops="rotation")).space.ops == ("rotation",)


def test_the_race_trains_at_the_target_budget_scored_on_validation_images():
    cpu = SearchSettings()
    assert cpu.race_budget_for(gpus=False) == PRESETS["full"].replace(score_examples=PRESETS["cpu"].score_examples)
    assert cpu.race_budget_for(gpus=True) == PRESETS["full-gpu"].replace(score_examples=PRESETS["gpu"].score_examples)
    low = SearchSettings(
        budget_overrides={"train_examples": 1024}, target_overrides={"train_examples": 1024, "epochs": 100}
    )
    race = low.race_budget_for(gpus=False)
    assert (race.train_examples, race.epochs, race.score_examples) == (1024, 100, 6000)
    assert SearchSettings(target_budget="proxy").race_budget_for(gpus=False) == PRESETS["cpu"]
    scored = SearchSettings(target_overrides={"score_examples": 0}).race_budget_for(gpus=False)
    assert scored.score_examples == 0, "an explicit 0 is kept: the last epoch's validation decides"
    assert SearchSettings(model="efficientnetv2_b0").race_budget_for(gpus=False).model == "efficientnetv2_b0"
    assert SearchSettings(race_baselines=["trivialaugment"]).race_baselines == ("trivialaugment",)
    assert SearchSettings(race_baselines="").race_baselines == ()


def test_the_race_settings_earlier_names_are_aliases():
    settings = SearchSettings(confirm_top=0, confirm_seeds=3)
    assert (settings.race_top, settings.race_seeds) == (0, 3)
    assert SearchSettings(race_top=2).race_top == 2
    with pytest.raises(AugSearchError, match=r"^race_seeds must be an integer >= 2"):
        SearchSettings(confirm_seeds=1)


def test_a_smoke_search_races_at_smoke_unless_the_target_is_given():
    smoke = SearchSettings(budget="smoke")
    assert smoke.race_budget_for(gpus=False) == PRESETS["smoke"], "a quick try races quickly too"
    assert smoke.race_budget_for(gpus=True) == PRESETS["smoke"]
    # An override alone changes the default target: smoke, for 3 epochs.
    longer = SearchSettings(budget="smoke", target_overrides={"epochs": 3})
    assert longer.race_budget_for(gpus=False) == PRESETS["smoke"].replace(epochs=3)
    assert SearchSettings(budget="smoke", target_budget="full").race_budget_for(gpus=False) == PRESETS["full"]
    # ... and is checked against it: smoke trains 256 images, fewer than a batch of 512.
    with pytest.raises(AugSearchError, match=r"^target_train_examples must be an integer >= batch_size \(512\)"):
        SearchSettings(budget="smoke", target_overrides={"batch_size": 512})
    # The other explorations keep `search evaluate`'s default, whichever budget the GPUs picked.
    for budget in ("cpu", "gpu", None):
        settings = SearchSettings(budget=budget)
        assert settings.race_budget_for(gpus=False).replace(score_examples=0) == PRESETS["full"]
        assert settings.race_budget_for(gpus=True).replace(score_examples=0) == PRESETS["full-gpu"]


def test_resources_per_trial_fill_the_cluster_by_default():
    assert Resources().per_trial(2, 0) == Placement(1.0, 0.0, 2)  # this machine: one trial per core
    assert Resources().per_trial(16, 1) == Placement(
        16.0, 1.0, 1, cluster_gpus=1
    )  # one GPU: one trial with all the CPUs
    assert Resources(gpus_per_trial=0.25).per_trial(16, 1) == Placement(
        4.0, 0.25, 4, cluster_gpus=1
    )  # four share the GPU
    assert Resources(cpus_per_trial=2.0, concurrency=3).per_trial(8, 0) == Placement(2.0, 0.0, 3)
    assert Resources().per_trial(16, 1).has_gpus and not Resources().per_trial(2, 0).has_gpus


def test_resources_per_trial_beyond_the_cluster_are_clear_errors():
    with pytest.raises(
        AugSearchError,
        match=r"^gpus_per_trial must be at most the 1 GPU\(s\) the Ray cluster has, but got gpus_per_trial=2\.0\.$",
    ):
        Resources(gpus_per_trial=2.0).per_trial(16, 1)
    with pytest.raises(
        AugSearchError,
        match=r"^cpus_per_trial must be at most the 2 CPUs the Ray cluster has, but got cpus_per_trial=4\.0\.$",
    ):
        Resources(cpus_per_trial=4.0).per_trial(2, 0)


@pytest.mark.parametrize(
    "spec, name",
    [
        ("fashion_mnist", "fashion_mnist"),
        ("tfds:oxford_flowers102", "tfds-oxford_flowers102"),
        ("folder:/data/my pets/", "folder-my-pets"),
        ("arrays:0123456789ab", "arrays-0123456789ab"),
    ],
)
def test_default_study_names(spec, name):
    assert default_study_name(spec) == name


def test_overrides_are_checked_against_the_gpu_preset_when_the_cluster_has_gpus():
    settings = SearchSettings(budget_overrides={"train_examples": 100})  # the cpu preset's batches are 64
    assert settings.budget_for(gpus=False).train_examples == 100
    with pytest.raises(
        AugSearchError,
        match=(
            r"^train_examples must be an integer >= batch_size \(128\), since train batches drop the remainder, "
            r"but got train_examples=100 \(with the 'gpu' preset, the default on a cluster with GPUs\)\.$"
        ),
    ):
        settings.budget_for(gpus=True)
    assert (
        SearchSettings(budget="gpu", budget_overrides={"batch_size": 64, "train_examples": 100})
        .budget_for(gpus=True)
        .train_examples
        == 100
    )
