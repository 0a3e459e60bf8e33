"""`search dashboard`: optuna-dashboard on the run directory's study storage and artifact store."""

from __future__ import annotations

import argparse
import errno
import signal
import socket
import sys
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication

from search.cli.arguments import add_study_arguments
from space import AugSearchError
from space.errors import is_int, require

HELP = "optuna-dashboard on the run directory"
DESCRIPTION = (
    "Serve optuna-dashboard on the study storage and the run directory's artifact store "
    "(sample grids and learning curves per trial). Ctrl-C stops it."
)
NEEDS_TENSORFLOW = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8080, help="default: 8080")
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1 (0.0.0.0 to serve other machines)")
    add_study_arguments(parser)


class _Server(ThreadingMixIn, WSGIServer):
    # As optuna-dashboard's own CLI serves: a browser loads the page, its API and pictures at once.
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # one line per request would bury the URL
        pass


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C (returns 130). Raises AugSearchError for a bad --port or --host, a
    port already in use, or a run directory / storage without a study."""
    require(is_int(args.port) and 1 <= args.port <= 65535, "--port", args.port, "an integer from 1 to 65535")
    from optuna_dashboard import wsgi

    # Both import Optuna: not for --help.
    from results.artifacts import artifact_store
    from search.storage import existing_study_name, open_existing_storage

    url, storage = open_existing_storage(args.runs_dir, args.storage)
    name = existing_study_name(storage, url, args.study)
    # A reader creates nothing: without the folder, artifacts are just not found.
    app = wsgi(storage, artifact_store=artifact_store(args.runs_dir, create=False))
    server = _listen(args.host, args.port, app)
    host = f"[{args.host}]" if ":" in args.host else args.host
    study_id = storage.get_study_id_from_name(name)
    print(f"optuna-dashboard: http://{host}:{args.port}/dashboard/studies/{study_id}", flush=True)
    print("Ctrl-C stops it.", file=sys.stderr, flush=True)
    # Python leaves SIGINT ignored when it started ignored (a shell's background job, some CI
    # runners); Ctrl-C, and a SIGINT sent to stop the dashboard, should still stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 130
    finally:
        server.server_close()
    return 0


def _listen(host: str, port: int, app: WSGIApplication) -> WSGIServer:
    """Bind now, so a busy port is a clear error before anything is printed."""
    server_class = _Server6 if ":" in host else _Server
    try:
        return make_server(host, port, app, server_class=server_class, handler_class=_QuietHandler)
    except socket.gaierror as error:
        raise AugSearchError(
            f"--host {host!r} is not an address or name this machine knows ({error.strerror})."
        ) from None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise AugSearchError(
                f"--port {port} is already in use on {host}; stop what uses it or pass another --port."
            ) from None
        if error.errno == errno.EACCES:
            raise AugSearchError(
                f"--port {port} needs privileges on this machine; pass a --port from 1024 up."
            ) from None
        raise AugSearchError(
            f"--host {host!r} --port {port}: cannot listen there: {error.strerror or error}."
        ) from None
