import subprocess
import sys

import pytest

from search.cli import main


def test_help_lists_the_subcommands_without_importing_tensorflow_or_ray():
    code = (
        "import sys\n"
        "from search.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('tensorflow', 'ray', 'keras', 'keras_cv', 'optuna') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    for command in ("run", "trials", "compare", "preview", "export", "dashboard", "evaluate"):
        assert command in done.stdout
    assert "HEAVY []" in done.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--trials", "0"], "--trials must be an integer >= 1, but got --trials=0"),
        (["--trials", "-3"], "--trials must be an integer >= 1"),
        (["--concurrency", "0"], "--concurrency must be an integer >= 1, but got --concurrency=0"),
        (["--sampler", "bayes"], "--sampler must be one of tpe, random, cmaes, gp, qmc, but got --sampler='bayes'"),
        (["--pruner", "median"], "--pruner must be one of asha, none"),
        (["--ops", "brightness,blur"], "--ops has unknown op 'blur'"),
        (["--magnitude", "0.5,1.5"], "--magnitude must be two numbers low <= high, both >= 0.0, <= 1.0, but got --magnitude=(0.5, 1.5)"),
        (["--gpus-per-trial", "-1"], "--gpus-per-trial must be a number >= 0"),
        (["--model", "resnet9000"], "--model must be one of: small"),
        (["--epochs", "0"], "--epochs must be an integer >= 1, but got --epochs=0"),
        (["--storage", "not a url"], "--storage must be an SQLAlchemy database URL"),
        (["--dataset", "folder:/nonexistent/images"], "/nonexistent/images"),
        (["--dataset", "imagenet"], "imagenet"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_bad_run_arguments_are_one_line_errors_with_exit_2(argv, message, tmp_path, capsys):
    assert main(["run", "--runs-dir", str(tmp_path / "runs"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and err.startswith("search run: error:")
    assert not (tmp_path / "runs" / "search.db").exists(), "nothing may be written for bad input"


def test_argparse_errors_are_one_line_too(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--magnitude", "high"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--magnitude: expected LOW,HIGH (floats), got 'high'" in err and err.count("\n") == 1


def test_debug_shows_the_traceback():
    with pytest.raises(Exception, match="--trials must be"):
        main(["--debug", "run", "--trials", "0"])


def _resources(cpus, gpus, **flags):
    from argparse import Namespace

    from search.cluster import trial_resources

    args = Namespace(**{"cpus_per_trial": None, "gpus_per_trial": None, "concurrency": None, **flags})
    return trial_resources(args, cpus, gpus)


def test_trial_resources_fill_the_cluster_by_default():
    assert _resources(2, 0) == (1.0, 0.0, 2)  # this machine: one trial per core
    assert _resources(16, 1) == (16.0, 1.0, 1)  # one GPU: one trial with all the CPUs
    assert _resources(16, 1, gpus_per_trial=0.25) == (4.0, 0.25, 4)  # four proxies share the GPU
    assert _resources(8, 0, cpus_per_trial=2.0, concurrency=3) == (2.0, 0.0, 3)


def test_trial_resources_beyond_the_cluster_are_clear_errors():
    from space import AugSearchError

    with pytest.raises(AugSearchError, match=r"--gpus-per-trial must be at most the 1 GPU\(s\) the Ray cluster has, but got --gpus-per-trial=2"):
        _resources(16, 1, gpus_per_trial=2.0)
    with pytest.raises(AugSearchError, match="--cpus-per-trial must be at most the 2 CPUs"):
        _resources(2, 0, cpus_per_trial=4.0)
