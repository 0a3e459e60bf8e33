"""`search preview`: a PNG grid of a policy on the study's pictures, before and after."""

from __future__ import annotations

import sys


def main(args) -> int:
    from results.samples import sample_grid, write_png
    from search.targets import grid_samples, load_candidates, load_study_if_needed

    study = load_study_if_needed(args, [args.policy])
    (candidate,) = load_candidates(study, [args.policy])
    samples = grid_samples(args, study)
    path = write_png(sample_grid(samples, candidate.policy, args.seed), args.out)
    print(f"{candidate.label}: {candidate.policy!r}", file=sys.stderr)
    print(path)
    return 0
