"""The export format: one JSON file that plain Keras + KerasCV loads back.

    {
      "format": "augsearch-policy", "format_version": 2,
      "policy": {...},                                  # space.Policy.to_dict()
      "keras": {                                        # applied in this order:
        "base_stage": [{...}, ...],                     # serialize_keras_object(RandomTranslation, RandomFlip)
        "pipeline": {...},                              # serialize_keras_object(RandomAugmentationPipeline)
        "erasing": {...} or null,                       # serialize_keras_object(RandomErasing)
        "batch_stage": {"cutmix": {"rate": p, "layer": {...}},   # serialize_keras_object(CutMix)
                        "mixup":  {"rate": q, "layer": {...}}}   # serialize_keras_object(MixUp)
      },
      "provenance": {"study", "trial", "baseline", "objective", "dataset", "budget", "confirmation",
                     "augsearch_version", "exported_at"}
    }

The batch stage is stored as the two KerasCV layers and their rates rather than one wrapping
layer: KerasCV's `RandomApply` fails in graph mode under Keras 3 and does not deserialize its
inner layer, and `Augmenter` has no config. Applying "each layer with probability rate" is
three lines of plain TensorFlow (see docs/export.md). Version 1 files, written before the base
stage and erasing existed, have neither entry and load with none.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from results._files import write_atomically
from space import AugSearchError, Policy
from space.errors import first_line

FORMAT = "augsearch-policy"
FORMAT_VERSION = 2
#: Versions this code reads: 1 is 2 without "base_stage" and "erasing".
READABLE_VERSIONS = (1, 2)
BATCH_STAGE_LAYERS = ("cutmix", "mixup")  # applied in this order


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


def augsearch_version() -> str:
    try:
        return metadata.version("augsearch")
    except metadata.PackageNotFoundError:
        return "unknown"


def policy_document(policy: Policy, provenance: dict[str, Any] | None = None) -> dict[str, Any]:
    """The export document for `policy` (a JSON-able dict); provenance keys are filled in."""
    import keras

    from space.layers import BatchStage, build_base_stage, build_erasing, build_pipeline

    # Unseeded: users' own programs decide their seeds.
    pipeline = build_pipeline(policy)
    stage = BatchStage.from_policy(policy)
    erasing = build_erasing(policy)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "policy": policy.to_dict(),
        "keras": {
            "base_stage": [keras.saving.serialize_keras_object(layer) for layer in build_base_stage(policy)],
            "pipeline": keras.saving.serialize_keras_object(pipeline),
            "erasing": None if erasing is None else keras.saving.serialize_keras_object(erasing),
            "batch_stage": {
                name: {"rate": rate, "layer": keras.saving.serialize_keras_object(layer)}
                for name, (layer, rate) in zip(BATCH_STAGE_LAYERS, stage.stages, strict=True)
            },
        },
        "provenance": {
            "study": None,
            "trial": None,
            "objective": None,
            "dataset": None,
            "budget": None,
            **(provenance or {}),
            "augsearch_version": augsearch_version(),
            "exported_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        },
    }


def export_policy(policy: Policy, path: str | os.PathLike, provenance: dict[str, Any] | None = None) -> Path:
    """Write the export file atomically (a crash never leaves half a file) and return its path."""
    document = policy_document(policy, provenance)
    return write_atomically(path, (json.dumps(document, indent=2) + "\n").encode())


def read_policy_document(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check an export file's envelope. Raises AugSearchError on a damaged or foreign file."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise AugSearchError(f"policy file {str(path)!r} does not exist.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AugSearchError(f"policy file {str(path)!r} is not valid JSON (truncated or damaged?): {error}.") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise AugSearchError(
            f'policy file {str(path)!r} is not an AugSearch policy export (expected "format": "{FORMAT}").'
        )
    version = document.get("format_version")
    if version not in READABLE_VERSIONS:
        readable = " and ".join(map(str, READABLE_VERSIONS))
        raise AugSearchError(
            f"policy file {str(path)!r} has format_version={version!r}; this AugSearch reads versions {readable}."
        )
    for key in ("policy", "keras", "provenance"):
        if not isinstance(document.get(key), dict):
            raise AugSearchError(
                f"policy file {str(path)!r} is damaged: its {key!r} entry is missing or not an object."
            )
    return document


def load_policy_file(path: str | os.PathLike) -> ExportedPolicy:
    """Load an export file: the Policy and its Keras layers, deserialized with safe_mode=True.

    Raises AugSearchError for a damaged file, an unknown format version, or a Keras config
    that does not rebuild into the expected KerasCV layers.
    """
    import keras
    import keras_cv

    from space.layers import BatchStage

    document = read_policy_document(path)
    policy = Policy.from_dict(document["policy"])
    configs = document["keras"]
    pipeline = _deserialize(
        keras, configs.get("pipeline"), keras_cv.layers.RandomAugmentationPipeline, path, "pipeline"
    )
    for index, layer in enumerate(pipeline.layers):
        if not (isinstance(layer, keras.layers.Layer) and type(layer).__module__.startswith("keras_cv.")):
            raise AugSearchError(
                f"policy file {str(path)!r}: pipeline layer {index} must be a KerasCV augmentation layer, but its "
                f"config gives {type(layer).__module__}.{type(layer).__name__}."
            )
    base_configs = configs.get("base_stage", [])
    if not isinstance(base_configs, list):
        raise AugSearchError(f"policy file {str(path)!r} is damaged: base_stage must be a list of layer configs.")
    base_types = (keras.layers.RandomTranslation, keras.layers.RandomFlip)
    base_stage = [
        _deserialize(keras, config, base_types, path, f"base_stage[{index}]")
        for index, config in enumerate(base_configs)
    ]
    erasing_config = configs.get("erasing")
    erasing = (
        None
        if erasing_config is None
        else _deserialize(keras, erasing_config, keras.layers.RandomErasing, path, "erasing")
    )
    stages = []
    batch_stage = configs.get("batch_stage") if isinstance(configs.get("batch_stage"), dict) else {}
    for name, expected in zip(BATCH_STAGE_LAYERS, (keras_cv.layers.CutMix, keras_cv.layers.MixUp), strict=True):
        entry = batch_stage.get(name)
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("rate"), (int, float))
            or not 0 <= entry["rate"] <= 1
        ):
            raise AugSearchError(
                f"policy file {str(path)!r} is damaged: batch_stage.{name} needs a rate in [0, 1] and a layer."
            )
        stages += [_deserialize(keras, entry.get("layer"), expected, path, f"batch_stage.{name}"), entry["rate"]]
    return ExportedPolicy(policy, base_stage, pipeline, erasing, BatchStage(*stages), document["provenance"])


def _deserialize(keras, config, expected_type, path, where):
    def refuse(message: str) -> AugSearchError:
        return AugSearchError(f"policy file {str(path)!r}: the Keras config of {where} does not load: {message}")

    # Only Keras and KerasCV classes, checked before Keras imports anything the file names;
    # safe_mode=True then refuses the Python lambdas even Keras classes can carry.
    foreign = _foreign_class(config)
    if foreign:
        raise refuse(f"it names the class {foreign}, which is not a Keras or KerasCV class.") from None
    try:
        layer = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as error:  # Keras raises TypeError, ValueError or its own errors here.
        message = first_line(error)
        # Keras appends the whole config to some messages: not what a one-line error needs.
        message = message.split(" Full object config:")[0]
        raise refuse(message if len(message) <= 400 else message[:400] + "...") from None
    if not isinstance(layer, expected_type):
        names = " or ".join(
            kind.__name__ for kind in (expected_type if isinstance(expected_type, tuple) else [expected_type])
        )
        raise AugSearchError(
            f"policy file {str(path)!r}: {where} must be a {names}, but its config gives {type(layer).__name__}."
        )
    return layer


def _foreign_class(config: Any) -> str | None:
    """'module.Class' of the first object in a Keras config whose module is not Keras or KerasCV."""
    if isinstance(config, list):
        return next((found for item in config if (found := _foreign_class(item))), None)
    if not isinstance(config, dict):
        return None
    module = config.get("module")
    if "class_name" in config and module is not None:
        if not isinstance(module, str) or module.split(".")[0] not in ("keras", "keras_cv"):
            return f"{module}.{config['class_name']}"
    return next((found for value in config.values() if (found := _foreign_class(value))), None)
