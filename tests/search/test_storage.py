"""`search.storage`: storage URLs, SQLite in WAL mode with a busy timeout, and readers that never
create anything."""

import sqlite3

import optuna
import pytest

from search.storage import SQLITE_BUSY_TIMEOUT, load_existing_study, open_storage, shown, storage_url
from space import AugSearchError


def test_default_storage_is_sqlite_in_the_run_directory(tmp_path):
    assert storage_url(tmp_path / "runs", None) == f"sqlite:///{tmp_path}/runs/search.db"
    assert (tmp_path / "runs").is_dir()
    assert storage_url(tmp_path, "postgresql://u@localhost/db") == "postgresql://u@localhost/db"


@pytest.mark.parametrize(
    "url, match",
    [
        (
            "not a url",
            r"^storage must be an SQLAlchemy database URL such as sqlite:///runs/search\.db or postgresql://",
        ),
        ("nosuchdb://host/db", r"^storage must be an SQLAlchemy database URL .* \(Can't load plugin"),
        (
            "sqlite:///:memory:",
            r"^storage must name an SQLite file .* an in-memory database would be lost with the process\.$",
        ),
        (
            "sqlite:////nonexistent/folder/search.db",
            r"^storage 'sqlite:////nonexistent/folder/search\.db': the folder '/nonexistent/folder' "
            r"of its SQLite file does not exist\.$",
        ),
    ],
    ids=["not-a-url", "unknown-dialect", "in-memory", "no-folder"],
)
def test_bad_storage_urls_are_refused_without_connecting(tmp_path, url, match):
    with pytest.raises(AugSearchError, match=match):
        storage_url(tmp_path, url)


def test_a_new_sqlite_study_uses_write_ahead_logging_and_a_busy_timeout(tmp_path):
    url = f"sqlite:///{tmp_path}/search.db"
    storage = open_storage(url)
    optuna.create_study(storage=storage, study_name="s")
    with sqlite3.connect(tmp_path / "search.db") as connection:  # stored in the file: every reader gets it
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with storage.engine.connect() as connection:
        timeout_ms = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert timeout_ms == SQLITE_BUSY_TIMEOUT * 1000


def test_an_older_delete_mode_study_file_is_switched_to_wal_when_opened(tmp_path):
    path = tmp_path / "search.db"
    optuna.create_study(storage=f"sqlite:///{path}", study_name="s")  # Optuna's own: rollback journal
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    optuna.load_study(study_name="s", storage=open_storage(f"sqlite:///{path}"))
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(
    "url, printed",
    [
        ("postgresql://user:secret@db.example:5432/augsearch", "postgresql://user:***@db.example:5432/augsearch"),
        ("postgresql+psycopg://user@db/augsearch", "postgresql+psycopg://user@db/augsearch"),
        ("sqlite:///runs/search.db", "sqlite:///runs/search.db"),
    ],
    ids=["password", "no-password", "sqlite"],
)
def test_printed_storage_urls_mask_the_password(url, printed):
    assert shown(url) == printed


def test_a_reader_never_creates_the_tables_of_a_database_a_search_is_creating(tmp_path):
    # A search has created search.db but not yet its tables: Optuna would create them on opening,
    # racing the search (one of the two then fails on alembic's version row).
    (tmp_path / "search.db").write_bytes(b"")
    with pytest.raises(
        AugSearchError, match=r"search.db holds no study yet \(a `search run` may be starting\); try again"
    ):
        load_existing_study(tmp_path, None, None)
    assert (tmp_path / "search.db").read_bytes() == b""


def test_a_reader_of_an_empty_run_directory_creates_nothing(tmp_path):
    with pytest.raises(AugSearchError, match=r"holds no study database \(search\.db\); run `search run` first"):
        load_existing_study(tmp_path / "runs", None, None)
    assert not (tmp_path / "runs").exists()


def test_the_only_search_study_is_found_and_evaluation_studies_are_passed_over(tmp_path):
    url = f"sqlite:///{tmp_path}/search.db"
    optuna.create_study(storage=url, study_name="fashion_mnist")
    optuna.create_study(storage=url, study_name="fashion_mnist.evaluation")
    assert load_existing_study(tmp_path, None, None).study_name == "fashion_mnist"
    optuna.create_study(storage=url, study_name="other")
    with pytest.raises(AugSearchError, match=r"^study is needed: .* holds 2 search studies \(fashion_mnist, other\)"):
        load_existing_study(tmp_path, None, None)
    with pytest.raises(
        AugSearchError,
        match=r"^study 'nope' is not in .*; its studies are: fashion_mnist, fashion_mnist\.evaluation, other\.",
    ):
        load_existing_study(tmp_path, None, "nope")
