"""The Ray cluster a search or an evaluation runs on: started here, or joined at an address.

Once per process: a later search or evaluation in the same Python process (a notebook, the test
suite) runs on the Ray it started first."""

from __future__ import annotations

import logging
import os
import socket
from types import ModuleType

from search.settings import Placement, Resources
from space import AugSearchError
from space.errors import first_line


def start_ray(address: str | None) -> ModuleType:
    """The `ray` module, initialised: a local Ray (address None), or the cluster at `address`.
    A process joins one Ray: a later call reuses it. Raises AugSearchError when the cluster
    cannot be joined, or this process's Ray is another cluster than `address`."""
    # Quiet workers: TensorFlow's start-up chatter and Tune's tables would bury the progress line.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # ours is search.tune.interrupt
    # A trial still running when the search stops (Ctrl-C, --max-failures) may raise as it is
    # stopped; Ray would print that error's traceback, while its trial is already FAIL in the study.
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
    import ray

    env_vars = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}
    # Trial errors reach the study and one line each on the terminal (search/progress.py).
    logging.getLogger("ray.tune").setLevel(logging.CRITICAL)
    if not ray.is_initialized():
        _check_reachable(address)
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
                runtime_env={"env_vars": env_vars},
            )
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise AugSearchError(f"address {address!r}: cannot join the Ray cluster: {_join_error(error)}") from None
    elif address not in (None, "auto") and _endpoint(address) != _endpoint(ray.get_runtime_context().gcs_address):
        raise AugSearchError(
            f"address {address!r}: this process already runs on the Ray cluster at "
            f"{ray.get_runtime_context().gcs_address}; call ray.shutdown() first, or search in a new process."
        )
    return ray


def _endpoint(address: str) -> tuple[str, str]:
    """(IP, port) of "HOST:PORT", so that localhost:6379 and 127.0.0.1:6379 compare equal."""
    host, _, port = address.strip().rpartition(":")
    try:
        return socket.gethostbyname(host.strip("[]")), port
    except OSError:
        return host, port


def place(resources: Resources) -> Placement:
    """Start or join the Ray cluster of `resources`; returns where each training runs on it."""
    ray = start_ray(resources.address)
    cluster = ray.cluster_resources()
    return resources.per_trial(cluster.get("CPU", 0), cluster.get("GPU", 0))


def _check_reachable(address: str | None, timeout: float = 10.0) -> None:
    """A HOST:PORT that nothing answers on is one clear error now: Ray itself would retry for
    many minutes before it gave up."""
    if not address or address == "auto" or "://" in address:
        return
    host, _, port = address.strip().rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        return  # Ray says what is wrong with it
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise AugSearchError(
            f"address {address!r}: cannot join the Ray cluster: nothing answers there "
            f"({error.strerror or error}); start its head node with `ray start --head --port {port}`, "
            "or pass the address that `ray start --head` printed."
        ) from None


def _join_error(error: BaseException) -> str:
    """The first line of Ray's error, and what to do when the cluster wants its token."""
    causes = [error]
    while causes[-1].__cause__ is not None and len(causes) < 5:
        causes.append(causes[-1].__cause__)
    text = first_line(error)
    if any(type(cause).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(cause) for cause in causes):
        # Ray 2.60's `ray start --head` turns token authentication on; a joining driver must opt in
        # (https://github.com/ray-project/ray/pull/64755).
        text += (
            " (the cluster uses token authentication: set RAY_AUTH_MODE=token, and RAY_AUTH_TOKEN or "
            "~/.ray/auth_token to the head node's token)"
        )
    return text
