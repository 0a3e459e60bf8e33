import dataclasses
import json

import pytest

from space.budget import PRESETS, Budget
from space.errors import AugSearchError


def test_presets_are_named_and_valid():
    assert list(PRESETS) == ["smoke", "cpu", "full", "gpu", "full-gpu"]
    assert all(isinstance(budget, Budget) for budget in PRESETS.values())
    assert Budget.preset("smoke").model == "small" and Budget.preset("smoke").epochs == 2
    assert Budget.preset("cpu") == Budget()  # the defaults are the CPU preset
    assert Budget.preset("gpu").model == "efficientnetv2_b0"
    # Each preset trains longer than the one before it.
    work = [b.train_examples * b.epochs * b.image_size**2 for b in PRESETS.values()]
    assert work == sorted(work)


@pytest.mark.parametrize("proxy, full", [("cpu", "full"), ("gpu", "full-gpu")])
def test_a_full_budget_trains_its_proxy_model_on_more_examples_for_more_epochs(proxy, full):
    proxy, full = PRESETS[proxy], PRESETS[full]
    assert (full.model, full.image_size) == (proxy.model, proxy.image_size)
    assert full.train_examples > proxy.train_examples and full.epochs > proxy.epochs


def test_preset_overrides_any_field_and_leaves_the_preset_alone():
    budget = Budget.preset("cpu", epochs=3, model="efficientnetv2_s", learning_rate=0.2)
    assert (budget.epochs, budget.model, budget.learning_rate) == (3, "efficientnetv2_s", 0.2)
    assert budget.image_size == PRESETS["cpu"].image_size
    assert PRESETS["cpu"].epochs != 3


def test_unknown_preset_lists_the_presets():
    with pytest.raises(AugSearchError, match=r"one of: smoke, cpu, full, gpu, full-gpu, but got preset='fast'"):
        Budget.preset("fast")


def test_override_is_validated():
    with pytest.raises(AugSearchError, match=r"epochs must be an integer >= 1, but got epochs=0\."):
        Budget.preset("smoke", epochs=0)
    with pytest.raises(AugSearchError, match=r"unknown field 'epoch'"):
        Budget.preset("smoke", epoch=3)


INVALID = [
    ("image_size", 4, r"image_size must be an integer >= 8, but got image_size=4\."),
    ("image_size", 32.0, r"image_size must be an integer >= 8, but got image_size=32\.0\."),
    ("train_examples", 16, r"train_examples must be an integer >= batch_size \(64\).*but got train_examples=16\."),
    ("validation_examples", 0, r"validation_examples must be an integer >= 1, but got validation_examples=0\."),
    ("epochs", 0, r"epochs must be an integer >= 1, but got epochs=0\."),
    ("epochs", True, r"epochs must be an integer >= 1, but got epochs=True\."),
    ("batch_size", 1, r"batch_size must be an integer >= 2, but got batch_size=1\."),
    ("model", "", r"model must be a non-empty model name, but got model=''\."),
    ("model", None, r"model must be a non-empty model name, but got model=None\."),
    ("learning_rate", 0, r"learning_rate must be a finite number > 0, but got learning_rate=0\."),
    ("learning_rate", float("nan"), r"learning_rate must be a finite number > 0, but got learning_rate=nan\."),
    ("learning_rate", "0.1", r"learning_rate must be a finite number > 0, but got learning_rate='0\.1'\."),
    ("warmup_epochs", -1, r"warmup_epochs must be a number in \[0, epochs=30\], but got warmup_epochs=-1\."),
    ("augment_shards", 0, r"augment_shards must be an integer in \[1, 64\], but got augment_shards=0\."),
    ("warmup_epochs", 31, r"warmup_epochs must be a number in \[0, epochs=30\], but got warmup_epochs=31\."),
]


@pytest.mark.parametrize("field, value, message", INVALID, ids=[f"{f}={v!r}" for f, v, _ in INVALID])
def test_invalid_field_raises(field, value, message):
    with pytest.raises(AugSearchError, match=message):
        Budget(**{field: value})


def test_numbers_are_normalised():
    budget = Budget(learning_rate=1, warmup_epochs=0)
    assert budget.learning_rate == 1.0 and isinstance(budget.learning_rate, float)
    assert isinstance(budget.warmup_epochs, float)
    assert Budget(warmup_epochs=0.5).warmup_epochs == 0.5  # fractional warm-up is allowed


def test_steps_per_epoch_drops_the_remainder():
    assert Budget(train_examples=1000, batch_size=64).steps_per_epoch == 15


@pytest.mark.parametrize("name", list(PRESETS))
def test_json_round_trip(name):
    budget = Budget.preset(name, warmup_epochs=0.5)
    assert Budget.from_dict(json.loads(json.dumps(budget.to_dict()))) == budget


def test_from_dict_rejects_unknown_fields_and_non_objects():
    with pytest.raises(AugSearchError, match=r"budget has unknown field 'lr'; expected fields: image_size, "):
        Budget.from_dict({"lr": 0.1})
    with pytest.raises(AugSearchError, match=r"budget must be a JSON object, but got budget=\[\]\."):
        Budget.from_dict([])
    assert Budget.from_dict({"epochs": 3}) == Budget(epochs=3)


def test_budget_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Budget().epochs = 3
