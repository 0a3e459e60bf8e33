"""A trial's learning curve as a small PNG (the per-trial artifact `learning_curve.png`)."""

from __future__ import annotations

import io

from optuna.trial import FrozenTrial, TrialState

#: Inches and dots per inch: a 400 x 300 pixel picture, small enough for the dashboard's trial page.
FIGSIZE = (4.0, 3.0)
DPI = 100


def learning_curve_png(trial: FrozenTrial) -> bytes:
    """val_accuracy per epoch (the trial's intermediate values) as PNG bytes, 400 x 300 pixels.

    The x axis spans the trial's budget (user attribute `budget`, when present), so a PRUNED
    trial visibly stops short; its title says PRUNED. A trial without intermediate values gives
    a picture that says so.
    """
    # Figure rather than pyplot: no global figure registry, no backend switch for the caller.
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGSIZE, dpi=DPI)
    axes = figure.add_subplot()
    steps = sorted(trial.intermediate_values)
    values = [trial.intermediate_values[step] for step in steps]
    pruned = trial.state == TrialState.PRUNED
    if steps:
        axes.plot(steps, values, marker="o", color="tab:red" if pruned else "tab:blue")
    else:
        axes.text(0.5, 0.5, "no per-epoch values", ha="center", va="center", transform=axes.transAxes)
    last = max(steps[-1] if steps else 1, (trial.user_attrs.get("budget") or {}).get("epochs") or 1)
    axes.set_xlim(0.5, last + 0.5)
    if last <= 20:  # whole epochs; matplotlib would label 0.5 steps
        axes.set_xticks(range(1, last + 1))
    axes.set_xlabel("epoch")
    axes.set_ylabel("val_accuracy")
    axes.grid(alpha=0.3)
    axes.set_title(_title(trial, steps, pruned), fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _title(trial: FrozenTrial, steps: list[int], pruned: bool) -> str:
    if pruned:
        return f"trial {trial.number}: PRUNED after epoch {steps[-1]}" if steps else f"trial {trial.number}: PRUNED"
    if trial.value is not None:
        return f"trial {trial.number}: val_accuracy {trial.value:.4f}"
    return f"trial {trial.number}: {trial.state.name}"
