"""The Optuna search space: bounds for each Policy field and a define-by-run `suggest_policy`.

Its parameter names are part of the on-disk format (studies outlive code: change them only with a
migration or a new study). Optional stages are switched on or off by a boolean of their own, and a
magnitude distribution is chosen only when both are allowed; the parameters, and why they are so,
are in docs/policies.md. The default space holds every baseline of `space.baselines` exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from space.errors import AugSearchError, is_int, is_number, require
from space.ops import MAGNITUDE_DISTRIBUTIONS, TRIVIALAUGMENT_OPS, resolve_ops
from space.policy import MAX_CROP_PADDING, Policy

if TYPE_CHECKING:
    from optuna.trial import BaseTrial

FLOAT_FIELDS = ("magnitude", "magnitude_stddev", "rate", "cutmix_rate", "mixup_rate")

#: The optional stages, each searched on/off, and the strengths (Policy fields with bounds in the space) it has when on.
STAGES: dict[str, tuple[str, ...]] = {
    "crop": ("crop_padding",),
    "flip": (),
    "erasing": ("erasing_rate", "erasing_area"),
}
STRENGTH_FIELDS = tuple(name for fields in STAGES.values() for name in fields)


def op_param(name: str) -> str:
    """The Optuna parameter name of the boolean that switches op `name` on."""
    return f"op.{name}"


@dataclass(frozen=True)
class SearchSpace:
    """What `search run` may propose. Each bound is (low, high), inclusive; low == high fixes it.

    `ops` are the candidate ops ("trivialaugment", "standard", "extended", a comma-separated string
    or names); each candidate is switched on or off per trial. `magnitude_distributions` are the
    distributions a trial may choose ("normal", "uniform" or both). The alphas are not searched.
    `stages` are the optional stages searched on/off ("crop", "flip", "erasing"; a comma-separated
    string too, "" or "none" for none); the others stay off. The bounds of a stage's strengths
    (`crop_padding`, `erasing_rate`, `erasing_area`) apply when it is on.
    """

    magnitude: tuple[float, float] = (0.0, 1.0)
    magnitude_stddev: tuple[float, float] = (0.0, 0.5)
    magnitude_distributions: tuple[str, ...] = tuple(MAGNITUDE_DISTRIBUTIONS)
    rate: tuple[float, float] = (0.0, 1.0)
    augmentations_per_image: tuple[int, int] = (1, 4)
    ops: tuple[str, ...] = TRIVIALAUGMENT_OPS
    cutmix_rate: tuple[float, float] = (0.0, 1.0)
    mixup_rate: tuple[float, float] = (0.0, 1.0)
    cutmix_alpha: float = 1.0
    mixup_alpha: float = 0.2
    stages: tuple[str, ...] = tuple(STAGES)
    # 1/32 of the side (1 px at 32 px) to 1/4; CIFAR's recipe pads 4 px at 32 px (0.125).
    crop_padding: tuple[float, float] = (0.03125, 0.25)
    erasing_rate: tuple[float, float] = (0.05, 1.0)
    erasing_area: tuple[float, float] = (0.02, 0.4)

    def __post_init__(self) -> None:
        for name in FLOAT_FIELDS + STRENGTH_FIELDS:
            object.__setattr__(self, name, _bounds(name, getattr(self, name), 0.0, 1.0))
        # Each bound is a strength a Policy may have when its stage is on.
        require(
            self.crop_padding[1] <= MAX_CROP_PADDING, "crop_padding", self.crop_padding, f"bounds <= {MAX_CROP_PADDING}"
        )
        require(self.erasing_area[0] > 0, "erasing_area", self.erasing_area, "bounds > 0")
        object.__setattr__(self, "stages", _stages(self.stages))
        object.__setattr__(
            self,
            "augmentations_per_image",
            _bounds("augmentations_per_image", self.augmentations_per_image, 1, None, integer=True),
        )
        object.__setattr__(self, "ops", resolve_ops(self.ops))
        object.__setattr__(self, "magnitude_distributions", _distributions(self.magnitude_distributions))
        # Validates the alphas with Policy's own rules and messages.
        Policy(cutmix_alpha=self.cutmix_alpha, mixup_alpha=self.mixup_alpha)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able; stored with the study so a later run can tell whether its space differs."""
        data = dataclasses.asdict(self)
        return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchSpace:
        """Rebuild a stored space; one stored before distributions were searched was all "normal"."""
        values: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in data.items()
        }
        values.setdefault("magnitude_distributions", ("normal",))
        values.setdefault("stages", ())  # stored before the optional stages existed: none searched
        return cls(**values)


def _stages(value: str | Sequence[str]) -> tuple[str, ...]:
    names = tuple(value.split(",")) if isinstance(value, str) else value
    ok = isinstance(names, (tuple, list)) and all(isinstance(name, str) for name in names)
    names = tuple(name.strip() for name in names if name.strip()) if ok else names
    if ok and names == ("none",):
        return ()
    ok = ok and len(set(names)) == len(names) and all(name in STAGES for name in names)
    require(ok, "stages", value, f"distinct names from: {', '.join(STAGES)} (or none)")
    return tuple(name for name in STAGES if name in names)


