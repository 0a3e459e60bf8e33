"""What `compare` and `preview` take: trial numbers, `best`, or exported policy files; and the
source pictures of their sample grids."""

from __future__ import annotations

import argparse
from pathlib import Path

from space import AugSearchError


def add_sample_arguments(parser: argparse.ArgumentParser, images: int) -> None:
    """Which pictures a sample grid shows: the same for every policy with the same flags."""
    group = parser.add_argument_group("sample images (the same pictures for every policy with the same flags)")
    group.add_argument("--images", type=int, default=images, help=f"source images in the grid (default: {images})")
    group.add_argument("--seed", type=int, default=1, help="picks the images and seeds the augmentation (default: 1)")
    group.add_argument("--dataset", help="dataset spec (default: the study's, else fashion_mnist)")
    group.add_argument("--data-dir", help="where the dataset's files are (as for search run)")
    group.add_argument("--image-size", type=int, help="pixels (default: the study's budget, else 64)")


def is_policy_file(item: str) -> bool:
    return item.endswith(".json") or Path(item).is_file()


def load_study_if_needed(args, items: list[str]):
    """The study named by --runs-dir/--storage/--study; None when only files are given and there
    is no (single) study to read. Raises AugSearchError when a trial is asked for and there is none."""
    from search.storage import load_existing_study

    try:
        return load_existing_study(args.runs_dir, args.storage, args.study)
    except AugSearchError:
        if all(is_policy_file(item) for item in items):
            return None  # the study only gives the grid's dataset, which has a default
        raise


def load_candidates(study, items: list[str]):
    """One `results.compare.Candidate` per item, in order. A trial number may name a trial in any
    state that has a policy (a pruned or failed policy is worth a look too); `best` is the study's
    best (`results.trial_policies.best`: the race's winner, which may be a baseline). Raises
    AugSearchError naming the item that does not resolve."""
    from results.compare import Candidate, from_file, from_trial
    from results.trial_policies import best
    from results.trials import trial_rows

    rows = {row.number: row for row in trial_rows(study)} if study is not None else {}
    candidates = []
    for item in items:
        if is_policy_file(item):
            candidates.append(from_file(item))
            continue
        if item == "best":
            chosen = best(study)
            if chosen.trial is None:  # a baseline won the race
                candidates.append(Candidate(label=chosen.label, policy=chosen.policy))
                continue
            number = chosen.trial.number
        elif item.isdigit() and int(item) in rows:
            number = int(item)
        else:
            known = f"trials 0 to {max(rows)}" if rows else "no trials"
            raise AugSearchError(
                f"{item!r} is not a trial of study {study.study_name!r} ({known}), 'best', or a policy file (*.json)."
            )
        if rows[number].policy is None:
            raise AugSearchError(f"trial {number} has no recorded policy (was it made by `search run`?).")
        candidates.append(from_trial(rows[number]))
    return candidates


def grid_samples(args, study):
    """The pictures a grid shows: --dataset/--image-size, else the study's, else Fashion-MNIST at 64 px."""
    from results.stored import read_settings
    from search.grid_images import DEFAULT_IMAGE_SIZE, load_samples

    settings = read_settings(study)
    dataset = args.dataset or (settings and settings.dataset) or "fashion_mnist"
    image_size = args.image_size or (settings and settings.budget.get("image_size")) or DEFAULT_IMAGE_SIZE
    return load_samples(dataset, args.data_dir, image_size, args.images, args.seed)
