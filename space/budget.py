"""`Budget`: how much a trial may train (data, epochs, model, optimiser), frozen and validated.

Plain Python: budgets are validated and stored (as JSON) without any TensorFlow.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from space.errors import AugSearchError, is_int, is_number, require

#: The smallest image side a dataset is loaded and a model trained at.
MIN_IMAGE_SIZE = 8


@dataclass(frozen=True)
class Budget:
    """The training budget of one trial; every field is checked on construction. The defaults are
    the `cpu` preset (`PRESETS`).

    `warmup_epochs` may be fractional (0.5 is half an epoch of linear warm-up before the
    cosine decay). `augment_shards` is how many CPU threads augment images in parallel; it is
    part of the budget, not read from the machine, because it changes which random draws each
    image gets (a seed reproduces a trial only with the same value); on 2 cores 1 is fastest.
    `model` is a model name or an import path 'package.module:function' of the user's builder,
    checked by `trainers.check_model` / `build_model`, which need TensorFlow.
    `score_examples`: validation images (at most; all there are when fewer) the trained model is
    scored on after its last epoch, the first `validation_examples` of them also after every
    epoch (for ASHA and the curves); that score is the objective. 0: the objective is the last
    epoch's validation accuracy.
    """

    image_size: int = 32
    train_examples: int = 1024
    validation_examples: int = 1024
    epochs: int = 30
    batch_size: int = 64
    model: str = "small"
    learning_rate: float = 0.05
    warmup_epochs: float = 1.0
    augment_shards: int = 1
    score_examples: int = 6000

    def __post_init__(self) -> None:
        require(
            is_int(self.image_size) and self.image_size >= MIN_IMAGE_SIZE,
            "image_size",
            self.image_size,
            f"an integer >= {MIN_IMAGE_SIZE}",
        )
        # CutMix and MixUp pair each image with another of its batch: a batch needs two.
        require(is_int(self.batch_size) and self.batch_size >= 2, "batch_size", self.batch_size, "an integer >= 2")
        require(is_int(self.epochs) and self.epochs >= 1, "epochs", self.epochs, "an integer >= 1")
        require(
            is_int(self.train_examples) and self.train_examples >= self.batch_size,
            "train_examples",
            self.train_examples,
            f"an integer >= batch_size ({self.batch_size}), since train batches drop the remainder",
        )
        require(
            is_int(self.validation_examples) and self.validation_examples >= 1,
            "validation_examples",
            self.validation_examples,
            "an integer >= 1",
        )
        require(isinstance(self.model, str) and self.model.strip() != "", "model", self.model, "a non-empty model name")
        require(
            is_number(self.learning_rate) and 0.0 < self.learning_rate < float("inf"),
            "learning_rate",
            self.learning_rate,
            "a finite number > 0",
        )
        require(
            is_number(self.warmup_epochs) and 0.0 <= self.warmup_epochs <= self.epochs,
            "warmup_epochs",
            self.warmup_epochs,
            f"a number in [0, epochs={self.epochs}]",
        )
        require(
            is_int(self.score_examples) and self.score_examples >= 0,
            "score_examples",
            self.score_examples,
            "an integer >= 0",
        )
        require(
            is_int(self.augment_shards) and 1 <= self.augment_shards <= 64,
            "augment_shards",
            self.augment_shards,
            "an integer in [1, 64]",
        )
        # Plain Python numbers, so that budgets compare equal and save as JSON whatever they came from.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("learning_rate", "warmup_epochs"):
                object.__setattr__(self, f.name, float(value))
            elif is_int(value):
                object.__setattr__(self, f.name, int(value))

    @property
    def steps_per_epoch(self) -> int:
        return self.train_examples // self.batch_size

    @property
    def validation_to_load(self) -> int:
        """Validation images a training needs: per-epoch validation and the final score."""
        return max(self.validation_examples, self.score_examples)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> Budget:
        """The named preset (see `PRESETS`) with some fields overridden; raises AugSearchError."""
        if name not in PRESETS:
            raise AugSearchError(f"budget preset must be one of: {', '.join(PRESETS)}, but got preset={name!r}.")
        return PRESETS[name].replace(**overrides)

    def replace(self, **changes: Any) -> Budget:
        """A copy with some fields changed (validated like a new Budget)."""
        _check_fields(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; `Budget.from_dict` reverses it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Budget:
        """Rebuild a Budget; unknown keys are an error, missing keys take the defaults."""
        if not isinstance(data, dict):
            raise AugSearchError(f"budget must be a JSON object, but got budget={data!r}.")
        _check_fields(data)
        return cls(**data)


def builder_name(builder: Any) -> str:
    """The name a budget records for a user's model builder: its "module:qualname" (its type's,
    for a callable object without those names). Plain Python, so that settings name a model
    without importing Keras."""
    module = getattr(builder, "__module__", None) or type(builder).__module__
    qualname = getattr(builder, "__qualname__", None) or type(builder).__qualname__
    return f"{module}:{qualname}"


def _check_fields(data: dict[str, Any]) -> None:
    known = [f.name for f in dataclasses.fields(Budget)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise AugSearchError(f"budget has unknown field {unknown[0]!r}; expected fields: {', '.join(known)}.")


#: Named budgets: `smoke` for tests, `cpu` and `gpu` exploration's proxies, `full` and `full-gpu`
#: a user's real training (`search evaluate` and the final race). Why each is what it is:
#: docs/design.md ("Budgets"); their cost per training: docs/evaluate.md#budgets.
PRESETS: dict[str, Budget] = {
    "smoke": Budget(
        image_size=32,
        train_examples=256,
        validation_examples=128,
        epochs=2,
        batch_size=32,
        model="small",
        learning_rate=0.05,
        warmup_epochs=0.5,
        score_examples=0,
    ),
    # Few images for many epochs, so that the unaugmented model overfits within the proxy and the
    # base stage's worth shows: at the same cost as the earlier 2,048 x 15, its searches exported
    # better policies at the user's training on CIFAR-10 and as good on Fashion-MNIST
    # (docs/benchmarks.md#proxy_fidelity, docs/results.md). Budget's defaults are this preset.
    "cpu": Budget(),
    "full": Budget(
        image_size=32,
        train_examples=6144,
        validation_examples=1024,
        epochs=60,
        batch_size=64,
        model="small",
        learning_rate=0.05,
        warmup_epochs=1.0,
        score_examples=0,  # the test split decides
    ),
    "gpu": Budget(
        image_size=64,
        train_examples=10000,
        validation_examples=2500,
        epochs=15,
        batch_size=128,
        model="efficientnetv2_b0",
        learning_rate=0.1,
        warmup_epochs=1.0,
        augment_shards=8,
        score_examples=6000,
    ),
    "full-gpu": Budget(
        image_size=64,
        train_examples=60000,
        validation_examples=2500,
        epochs=30,
        batch_size=128,
        model="efficientnetv2_b0",
        learning_rate=0.1,
        warmup_epochs=2.0,
        augment_shards=8,
        score_examples=0,
    ),
}
