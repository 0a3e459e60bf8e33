import subprocess
import sys
from pathlib import Path

import pytest

from search.cli import main


def test_help_lists_the_subcommands_without_importing_tensorflow_or_ray():
    # ... nor does `import search` or building settings (the Python API's promise).
    code = (
        "import sys\n"
        "import search\n"
        "search.SearchSettings(trials=3, budget='smoke', resources=search.Resources(concurrency=1))\n"
        "search.EvaluationSettings(top_k=1)\n"
        "from search.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('tensorflow', 'ray', 'keras', 'keras_cv', 'optuna') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    for command in ("run", "trials", "compare", "preview", "export", "dashboard", "evaluate"):
        assert command in done.stdout
    assert "HEAVY []" in done.stdout


def test_argparse_errors_are_one_line_too(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--magnitude", "high"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--magnitude: expected LOW,HIGH (floats), got 'high'" in err and err.count("\n") == 1


def test_debug_shows_the_traceback():
    with pytest.raises(Exception, match="--trials must be"):
        main(["--debug", "run", "--trials", "0"])


@pytest.mark.parametrize(
    "resources, cluster, message",
    [
        (
            dict(gpus_per_trial=2.0),
            (16, 1),
            "--gpus-per-trial must be at most the 1 GPU(s) the Ray cluster has, but got --gpus-per-trial=2.0.",
        ),
        (
            dict(cpus_per_trial=4.0),
            (2, 0),
            "--cpus-per-trial must be at most the 2 CPUs the Ray cluster has, but got --cpus-per-trial=4.0.",
        ),
    ],
    ids=["gpus", "cpus"],
)
def test_resources_beyond_the_cluster_are_worded_as_the_flags(resources, cluster, message):
    # Resources.per_trial raises once Ray says what the cluster has (tests/search/test_settings.py);
    # the CLI shows the error in its flags' names.
    from search.cli import build_parser
    from search.cli.arguments import in_flag_names
    from search.settings import Resources
    from space import AugSearchError

    with pytest.raises(AugSearchError) as raised:
        Resources(**resources).per_trial(*cluster)
    parser = build_parser()
    for command in ("run", "evaluate"):
        sub = parser.parse_args([command]).command_parser
        assert str(in_flag_names(raised.value, sub)) == message


def test_errors_about_other_things_than_flags_are_left_as_they_are():
    from search.cli import build_parser
    from search.cli.arguments import in_flag_names
    from space import AugSearchError

    sub = build_parser().parse_args(["trials"]).command_parser
    error = AugSearchError("epochs must be an integer >= 1, but got epochs=0.")  # trials has no --epochs
    assert in_flag_names(error, sub) is error


@pytest.mark.parametrize(
    "command",
    [[str(Path(sys.executable).parent / "search")], [sys.executable, "-m", "search.cli"]],
    ids=["console-script", "python-m"],
)
def test_the_installed_command_exits_with_2_on_bad_input(command, tmp_path):
    # In-process tests call search.cli.main; this is the command itself, as a shell runs it.
    done = subprocess.run(
        [*command, "trials", "--runs-dir", str(tmp_path / "none")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("search trials: error: --runs-dir ") and done.stderr.count("\n") == 1, done.stderr
