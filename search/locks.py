"""One driver per study, and a run directory fit to write in: checked before a search or an
evaluation starts, so that a second driver or a full disk is one clear error, not a corrupt study."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy

from search.storage import shown
from space import AugSearchError
from space.errors import first_line

# A search needs room for its study, Ray Tune's results and the trials' artifacts.
MIN_FREE_BYTES = 64 * 2**20


@contextmanager
def driver_lock(
    runs_dir: str | os.PathLike, study_name: str, url: str | None = None, command: str = "search run"
) -> Iterator[None]:
    """Only one `command` (`search run`, `search evaluate`) per study: its driver is the study's only writer.

    Always a lock file in the run directory; with a PostgreSQL `url` also an advisory lock in the
    database, which refuses a second driver on another machine (another run directory) too. The
    OS drops the file lock, and PostgreSQL the advisory lock, when the process dies, even by
    SIGKILL, so a crash never leaves a stale lock behind.
    """
    path = Path(runs_dir) / f".{study_name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AugSearchError(
                f"another `{command}` is already running study {study_name!r} in {str(runs_dir)!r}; "
                "wait for it, stop it, or pass another --study or --runs-dir."
            ) from None
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        with _database_lock(url, study_name, command):
            yield


@contextmanager
def _database_lock(url: str | None, study_name: str, command: str) -> Iterator[None]:
    """PostgreSQL's session advisory lock on the study name, held on a connection of its own for
    the whole run; nothing for other databases (SQLite lives on one machine: the file lock holds)."""
    if url is None or not url.startswith(("postgresql", "postgres")):
        yield
        return
    key = int.from_bytes(
        hashlib.blake2b(f"augsearch/{study_name}".encode(), digest_size=8).digest(), "big", signed=True
    )
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        connection = engine.connect()
    except Exception as error:
        raise AugSearchError(f"--storage {shown(url)!r} cannot be opened: {first_line(error)}") from None
    try:
        locked = connection.execute(sqlalchemy.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        connection.commit()  # the lock is the session's; no transaction stays open beside it
        if not locked:
            raise AugSearchError(
                f"another `{command}` is already running study {study_name!r} in {shown(url)} (perhaps on another "
                "machine); wait for it, stop it, or pass another --study."
            )
        yield
    finally:
        connection.close()  # ends the session, which releases its advisory lock
        engine.dispose()


def check_runs_dir(runs_dir: str | os.PathLike) -> None:
    """The run directory can be created and written to and has MIN_FREE_BYTES free: checked at the
    start, so a read-only or full disk is one clear error rather than a crash mid-search."""
    where = f"--runs-dir {str(runs_dir)!r}"
    path = Path(runs_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path) as probe:
            probe.write(b"\0" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        raise AugSearchError(
            f"{where} is not writable ({error.strerror or error}); a search writes its study and Ray Tune's "
            "results there: pass a writable --runs-dir."
        ) from None
    free = shutil.disk_usage(path).free
    if free < MIN_FREE_BYTES:
        raise AugSearchError(
            f"{where} has only {free / 2**20:.1f} MiB free; a search needs at least {MIN_FREE_BYTES // 2**20} MiB "
            "there (study, Ray Tune's results, artifacts): free some space or pass another --runs-dir."
        )
