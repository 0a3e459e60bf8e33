"""The evaluation as a PNG chart: each policy's paired difference to the best baseline with its
95 % interval. Two overlapping accuracy intervals can hide a gain the paired difference shows, and
the paired difference is what the report decides on, so that is what is drawn."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from results.evaluation import Evaluation, Row

if TYPE_CHECKING:  # matplotlib loads only when a chart is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100
POINTS = 100.0  # accuracy 0.0069 is 0.69 points: differences of a point or two are what matters
COLOURS = {"trial": "tab:blue", "file": "tab:green", "baseline": "tab:gray"}
LEGEND = {"trial": "trial of the search", "file": "policy file", "baseline": "baseline"}


@dataclass(frozen=True)
class ChartRow:
    label: str
    kind: str
    difference: tuple[float, float, float] | None  # mean, low, high in points; None: no bar
    note: str  # drawn instead of a bar: "reference" (the best baseline) or "n/a"
    accuracy: float | None  # mean test accuracy in points, None when no seed finished


def _chart_row(row: Row, best_baseline: str | None) -> ChartRow:
    accuracy = row.accuracy.mean * POINTS if row.accuracy is not None else None
    if row.ref.label == best_baseline:
        return ChartRow(row.ref.label, row.ref.origin, None, "reference", accuracy)
    difference = row.difference
    if difference is None or difference.n < 2:  # one shared seed gives no interval
        return ChartRow(row.ref.label, row.ref.origin, None, "n/a", accuracy)
    values = (difference.mean * POINTS, difference.low * POINTS, difference.high * POINTS)
    return ChartRow(row.ref.label, row.ref.origin, values, "", accuracy)


def _order(row: ChartRow) -> tuple[int, float]:
    """Largest gain first; the reference sits at 0, between gains and losses; rows without a
    difference last (sorted() keeps their order)."""
    if row.difference is not None:
        return (0, -row.difference[0])
    return (0, 0.0) if row.note == "reference" else (1, 0.0)


def chart_rows(evaluation: Evaluation) -> list[ChartRow]:
    """What the chart draws, top row first: every row of the evaluation, none left out."""
    return sorted((_chart_row(row, evaluation.best_baseline) for row in evaluation.rows), key=_order)


def _x_limits(rows: list[ChartRow]) -> tuple[float, float]:
    """Around 0 and every whisker, with room right of 0 for the "reference" and "n/a" texts,
    which start there (when every difference is a loss, 0 is the right-hand end)."""
    ends = [0.0] + [end for row in rows if row.difference for end in row.difference[1:]]
    span = max(max(ends) - min(ends), 1.0)
    high = max(ends) + 0.15 * span
    if any(row.note for row in rows):
        high = max(high, 0.35 * span)
    return min(ends) - 0.15 * span, high


def _draw(axes: Axes, rows: list[ChartRow], evaluation: Evaluation) -> None:
    positions = list(range(len(rows)))[::-1]  # the first row on top
    for position, row in zip(positions, rows, strict=True):
        if row.difference is None:
            axes.annotate(
                row.note,
                (0, position),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                style="italic",
            )
            continue
        mean, low, high = row.difference
        axes.barh(position, mean, height=0.6, color=COLOURS[row.kind])
        axes.errorbar(mean, position, xerr=[[mean - low], [high - mean]], fmt="none", ecolor="black", capsize=4)
    axes.axvline(0, color="black", linewidth=1)
    axes.set_xlim(*_x_limits(rows))
    axes.set_ylim(-0.6, len(rows) - 0.4)
    axes.set_yticks(positions, [row.label for row in rows])
    # Two lines: long policy labels narrow the axes, and one line would run off the figure.
    axes.set_xlabel(
        f"paired difference to {evaluation.best_baseline}\n"
        f"(test accuracy points, 95 % interval over {len(evaluation.seeds)} seeds)"
    )
    axes.grid(axis="x", alpha=0.3)
    # The means, compact, as tick labels on the right: a twin axis keeps them inside the layout.
    means = axes.twinx()
    means.set_ylim(axes.get_ylim())
    means.set_yticks(positions, [f"{row.accuracy:.2f}" if row.accuracy is not None else "-" for row in rows])
    means.set_ylabel("mean test accuracy (%)", fontsize=8)
    means.tick_params(axis="y", length=0, labelsize=8)
    _legend(axes, rows)


def _legend(axes: Axes, rows: list[ChartRow]) -> None:
    from matplotlib.patches import Patch

    kinds = [kind for kind in COLOURS if any(row.kind == kind for row in rows)]
    handles = [Patch(color=COLOURS[kind], label=LEGEND[kind]) for kind in kinds]
    axes.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), fontsize=8, frameon=False
    )


def chart_figure(evaluation: Evaluation) -> Figure:
    """The matplotlib Figure of `chart_rows`: one horizontal bar per policy (baselines grey,
    trials blue, files green) from 0 to its paired difference, a black whisker for its interval."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, safe in any thread

    rows = chart_rows(evaluation)
    figure = Figure(figsize=(7.0, 1.5 + 0.45 * max(len(rows), 1)), dpi=DPI)
    axes = figure.add_subplot()
    if evaluation.best_baseline is None:  # nothing to be paired with yet
        axes.text(0.5, 0.5, "no finished baseline yet", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
    else:
        _draw(axes, rows, evaluation)
    figure.tight_layout()
    return figure


def bar_chart_png(evaluation: Evaluation) -> bytes:
    """`chart_figure` as PNG bytes."""
    buffer = io.BytesIO()
    chart_figure(evaluation).savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
