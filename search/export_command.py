"""`search export`: a study's best (or chosen) policy as a plain Keras + KerasCV file."""

from __future__ import annotations

import sys


def main(args) -> int:
    from results import export_policy
    from results.study_export import pick_trial, trial_policy, trial_provenance
    from search.study import load_existing_study

    study = load_existing_study(args.runs_dir, args.storage, args.study)
    trial = pick_trial(study, args.trial)
    policy = trial_policy(trial)
    path = export_policy(policy, args.out, trial_provenance(study, trial))
    print(f"trial {trial.number} of study {study.study_name!r} (val_accuracy {trial.value:.4f}): {policy!r}", file=sys.stderr)
    print(path)
    return 0
