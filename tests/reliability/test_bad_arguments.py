"""Issue 6, case 4: bad arguments to `search run` are one line naming the flag and what is
allowed, exit status 2, no traceback unless --debug, and no study written.

`search.cli.main` in this process, as the user runs it (bad datasets:
tests/reliability/test_bad_datasets.py); "more GPUs than the cluster" is known only once Ray says what it has, so it
starts this process's Ray (shared by the tests), and is still refused before the study is written."""

import traceback

import pytest
from search_process import SMOKE_RUN, cli, one_line_error

from search.cli import main
from space import AugSearchError

BAD_ARGUMENTS = {
    "zero trials": (["--trials", "0"], "--trials must be an integer >= 1, but got --trials=0."),
    "negative trials": (["--trials=-5"], "--trials must be an integer >= 1, but got --trials=-5."),
    "zero concurrency": (["--concurrency", "0"], "--concurrency must be an integer >= 1, but got --concurrency=0."),
    "zero max failures": (["--max-failures", "0"], "--max-failures must be an integer >= 1, but got --max-failures=0."),
    "one race seed": (
        ["--race-seeds", "1"],
        "--race-seeds must be an integer >= 2 (an interval needs two seeds), but got --race-seeds=1.",
    ),
    "more GPUs than the cluster": (
        ["--gpus-per-trial", "1000"],
        "--gpus-per-trial must be at most the {gpus} GPU(s) the Ray cluster has, but got --gpus-per-trial=1000.0.",
    ),
    "unknown op": (
        ["--ops", "brightness,blur"],
        "--ops has unknown op 'blur'; expected 'standard', 'trivialaugment', 'extended' "
        "or names from: auto_contrast, equalization,",
    ),
    "unknown race baseline": (
        ["--race-baselines", "trivialaugment,autoaugment"],
        "--race-baselines has unknown baseline 'autoaugment'; "
        "expected a comma-separated list of: none, guide, randaugment, trivialaugment",
    ),
    "zero target epochs": (
        ["--target-epochs", "0"],
        "--target-epochs must be an integer >= 1, but got --target-epochs=0.",
    ),
    "unknown distribution": (
        ["--magnitude-distributions", "normal,beta"],
        "--magnitude-distributions must be distinct names from: normal, uniform, "
        "but got --magnitude-distributions='normal,beta'.",
    ),
    "bound above 1": (
        ["--magnitude", "0.5,1.5"],
        "--magnitude must be two numbers low <= high, both >= 0.0, <= 1.0, but got --magnitude=(0.5, 1.5).",
    ),
    "bound below 0": (
        ["--rate=-0.1,0.5"],
        "--rate must be two numbers low <= high, both >= 0.0, <= 1.0, but got --rate=(-0.1, 0.5).",
    ),
    "unknown sampler": (
        ["--sampler", "bayes"],
        "--sampler must be one of tpe, tpe-univariate, random, cmaes, gp, qmc, but got --sampler='bayes'.",
    ),
    "unknown pruner": (["--pruner", "median"], "--pruner must be one of asha, none"),
    "negative GPUs": (["--gpus-per-trial", "-1"], "--gpus-per-trial must be a number >= 0"),
    "unknown model": (["--model", "resnet9000"], "--model must be one of: small"),
    "zero epochs": (["--epochs", "0"], "--epochs must be an integer >= 1, but got --epochs=0."),
    "unknown dataset": (["--dataset", "imagenet"], "--dataset must be one of 'fashion_mnist', 'tfds:NAME'"),
    "storage not a URL": (
        ["--storage", "runs/search.db"],
        "--storage must be an SQLAlchemy database URL such as sqlite:///runs/search.db or "
        "postgresql://user:password@host/db, but got --storage='runs/search.db'.",
    ),
}


@pytest.mark.parametrize("name", list(BAD_ARGUMENTS))
def test_bad_argument_is_one_line_naming_the_flag_and_what_is_allowed(name, tmp_path):
    argv = BAD_ARGUMENTS[name][0]
    runs = tmp_path / "runs"
    done = cli(*SMOKE_RUN, "--runs-dir", runs, *argv)
    line = one_line_error(done)
    flag = argv[0].split("=")[0]
    assert line.startswith(f"search run: error: {flag} "), line
    expected = BAD_ARGUMENTS[name][1]
    if "{gpus}" in expected:  # whatever this machine has
        prefix, suffix = expected.split("{gpus}")
        assert prefix in line and suffix in line, line
    else:
        assert expected in line, line
    assert not (runs / "search.db").exists(), "nothing may be written for bad input"


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(AugSearchError) as error:
        main(["--debug", *SMOKE_RUN, "--runs-dir", str(tmp_path), "--sampler", "bayes"])
    shown = "".join(traceback.format_exception(error.value))
    assert "Traceback (most recent call last)" in shown
    assert "AugSearchError: --sampler must be one of tpe, tpe-univariate, random, cmaes, gp, qmc" in shown


MALFORMED_STORAGE = {
    "storage of an unknown database": (
        ["--storage", "postgress://db.example/search"],
        "--storage must be an SQLAlchemy database URL such as",
    ),
    "storage with a bad port": (
        ["--storage", "postgresql://u@db.example:port/search"],
        "but got --storage='postgresql://u@db.example:port/search'",
    ),
    "SQLite file in a missing folder": (
        ["--storage", "sqlite:////no/such/folder/search.db"],
        "--storage 'sqlite:////no/such/folder/search.db': the folder '/no/such/folder' "
        "of its SQLite file does not exist.",
    ),
    "in-memory SQLite": (
        ["--storage", "sqlite://"],
        "--storage must name an SQLite file (sqlite:///runs/search.db), but got --storage='sqlite://'",
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED_STORAGE))
def test_malformed_storage_url_is_refused_before_ray_starts(name, tmp_path, capsys):
    argv, message = MALFORMED_STORAGE[name]
    assert main(["run", "--runs-dir", str(tmp_path / "runs"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("search run: error: --storage ") and message in err, err
    assert not (tmp_path / "runs" / "ray").exists()
