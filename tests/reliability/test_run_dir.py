"""Issue 6, case 8: a read-only or full run directory is one clear error at the start of
`search run` (`search.cli.main`, in this process), before Ray starts, not a crash mid-search.

Tests run as root here, and root writes through chmod 0555, so the read-only and full
directories are real tmpfs mounts (read-only; tiny and filled). Where mounting is not allowed:
chmod for a non-root user, else the test is skipped."""

import errno
import os
import subprocess

import pytest
from search_process import SMOKE_RUN, cli, one_line_error


def _mount(path, options):
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    return done.returncode == 0


def _umount(path):
    subprocess.run(["umount", str(path)], capture_output=True)


@pytest.fixture
def read_only_dir(tmp_path):
    path = tmp_path / "read_only"
    if _mount(path, "ro,size=1m"):
        yield path
        _umount(path)
    elif os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
    else:
        pytest.skip("cannot mount a read-only tmpfs here, and chmod does not stop root")


@pytest.fixture
def small_disk(tmp_path, request):
    """A 4 MiB file system; `request.param` = "full" fills it to the last byte."""
    path = tmp_path / "small"
    if not _mount(path, "size=4m"):
        pytest.skip("cannot mount a tmpfs here")
    if request.param == "full":
        with open(path / "filler", "wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError as error:
                assert error.errno == errno.ENOSPC
    yield path
    _umount(path)


def _refused(runs_dir, message):
    done = cli(*SMOKE_RUN, "--trials", 2, "--runs-dir", runs_dir)
    line = one_line_error(done)
    assert line.startswith(f"search run: error: --runs-dir {str(runs_dir)!r} "), line
    assert message in line, line
    return line


def test_read_only_run_directory_is_refused_at_the_start(read_only_dir):
    _refused(read_only_dir, "is not writable (")
    assert list(read_only_dir.iterdir()) == []


def test_run_directory_that_cannot_be_created_is_refused(read_only_dir):
    _refused(read_only_dir / "runs", "is not writable (")
    assert not (read_only_dir / "runs").exists()


@pytest.mark.parametrize("small_disk", ["full"], indirect=True)
def test_full_disk_is_refused_at_the_start(small_disk):
    _refused(small_disk, "is not writable (No space left on device)")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


@pytest.mark.parametrize("small_disk", ["empty"], indirect=True)
def test_nearly_full_disk_is_refused_at_the_start(small_disk):
    _refused(small_disk / "runs", "MiB free; a search needs at least 64 MiB there")
    assert not (small_disk / "runs" / "search.db").exists()
