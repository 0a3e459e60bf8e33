"""Ctrl-C during exploration (search.tune.interrupt), signalled to this process for real."""

import os
import signal

import pytest

from search.tune.interrupt import ctrl_c_stops


class Searcher:
    def __init__(self):
        self.reasons = []

    def interrupt(self, reason):
        self.reasons.append(reason)


@pytest.fixture
def sigint(request):
    """SIGINT's handler set to `request.param` for the test (a suite launched in the background
    from a script starts with it ignored), restored after."""
    previous = signal.signal(signal.SIGINT, request.param)
    yield request.param
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("sigint", [signal.default_int_handler], indirect=True)
def test_first_ctrl_c_requests_the_stop_and_the_second_aborts(sigint):
    searcher = Searcher()
    with ctrl_c_stops(searcher) as stop:
        assert not stop.stop_all()
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.stop_all() and "Ctrl-C" in searcher.reasons[0]
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is sigint


@pytest.mark.parametrize("sigint", [signal.SIG_IGN], indirect=True)
def test_an_ignored_sigint_stays_ignored(sigint):
    """A search started with `&` from a script (SIGINT ignored) is not stopped by it, like the
    rest of the command."""
    searcher = Searcher()
    with ctrl_c_stops(searcher) as stop:
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGINT)
        assert not stop.stop_all() and searcher.reasons == []
