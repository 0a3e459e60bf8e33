"""The Ray cluster a search or an evaluation runs on: starting or joining it, and the resources
each trial (or training) gets. `search run` and `search evaluate` share these, so both read the
same --address, --concurrency, --cpus-per-trial and --gpus-per-trial the same way."""

from __future__ import annotations

import logging
import os

from space import AugSearchError
from space.errors import require


def start_ray(address: str | None):
    # Quiet workers: TensorFlow's start-up chatter and Tune's tables would bury the progress line.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"  # ours is in _ctrl_c_stops
    # A trial still running when the search stops (Ctrl-C, --max-failures) may raise as it is
    # stopped; Ray would print that error's traceback, while its trial is already FAIL in the study.
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
    import ray

    from search.trainable import FAULT_ENV

    env_vars = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}
    if os.environ.get(FAULT_ENV):  # the test hook, for workers on other machines too
        env_vars[FAULT_ENV] = os.environ[FAULT_ENV]
    # Trial errors reach the study and one line each on the terminal (search/progress.py).
    logging.getLogger("ray.tune").setLevel(logging.CRITICAL)
    if not ray.is_initialized():
        _check_reachable(address)
        try:
            ray.init(
                address=address, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False,
                runtime_env={"env_vars": env_vars},
            )
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise AugSearchError(f"--address {address!r}: cannot join the Ray cluster: {_join_error(error)}") from None
    return ray


def check_ray_flags(args) -> None:
    """--concurrency, --cpus-per-trial, --gpus-per-trial and --address, before anything starts."""
    from search.flags import check_positive_int

    if args.concurrency is not None:
        check_positive_int("--concurrency", args.concurrency)
    for flag in ("cpus_per_trial", "gpus_per_trial"):
        value = getattr(args, flag)
        require(value is None or value >= 0, f"--{flag.replace('_', '-')}", value, "a number >= 0")
    require(args.cpus_per_trial is None or args.cpus_per_trial > 0, "--cpus-per-trial", args.cpus_per_trial, "a number > 0")
    check_address(args.address)


def check_address(address: str | None) -> None:
    """Ray Client addresses are refused before anything starts: under Ray Client, Ray Tune runs its
    driver loop as an actor on the head node, where this process's searcher (the study's only
    writer), progress line, artifacts and Ctrl-C cannot go."""
    if address is not None and address.strip().lower().startswith("ray://"):
        raise AugSearchError(
            f"--address must be auto or the HOST:PORT that `ray start --head` prints, but got --address={address!r}: "
            "with Ray Client (ray://) Ray Tune would run the search's driver loop on the head node, away from "
            "its study, progress line and Ctrl-C; run `search run --address auto` on a machine of the cluster instead."
        )


def _check_reachable(address: str | None, timeout: float = 10.0) -> None:
    """A HOST:PORT that nothing answers on is one clear error now: Ray itself would retry for
    many minutes before it gave up."""
    if not address or address == "auto" or "://" in address:
        return
    host, _, port = address.strip().rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        return  # Ray says what is wrong with it
    import socket

    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise AugSearchError(
            f"--address {address!r}: cannot join the Ray cluster: nothing answers there "
            f"({error.strerror or error}); start its head node with `ray start --head --port {port}`, "
            "or pass the address that `ray start --head` printed."
        ) from None


def _join_error(error: BaseException) -> str:
    """The first line of Ray's error, and what to do when the cluster wants its token."""
    causes = [error]
    while causes[-1].__cause__ is not None and len(causes) < 5:
        causes.append(causes[-1].__cause__)
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if any(type(cause).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(cause) for cause in causes):
        # Ray 2.60's `ray start --head` turns token authentication on; a joining driver must opt in.
        text += (
            " (the cluster uses token authentication: set RAY_AUTH_MODE=token, and RAY_AUTH_TOKEN or "
            "~/.ray/auth_token to the head node's token)"
        )
    return text


def trial_resources(args, cluster_cpus: float, cluster_gpus: float) -> tuple[float, float, int]:
    """CPUs and GPUs per trial and trials at once: the flags, else what the cluster fits."""
    gpus_per_trial = args.gpus_per_trial if args.gpus_per_trial is not None else (1.0 if cluster_gpus else 0.0)
    require(
        gpus_per_trial <= cluster_gpus, "--gpus-per-trial", gpus_per_trial,
        f"at most the {cluster_gpus:g} GPU(s) the Ray cluster has",
    )
    if args.cpus_per_trial is not None:
        cpus_per_trial = args.cpus_per_trial
    elif gpus_per_trial:
        # Share the CPUs among the trials the GPUs fit, so each has input-pipeline threads.
        cpus_per_trial = max(1.0, float(int(cluster_cpus // max(int(cluster_gpus // gpus_per_trial), 1))))
    else:
        cpus_per_trial = 1.0
    require(
        cpus_per_trial <= cluster_cpus, "--cpus-per-trial", cpus_per_trial,
        f"at most the {cluster_cpus:g} CPUs the Ray cluster has",
    )
    fits = int(cluster_cpus // cpus_per_trial)
    if gpus_per_trial:
        fits = min(fits, int(cluster_gpus // gpus_per_trial))
    return cpus_per_trial, gpus_per_trial, args.concurrency or max(fits, 1)
