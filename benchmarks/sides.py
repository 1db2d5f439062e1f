"""The web backends under test: how prodserver is told to run each, and what a user would type
to run the same server with the same options through its own CLI.

Both sides get the same ARGS (address and worker count); the prodserver side adds whatever
prodserver adds (the app target, the interface, its production defaults), which is exactly
what is being measured.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from common import BIN, MANAGE

PACKAGE = "django_prodserver.backends"
WSGI, ASGI = "benchproject.wsgi:application", "benchproject.asgi:application"


@dataclass(frozen=True)
class Side:
    """One web backend: its prodserver entry and its CLI equivalent, for a port and worker count."""

    name: str
    program: str  # the distribution, for the versions printed
    interface: str  # "wsgi" or "asgi": which in-process ceiling applies
    backend: str
    args: Callable[[int, int], dict[str, object]]
    cli: Callable[[int, int], list[str]]
    forks_workers: bool = True  # False: one process whatever "workers" says

    def processes(
        self, port: int, workers: int, overrides: dict[str, object] | None = None
    ) -> dict[str, object]:
        args = {**self.args(port, workers), **(overrides or {})}
        return {"web": {"BACKEND": f"{PACKAGE}.{self.backend}", "ARGS": args}}

    def prodserver_argv(self) -> list[str]:
        return [sys.executable, str(MANAGE), "prodserver", "web"]

    def cli_argv(self, port: int, workers: int) -> list[str]:
        argv = self.cli(port, workers)
        return [str(BIN / argv[0]), *argv[1:]]


def _host_port(port: int, workers: int) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": port, "workers": workers}


def _host_port_cli(program: str, app: str, *extra: str) -> Callable[[int, int], list[str]]:
    """What a user types to run a server that takes ``--host``, ``--port`` and ``--workers``."""
    return lambda p, w: [program, "--host=127.0.0.1", f"--port={p}", f"--workers={w}", *extra, app]


SIDES = {
    side.name: side
    for side in (
        Side(
            "gunicorn",
            "gunicorn",
            "wsgi",
            "gunicorn.GunicornServer",
            lambda p, w: {"bind": f"127.0.0.1:{p}", "workers": w},
            lambda p, w: ["gunicorn", f"--bind=127.0.0.1:{p}", f"--workers={w}", WSGI],
        ),
        Side(
            "uvicorn",
            "uvicorn",
            "asgi",
            "uvicorn.UvicornServer",
            _host_port,
            _host_port_cli("uvicorn", ASGI),
        ),
        Side(
            "uvicorn-wsgi",
            "uvicorn",
            "wsgi",
            "uvicorn.UvicornWSGIServer",
            _host_port,
            _host_port_cli("uvicorn", WSGI, "--interface=wsgi"),
        ),
        Side(
            "granian",
            "granian",
            "asgi",
            "granian.GranianASGIServer",
            _host_port,
            _host_port_cli("granian", ASGI, "--interface=asgi"),
        ),
        Side(
            "granian-wsgi",
            "granian",
            "wsgi",
            "granian.GranianWSGIServer",
            _host_port,
            _host_port_cli("granian", WSGI, "--interface=wsgi"),
        ),
        Side(
            "waitress",
            "waitress",
            "wsgi",
            "waitress.WaitressServer",
            lambda p, w: {"host": "127.0.0.1", "port": p},
            lambda p, w: ["waitress-serve", "--host=127.0.0.1", f"--port={p}", WSGI],
            forks_workers=False,
        ),
        Side(
            "hypercorn",
            "hypercorn",
            "asgi",
            "hypercorn.HypercornServer",
            lambda p, w: {"bind": f"127.0.0.1:{p}", "workers": w},
            lambda p, w: ["hypercorn", f"--bind=127.0.0.1:{p}", f"--workers={w}", ASGI],
        ),
        Side(
            "daphne",
            "daphne",
            "asgi",
            "daphne.DaphneServer",
            lambda p, w: {"bind": "127.0.0.1", "port": p},
            lambda p, w: ["daphne", "--bind=127.0.0.1", f"--port={p}", ASGI],
            forks_workers=False,
        ),
    )
}
#: What runs unless --backends says otherwise: the servers most projects choose between.
DEFAULT = ("gunicorn", "uvicorn", "uvicorn-wsgi", "granian", "granian-wsgi", "waitress")
#: The production default under test in --access-log mode, and the ARGS that switch it off.
ACCESS_LOG_OFF: dict[str, dict[str, object]] = {
    "gunicorn": {"access-logfile": None},
    "granian-wsgi": {"access-log": False},
    "granian": {"access-log": False},
    "hypercorn": {"access-logfile": None},
}


def chosen(names: str) -> list[Side]:
    if names == "all":
        return list(SIDES.values())
    unknown = [n for n in names.split(",") if n not in SIDES]
    if unknown:
        sys.exit(f"--backends: unknown {', '.join(unknown)}; choose from {', '.join(SIDES)} or 'all'")
    return [SIDES[n] for n in names.split(",")]
