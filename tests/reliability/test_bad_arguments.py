"""Issue 6, case 4: bad arguments to the real `search run` process are one line naming the flag
and what is allowed, exit status 2, no traceback unless --debug, and no study written.

tests/search/test_cli.py checks the same messages in-process (with more flags); here each of
the issue's list runs as the user runs it, two at a time (each spends seconds importing
TensorFlow). The storage URL checks added for this issue run in-process."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from search.cli import main
from search_process import SMOKE_RUN, one_line_error, search

BAD_ARGUMENTS = {
    "zero trials": (["--trials", "0"], "--trials must be an integer >= 1, but got --trials=0."),
    "negative trials": (["--trials=-5"], "--trials must be an integer >= 1, but got --trials=-5."),
    "zero concurrency": (["--concurrency", "0"], "--concurrency must be an integer >= 1, but got --concurrency=0."),
    "zero max failures": (["--max-failures", "0"], "--max-failures must be an integer >= 1, but got --max-failures=0."),
    "more GPUs than the cluster": (
        ["--gpus-per-trial", "1000"], "--gpus-per-trial must be at most the {gpus} GPU(s) the Ray cluster has, but got --gpus-per-trial=1000.0."
    ),
    "unknown op": (
        ["--ops", "brightness,blur"],
        "--ops has unknown op 'blur'; expected 'standard', 'extended' or names from: auto_contrast, equalization,",
    ),
    "bound above 1": (
        ["--magnitude", "0.5,1.5"], "--magnitude must be two numbers low <= high, both >= 0.0, <= 1.0, but got --magnitude=(0.5, 1.5)."
    ),
    "bound below 0": (["--rate=-0.1,0.5"], "--rate must be two numbers low <= high, both >= 0.0, <= 1.0, but got --rate=(-0.1, 0.5)."),
    "unknown sampler": (["--sampler", "bayes"], "--sampler must be one of tpe, random, cmaes, gp, qmc, but got --sampler='bayes'."),
    "storage not a URL": (
        ["--storage", "runs/search.db"],
        "--storage must be an SQLAlchemy database URL such as sqlite:///runs/search.db or postgresql://user:password@host/db, "
        "but got --storage='runs/search.db'.",
    ),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every bad command run once, a few at a time: {id: (run directory, CompletedProcess)}."""
    root = tmp_path_factory.mktemp("bad_arguments")

    def run(item):
        name, (argv, _) = item
        runs = root / name.replace(" ", "_")
        return name, (runs, search(*SMOKE_RUN, "--runs-dir", runs, *argv, timeout=300))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(run, BAD_ARGUMENTS.items()))


@pytest.mark.parametrize("name", list(BAD_ARGUMENTS))
def test_bad_argument_is_one_line_naming_the_flag_and_what_is_allowed(name, outcomes):
    runs, done = outcomes[name]
    line = one_line_error(done)
    flag = BAD_ARGUMENTS[name][0][0].split("=")[0]
    assert line.startswith(f"search run: error: {flag} "), line
    expected = BAD_ARGUMENTS[name][1]
    if "{gpus}" in expected:  # whatever this machine has
        prefix, suffix = expected.split("{gpus}")
        assert prefix in line and suffix in line, line
    else:
        assert expected in line, line
    assert not (runs / "search.db").exists(), "nothing may be written for bad input"


def test_debug_shows_the_traceback(tmp_path):
    done = search("--debug", *SMOKE_RUN, "--runs-dir", tmp_path, "--sampler", "bayes", timeout=300)
    assert done.returncode != 0
    assert "Traceback (most recent call last)" in done.stderr
    assert "AugSearchError: --sampler must be one of tpe, random, cmaes, gp, qmc" in done.stderr


MALFORMED_STORAGE = {
    "storage of an unknown database": (["--storage", "postgress://db.example/search"], "--storage must be an SQLAlchemy database URL such as"),
    "storage with a bad port": (["--storage", "postgresql://u@db.example:port/search"], "but got --storage='postgresql://u@db.example:port/search'"),
    "SQLite file in a missing folder": (
        ["--storage", "sqlite:////no/such/folder/search.db"],
        "--storage 'sqlite:////no/such/folder/search.db': the folder '/no/such/folder' of its SQLite file does not exist.",
    ),
    "in-memory SQLite": (["--storage", "sqlite://"], "--storage must name an SQLite file (sqlite:///runs/search.db), but got --storage='sqlite://'"),
}


@pytest.mark.parametrize("name", list(MALFORMED_STORAGE))
def test_malformed_storage_url_is_refused_before_ray_starts(name, tmp_path, capsys):
    argv, message = MALFORMED_STORAGE[name]
    assert main(["run", "--runs-dir", str(tmp_path / "runs"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("search run: error: --storage ") and message in err, err
    assert not (tmp_path / "runs" / "ray").exists()