def _distributions(value: str | Sequence[str]) -> tuple[str, ...]:
    names = tuple(value.split(",")) if isinstance(value, str) else value
    known = ", ".join(MAGNITUDE_DISTRIBUTIONS)
    ok = isinstance(names, (tuple, list)) and len(names) > 0 and len(set(names)) == len(names)
    ok = ok and all(isinstance(name, str) and name.strip() in MAGNITUDE_DISTRIBUTIONS for name in names)
    require(ok, "magnitude_distributions", value, f"distinct names from: {known}")
    chosen = {name.strip() for name in names}
    return tuple(name for name in MAGNITUDE_DISTRIBUTIONS if name in chosen)


def _bounds(
    name: str, value: Sequence[float], lowest: float, highest: float | None, *, integer: bool = False
) -> tuple[float, float]:
    kind = "integers" if integer else "numbers"
    top = "" if highest is None else f", <= {highest}"
    expected = f"two {kind} low <= high, both >= {lowest}{top}"
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    if ok:
        low, high = value
        is_kind = is_int if integer else is_number
        ok = is_kind(low) and is_kind(high) and lowest <= low <= high and (highest is None or high <= highest)
    require(ok, name, value, expected)
    return (int(low), int(high)) if integer else (float(low), float(high))


def suggest_policy(trial: BaseTrial, space: SearchSpace) -> Policy:
    """Ask an Optuna trial (a `Trial`, a `FixedTrial`: any `optuna.trial.BaseTrial`) for a Policy in `space`.

    At least one op is always on: every candidate but the last gets a boolean `op.<name>`; the
    last candidate gets one only when some other op is on, and is on without a parameter when
    all others are off. So no trial wastes its budget on an empty op set, and the stored
    parameters still say exactly what was decided.
    """
    values: dict[str, Any] = {}
    distributions = space.magnitude_distributions
    distribution = (
        trial.suggest_categorical("magnitude_distribution", list(distributions))
        if len(distributions) > 1
        else distributions[0]
    )
    values["magnitude_distribution"] = distribution
    for name in FLOAT_FIELDS:
        if name == "magnitude_stddev" and distribution == "uniform":
            values[name] = 0.0
            continue
        low, high = getattr(space, name)
        values[name] = trial.suggest_float(name, low, high)
    low, high = space.augmentations_per_image
    values["augmentations_per_image"] = trial.suggest_int("augmentations_per_image", low, high)

    *others, last = space.ops
    chosen = [name for name in others if trial.suggest_categorical(op_param(name), [False, True])]
    if not chosen or trial.suggest_categorical(op_param(last), [False, True]):
        chosen.append(last)
    for stage, fields in STAGES.items():
        if stage in space.stages and trial.suggest_categorical(stage, [False, True]):
            values.update({name: trial.suggest_float(name, *getattr(space, name)) for name in fields})
            if stage == "flip":
                values["flip"] = True
    return Policy(ops=tuple(chosen), cutmix_alpha=space.cutmix_alpha, mixup_alpha=space.mixup_alpha, **values)


def _stage_on(policy: Policy, stage: str) -> bool:
    return policy.flip if stage == "flip" else getattr(policy, STAGES[stage][0]) > 0


def policy_params(policy: Policy, space: SearchSpace) -> dict[str, Any]:
    """The Optuna parameters that make `suggest_policy` return `policy` (for enqueue_trial).

    Raises AugSearchError if the policy lies outside `space`: a field outside its bounds, an op
    that is not a candidate, a magnitude distribution or a stage that `space` does not propose.
    """
    distributions = space.magnitude_distributions
    if policy.magnitude_distribution not in distributions:
        raise AugSearchError(
            f"policy has magnitude_distribution={policy.magnitude_distribution!r}, which the search space "
            f"does not propose (its distributions: {', '.join(distributions)})."
        )
    extra = [name for name in policy.ops if name not in space.ops]
    if extra:
        raise AugSearchError(
            f"policy uses op {extra[0]!r}, which is not among the search space's ops ({', '.join(space.ops)})."
        )
    off = [stage for stage in STAGES if _stage_on(policy, stage) and stage not in space.stages]
    if off:
        searched = ", ".join(space.stages) or "none"
        raise AugSearchError(
            f"policy uses the {off[0]} stage, which the search space does not search (its stages: {searched})."
        )
    params: dict[str, Any] = {name: getattr(policy, name) for name in FLOAT_FIELDS}
    params["augmentations_per_image"] = policy.augmentations_per_image
    if policy.magnitude_distribution == "uniform":
        del params["magnitude_stddev"]
    for stage in space.stages:
        params[stage] = _stage_on(policy, stage)
        params.update({name: getattr(policy, name) for name in STAGES[stage] if params[stage]})
    for name, value in params.items():
        if isinstance(value, bool):
            continue
        low, high = getattr(space, name)
        if not low <= value <= high:
            raise AugSearchError(f"policy has {name}={value:g}, outside the search space's bounds [{low:g}, {high:g}].")
    if len(distributions) > 1:
        params["magnitude_distribution"] = policy.magnitude_distribution
    *others, last = space.ops
    on = set(policy.ops)
    params.update({op_param(name): name in on for name in others})
    if on & set(others):
        params[op_param(last)] = last in on
    return params
