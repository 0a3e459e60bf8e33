"""The flags `compare` and `preview` share: which study to read, and the source pictures of their
sample grids (the policies they take are `results.compare.candidates`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from results.samples import Samples
from search.grid_images import DEFAULT_IMAGE_SIZE, load_samples
from space import AugSearchError

if TYPE_CHECKING:  # imports Optuna, which `search --help` must not
    import optuna


def add_sample_arguments(parser: argparse.ArgumentParser, images: int) -> None:
    """Which pictures a sample grid shows: the same for every policy with the same flags."""
    group = parser.add_argument_group("sample images (the same pictures for every policy with the same flags)")
    group.add_argument("--images", type=int, default=images, help=f"source images in the grid (default: {images})")
    group.add_argument("--seed", type=int, default=1, help="picks the images and seeds the augmentation (default: 1)")
    group.add_argument("--dataset", help="dataset spec (default: the study's, else fashion_mnist)")
    group.add_argument("--data-dir", help="where the dataset's files are (as for search run)")
    group.add_argument("--image-size", type=int, help="pixels (default: the study's budget, else 64)")


def load_study_if_needed(args: argparse.Namespace, items: list[str]) -> optuna.Study | None:
    """The study named by --runs-dir/--storage/--study; None when only files are given and there
    is no (single) study to read. Raises AugSearchError when a trial is asked for and there is none."""
    # Both import Optuna: not for --help.
    from results.compare import is_policy_file
    from search.storage import load_existing_study

    try:
        return load_existing_study(args.runs_dir, args.storage, args.study)
    except AugSearchError:
        if all(is_policy_file(item) for item in items):
            return None  # the study only gives the grid's dataset, which has a default
        raise


def grid_samples(args: argparse.Namespace, study: optuna.Study | None) -> Samples:
    """The pictures a grid shows: --dataset/--image-size, else the study's, else Fashion-MNIST at 64 px."""
    from results.stored import read_settings  # imports Optuna: not for --help

    settings = read_settings(study)
    dataset = args.dataset or (settings and settings.dataset) or "fashion_mnist"
    image_size = args.image_size or (settings and settings.budget.get("image_size")) or DEFAULT_IMAGE_SIZE
    return load_samples(dataset, args.data_dir, image_size, args.images, args.seed)
