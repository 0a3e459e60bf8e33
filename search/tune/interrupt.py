"""Ctrl-C during a search: the first stops every trial (they end as FAIL) and returns from
`Tuner.fit`; a second one aborts at once. Tune's own handler is off (search.tune.cluster): it
would advise `Tuner.restore`, while resuming here is running the same search again."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # both import Ray
    from search.tune.searcher import StudySearcher
    from search.tune.stop_all import StopAll


@contextmanager
def ctrl_c_stops(searcher: StudySearcher) -> Iterator[StopAll]:
    """A `search.tune.stop_all.StopAll` whose `requested` turns True at the first Ctrl-C, which also tells
    `searcher` why its open trials end. Outside the main thread (where Python delivers no
    signals), or when SIGINT is ignored (started with `&` from a script), it stops
    nothing: the race and `evaluate` then ignore Ctrl-C too, as the shell asked."""
    from search.tune.stop_all import StopAll

    stop = StopAll()
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield stop
        return

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        stop.requested = True
        searcher.interrupt("interrupted by the user (Ctrl-C) before the trial finished")
        print("\nstopping: running trials end as FAIL; Ctrl-C again to abort at once", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
