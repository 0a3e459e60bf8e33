"""What optuna-dashboard shows besides Optuna's own plots: per-trial artifacts and the study note.

Artifacts go through Optuna's artifact API into a file-system store under the run directory
(`RUNS_DIR/artifacts`); the storage keeps their metadata on the trial, so `search dashboard`
(optuna-dashboard) lists them on each trial's page. Optuna refuses to change a finished trial
(`UpdateFinishedTrialError`), so artifacts are uploaded after training ends but before the
trial is told COMPLETE or PRUNED. The study note is Markdown saved with
`optuna_dashboard.save_note`. Plain Optuna: never imports Ray.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts import FileSystemArtifactStore, get_all_artifact_meta, upload_artifact
from optuna.trial import FrozenTrial

from results._optuna_internals import study_storage
from results.stored import read_settings
from space import Policy

#: The artifact store's folder inside the run directory.
ARTIFACTS_DIR = "artifacts"
#: The file names of a trial's artifacts (the names the dashboard shows).
GRID_FILE = "samples.png"
CURVE_FILE = "learning_curve.png"


def artifact_dir(runs_dir: str | os.PathLike) -> Path:
    """RUNS_DIR/artifacts: where the run's artifact store keeps its files."""
    return Path(runs_dir) / ARTIFACTS_DIR


def artifact_store(runs_dir: str | os.PathLike, *, create: bool = True) -> FileSystemArtifactStore:
    """The run directory's artifact store; `create=False` for readers (a missing folder just
    means no artifact can be opened yet)."""
    path = artifact_dir(runs_dir)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return FileSystemArtifactStore(path)


def trial_artifact_names(study: optuna.Study, trial: optuna.Trial | FrozenTrial) -> dict[str, str]:
    """{file name: artifact id} of the artifacts uploaded to `trial` (read from the storage)."""
    return {meta.filename: meta.artifact_id for meta in get_all_artifact_meta(trial, storage=study_storage(study))}


def upload_trial_artifacts(
    study: optuna.Study,
    trial: optuna.Trial | FrozenTrial,
    store: FileSystemArtifactStore,
    grid_png: bytes | None,
    curve_png: bytes | None,
) -> list[str]:
    """Upload `samples.png` and `learning_curve.png` (those given, not None) to `trial`, which
    must not be finished yet (Optuna raises UpdateFinishedTrialError for a finished one).

    A file the trial already has is skipped, so a second call adds no duplicates. Returns the
    file names uploaded now.
    """
    present = trial_artifact_names(study, trial)
    uploaded = []
    for name, data in ((GRID_FILE, grid_png), (CURVE_FILE, curve_png)):
        if data is None or name in present:
            continue
        # upload_artifact takes a path and names the artifact after its base name.
        with tempfile.TemporaryDirectory(prefix="augsearch-artifact-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            upload_artifact(
                artifact_store=store, file_path=str(path), study_or_trial=trial, storage=study_storage(study)
            )
        uploaded.append(name)
    return uploaded


def study_note(settings: Mapping[str, Any], baselines: Mapping[str, Policy], study_name: str | None = None) -> str:
    """The study's note (Markdown) for the dashboard: dataset, seed, the per-trial budget, the
    search space, the baselines it starts from and what each trial's artifacts are.

    `settings` is the study's `results.stored.StudySettings` as a dict (dataset, budget, search_space, seed).
    """
    lines = [f"## AugSearch study `{study_name}`" if study_name else "## AugSearch study", ""]
    lines += [f"**Dataset:** `{settings.get('dataset', '?')}` &nbsp; **Seed:** {settings.get('seed', '?')}", ""]
    lines += ["### Budget of each trial", "", "| setting | value |", "| --- | --- |"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in (settings.get("budget") or {}).items()]
    lines += ["", "### Search space", "", "| field | searched over |", "| --- | --- |"]
    for key, value in (settings.get("search_space") or {}).items():
        lines.append(f"| {key} | {_space_cell(key, value)} |")
    lines += ["", "### Baselines (the first trials)", ""]
    if baselines:
        lines.append("Enqueued before the search proper; their trials have the user attribute `reference`.")
        lines.append("")
        lines += [f"- **{name}**: `{policy!r}`" for name, policy in baselines.items()]
    else:
        lines.append("None in this study (`search run --no-baselines`).")
    lines += [
        "",
        "### Each finished trial's artifacts",
        "",
        f"- `{GRID_FILE}`: the trial's policy on the same validation images (originals, after the "
        "per-image stage, after CutMix/MixUp).",
        f"- `{CURVE_FILE}`: val_accuracy per epoch; a PRUNED trial stops where ASHA stopped it.",
        "",
    ]
    return "\n".join(lines)


def write_study_note(study: optuna.Study, baselines: Mapping[str, Policy]) -> str:
    """Save `study_note` of the study's own settings as its dashboard note (replacing the last
    one: optuna-dashboard keeps a version counter). Returns the Markdown."""
    from optuna_dashboard import save_note  # only the dashboard reads it; import it when needed

    settings = read_settings(study)
    body = study_note(settings.to_dict() if settings else {}, baselines, study.study_name)
    save_note(study, body)
    return body


def _cell(value: Any) -> str:
    return f"`{value}`" if isinstance(value, str) else str(value)


def _space_cell(key: str, value: Any) -> str:
    if key == "ops":
        return "each of " + ", ".join(f"`{op}`" for op in value) + " on or off"
    if isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = value
        return f"{low} (fixed)" if low == high else f"{low} to {high}"
    return f"{value} (fixed)"
