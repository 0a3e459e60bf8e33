"""Sample grids, where the two halves meet: `trainers` picks and augments the pictures
(TensorFlow), `results.samples` draws them; `search` alone may import both.

The source pictures are a stratified, seeded pick from the validation split.
"""

from __future__ import annotations

import numpy as np

from results.samples import Samples, sample_grid
from space import Policy
from space.errors import is_int, require
from trainers.data import ImageDataset, load_dataset
from trainers.subsets import stratified_indices

#: Pictures per grid the driver uploads for each finished trial, and their seed.
TRIAL_GRID_IMAGES = 16
TRIAL_GRID_SEED = 1
DEFAULT_IMAGE_SIZE = 64


def samples_from(dataset: ImageDataset, n: int, seed: int) -> Samples:
    """`n` validation pictures of `dataset`, classes in proportion."""
    split = dataset.validation
    indices = stratified_indices(split.labels, min(n, len(split.labels)), seed)
    return Samples(images=split.images[indices], labels=split.labels[indices], class_names=dataset.class_names)


def load_samples(dataset_spec: str, data_dir: str | None, image_size: int, n: int, seed: int) -> Samples:
    """Load only what a grid needs of `dataset_spec` (its validation split) and pick `n` pictures."""
    require(is_int(n) and n >= 1, "images", n, "an integer >= 1")
    require(is_int(seed) and seed >= 1, "seed", seed, "an integer >= 1 (KerasCV takes 0 for no seed)")
    dataset = load_dataset(
        dataset_spec, image_size=image_size, train_examples=1, validation_examples=None, seed=0, data_dir=data_dir
    )
    return samples_from(dataset, n, seed)


def policy_grid(samples: Samples, policy: Policy, seed: int = 1) -> np.ndarray:
    """The sample grid (`results.samples.sample_grid`) of `policy` on `samples`: the same samples,
    policy and seed give the same picture."""
    from trainers.pictures import augment_pictures  # TensorFlow: only when a grid is made

    augmented = augment_pictures(samples.images, samples.labels, len(samples.class_names), policy, seed)
    return sample_grid(samples, augmented.per_image, augmented.batch, augmented.batch_layers)
