"""Export files with their layers: `search.export_policy` writes one, `search.load_policy_file`
reads one back with real Keras and KerasCV layers.

The two halves live where their imports are allowed: `results.export` is the file (plain JSON,
its checks, provenance) and never imports Keras; `space.layers` turns a Policy into the Keras
configs of its stages and configs back into layers. This module joins them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from results.export import keras_configs, policy_document, read_policy_document, write_policy_document
from results.trial_policies import choose, provenance
from space import Policy
from space.policy_ref import PolicyRef


@dataclass(frozen=True)
class ExportedPolicy:
    """What `load_policy_file` returns: the Policy and the Keras layers rebuilt from the file, in
    the order they apply: `base_stage`, `pipeline`, `erasing` (None when off), `batch_stage`."""

    policy: Policy
    base_stage: list[Any]  # keras.layers.RandomTranslation, RandomFlip
    pipeline: Any  # keras_cv.layers.RandomAugmentationPipeline
    erasing: Any  # keras.layers.RandomErasing or None
    batch_stage: Any  # space.layers.BatchStage
    provenance: dict[str, Any]


def export_policy(policy: Policy, path: str | os.PathLike, provenance: dict[str, Any] | None = None) -> Path:
    """Write `policy` as an export file (docs/export.md) atomically and return its path."""
    # Imported here, as in load_policy_file: TensorFlow loads when layers are made, not with the search driver.
    from space.layers import stage_configs

    return write_policy_document(policy_document(policy, stage_configs(policy), provenance), path)


def load_policy_file(path: str | os.PathLike) -> ExportedPolicy:
    """Load an export file: the Policy and its Keras layers, deserialized with safe_mode=True.

    Raises AugSearchError for a damaged file, an unknown format version, or a Keras config
    that does not rebuild into the expected Keras and KerasCV layers.
    """
    from space.layers import stages_from_configs

    document = read_policy_document(path)
    policy = Policy.from_dict(document["policy"])
    stages = stages_from_configs(keras_configs(document, path), f"policy file {str(path)!r}")
    return ExportedPolicy(policy, *stages, provenance=document["provenance"])


def export(study: optuna.Study, path: str | os.PathLike, which: str | int = "best") -> tuple[PolicyRef, Path]:
    """Write the policy `which` names (`results.trial_policies.choose`: "best" or a trial number)
    as an export file with its provenance; returns the choice and the path written. Raises
    AugSearchError."""
    chosen = choose(study, which)
    return chosen, export_policy(chosen.policy, path, provenance(study, chosen))
