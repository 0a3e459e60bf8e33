"""The study: storage URL, sampler, the one-driver lock, resuming and the reference policies.

Storage is the truth: everything a later command needs is in the study (trials, their user
attributes, and the study's own "augsearch" attribute describing dataset, budget and space).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
import warnings
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Iterator

import optuna
from optuna.trial import TrialState

from space import AugSearchError

SAMPLERS = ("tpe", "random", "cmaes", "gp", "qmc")
# A search needs room for its study, Ray Tune's results and the trials' artifacts.
MIN_FREE_BYTES = 64 * 2**20
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
#: Seconds an SQLite reader or writer waits for another connection's lock before it fails.
SQLITE_BUSY_TIMEOUT = 60
STALE_RUNNING_MESSAGE = "left RUNNING by a search run that ended abruptly; marked FAIL when the next run started"

optuna.logging.set_verbosity(optuna.logging.WARNING)


def storage_url(runs_dir: str | os.PathLike, storage: str | None) -> str:
    """The storage URL: `storage` if given, else SQLite in the run directory (created if needed)."""
    if storage is None:
        path = Path(runs_dir) / "search.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    if not re.match(r"^[a-z][a-z0-9+]*://", storage):
        raise AugSearchError(f"--storage must be {_URL_FORMS}, but got --storage={storage!r}.")
    _check_url(storage)
    return storage


_URL_FORMS = "an SQLAlchemy database URL such as sqlite:///runs/search.db or postgresql://user:password@host/db"


def _check_url(url: str) -> None:
    """What can be checked without connecting: the URL's form, that SQLAlchemy knows its dialect,
    that an SQLite file's folder exists. So a typo fails before Ray starts."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except Exception as error:  # ArgumentError, NoSuchModuleError, ValueError for a bad port
        raise AugSearchError(
            f"--storage must be {_URL_FORMS}, but got --storage={shown(url)!r} ({_first_line(error)})."
        ) from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise AugSearchError(
                f"--storage must name an SQLite file (sqlite:///runs/search.db), but got --storage={url!r}: "
                "an in-memory database would be lost with the process."
            )
        folder = Path(database).expanduser().parent
        if not folder.is_dir():
            raise AugSearchError(f"--storage {url!r}: the folder {str(folder)!r} of its SQLite file does not exist.")


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """An RDB storage on `url` (SQLite, PostgreSQL, MySQL: any URL SQLAlchemy and Optuna know).

    SQLite gets what concurrent readers (`search trials`, the dashboard) need while the driver
    writes: a busy timeout, so that a reader waits for the writer instead of failing with
    "database is locked", and write-ahead logging, so that readers and the writer do not block
    each other at all. Raises AugSearchError when the database cannot be opened.
    """
    sqlite = _is_sqlite(url)
    if sqlite:
        use_wal(url)
    engine_kwargs = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT}} if sqlite else {}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
    except Exception as error:  # SQLAlchemy raises many types for a bad URL or unreachable server
        raise AugSearchError(f"--storage {shown(url)!r} cannot be opened: {_first_line(error)}") from None


def use_wal(url: str) -> str:
    """Put the SQLite database of `url` in write-ahead-logging mode and return its journal mode.

    The mode is stored in the database file, so it holds for every later connection, from any
    process. Where WAL does not apply (a read-only file; SQLite refuses it) the file keeps its
    mode and the busy timeout alone protects readers. SQLite's WAL needs shared memory between the
    processes, so the file must be on a local disk: a study shared between machines belongs in
    PostgreSQL.
    """
    from sqlalchemy.engine import make_url

    try:
        database = make_url(url).database
    except Exception:  # open_storage reports a bad URL
        return "unchanged"
    if not database or database == ":memory:" or database.startswith("file:"):
        return "unchanged"  # nothing to persist it in, or a URI whose options are the user's
    try:
        with closing(sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT)) as connection:
            return connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    except sqlite3.Error:
        return "unchanged"


