"""One live progress line instead of Ray's wall of tables."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

import optuna
from optuna.trial import TrialState
from ray.tune import Callback

from results.stored import ERROR_ATTR
from results.trials import progress
from search.formatting import format_seconds
from space.errors import first_line

if TYPE_CHECKING:
    from ray.tune.experiment import Trial


class ProgressLine(Callback):
    """Reads the study (the truth) at most once a second and rewrites one line on a terminal;
    elsewhere (logs, CI) it prints a line only when the counts change."""

    def __init__(self, study: optuna.Study, target: int, stream: TextIO | None = None) -> None:
        self.study = study
        self.target = target
        # None: sys.stderr as it is when a line is written, not as it was when this module was
        # imported (pytest's capture, contextlib.redirect_stderr and notebooks replace it); and
        # Tune pickles its callbacks, which such a stream would not survive.
        self._stream = stream
        self.started = time.monotonic()
        self.finished_at_start = progress(study).finished
        self._failures_seen = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
        self._last_check = 0.0
        self._last_counts: tuple[int, int, int, int] | None = None
        self._tty = self.stream.isatty()

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def on_step_end(self, iteration: int, trials: list[Trial], **info: Any) -> None:
        now = time.monotonic()
        if now - self._last_check >= 1.0:
            self._last_check = now
            self.show()

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        self.show()
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()

    def show(self) -> None:
        p = progress(self.study)
        counts = (p.complete, p.pruned, p.failed, p.running)
        if not self._tty and counts == self._last_counts:
            return
        if self._last_counts is not None and p.failed > self._last_counts[2]:
            self._print_failures()
        self._last_counts = counts
        elapsed = time.monotonic() - self.started
        done_here = p.finished - self.finished_at_start
        remaining = max(self.target - p.finished, 0)
        eta = format_seconds(elapsed / done_here * remaining) if done_here else "?"
        best = f"best {p.best_value:.4f} (#{p.best_number})" if p.best_value is not None else "best -"
        line = (
            f"trials {p.finished}/{self.target} finished ({p.complete} complete, {p.pruned} pruned), "
            f"{p.failed} failed, {p.running} running | {best} | {format_seconds(elapsed)} elapsed, ETA {eta}"
        )
        self.stream.write(f"\r\033[K{line}" if self._tty else line + "\n")
        self.stream.flush()

    def _print_failures(self) -> None:
        # Ray's own error logging is off (its tracebacks would bury this line): one line each here,
        # the whole message is in the trial's `error` attribute.
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
            if trial.number not in self._failures_seen:
                self._failures_seen.add(trial.number)
                message = first_line(trial.user_attrs.get(ERROR_ATTR), "unknown error")
                clear = "\r\033[K" if self._tty else ""
                self.stream.write(f"{clear}trial {trial.number} failed: {message}\n")
