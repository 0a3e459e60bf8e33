"""What `search evaluate` reports: each policy's test accuracy over seeds with a 95 % interval,
its paired difference to the best baseline, and how well the proxy ranked the trials.

Compute, then render: `summarise` returns plain data; `table_lines`, `markdown` and `to_dict`
only format it (the bar chart is `results.evaluation_chart`). Stored trainings are read from the
evaluation study (`results.stored.read_scores`), which `search.evaluating` writes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from results.statistics import Interval, mean_interval, paired_difference, spearman
from space.policy_ref import PolicyRef


@dataclass(frozen=True)
class Row:
    ref: PolicyRef
    proxy_objective: float | None  # a trial's objective in the search
    accuracies: dict[int, float]  # test accuracy by seed, for the seeds that finished
    accuracy: Interval | None  # None: no seed finished
    difference: Interval | None  # paired, to the best baseline over the seeds both have


@dataclass(frozen=True)
class Evaluation:
    rows: tuple[Row, ...]
    seeds: tuple[int, ...]
    best_baseline: str | None  # the baseline with the highest mean test accuracy
    proxy_correlation: float | None  # Spearman: trials' proxy objective vs mean test accuracy
    correlated_trials: int  # how many trials that correlation is over

    def row(self, label: str) -> Row:
        return next(row for row in self.rows if row.ref.label == label)


def summarise(
    refs: list[PolicyRef],
    scores: Mapping[str, Mapping[int, float]],
    seeds: list[int],
    proxy_objectives: Mapping[str, float] | None = None,
) -> Evaluation:
    """The evaluation of `refs`, `scores[label]` holding a policy's test accuracy by seed (the
    seeds that finished), `proxy_objectives[label]` a trial's objective in the search."""
    proxy_objectives = proxy_objectives or {}
    accuracies = [dict(scores.get(ref.label, {})) for ref in refs]
    intervals = [mean_interval(list(by_seed.values())) if by_seed else None for by_seed in accuracies]
    baseline_means = {
        i: interval.mean
        for i, (ref, interval) in enumerate(zip(refs, intervals, strict=True))
        if ref.is_baseline and interval is not None
    }
    best = max(baseline_means, key=lambda i: baseline_means[i], default=None)
    rows = []
    for i, (ref, by_seed) in enumerate(zip(refs, accuracies, strict=True)):
        difference = None
        if best is not None and i != best:
            common = [seed for seed in seeds if seed in by_seed and seed in accuracies[best]]
            if common:
                difference = paired_difference([by_seed[s] for s in common], [accuracies[best][s] for s in common])
        rows.append(Row(ref, proxy_objectives.get(ref.label), by_seed, intervals[i], difference))
    trials = [
        (row.proxy_objective, row.accuracy.mean)
        for row in rows
        if row.ref.origin == "trial" and row.proxy_objective is not None and row.accuracy is not None
    ]
    correlation = spearman([p for p, _ in trials], [a for _, a in trials]) if len(trials) >= 2 else None
    return Evaluation(
        rows=tuple(rows),
        seeds=tuple(seeds),
        best_baseline=refs[best].label if best is not None else None,
        proxy_correlation=correlation,
        correlated_trials=len(trials),
    )


# ---------------------------------------------------------------------------------------------
# Rendering

HEADER = ("policy", "kind", "proxy", "test accuracy [95% CI]", "vs best baseline [95% CI]", "seeds")


def _interval(interval: Interval | None, signed: bool = False) -> str:
    if interval is None:
        return "-"
    number = "{:+.4f}" if signed else "{:.4f}"
    if interval.n == 1:
        return number.format(interval.mean) + " (1 seed)"
    return f"{number.format(interval.mean)} [{number.format(interval.low)}, {number.format(interval.high)}]"


def cells(evaluation: Evaluation) -> list[tuple[str, ...]]:
    """One tuple of strings per row, in HEADER's columns."""
    out: list[tuple[str, ...]] = []
    for row in evaluation.rows:
        ref = row.ref
        difference = (
            "(best baseline)" if ref.label == evaluation.best_baseline else _interval(row.difference, signed=True)
        )
        proxy = f"{row.proxy_objective:.4f}" if row.proxy_objective is not None else "-"
        out.append(
            (
                ref.label,
                ref.origin,
                proxy,
                _interval(row.accuracy),
                difference,
                f"{len(row.accuracies)}/{len(evaluation.seeds)}",
            )
        )
    return out


def correlation_line(evaluation: Evaluation) -> str:
    """What the proxy's ranking is worth, in one sentence."""
    if evaluation.proxy_correlation is None:
        return "Proxy fidelity: needs at least 2 evaluated trials of the study (--top-k 3)."
    value = evaluation.proxy_correlation
    shown = "undefined (a constant side)" if math.isnan(value) else f"{value:+.2f}"
    few = " (with so few trials only +1 or -1 says much)" if evaluation.correlated_trials < 5 else ""
    return (
        f"Proxy fidelity: Spearman rank correlation between the proxy objective and the mean test "
        f"accuracy of {evaluation.correlated_trials} trials: {shown}{few}."
    )


def table_lines(evaluation: Evaluation) -> list[str]:
    """An aligned plain-text table, then the proxy-fidelity line."""
    rows = [HEADER, *cells(evaluation)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return [*lines, "", correlation_line(evaluation)]


def markdown(evaluation: Evaluation, context: dict[str, Any]) -> str:
    """A Markdown report: what was trained (`context`: study, dataset, budget, command), the
    table and the proxy fidelity."""
    budget = context.get("budget") or {}
    lines = [
        f"# Evaluation of study `{context.get('study')}`",
        "",
        f"Dataset `{context.get('dataset')}`; budget: {budget.get('epochs')} epochs x {budget.get('train_examples')} "
        f"training images at {budget.get('image_size')} px, model `{budget.get('model')}`; seeds "
        f"{', '.join(map(str, evaluation.seeds))}; scored on the test split. Intervals are 95 % Student-t "
        "intervals over the seeds; differences are paired by seed.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
        *("| " + " | ".join(row) + " |" for row in cells(evaluation)),
        "",
        correlation_line(evaluation),
    ]
    if context.get("command"):
        lines += ["", f"Reproduce: `{context['command']}`"]
    return "\n".join(lines) + "\n"


def _interval_dict(interval: Interval | None) -> dict | None:
    if interval is None:
        return None
    return {"mean": interval.mean, "low": interval.low, "high": interval.high, "n": interval.n}


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value  # JSON has no NaN


def to_dict(evaluation: Evaluation, context: dict[str, Any]) -> dict[str, Any]:
    """A JSON-able report: `context` and every row with its values by seed."""
    return {
        **context,
        "seeds": list(evaluation.seeds),
        "best_baseline": evaluation.best_baseline,
        "proxy_correlation": {
            "spearman": _finite(evaluation.proxy_correlation),
            "trials": evaluation.correlated_trials,
        },
        "rows": [
            {
                "label": row.ref.label,
                "kind": row.ref.origin,
                "policy": row.ref.policy.to_dict(),
                "proxy_objective": row.proxy_objective,
                "test_accuracy_by_seed": {str(seed): value for seed, value in sorted(row.accuracies.items())},
                "test_accuracy": _interval_dict(row.accuracy),
                "difference_to_best_baseline": _interval_dict(row.difference),
            }
            for row in evaluation.rows
        ],
    }