def shown(url: str) -> str:
    """`url` as it may be printed: its password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: nothing to mask
        return url


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


#: `search evaluate` keeps the full trainings of study S in study S + EVALUATION_SUFFIX, in the
#: same storage; commands that pick "the" study of a storage pass over these.
EVALUATION_SUFFIX = ".evaluation"


def load_existing_study(runs_dir: str | os.PathLike, storage: str | None, name: str | None) -> optuna.Study:
    """The study a reading command (export, trials, ...) works on; never creates anything.

    Without `name`, the storage's only search study (evaluation studies aside). Raises
    AugSearchError when there is none to read.
    """
    if storage is None:
        path = Path(runs_dir) / "search.db"
        if not path.exists():
            raise AugSearchError(
                f"--runs-dir {str(runs_dir)!r} holds no study database (search.db); run `search run` first, "
                "or pass the --runs-dir or --storage of an earlier search."
            )
        if not _has_tables(path):
            # Opening it would make Optuna create the tables, racing the search that is creating them.
            raise AugSearchError(
                f"--runs-dir {str(runs_dir)!r}: search.db holds no study yet (a `search run` may be starting); "
                "try again in a few seconds."
            )
    url = storage_url(runs_dir, storage)
    storage = open_storage(url)
    names = [summary.study_name for summary in optuna.get_all_study_summaries(storage)]
    if name is None:
        searches = [name for name in names if not name.endswith(EVALUATION_SUFFIX)]
        if len(searches) != 1:
            found = ", ".join(searches) if searches else "none"
            raise AugSearchError(f"--study is needed: {shown(url)} holds {len(searches)} search studies ({found}).")
        name = searches[0]
    if name not in names:
        raise AugSearchError(f"--study {name!r} is not in {shown(url)}; its studies are: {', '.join(names) or 'none'}.")
    return optuna.load_study(study_name=name, storage=storage)


def _has_tables(path: Path) -> bool:
    """Whether the SQLite file has Optuna's tables, read without writing anything."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT)) as db:
            return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'studies'").fetchone() is not None
    except sqlite3.Error:
        return False


def default_study_name(dataset: str) -> str:
    """'fashion_mnist', 'tfds-oxford_flowers102', 'folder-pets': readable and URL-safe."""
    kind, _, rest = dataset.partition(":")
    name = Path(rest.rstrip("/")).name if kind == "folder" else rest
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{kind}-{name}" if rest else kind)


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """Optuna's own samplers; TPE is multivariate and grouped, with the constant liar so that
    trials running in parallel do not all propose the same policy."""
    with warnings.catch_warnings():  # TPE's `group` and QMC are "experimental" in Optuna 5: wanted
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _sampler(name, seed)


def _sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True, constant_liar=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        # CMA-ES handles the float and integer fields; the op booleans fall back to random.
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)
    if name == "qmc":
        return optuna.samplers.QMCSampler(seed=seed, scramble=True, warn_independent_sampling=False)
    raise AugSearchError(f"--sampler must be one of {', '.join(SAMPLERS)}, but got --sampler={name!r}.")


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
    import sqlalchemy

    key = int.from_bytes(hashlib.blake2b(f"augsearch/{study_name}".encode(), digest_size=8).digest(), "big", signed=True)
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        connection = engine.connect()
    except Exception as error:
        raise AugSearchError(f"--storage {shown(url)!r} cannot be opened: {_first_line(error)}") from None
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


def open_study(url: str, name: str, sampler: optuna.samplers.BaseSampler, settings: dict[str, Any]) -> optuna.Study:
    """Create the study or load it to resume. `settings` (dataset, budget, search space) are stored
    with a new study; a study made with other settings is refused rather than mixed."""
    study = optuna.create_study(
        storage=open_storage(url), study_name=name, sampler=sampler, direction="maximize", load_if_exists=True
    )
    stored = study.user_attrs.get("augsearch")
    if stored is None:
        study.set_user_attr("augsearch", settings)
        return study
    differences = [_difference(key, stored.get(key), settings[key]) for key in ("dataset", "budget", "search_space")]
    differences = [text for text in differences if text]
    if differences:
        raise AugSearchError(
            f"study {name!r} in {shown(url)} was made with different settings ({'; '.join(differences)}); "
            "run with the original flags to resume it, or pass --study NEW_NAME to start a new study."
        )
    return study


def _difference(key: str, stored: Any, now: Any) -> str | None:
    """'key: stored X, now Y', showing only the entries that differ when both are dicts."""
    if stored == now:
        return None
    if isinstance(stored, dict) and isinstance(now, dict):
        names = [name for name in {**stored, **now} if stored.get(name, _ABSENT) != now.get(name, _ABSENT)]
        stored = {name: stored.get(name, _ABSENT) for name in names}
        now = {name: now.get(name, _ABSENT) for name in names}
    return f"{key}: stored {stored!r}, now {now!r}"


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


def fail_stale_trials(study: optuna.Study) -> list[int]:
    """Mark trials a dead run left RUNNING as FAIL (we hold the driver lock, so none is live)."""
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_user_attr(trial._trial_id, "error", STALE_RUNNING_MESSAGE)
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        failed.append(trial.number)
    return failed


def count_finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def check_runs_dir(runs_dir) -> None:
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
