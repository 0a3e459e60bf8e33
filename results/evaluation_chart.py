"""The evaluation as a bar chart PNG: each policy's mean test accuracy with its 95 % interval."""

from __future__ import annotations

import io

from results.evaluation import Evaluation

DPI = 100
COLOURS = {"trial": "tab:blue", "file": "tab:green", "baseline": "tab:gray"}
LEGEND = {"trial": "trial of the search", "file": "policy file", "baseline": "baseline (dashed: the best)"}


def bar_chart_png(evaluation: Evaluation) -> bytes:
    """One horizontal bar per evaluated policy (baselines grey, trials blue, files green), a black
    whisker for its interval, a dashed line at the best baseline's mean. The axis is zoomed on the
    values, since differences of a point or two are what matters; its label says where it starts."""
    from matplotlib.figure import Figure

    rows = [row for row in evaluation.rows if row.accuracy is not None]
    figure = Figure(figsize=(7.0, 1.5 + 0.45 * max(len(rows), 1)), dpi=DPI)
    axes = figure.add_subplot()
    if not rows:
        axes.text(0.5, 0.5, "no finished training yet", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
    else:
        lows = [row.accuracy.low for row in rows]
        highs = [row.accuracy.high for row in rows]
        span = max(max(highs) - min(lows), 0.01)
        start = max(0.0, min(lows) - 0.5 * span)
        positions = list(range(len(rows)))[::-1]  # the first row on top
        means = [row.accuracy.mean for row in rows]
        axes.barh(
            positions, [mean - start for mean in means], left=start, height=0.6,
            color=[COLOURS[row.entry.kind] for row in rows],
        )
        axes.errorbar(
            means, positions, xerr=[[m - lo for m, lo in zip(means, lows)], [hi - m for m, hi in zip(means, highs)]],
            fmt="none", ecolor="black", capsize=4,
        )
        axes.set_yticks(positions, [row.entry.label for row in rows])
        best = next((row for row in rows if row.entry.label == evaluation.best_baseline), None)
        if best is not None:
            axes.axvline(best.accuracy.mean, color="black", linestyle="--", linewidth=1)
        axes.set_xlim(start, min(1.0, max(highs) + 0.25 * span))
        from matplotlib.patches import Patch

        kinds = [kind for kind in COLOURS if any(row.entry.kind == kind for row in rows)]
        handles = [Patch(color=COLOURS[kind], label=LEGEND[kind]) for kind in kinds]
        axes.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), fontsize=8, frameon=False)
        axes.set_xlabel(f"test accuracy, mean and 95 % interval over {len(evaluation.seeds)} seeds (axis from {start:.3f})")
        axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
