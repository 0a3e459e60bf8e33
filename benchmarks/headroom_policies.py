"""Hand-set policies around TrivialAugment, written as export files for `search evaluate`.

How far above TrivialAugment can the default search space go at the user's training? Each file
is a Policy the default space can propose (TrivialAugment with CutMix and/or MixUp on top, two
ops per image), so the best of them is headroom the search could reach and did not; one more adds
an op from outside the space. They are trained and scored by the product itself, paired with the TrivialAugment
baseline on the same seeds:

    .venv/bin/python benchmarks/headroom_policies.py --out runs-low/headroom
    nohup .venv/bin/search evaluate runs-low/headroom/*.json --runs-dir runs-low --baselines trivialaugment \\
        --seeds 5 --train-examples 1024 --epochs 100 > runs-low-headroom.log 2>&1 &

The policies were set by hand before any was trained; the evaluation scores them on the test
split, so the best of them is an optimistic estimate of the headroom (chosen after seeing it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from search import export_policy
from space import BASELINES, SearchSpace, policy_params
from space.ops import TRIVIALAUGMENT_OPS

TRIVIALAUGMENT = BASELINES["trivialaugment"]

#: name -> the Policy: TrivialAugment with one thing changed or added.
HEADROOM_POLICIES = {
    "ta_cutmix50": TRIVIALAUGMENT.replace(cutmix_rate=0.5),
    "ta_mixup50": TRIVIALAUGMENT.replace(mixup_rate=0.5),
    "ta_cutmix50_mixup50": TRIVIALAUGMENT.replace(cutmix_rate=0.5, mixup_rate=0.5),
    "ta_cutmix100": TRIVIALAUGMENT.replace(cutmix_rate=1.0),
    "ta_2ops": TRIVIALAUGMENT.replace(augmentations_per_image=2),
}


def _trivialaugment_plus(*ops: str):
    """TrivialAugment choosing among its ops, the identity and `ops`, each with the same chance."""
    choices = (*TRIVIALAUGMENT_OPS, *ops)
    return TRIVIALAUGMENT.replace(ops=choices, rate=len(choices) / (len(choices) + 1))


#: Outside the default space: extended ops of the catalogue added to TrivialAugment's choices
#: (the TrivialAugment paper applies flips and Cutout besides its ops; grid_mask is Cutout-like).
OUTSIDE_THE_SPACE = {
    "ta_grid_mask": _trivialaugment_plus("grid_mask"),
    "ta_flip": _trivialaugment_plus("horizontal_flip"),
    "ta_flip_cutout": _trivialaugment_plus("horizontal_flip", "cutout"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="the folder the policy files go to")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    space = SearchSpace()
    for name, policy in {**HEADROOM_POLICIES, **OUTSIDE_THE_SPACE}.items():
        if name in HEADROOM_POLICIES:
            policy_params(policy, space)  # raises if the default space cannot propose it
        path = export_policy(policy, out / f"{name}.json", {"source": "benchmarks/headroom_policies.py", "name": name})
        print(f"{path}: {policy}")


if __name__ == "__main__":
    main()
