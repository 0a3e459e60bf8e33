"""Where studies live: storage URLs, SQLite in WAL mode, and opening existing studies read-only.

Storage is the truth: everything a later command needs is in the study (what, under which names:
`results.stored`).
"""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import optuna
from sqlalchemy.engine import make_url

from results.stored import EVALUATION_SUFFIX, RACE_SUFFIX
from space import AugSearchError
from space.errors import first_line

#: Seconds an SQLite reader or writer waits for another connection's lock before it fails.
SQLITE_BUSY_TIMEOUT = 60
#: `search evaluate` keeps the full trainings of study S in study S + EVALUATION_SUFFIX, and
#: `search run` its race trainings in S + RACE_SUFFIX, in the same storage;
#: commands that pick "the" study of a storage pass over these.

optuna.logging.set_verbosity(optuna.logging.WARNING)


def storage_url(runs_dir: str | os.PathLike, storage: str | None) -> str:
    """The storage URL: `storage` if given, else SQLite in the run directory (created if needed)."""
    if storage is None:
        path = Path(runs_dir) / "search.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    if not re.match(r"^[a-z][a-z0-9+]*://", storage):
        raise AugSearchError(f"storage must be {_URL_FORMS}, but got storage={storage!r}.")
    _check_url(storage)
    return storage


_URL_FORMS = "an SQLAlchemy database URL such as sqlite:///runs/search.db or postgresql://user:password@host/db"


def _check_url(url: str) -> None:
    """What can be checked without connecting: the URL's form, that SQLAlchemy knows its dialect,
    that an SQLite file's folder exists. So a typo fails before Ray starts."""
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except Exception as error:  # ArgumentError, NoSuchModuleError, ValueError for a bad port
        raise AugSearchError(
            f"storage must be {_URL_FORMS}, but got storage={shown(url)!r} ({first_line(error)})."
        ) from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise AugSearchError(
                f"storage must name an SQLite file (sqlite:///runs/search.db), but got storage={url!r}: "
                "an in-memory database would be lost with the process."
            )
        folder = Path(database).expanduser().parent
        if not folder.is_dir():
            raise AugSearchError(f"storage {url!r}: the folder {str(folder)!r} of its SQLite file does not exist.")


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
        raise AugSearchError(f"storage {shown(url)!r} cannot be opened: {first_line(error)}") from None


def use_wal(url: str) -> None:
    """Put the SQLite database of `url` in write-ahead-logging mode.

    The mode is stored in the database file, so it holds for every later connection, from any
    process. Where WAL does not apply (a read-only file; SQLite refuses it) the file keeps its
    mode and the busy timeout alone protects readers. SQLite's WAL needs shared memory between the
    processes, so the file must be on a local disk: a study shared between machines belongs in
    PostgreSQL.
    """
    try:
        database = make_url(url).database
    except Exception:  # open_storage reports a bad URL
        return
    if not database or database == ":memory:" or database.startswith("file:"):
        return  # nothing to persist it in, or a URI whose options are the user's
    try:
        with closing(sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error:
        pass  # the file keeps its mode (see above)


def shown(url: str) -> str:
    """`url` as it may be printed: its password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: nothing to mask
        return url


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def load_existing_study(runs_dir: str | os.PathLike, storage: str | None, name: str | None) -> optuna.Study:
    """The study a reading command (export, trials, ...) works on; never creates anything.

    Without `name`, the storage's only search study (evaluation studies aside). Raises
    AugSearchError when there is none to read.
    """
    url, rdb = open_existing_storage(runs_dir, storage)
    return optuna.load_study(study_name=existing_study_name(rdb, url, name), storage=rdb)


def open_existing_storage(runs_dir: str | os.PathLike, storage: str | None) -> tuple[str, optuna.storages.RDBStorage]:
    """(URL, storage) of an existing study storage, for readers. Raises AugSearchError when the
    run directory holds no study database, or one a starting search has not finished creating."""
    if storage is None:
        path = Path(runs_dir) / "search.db"
        if not path.exists():
            raise AugSearchError(
                f"runs_dir {str(runs_dir)!r} holds no study database (search.db); run `search run` first, "
                "or give the runs directory or storage of an earlier search."
            )
        if not _has_tables(path):
            # Opening it would make Optuna create the tables, racing the search that is creating them.
            raise AugSearchError(
                f"runs_dir {str(runs_dir)!r}: search.db holds no study yet (a `search run` may be starting); "
                "try again in a few seconds."
            )
    url = storage_url(runs_dir, storage)
    return url, open_storage(url)


def existing_study_name(rdb: optuna.storages.BaseStorage, url: str, name: str | None) -> str:
    """`name` if the storage holds it, else (None) its only search study. Raises AugSearchError."""
    names = [summary.study_name for summary in optuna.get_all_study_summaries(rdb)]
    if name is None:
        searches = [name for name in names if not name.endswith((EVALUATION_SUFFIX, RACE_SUFFIX))]
        if len(searches) != 1:
            found = ", ".join(searches) if searches else "none"
            raise AugSearchError(f"study is needed: {shown(url)} holds {len(searches)} search studies ({found}).")
        name = searches[0]
    if name not in names:
        raise AugSearchError(f"study {name!r} is not in {shown(url)}; its studies are: {', '.join(names) or 'none'}.")
    return name


def _has_tables(path: Path) -> bool:
    """Whether the SQLite file has Optuna's tables, read without writing anything."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT)) as db:
            return (
                db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'studies'").fetchone()
                is not None
            )
    except sqlite3.Error:
        return False
