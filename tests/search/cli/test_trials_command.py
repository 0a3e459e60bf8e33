from search.cli import main


def test_trials_prints_one_line_per_trial_with_its_numbers(small_study, tmp_path, capsys):
    assert main(["trials", "--runs-dir", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "study 'fashion_mnist': 2 complete, 1 pruned, 1 failed, 0 running; best: trial 1 (0.8500)"
    table = {line.split()[0]: line.split() for line in out[2:]}
    assert table["0"][:5] == ["0", "complete", "0.8000", "2", "1m01s"] and out[2].endswith("[guide]")
    assert table["1"][:5] == ["1", "complete", "0.8500", "2", "0m59s"]
    assert "ops=brightness,rotation" in out[3]  # Policy keeps ops in catalogue order
    assert table["2"][:5] == ["2", "pruned", "(0.1000)", "1", "0m20s"]  # not a full-budget value
    assert "rate=0.909 " in out[4]  # numbers to 3 digits (the exact text has 10/11)
    assert table["3"][:5] == ["3", "fail", "-", "-", "0m03s"] and out[5].endswith(
        "error: FloatingPointError: loss is NaN"
    )


def test_trials_filters_sorts_and_limits(small_study, tmp_path, capsys):
    assert (
        main(["trials", "--runs-dir", str(tmp_path / "runs"), "--state", "complete", "--sort", "value", "--limit", "1"])
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and out[2].split()[:3] == ["1", "complete", "0.8500"]


def test_trials_with_a_bad_state_is_one_line_and_exit_2(small_study, tmp_path, capsys):
    assert main(["trials", "--runs-dir", str(tmp_path / "runs"), "--state", "done"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--state" in err and "'done'" in err


def test_trials_without_a_study_says_what_to_do(tmp_path, capsys):
    assert main(["trials", "--runs-dir", str(tmp_path / "none")]) == 2
    assert "run `search run` first" in capsys.readouterr().err


def test_trials_does_not_import_tensorflow(small_study, tmp_path):
    import subprocess
    import sys

    code = (
        "import sys\nfrom search.cli import main\n"
        f"main(['trials', '--runs-dir', {str(tmp_path / 'runs')!r}])\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras', 'keras_cv', 'ray') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr


def test_the_sort_keys_in_the_help_are_those_select_rows_takes():
    from results.trials import SORT_KEYS
    from search.cli import trials

    assert tuple(SORT_KEYS) == trials.SORT_KEYS


def test_the_states_in_the_help_are_optunas():
    from optuna.trial import TrialState

    from search.cli import trials

    assert set(trials.STATES) == {state.name.lower() for state in TrialState}
