"""`search run`: the flags become a `SearchSettings`; `search.run_search` does the rest."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from search.cli.arguments import (
    add_budget_arguments,
    add_ray_arguments,
    add_study_arguments,
    budget_overrides,
    training_fields,
)
from search.formatting import trial_table
from search.settings import BUDGET_OVERRIDES, PRUNERS, RACE_BASELINES, SAMPLERS, TARGET_BUDGETS, SearchSettings
from space import BASELINES, EXTENDED_OPS, TRIVIALAUGMENT_OPS, SearchSpace
from space.policy_ref import PolicyRef
from space.search_space import STAGES
from trainers.sources import SPEC_FORMS

if TYPE_CHECKING:  # imports Optuna and, when a search runs, Ray: not for --help
    from search.searching import SearchResult

HELP = "search augmentation policies (resumable: run it again to continue)"
DESCRIPTION = (
    "Optuna proposes policies, starting from the baselines; Ray Tune trains a short proxy for each "
    "in parallel, ASHA stops weak ones early, and the study keeps every trial. Then the final race "
    "trains the best few and the baselines (TrivialAugment, crop + flip, none) on paired seeds at the "
    "training you will run (--target-*), scored on validation images; its winner, a baseline if "
    "none of the searched beat it, is what `search export` exports. --trials is the total number "
    "of finished trials the study should hold: the same command again resumes."
)
EPILOG = "Example: search run --trials 200 (then search trials, search export)"
NEEDS_TENSORFLOW = True
#: (flag, type, default shown) of the search-space bounds.
BOUNDS = (
    ("--magnitude", float, "0,1"),
    ("--magnitude-stddev", float, "0,0.5"),
    ("--rate", float, "0,1"),
    ("--augmentations-per-image", int, "1,4"),
    ("--cutmix-rate", float, "0,1"),
    ("--mixup-rate", float, "0,1"),
    ("--crop-padding", float, "0.03125,0.25 of the side, when the crop is on"),
    ("--erasing-rate", float, "0.05,1, when erasing is on"),
    ("--erasing-area", float, "0.02,0.4 of the image, when erasing is on"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trials",
        type=int,
        default=200,
        help="finished (complete or pruned) trials the study should hold (default: 200)",
    )
    data = parser.add_argument_group("data and budget")
    data.add_argument(
        "--dataset",
        default="fashion_mnist",
        help=f"{SPEC_FORMS}; default fashion_mnist (in Python also your own arrays: trainers.ArrayData)",
    )
    data.add_argument("--data-dir", help="where the dataset's files are (Fashion-MNIST IDX files, TFDS data_dir)")
    add_budget_arguments(data)

    space = parser.add_argument_group("search space (bounds are LOW,HIGH, inclusive; LOW=HIGH fixes a field)")
    space.add_argument(
        "--ops",
        default="trivialaugment",
        help=f"candidate ops: trivialaugment (default: TrivialAugment's {len(TRIVIALAUGMENT_OPS)}, "
        "KerasCV RandAugment's 10 "
        f"plus rotation, posterization, sharpness), standard (RandAugment's 10), extended (all {len(EXTENDED_OPS)}), "
        "a comma-separated list, or a set with changes ('standard -solarization +rotation')",
    )
    space.add_argument(
        "--magnitude-distributions",
        default="normal,uniform",
        metavar="NAMES",
        help="how an image draws its strength, searched: normal (RandAugment's), uniform (TrivialAugment's) "
        "or both (default: normal,uniform)",
    )
    space.add_argument(
        "--stages",
        default=",".join(STAGES),
        metavar="NAMES",
        help="optional stages searched on/off around the ops: crop (random pad-and-crop, before the ops), "
        "flip (horizontal, before the ops), erasing (a grey square, after the ops); none for none "
        f"(default: {','.join(STAGES)})",
    )
    for flag, kind, default in BOUNDS:
        space.add_argument(flag, type=_bounds(kind), metavar="LOW,HIGH", help=f"default: {default}")
    space.add_argument("--cutmix-alpha", type=float, help="CutMix's Beta(alpha, alpha) (default: 1.0, KerasCV's)")
    space.add_argument("--mixup-alpha", type=float, help="MixUp's Beta(alpha, alpha) (default: 0.2, KerasCV's)")

    add_study_arguments(parser)
    search = parser.add_argument_group("search")
    search.add_argument(
        "--sampler",
        default="tpe",
        help=(
            f"{', '.join(SAMPLERS)} (default: tpe, multivariate and grouped, with the constant liar; "
            "tpe-univariate is Optuna's default TPE; gp needs PyTorch: pip install 'augsearch[gp]')"
        ),
    )
    search.add_argument(
        "--pruner", default="asha", help=f"{', '.join(PRUNERS)} (default: asha, Ray Tune's ASHA over epochs)"
    )
    search.add_argument(
        "--seed", type=int, default=0, help="seeds the sampler, the data split and each trial (default: 0)"
    )
    search.add_argument(
        "--no-baselines",
        action="store_true",
        help=f"do not start the search from the baselines ({', '.join(BASELINES)}: its first trials by default)",
    )
    search.add_argument(
        "--max-failures",
        type=int,
        default=10,
        help="stop the search when this many trials in a row fail, none finishing in between (default: 10)",
    )
    race = parser.add_argument_group(
        "the final race (after exploration: the best searched policies and the baselines trained on paired seeds "
        "at the target budget, the clearly worse dropped)"
    )
    race.add_argument(
        "--race-top",
        "--confirm-top",
        dest="race_top",
        type=int,
        default=3,
        metavar="K",
        help="how many of the best distinct searched policies race (default: 3; 0 turns the race off; "
        "--confirm-top is its earlier name)",
    )
    race.add_argument(
        "--race-seeds",
        "--confirm-seeds",
        dest="race_seeds",
        type=int,
        default=5,
        metavar="N",
        help="the paired seeds each contestant trains with (default: 5, at least 2; "
        "--confirm-seeds is its earlier name)",
    )
    race.add_argument(
        "--race-baselines",
        default=",".join(RACE_BASELINES),
        metavar="NAMES",
        help=f"baselines that race them, comma-separated from {', '.join(BASELINES)}, '' for none "
        f"(default: {','.join(RACE_BASELINES)})",
    )
    race.add_argument(
        "--target-budget",
        choices=TARGET_BUDGETS,
        help="the training you will run, which the race trains at (default: smoke after --budget smoke, else "
        "full-gpu if Ray sees a GPU, else full, as search evaluate; proxy: exploration's budget, cheaper but "
        "biased towards mild policies). The --target-* overrides change it, the default one without "
        "--target-budget: --budget smoke --target-epochs 3 races smoke for 3 epochs",
    )
    for name in BUDGET_OVERRIDES:
        flag = "--target-" + name.replace("_", "-")
        race.add_argument(
            flag,
            type=float if name == "learning_rate" else int,
            help=f"override the target budget's {name.replace('_', ' ')}",
        )
    # For benchmarks/trial_overhead.py: a fresh Ray worker (and model) for every trial.
    search.add_argument("--no-reuse", action="store_true", help=argparse.SUPPRESS)
    add_ray_arguments(parser)


def settings(args: argparse.Namespace) -> SearchSettings:
    space_fields = [flag[2:].replace("-", "_") for flag, _, _ in BOUNDS] + ["cutmix_alpha", "mixup_alpha"]
    space = SearchSpace(
        ops=args.ops,
        magnitude_distributions=args.magnitude_distributions,
        stages=args.stages,
        **{name: getattr(args, name) for name in space_fields if getattr(args, name) is not None},
    )
    return SearchSettings(
        **training_fields(args),
        trials=args.trials,
        space=space,
        sampler=args.sampler,
        pruner=args.pruner,
        seed=args.seed,
        baselines=not args.no_baselines,
        max_failures=args.max_failures,
        reuse_workers=not args.no_reuse,
        race_top=args.race_top,
        race_seeds=args.race_seeds,
        race_baselines=args.race_baselines,
        target_budget=args.target_budget,
        target_overrides=budget_overrides(args, "target_"),
    )


def run(args: argparse.Namespace) -> int:
    from search.searching import run_search  # imports Optuna: not for --help

    result = run_search(settings(args))
    _summary(result, args)
    return 130 if result.interrupted else 0


def _summary(result: SearchResult, args: argparse.Namespace) -> None:
    # Both import Optuna: not for --help.
    from results.race_record import summary_line
    from results.trials import best_rows, progress

    p = progress(result.study)
    print(f"\n{p.finished} trials finished ({p.complete} complete, {p.pruned} pruned), {p.failed} failed.")
    rows = best_rows(result.study, 5)
    if not rows:
        print("No complete trial yet.")
        return
    print("\n" + "\n".join(trial_table(rows)))
    if result.race is not None:
        print("\n" + summary_line(result.race) + ".")
    elif not args.race_top:
        print("\nNo race (--race-top 0): the best trial is exploration's.")
    elif result.no_winner_reason is not None:
        print(f"\nNo race winner: {result.no_winner_reason}. The best trial is exploration's.")
    where = "" if args.runs_dir == "runs" else f" --runs-dir {args.runs_dir}"
    best = cast(PolicyRef, result.best)  # not None: a complete trial is listed above
    print(f"\nExport the best ({best.label}): search export --study {result.study.study_name}{where} --out policy.json")


def _bounds(kind: type[float]) -> Callable[[str], tuple[float, float]]:
    def parse(text: str) -> tuple[float, float]:
        try:
            low, high = (kind(part) for part in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected LOW,HIGH ({kind.__name__}s), got {text!r}") from None
        return (low, high)

    parse.__name__ = f"{kind.__name__} bounds"
    return parse
