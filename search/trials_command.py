"""`search trials`: the study's trials as a table."""

from __future__ import annotations


def main(args) -> int:
    from results.trials import progress, select_rows, trial_rows
    from search.formatting import trial_table
    from search.study import load_existing_study

    study = load_existing_study(args.runs_dir, args.storage, args.study)
    rows = select_rows(trial_rows(study), args.state, args.sort, args.limit)
    p = progress(study)
    best = f"; best: trial {p.best_number} ({p.best_value:.4f})" if p.best_number is not None else ""
    print(f"study {study.study_name!r}: {p.complete} complete, {p.pruned} pruned, {p.failed} failed, {p.running} running{best}")
    if not rows:
        print("No trials" + (f" in state {args.state}." if args.state else " yet."))
        return 0
    print("\n".join(trial_table(rows)))
    return 0
