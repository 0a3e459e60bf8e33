"""The private parts of Optuna that AugSearch cannot do without, in one place.

Optuna has no public way to reach a `Study`'s storage (which the artifact API wants for a
`FrozenTrial`) or a `FrozenTrial`'s storage id (which changing a trial a dead process left RUNNING
needs). tests/results/test_optuna_internals.py fails with a clear message when a new Optuna
changes them; fix them here only.
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial


def study_storage(study: optuna.Study) -> optuna.storages.BaseStorage:
    """The storage `study` reads and writes."""
    return study._storage


def trial_id(trial: FrozenTrial) -> int:
    """The storage's id of `trial` (not its number)."""
    return trial._trial_id
