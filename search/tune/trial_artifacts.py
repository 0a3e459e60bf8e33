"""The driver's part of the dashboard: the study note, and each finished trial's artifacts.

`run_search` calls `start_artifacts` once, which writes the study note and picks the sample
pictures, and hands the returned `TrialArtifacts` to `StudySearcher(before_tell=...)`: for each
trial that is about to be stored COMPLETE or PRUNED it makes the sample grid and the learning
curve on the driver (not in the trial's worker) and uploads them. A failure here prints one
line and never fails the trial or the search.
"""

from __future__ import annotations

import os
import sys

import optuna
from optuna.trial import FrozenTrial

from results.artifacts import (
    CURVE_FILE,
    GRID_FILE,
    artifact_store,
    upload_trial_artifacts,
    write_study_note,
)
from results.curves import learning_curve_png
from results.samples import Samples, png_bytes
from search.grid_images import TRIAL_GRID_IMAGES, TRIAL_GRID_SEED, policy_grid, samples_from
from search.study import enqueued_baselines
from space import Policy
from space.errors import error_line
from trainers.data import ImageDataset


class TrialArtifacts:
    """`before_tell` hook of `StudySearcher`: uploads `samples.png` and `learning_curve.png`.

    `samples` None (they could not be picked) leaves out the grid.
    """

    def __init__(
        self, store: optuna.artifacts.FileSystemArtifactStore, samples: Samples | None, seed: int = TRIAL_GRID_SEED
    ) -> None:
        self.store = store
        self.samples = samples
        self.seed = seed

    def __call__(self, trial: optuna.Trial, snapshot: FrozenTrial) -> list[str]:
        """Make and upload the artifacts of `trial`, drawn from `snapshot` (the trial as it is
        about to be stored); returns the file names uploaded. Never raises."""
        pngs, problems = {}, []
        for name, make in ((GRID_FILE, self._grid), (CURVE_FILE, self._curve)):
            try:
                pngs[name] = make(snapshot)
            except Exception as error:
                problems.append(f"{name}: {error_line(error)}")
        uploaded: list[str] = []
        try:
            uploaded = upload_trial_artifacts(trial.study, trial, self.store, pngs.get(GRID_FILE), pngs.get(CURVE_FILE))
        except Exception as error:
            problems.append(f"upload: {error_line(error)}")
        if problems:
            _warn(f"artifacts for trial {trial.number} not made: {'; '.join(problems)}")
        return uploaded

    def _grid(self, snapshot: FrozenTrial) -> bytes | None:
        if self.samples is None:
            return None
        policy = Policy.from_dict(snapshot.user_attrs["policy"])
        return png_bytes(policy_grid(self.samples, policy, seed=self.seed))

    @staticmethod
    def _curve(snapshot: FrozenTrial) -> bytes:
        return learning_curve_png(snapshot)


def start_artifacts(
    study: optuna.Study,
    runs_dir: str | os.PathLike,
    dataset: ImageDataset,
    images: int = TRIAL_GRID_IMAGES,
    seed: int = TRIAL_GRID_SEED,
) -> TrialArtifacts | None:
    """Write the study note and pick `images` validation pictures of `dataset` for the grids.
    Returns the hook for `StudySearcher(before_tell=...)`, or None when the artifact store cannot
    be made.

    Never raises: what fails is one warning line, and the search goes on without it.
    """
    try:
        write_study_note(study, enqueued_baselines(study))
    except Exception as error:
        _warn(f"study note not written: {error_line(error)}")
    try:
        store = artifact_store(runs_dir)
    except OSError as error:
        _warn(f"trial artifacts will not be made: {error_line(error)}")
        return None
    samples = None
    try:
        samples = samples_from(dataset, images, seed)
    except Exception as error:
        _warn(f"sample grids will not be made: {error_line(error)}")
    return TrialArtifacts(store, samples, seed)


def _warn(message: str) -> None:
    # The progress line may be mid-line on a terminal: start a fresh one.
    clear = "\r\033[K" if sys.stderr.isatty() else ""
    print(f"{clear}{message}", file=sys.stderr, flush=True)
