import optuna
import pytest
from optuna.trial import TrialState

from search.study import (
    STALE_RUNNING_MESSAGE,
    count_finished,
    default_study_name,
    driver_lock,
    fail_stale_trials,
    load_existing_study,
    make_sampler,
    open_study,
    storage_url,
)
from space import AugSearchError

SETTINGS = {"dataset": "fashion_mnist", "budget": {"epochs": 2}, "search_space": {"ops": ["brightness"]}, "seed": 0}


def test_default_storage_is_sqlite_in_the_run_directory(tmp_path):
    assert storage_url(tmp_path / "runs", None) == f"sqlite:///{tmp_path}/runs/search.db"
    assert (tmp_path / "runs").is_dir()
    assert storage_url(tmp_path, "postgresql://u@localhost/db") == "postgresql://u@localhost/db"


@pytest.mark.parametrize(
    "spec, name",
    [("fashion_mnist", "fashion_mnist"), ("tfds:oxford_flowers102", "tfds-oxford_flowers102"), ("folder:/data/my pets/", "folder-my-pets")],
)
def test_default_study_names(spec, name):
    assert default_study_name(spec) == name


@pytest.mark.parametrize("name", ["tpe", "random", "cmaes", "gp", "qmc"])
def test_samplers_are_optunas_own(name):
    assert isinstance(make_sampler(name, seed=0), optuna.samplers.BaseSampler)


def test_second_driver_on_the_same_study_is_refused(tmp_path):
    with driver_lock(tmp_path, "s"):
        with pytest.raises(AugSearchError, match="another `search run` is already running study 's'"):
            with driver_lock(tmp_path, "s"):
                pass
        with driver_lock(tmp_path, "other"):  # another study is fine
            pass
    with driver_lock(tmp_path, "s"):  # released when the first one ends
        pass


def test_resuming_with_other_settings_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/search.db"
    open_study(url, "s", make_sampler("random", 0), SETTINGS)
    assert open_study(url, "s", make_sampler("random", 0), SETTINGS).user_attrs["augsearch"] == SETTINGS
    changed = {**SETTINGS, "search_space": {"ops": ["brightness", "rotation"]}}
    with pytest.raises(AugSearchError, match=r"different settings \(search_space: stored .* --study NEW_NAME"):
        open_study(url, "s", make_sampler("random", 0), changed)


def test_trials_a_dead_run_left_running_become_fail_and_finished_ones_stay(tmp_path):
    url = f"sqlite:///{tmp_path}/search.db"
    study = open_study(url, "s", make_sampler("random", 0), SETTINGS)
    done = study.ask()
    study.tell(done, 0.5)
    pruned = study.ask()
    study.tell(pruned, state=TrialState.PRUNED)
    stale = study.ask()
    assert fail_stale_trials(study) == [stale.number]
    reloaded = optuna.load_study(study_name="s", storage=url)
    states = {t.number: t.state for t in reloaded.trials}
    assert states == {done.number: TrialState.COMPLETE, pruned.number: TrialState.PRUNED, stale.number: TrialState.FAIL}
    assert reloaded.trials[stale.number].user_attrs["error"] == STALE_RUNNING_MESSAGE
    assert reloaded.trials[done.number].value == 0.5
    assert count_finished(reloaded) == 2


def test_a_new_sqlite_study_uses_write_ahead_logging_and_a_busy_timeout(tmp_path):
    import sqlite3

    from search.study import SQLITE_BUSY_TIMEOUT, open_storage

    url = f"sqlite:///{tmp_path}/search.db"
    storage = open_storage(url)
    optuna.create_study(storage=storage, study_name="s")
    with sqlite3.connect(tmp_path / "search.db") as connection:  # stored in the file: every reader gets it
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with storage.engine.connect() as connection:
        timeout_ms = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert timeout_ms == SQLITE_BUSY_TIMEOUT * 1000


def test_an_older_delete_mode_study_file_is_switched_to_wal_when_opened(tmp_path):
    import sqlite3

    from search.study import open_storage

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
    from search.study import shown

    assert shown(url) == printed


def test_a_sqlite_study_has_no_database_lock_beyond_the_run_directory_file(tmp_path):
    # Only PostgreSQL gets the advisory lock (tests/scale/test_postgresql.py); SQLite opens nothing.
    with driver_lock(tmp_path / "runs", "s", f"sqlite:///{tmp_path}/search.db"):
        assert not (tmp_path / "search.db").exists()


def test_a_reader_never_creates_the_tables_of_a_database_a_search_is_creating(tmp_path):
    # A search has created search.db but not yet its tables: Optuna would create them on opening,
    # racing the search (one of the two then fails on alembic's version row).
    (tmp_path / "search.db").write_bytes(b"")
    with pytest.raises(AugSearchError, match=r"search.db holds no study yet \(a `search run` may be starting\); try again"):
        load_existing_study(tmp_path, None, None)
    assert (tmp_path / "search.db").read_bytes() == b""
