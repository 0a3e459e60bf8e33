"""The settings of a search and of an evaluation: validated, frozen objects.

The CLI parses its flags into these and calls the same functions a Python user calls
(`search.run_search`, `search.evaluate`). Everything that can be checked without TensorFlow, Ray
or the disk is checked on construction, each error one line naming the field (the CLI words it as
the flag); the rest (dataset files, a user model's contract, the run directory, the storage URL)
is checked by `run_search` / `evaluate` before Ray starts. Importing this loads neither
TensorFlow nor Ray.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from typing import Any, NamedTuple

from space import BASELINES, AugSearchError, Policy, SearchSpace, resolve_baselines
from space.budget import PRESETS, Budget, builder_name
from space.errors import InvalidArgument, is_int, is_number, require
from trainers.data import ArrayData
from trainers.sources import SOURCES, SPECS

SAMPLERS = ("tpe", "tpe-univariate", "random", "cmaes", "gp", "qmc")
PRUNERS = ("asha", "none")
SEARCH_BUDGETS = ("smoke", "cpu", "gpu")
#: Budget fields a flag may override, on `run` and `evaluate` (--epochs, ...; --target-epochs, ...).
BUDGET_OVERRIDES = ("epochs", "image_size", "train_examples", "batch_size", "learning_rate", "score_examples")
EVALUATION_BUDGETS = ("full", "full-gpu", "smoke")
#: The race's budgets: the user's training (evaluate's presets), or "proxy", exploration's own.
TARGET_BUDGETS = (*EVALUATION_BUDGETS, "proxy")
#: The baselines that race the best searched policies by default: the strongest measured on
#: Fashion-MNIST (trivialaugment) and on CIFAR-10 (cropflip), and none (docs/results.md).
RACE_BASELINES = ("trivialaugment", "cropflip", "none")
DEFAULT_DATASET = "fashion_mnist"

#: A model: a built-in name, a KerasCV preset, "package.module:function", or a callable
#: `(input_shape, num_classes, seed) -> keras.Model`.
Model = str | Callable[..., Any]
#: Extra Keras callbacks for one trial's training, by trial number (`search.testing` injects faults so).
KerasCallbacks = Callable[[int], Sequence[Any]]


def default_study_name(dataset: str) -> str:
    """'fashion_mnist', 'tfds-oxford_flowers102', 'folder-pets': readable and URL-safe."""
    kind, _, rest = dataset.partition(":")
    source = SOURCES.get(kind)
    name = source.label(rest) if source is not None else rest  # a folder by its last name, not its path
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{kind}-{name}" if rest else kind)


def _require_budget_and_overrides(settings: _Training, budget: str, overrides: str, presets: Sequence[str]) -> None:
    """Check the fields `budget` (None, a Budget or a preset name) and `overrides` (a dict of
    Budget fields, stored as a plain dict) of frozen `settings`."""
    value = getattr(settings, budget)
    require(
        value is None or isinstance(value, Budget) or value in presets,
        budget,
        value,
        f"None, a Budget or one of {', '.join(presets)}",
    )
    require(
        isinstance(getattr(settings, overrides), Mapping),
        overrides,
        getattr(settings, overrides),
        "a dict of Budget fields",
    )
    object.__setattr__(settings, overrides, dict(getattr(settings, overrides)))


class Placement(NamedTuple):
    """Where trainings run (`Resources.per_trial`): each one's CPUs and GPUs, how many at once,
    and the GPUs the whole cluster has (any: the default budgets are the GPU presets)."""

    cpus: float
    gpus: float
    concurrency: int
    cluster_gpus: float = 0.0

    @property
    def has_gpus(self) -> bool:
        return bool(self.cluster_gpus)


@dataclass(frozen=True)
class Resources:
    """Where trainings run and how many at once: the same for a search's trials and an
    evaluation's trainings.

    `concurrency`: trainings at once (None: as many as the cluster fits). `cpus_per_trial` (None:
    1, or the CPUs shared among the trials the GPUs fit) and `gpus_per_trial` (None: 1 if the
    cluster has GPUs, else 0; fractions share a GPU). `address`: None starts Ray here, "auto" or
    "HOST:PORT" joins a running cluster (not a ray:// client address).
    """

    concurrency: int | None = None
    cpus_per_trial: float | None = None
    gpus_per_trial: float | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        require(
            self.concurrency is None or (is_int(self.concurrency) and self.concurrency >= 1),
            "concurrency",
            self.concurrency,
            "None or an integer >= 1",
        )
        require(
            self.cpus_per_trial is None or (is_number(self.cpus_per_trial) and self.cpus_per_trial > 0),
            "cpus_per_trial",
            self.cpus_per_trial,
            "None or a number > 0",
        )
        require(
            self.gpus_per_trial is None or (is_number(self.gpus_per_trial) and self.gpus_per_trial >= 0),
            "gpus_per_trial",
            self.gpus_per_trial,
            "None or a number >= 0",
        )
        require(self.address is None or isinstance(self.address, str), "address", self.address, "None or a string")
        if self.address is not None and self.address.strip().lower().startswith("ray://"):
            # Under Ray Client, Ray Tune runs its driver loop as an actor on the head node, where
            # this process's searcher (the study's only writer), progress line and Ctrl-C cannot go.
            raise AugSearchError(
                "address must be auto or the HOST:PORT that `ray start --head` prints, "
                f"but got address={self.address!r}: "
                "with Ray Client (ray://) Ray Tune would run the search's driver loop on the head node, away from "
                "its study, progress line and Ctrl-C; run `search run --address auto` on a machine of the "
                "cluster instead."
            )

    def per_trial(self, cluster_cpus: float, cluster_gpus: float) -> Placement:
        """Each training's CPUs and GPUs and how many run at once, on a cluster with these
        resources. Raises AugSearchError when a training asks for more than the cluster has."""
        gpus = self.gpus_per_trial if self.gpus_per_trial is not None else (1.0 if cluster_gpus else 0.0)
        require(
            gpus <= cluster_gpus, "gpus_per_trial", gpus, f"at most the {cluster_gpus:g} GPU(s) the Ray cluster has"
        )
        if self.cpus_per_trial is not None:
            cpus = float(self.cpus_per_trial)
        elif gpus:
            # Share the CPUs among the trials the GPUs fit, so each has input-pipeline threads.
            cpus = max(1.0, float(int(cluster_cpus // max(int(cluster_gpus // gpus), 1))))
        else:
            cpus = 1.0
        require(cpus <= cluster_cpus, "cpus_per_trial", cpus, f"at most the {cluster_cpus:g} CPUs the Ray cluster has")
        fits = int(cluster_cpus // cpus)
        if gpus:
            fits = min(fits, int(cluster_gpus // gpus))
        return Placement(cpus, float(gpus), self.concurrency or max(fits, 1), float(cluster_gpus))


@dataclass(frozen=True)
class _Training:
    """What a search and an evaluation share: the data, the budget, the model, the study's place
    and the resources."""

    dataset: str | ArrayData | None = DEFAULT_DATASET
    data_dir: str | os.PathLike | None = None
    budget: str | Budget | None = None
    budget_overrides: Mapping[str, Any] = field(default_factory=dict)
    model: Model | None = None
    study: str | None = None
    runs_dir: str | os.PathLike = "runs"
    storage: str | None = None
    resources: Resources = field(default_factory=Resources)
    verbose: bool = True

    _budgets = SEARCH_BUDGETS

    def __post_init__(self) -> None:
        dataset = self.dataset
        if isinstance(dataset, tuple) and len(dataset) == 2:  # (images, labels): the training split
            object.__setattr__(self, "dataset", ArrayData(train=dataset))
        require(
            self.dataset is None or isinstance(self.dataset, (str, ArrayData)),
            "dataset",
            _short(dataset),
            f"a dataset spec ({SPECS}), an ArrayData or (images, labels)",
        )
        require(
            self.data_dir is None or isinstance(self.data_dir, (str, os.PathLike)),
            "data_dir",
            self.data_dir,
            "None or a folder path",
        )
        _require_budget_and_overrides(self, "budget", "budget_overrides", self._budgets)
        require(
            self.model is None or (isinstance(self.model, str) and self.model.strip() != "") or callable(self.model),
            "model",
            self.model,
            "None, a model name (small, efficientnetv2_b0, efficientnetv2_s), 'package.module:function', "
            "or a callable (input_shape, num_classes, seed) -> keras.Model",
        )
        require(
            self.study is None or (isinstance(self.study, str) and self.study.strip() != ""),
            "study",
            self.study,
            "None or a name",
        )
        require(isinstance(self.runs_dir, (str, os.PathLike)), "runs_dir", self.runs_dir, "a folder path")
        require(
            self.storage is None or isinstance(self.storage, str), "storage", self.storage, "None or a database URL"
        )
        require(isinstance(self.resources, Resources), "resources", self.resources, "a search.Resources")
        require(isinstance(self.verbose, bool), "verbose", self.verbose, "True or False")
        # Overrides are checked against a preset now; the preset itself is chosen once Ray says
        # whether the cluster has GPUs.
        self.budget_for(gpus=False)

    @property
    def model_name(self) -> str | None:
        """The model as stored in budgets: a name, or "module:qualname" of a callable."""
        if self.model is None or isinstance(self.model, str):
            return self.model
        return builder_name(self.model)

    @property
    def model_builder(self) -> Callable[..., Any] | None:
        """The user's model as a callable, shipped to the workers; None when a name says it all."""
        return None if self.model is None or isinstance(self.model, str) else self.model

    def check_model(self) -> None:
        """Check a given model's contract before Ray starts (imports TensorFlow): a bad model
        would otherwise fail every trial inside Ray. Raises AugSearchError."""
        if self.model is not None:
            from trainers.model import check_model

            # The arrays' own class count, else 10: a spec's real count is known once it is loaded.
            classes = len(self.dataset.classes) if isinstance(self.dataset, ArrayData) else 10
            check_model(self.model, num_classes=classes)

    def budget_for(self, gpus: bool) -> Budget:
        """The training budget on a cluster with (`gpus`) or without GPUs: the named preset (or
        the default one), the overrides, then the model."""
        if isinstance(self.budget, Budget):
            name, base = None, self.budget
        else:
            name = self.budget or self._default_budget(gpus)
            base = PRESETS[name]
        changes = dict(self.budget_overrides)
        if self.model is not None:
            changes["model"] = self.model_name
        try:
            return base.replace(**changes)
        except AugSearchError as error:
            if self.budget is not None or not gpus:
                raise
            # Construction checked the overrides against the CPU preset; a GPU cluster's differs.
            raise AugSearchError(
                f"{str(error).rstrip('.')} (with the {name!r} preset, the default on a cluster with GPUs)."
            ) from None

    @staticmethod
    def _default_budget(gpus: bool) -> str:
        return "gpu" if gpus else "cpu"


@dataclass(frozen=True)
class SearchSettings(_Training):
    """A search: `trials` finished (complete or pruned) trials in the study, run again to resume.

    `sampler`: tpe (multivariate, grouped, constant liar), tpe-univariate (Optuna's default TPE),
    random, cmaes, gp or qmc. `pruner`: asha (Ray
    Tune's ASHA over epochs) or none. `seed` seeds the sampler, the data split and each trial.
    `baselines`: the study's first trials are the baselines (`space.BASELINES`), so the sampler
    learns from known-good points.
    `max_failures`: stop when this many trials in a row fail. `reuse_workers`: Ray workers (and
    their compiled models) run trial after trial; False starts a fresh worker per trial.
    `keras_callbacks`: called in the worker with the trial number, returns extra Keras callbacks
    for that trial's training.

    The final race, after exploration: the `race_top` best distinct searched policies and the
    `race_baselines` are trained on `race_seeds` fresh paired seeds at the target budget, the
    clearly worse dropped on the way (`results.racing`); the winner, the best paired mean, is the
    search's "best", a baseline when none of the searched beat it. `race_top` 0 turns the race
    off (`confirm_top` and `confirm_seeds`, their earlier names, are kept as aliases).
    `target_budget` is the training the user will run, as `search evaluate` trains: None is
    full (full-gpu when Ray sees a GPU), or smoke after a `budget="smoke"` exploration (a quick try
    races quickly too); "proxy" races at exploration's budget (cheaper, and biased like the
    proxy); `target_overrides` change its fields, the default target's when `target_budget` is
    None (so smoke with `target_overrides={"epochs": 3}` races smoke for 3 epochs). The race
    scores on validation images (`score_examples` of the exploration budget when the target has
    none), never the test split.
    """

    dataset: str | ArrayData = DEFAULT_DATASET
    trials: int = 200
    space: SearchSpace = field(default_factory=SearchSpace)
    sampler: str = "tpe"
    pruner: str = "asha"
    seed: int = 0
    baselines: bool = True
    max_failures: int = 10
    reuse_workers: bool = True
    keras_callbacks: KerasCallbacks | None = None
    race_top: int = 3
    race_seeds: int = 5
    race_baselines: Sequence[str] | str = RACE_BASELINES
    target_budget: str | Budget | None = None
    target_overrides: Mapping[str, Any] = field(default_factory=dict)
    confirm_top: InitVar[int | None] = None
    confirm_seeds: InitVar[int | None] = None

    def __post_init__(self, confirm_top: int | None, confirm_seeds: int | None) -> None:
        super().__post_init__()
        if confirm_top is not None:
            object.__setattr__(self, "race_top", confirm_top)
        if confirm_seeds is not None:
            object.__setattr__(self, "race_seeds", confirm_seeds)
        baselines = self.race_baselines if isinstance(self.race_baselines, str) else ",".join(self.race_baselines)
        object.__setattr__(self, "race_baselines", resolve_baselines(baselines, argument="race_baselines"))
        _require_budget_and_overrides(self, "target_budget", "target_overrides", TARGET_BUDGETS)
        self.race_budget_for(gpus=False)
        require(self.dataset is not None, "dataset", self.dataset, "a dataset spec or an ArrayData")
        require(is_int(self.trials) and self.trials >= 1, "trials", self.trials, "an integer >= 1")
        require(isinstance(self.space, SearchSpace), "space", self.space, "a space.SearchSpace")
        require(self.sampler in SAMPLERS, "sampler", self.sampler, f"one of {', '.join(SAMPLERS)}")
        if self.sampler == "gp" and importlib.util.find_spec("torch") is None:
            # Optuna imports it only once its random start-up trials are done: mid-search.
            raise AugSearchError(
                "sampler 'gp' (Optuna's GPSampler) needs PyTorch, which is not installed: "
                "pip install 'augsearch[gp]', or pick another sampler."
            )
        require(self.pruner in PRUNERS, "pruner", self.pruner, f"one of {', '.join(PRUNERS)}")
        require(is_int(self.seed) and self.seed >= 0, "seed", self.seed, "an integer >= 0")
        require(
            is_int(self.max_failures) and self.max_failures >= 1, "max_failures", self.max_failures, "an integer >= 1"
        )
        require(is_int(self.race_top) and self.race_top >= 0, "race_top", self.race_top, "an integer >= 0 (0: no race)")
        require(
            is_int(self.race_seeds) and self.race_seeds >= 2,
            "race_seeds",
            self.race_seeds,
            "an integer >= 2 (an interval needs two seeds)",
        )
        for name in ("baselines", "reuse_workers"):
            require(isinstance(getattr(self, name), bool), name, getattr(self, name), "True or False")
        require(
            self.keras_callbacks is None or callable(self.keras_callbacks),
            "keras_callbacks",
            self.keras_callbacks,
            "None or a callable trial_number -> list of keras.callbacks.Callback",
        )

    @property
    def dataset_spec(self) -> str:
        return dataset_spec(self.dataset)

    def race_budget_for(self, gpus: bool) -> Budget:
        """The race's budget on a cluster with (`gpus`) or without GPUs: the target (see the class
        docstring; None: `default_target(gpus)`) with its overrides and the model, scored on
        validation images."""
        exploration = self.budget_for(gpus)
        if self.target_budget == "proxy":
            base = exploration
        elif isinstance(self.target_budget, Budget):
            base = self.target_budget
        else:
            base = PRESETS[self.target_budget or self.default_target(gpus)]
        changes = dict(self.target_overrides)
        if self.model is not None:
            changes["model"] = self.model_name
        try:
            target = base.replace(**changes)
        except InvalidArgument as error:  # "epochs must be ..." is about target_epochs here
            raise error.renamed("target_" + error.name) from None
        if target.score_examples == 0 and "score_examples" not in self.target_overrides:
            target = target.replace(score_examples=exploration.score_examples)
        return target

    def default_target(self, gpus: bool) -> str:
        """The race's preset when `target_budget` is None: it follows exploration's budget, smoke
        after smoke, else `search evaluate`'s default (full-gpu when Ray sees a GPU, else full)."""
        if self.budget == "smoke":
            return "smoke"
        return "full-gpu" if gpus else "full"

    @property
    def study_name(self) -> str:
        return self.study or default_study_name(self.dataset_spec)


@dataclass(frozen=True)
class EvaluationSettings(_Training):
    """An evaluation: each policy trained `seeds` times at a full budget, scored on the test split.

    The policies, reported in this order: the `top_k` best complete trials of the study (the race's
    searched contestants first, in its order, when it has a winner), the `trials` ("best" or
    numbers), the `policies` (exported files or Policy objects), then the `baselines` (names of
    `space.BASELINES`, or a comma-separated string). With no trial, file or Policy, the study's best
    (`results.trial_policies.best`; a baseline that won the race is evaluated as that baseline).
    `dataset` None: the study's, else fashion_mnist; it needs a test split. `budget` None: full-gpu
    if Ray sees a GPU, else full. Seeds run from `seed` to `seed + seeds - 1`. `command` is recorded
    in the reports (how to reproduce them).
    """

    dataset: str | ArrayData | None = None
    policies: Sequence[str | os.PathLike | Policy] = ()
    trials: Sequence[str | int] = ()
    top_k: int = 0
    baselines: Sequence[str] | str = tuple(BASELINES)
    seeds: int = 3
    seed: int = 0
    command: str | None = None

    _budgets = EVALUATION_BUDGETS

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            is_int(self.seeds) and self.seeds >= 1, "seeds", self.seeds, "an integer >= 1 (3 or more give an interval)"
        )
        require(is_int(self.seed) and self.seed >= 0, "seed", self.seed, "an integer >= 0")
        require(is_int(self.top_k) and self.top_k >= 0, "top_k", self.top_k, "an integer >= 0")
        baselines = self.baselines if isinstance(self.baselines, str) else ",".join(self.baselines)
        object.__setattr__(self, "baselines", resolve_baselines(baselines))
        require(
            not isinstance(self.policies, (str, Policy)),
            "policies",
            self.policies,
            "a list of policy files or Policy objects",
        )
        for policy in self.policies:
            require(
                isinstance(policy, (str, os.PathLike, Policy)), "policies", policy, "policy files or Policy objects"
            )
        require(not isinstance(self.trials, (str, int)), "trials", self.trials, "a list of 'best' or trial numbers")
        object.__setattr__(self, "policies", tuple(self.policies))
        object.__setattr__(self, "trials", tuple(self.trials))

    @staticmethod
    def _default_budget(gpus: bool) -> str:
        return "full-gpu" if gpus else "full"


def dataset_spec(dataset: str | ArrayData) -> str:
    """The dataset as the study records it: the spec string, or an ArrayData's content digest."""
    return dataset.spec if isinstance(dataset, ArrayData) else dataset


def _short(value: Any) -> Any:
    # An array in an error message would print thousands of numbers.
    return f"<{type(value).__name__}>" if hasattr(value, "shape") or isinstance(value, (tuple, list)) else value
