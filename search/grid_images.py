"""The source pictures of sample grids: a stratified, seeded pick from the validation split."""

from __future__ import annotations

from results.samples import Samples

#: Pictures per grid the driver uploads for each finished trial, and their seed.
TRIAL_GRID_IMAGES = 16
TRIAL_GRID_SEED = 1
DEFAULT_IMAGE_SIZE = 64


def samples_from(dataset, n: int, seed: int) -> Samples:
    """`n` validation pictures of `dataset` (a trainers ImageDataset), classes in proportion."""
    from trainers.subsets import stratified_indices

    split = dataset.validation
    indices = stratified_indices(split.labels, min(n, len(split.labels)), seed)
    return Samples(images=split.images[indices], labels=split.labels[indices], class_names=dataset.class_names)


def load_samples(dataset_spec: str, data_dir: str | None, image_size: int, n: int, seed: int) -> Samples:
    """Load only what a grid needs of `dataset_spec` (its validation split) and pick `n` pictures."""
    from space.errors import is_int, require
    from trainers.data import load_dataset

    require(is_int(n) and n >= 1, "--images", n, "an integer >= 1")
    require(is_int(seed) and seed >= 1, "--seed", seed, "an integer >= 1 (KerasCV takes 0 for no seed)")
    dataset = load_dataset(
        dataset_spec, image_size=image_size, train_examples=1, validation_examples=None, seed=0, data_dir=data_dir
    )
    return samples_from(dataset, n, seed)
