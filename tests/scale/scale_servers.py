"""Real servers for the scale-out tests (conftest.py makes them fixtures): a two-node Ray cluster
and a PostgreSQL server, both on loopback, both started here and stopped whatever happens. Neither is mocked; where one
cannot be started the test fails with the reason (it never skips)."""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

RAY = Path(sys.executable).parent / "ray"
#: Two addresses of the loopback network, one per node, as two machines would have. (Ray turns
#: 127.0.0.1 itself into the machine's outward address; the rest of 127.0.0.0/8 it takes as given.)
HEAD_IP, WORKER_IP = "127.0.0.2", "127.0.0.3"
STARTED = "Ray runtime started."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class RayCluster:
    address: str
    #: Ray Client's address (ray://) of the head node.
    client_address: str
    #: The environment that joins it: its authentication token (Ray 2.60 turns token
    #: authentication on for `ray start --head`; a joining node or driver needs the token).
    env: dict
    #: Ray node id -> node IP, from the cluster itself.
    nodes: dict


@pytest.fixture
def ray_cluster(tmp_path):
    """A head node and a worker node, one CPU each, each with its own temporary folder, as
    `ray start` makes them on two machines. Each runs `ray start --block` in its own process
    group: stopping that process stops its node, and this fixture ends only processes it started
    (never `ray stop`, which would stop every Ray on the machine, other tests' included)."""
    port = free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env.pop("RAY_ADDRESS", None)
    common = [
        "--block",
        "--num-cpus",
        "1",
        "--num-gpus",
        "0",
        "--object-store-memory",
        str(256 * 2**20),
        "--disable-usage-stats",
    ]
    started: list[tuple[subprocess.Popen, Path, Path]] = []
    # Short: Ray's Unix sockets live under it, and their paths may not exceed 107 bytes.
    short = Path(tempfile.mkdtemp(prefix="ray-"))

    def start(name: str, *flags: str) -> None:
        temp, log = short / name, tmp_path / f"ray-{name}.log"
        temp.mkdir()
        # Every port given (free ones): two nodes on one machine must not both take a default.
        ports = [
            "--node-manager-port",
            "--object-manager-port",
            "--dashboard-agent-listen-port",
            "--dashboard-agent-grpc-port",
            "--runtime-env-agent-port",
            "--metrics-export-port",
        ]
        argv = [str(RAY), "start", *flags, "--temp-dir", str(temp), *common]
        for flag in ports:
            argv += [flag, str(free_port())]
        with open(log, "w") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        started.append((process, temp, log))
        deadline = time.monotonic() + 120
        while STARTED not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`ray start` ({name}) did not start (exit {process.poll()}):\n{log.read_text()[-3000:]}")
            time.sleep(0.5)

    try:
        client_port = free_port()
        start(
            "head",
            "--head",
            "--port",
            str(port),
            "--node-ip-address",
            HEAD_IP,
            "--ray-client-server-port",
            str(client_port),
            "--include-dashboard",
            "false",
        )
        address = f"{HEAD_IP}:{port}"
        start("worker", "--address", address, "--node-ip-address", WORKER_IP)
        yield RayCluster(
            address=address,
            client_address=f"ray://{HEAD_IP}:{client_port}",
            env=env,
            nodes=_alive_nodes(address, env, count=2),
        )
    finally:
        for process, temp, _log in reversed(started):
            _stop_node(process, temp)
        shutil.rmtree(short, ignore_errors=True)


def _alive_nodes(address: str, env: dict, count: int) -> dict:
    """Ask the cluster, from a driver of its own, for its alive nodes (waiting for `count`)."""
    script = (
        "import json, sys, time, ray\n"
        f"ray.init(address={address!r}, include_dashboard=False, logging_level='ERROR')\n"
        "for _ in range(120):\n"
        "    nodes = {n['NodeID']: n['NodeManagerAddress'] for n in ray.nodes() if n['Alive']}\n"
        f"    if len(nodes) >= {count}: break\n"
        "    time.sleep(0.5)\n"
        "print(json.dumps(nodes))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=180)
    if done.returncode != 0:
        pytest.fail(f"cannot reach the Ray cluster at {address}:\n{done.stderr[-3000:]}")
    nodes = json.loads(done.stdout.strip().splitlines()[-1])
    if len(nodes) != count:
        pytest.fail(f"the Ray cluster at {address} has {len(nodes)} alive nodes, expected {count}: {nodes}")
    return nodes


def _stop_node(process: subprocess.Popen, temp: Path) -> None:
    """SIGTERM to `ray start --block` drains and stops its node's processes; then whatever of its
    process group is left is killed, and so is any process still running from its temp folder."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait(timeout=30)
    for pid in _pids_mentioning(str(temp)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _pids_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(int(entry.name))
    return found


# -- PostgreSQL ------------------------------------------------------------------------------

PG_USER, PG_PASSWORD, PG_DATABASE = "augsearch", "s3cret-" + secrets.token_hex(4), "augsearch"


def _postgres_bin() -> Path:
    """The newest installed PostgreSQL server's bin folder (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(re.findall(r"/(\d+)/bin/", p)[0]))
    if not found and shutil.which("initdb"):
        found = [shutil.which("initdb")]
    if not found:
        pytest.fail(
            "PostgreSQL's server is not installed (no initdb in /usr/lib/postgresql/*/bin or on PATH): "
            "`make postgres` (part of `make test`) installs Debian's postgresql."
        )
    return Path(found[-1]).parent


def _as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its programs as the `postgres` user that
    Debian's package creates."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root, PostgreSQL needs the `postgres` user (Debian's postgresql package creates it)")
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server of its own, in a temporary folder, on 127.0.0.1 and a free port, with
    password authentication and an empty database; its URL. Stopped at the end of the session."""
    bin_dir, as_server = _postgres_bin(), _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="augsearch-postgres-"))
    data, log, password_file = folder / "data", folder / "server.log", folder / "password"
    password_file.write_text(PG_PASSWORD + "\n")
    if as_server:
        shutil.chown(folder, "postgres")
        shutil.chown(password_file, "postgres")
    port = free_port()

    def run(*argv, timeout=120):
        done = subprocess.run([*as_server, *map(str, argv)], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            server_log = log.read_text()[-2000:] if log.exists() else ""
            pytest.fail(
                f"PostgreSQL could not be started: `{' '.join(map(str, argv))}` failed:\n"
                f"{done.stdout[-2000:]}{done.stderr[-2000:]}{server_log}"
            )
        return done

    started = False
    try:
        run(
            bin_dir / "initdb",
            "-D",
            data,
            "-U",
            PG_USER,
            "--pwfile",
            password_file,
            "--auth",
            "scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        run(bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start")
        started = True
        url = f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{port}"
        import sqlalchemy

        engine = sqlalchemy.create_engine(f"{url}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(f"CREATE DATABASE {PG_DATABASE}"))
        engine.dispose()
        yield f"{url}/{PG_DATABASE}"
    finally:
        if started:
            stop = subprocess.run(
                [*as_server, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            if stop.returncode != 0:  # kill the postmaster we started, by its pid file
                pid_file = data / "postmaster.pid"
                if pid_file.exists():
                    try:
                        os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
        shutil.rmtree(folder, ignore_errors=True)
