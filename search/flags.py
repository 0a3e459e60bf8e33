"""Flags shared by `search run` and `search evaluate`, and errors worded in their names."""

from __future__ import annotations

from space import AugSearchError
from space.errors import is_int, require

SPACE_FLAGS = ("magnitude", "magnitude_stddev", "rate", "augmentations_per_image", "cutmix_rate", "mixup_rate", "cutmix_alpha", "mixup_alpha")
BUDGET_FLAGS = ("epochs", "image_size", "train_examples", "batch_size", "model", "learning_rate")


def as_flags(build):
    """Run build(); an error about field `some_field` is re-worded as one about `--some-field`,
    the name the user typed."""
    try:
        return build()
    except AugSearchError as error:
        text = str(error)
        field = text.split(" ", 1)[0]
        if field not in (*SPACE_FLAGS, *BUDGET_FLAGS, "ops"):
            raise
        flag = "--" + field.replace("_", "-")
        raise AugSearchError(flag + text[len(field):].replace(f" {field}=", f" {flag}=")) from None


def check_positive_int(flag: str, value) -> None:
    require(is_int(value) and value >= 1, flag, value, "an integer >= 1")
