"""`search.locks`: one driver per study, and a run directory fit to write in (a read-only or full
one: tests/reliability/test_run_dir.py, on real mounts)."""

import pytest

from search.locks import check_runs_dir, driver_lock
from space import AugSearchError


def test_second_driver_on_the_same_study_is_refused(tmp_path):
    with driver_lock(tmp_path, "s"):
        with pytest.raises(AugSearchError, match="another `search run` is already running study 's'"):
            with driver_lock(tmp_path, "s"):
                pass
        with driver_lock(tmp_path, "other"):  # another study is fine
            pass
    with driver_lock(tmp_path, "s"):  # released when the first one ends
        pass


def test_the_lock_names_the_command_that_holds_it(tmp_path):
    with (
        driver_lock(tmp_path, "s.evaluation", command="search evaluate"),
        pytest.raises(AugSearchError, match=r"^another `search evaluate` is already running study 's\.evaluation' in "),
        driver_lock(tmp_path, "s.evaluation", command="search evaluate"),
    ):
        pass


def test_a_sqlite_study_has_no_database_lock_beyond_the_run_directory_file(tmp_path):
    # Only PostgreSQL gets the advisory lock (tests/scale/test_postgresql.py); SQLite opens nothing.
    with driver_lock(tmp_path / "runs", "s", f"sqlite:///{tmp_path}/search.db"):
        assert not (tmp_path / "search.db").exists()


def test_a_writable_run_directory_is_created(tmp_path):
    check_runs_dir(tmp_path / "new" / "runs")
    assert (tmp_path / "new" / "runs").is_dir() and not any((tmp_path / "new" / "runs").iterdir())
