"""The export format: one JSON file that plain Keras + KerasCV loads back (its layout, and why the
batch stage is two layers and their rates: docs/export.md).

This module is the file, as plain JSON: it never imports Keras. `space.layers` makes the "keras"
entry from a Policy and rebuilds layers from it; `search.policy_files` joins the two into the
public `search.export_policy` and `search.load_policy_file`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from results._files import write_atomically
from space import AugSearchError, Policy

FORMAT = "augsearch-policy"
FORMAT_VERSION = 2
#: Versions this code reads: 1 is 2 without "base_stage" and "erasing".
READABLE_VERSIONS = (1, 2)
BATCH_STAGE_LAYERS = ("cutmix", "mixup")  # applied in this order


def augsearch_version() -> str:
    try:
        return metadata.version("augsearch")
    except metadata.PackageNotFoundError:
        return "unknown"


def policy_document(
    policy: Policy, layer_configs: dict[str, Any], provenance: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The export document (a JSON-able dict) of `policy` and the Keras configs of its stages
    (`layer_configs`, made by `space.layers.stage_configs`); provenance keys are filled in."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "policy": policy.to_dict(),
        "keras": layer_configs,
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


def write_policy_document(document: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write `document` atomically (a crash never leaves half a file) and return its path."""
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


def keras_configs(document: dict[str, Any], path: str | os.PathLike) -> dict[str, Any]:
    """The "keras" entry of a document `read_policy_document` returned, checked as JSON and in
    version 2's layout (a version 1 file gets an empty base stage and no erasing): what
    `space.layers.stages_from_configs` rebuilds.

    Raises AugSearchError for a damaged entry, or a config naming a class outside Keras and
    KerasCV: refused here, before Keras imports anything the file names.
    """
    file = f"policy file {str(path)!r}"
    configs = document["keras"]
    base_stage = configs.get("base_stage", [])
    if not isinstance(base_stage, list):
        raise AugSearchError(f"{file} is damaged: base_stage must be a list of layer configs.")
    batch_stage = configs.get("batch_stage") if isinstance(configs.get("batch_stage"), dict) else {}
    for name in BATCH_STAGE_LAYERS:
        entry = batch_stage.get(name)
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("rate"), (int, float))
            or not 0 <= entry["rate"] <= 1
        ):
            raise AugSearchError(f"{file} is damaged: batch_stage.{name} needs a rate in [0, 1] and a layer.")
    checked = {
        "base_stage": base_stage,
        "pipeline": configs.get("pipeline"),
        "erasing": configs.get("erasing"),
        "batch_stage": {
            name: {"rate": batch_stage[name]["rate"], "layer": batch_stage[name].get("layer")}
            for name in BATCH_STAGE_LAYERS
        },
    }
    layers = [
        ("pipeline", checked["pipeline"]),
        *((f"base_stage[{index}]", config) for index, config in enumerate(base_stage)),
        ("erasing", checked["erasing"]),
        *((f"batch_stage.{name}", checked["batch_stage"][name]["layer"]) for name in BATCH_STAGE_LAYERS),
    ]
    for where, config in layers:
        # Only Keras and KerasCV classes: Keras would import a module a file names to find its class.
        foreign = _foreign_class(config)
        if foreign:
            raise AugSearchError(
                f"{file}: the Keras config of {where} does not load: it names the class {foreign}, "
                "which is not a Keras or KerasCV class."
            )
    return checked


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
