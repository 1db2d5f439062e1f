"""Every web backend, and how to see from outside what a running server really did.

The platform-contract and override tests start each backend for real; this module says how
each one is told where to listen and how many workers to run, and observes the result
from outside the server: which address accepts connections, and how many worker processes
(or, for waitress, worker threads) the server's master has.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness import Child, wait_until

#: ARGS that make a server listen on one TCP address, by how the program spells it.
LISTEN_STYLES: dict[str, Callable[[str, int], dict[str, Any]]] = {
    "bind": lambda host, port: {"bind": f"{host}:{port}"},
    "host-port": lambda host, port: {"host": host, "port": port},
    "daphne": lambda host, port: {"bind": host, "port": port},  # daphne's --bind is the host
    "http-socket": lambda host, port: {"http-socket": f"{host}:{port}"},
}


@dataclass(frozen=True)
class WebBackend:
    id: str
    path: str
    #: The program's name, as prodserver's messages say it.
    program: str
    #: Whether it serves Django's ASGI application (streaming, async views, WebSockets).
    asgi: bool = False
    #: The option WEB_CONCURRENCY sets; None for a single-process server without workers.
    workers: str | None = "workers"
    #: What a worker is: a child process of the master, or a thread of the one process.
    unit: Literal["processes", "threads"] = "processes"
    #: Whether one worker still runs as a separate process (uvicorn serves in the master).
    forks_single_worker: bool = True
    #: Which peers the server believes X-Forwarded-Proto from when nothing is configured:
    #: "loopback", "nobody", or "unsupported" (FORWARDED_ALLOW_IPS cannot apply).
    proxy_default: Literal["loopback", "nobody", "unsupported"] = "loopback"
    #: The FORWARDED_ALLOW_IPS the contract test sets; None: one that flips the default
    #: (loopback-trusting servers must stop believing 127.0.0.1, the others start).
    forwarded_value: str | None = None
    #: Whether a trusted proxy's X-Forwarded-For becomes REMOTE_ADDR.
    proxy_sets_client: bool = True
    #: Whether the server takes X-Forwarded-Proto from any peer, whatever is configured.
    scheme_from_anyone: bool = False
    #: "sync" when prodserver sizes its workers 2 x CPU + 1 (see platform.default_workers).
    sizing: str = "async"
    listen_style: str = "host-port"
    #: Whether the server writes an access log when ARGS do not ask for one: prodserver
    #: follows each server's own default (a log line costs gunicorn and granian CPU per request).
    logs_access: bool = False

    @property
    def available(self) -> bool:
        """Whether this checkout has the backend (others are added alongside this table)."""
        module, _, name = self.path.rpartition(".")
        if importlib.util.find_spec(module) is None:
            return False
        return hasattr(importlib.import_module(module), name)

    @property
    def forwarded(self) -> str:
        if self.forwarded_value:
            return self.forwarded_value
        return "127.0.0.1" if self.proxy_default == "nobody" else "10.9.9.9"

    @property
    def trusts_the_test_proxy(self) -> bool:
        """Whether, with :attr:`forwarded`, a request from 127.0.0.1 counts as from the proxy."""
        return self.proxy_default != "unsupported" and self.forwarded in ("127.0.0.1", "*")

    def listen_args(self, host: str, port: int) -> dict[str, Any]:
        return dict(LISTEN_STYLES[self.listen_style](host, port))

    def host_args(self, host: str) -> dict[str, Any] | None:
        """ARGS naming only the interface to listen on; None where the program has no such form
        (uWSGI reads an ``http-socket`` without a port as a Unix socket path)."""
        if self.listen_style == "http-socket":
            return None
        key = {"bind": "bind", "host-port": "host", "daphne": "bind"}[self.listen_style]
        return {key: host}

    def listen_override(self, host: str, port: int) -> list[str]:
        return [f"--{key}={value}" for key, value in self.listen_args(host, port).items()]

    def expected_processes(self, workers: int) -> int:
        return 0 if workers == 1 and not self.forks_single_worker else workers


GUNICORN = WebBackend(
    "gunicorn",
    "django_prodserver.backends.gunicorn.GunicornServer",
    "gunicorn",
    proxy_sets_client=False,  # gunicorn takes only the scheme from a trusted proxy
    sizing="sync",
    listen_style="bind",
)
GUNICORN_UVICORN = WebBackend(
    "gunicorn-uvicorn",
    "django_prodserver.backends.gunicorn.GunicornUvicornServer",
    "gunicorn",
    asgi=True,
    listen_style="bind",
)
UVICORN = WebBackend(
    "uvicorn",
    "django_prodserver.backends.uvicorn.UvicornServer",
    "uvicorn",
    asgi=True,
    forks_single_worker=False,
    logs_access=True,
)
UVICORN_WSGI = WebBackend(
    "uvicorn-wsgi",
    "django_prodserver.backends.uvicorn.UvicornWSGIServer",
    "uvicorn",
    forks_single_worker=False,
    logs_access=True,
)
GRANIAN_ASGI = WebBackend(
    "granian-asgi",
    "django_prodserver.backends.granian.GranianASGIServer",
    "granian",
    asgi=True,
    proxy_default="unsupported",
)
GRANIAN_WSGI = WebBackend(
    "granian-wsgi",
    "django_prodserver.backends.granian.GranianWSGIServer",
    "granian",
    proxy_default="unsupported",
)
WAITRESS = WebBackend(
    "waitress",
    "django_prodserver.backends.waitress.WaitressServer",
    "waitress-serve",
    workers="threads",
    unit="threads",
    proxy_default="nobody",
)
HYPERCORN = WebBackend(
    "hypercorn",
    "django_prodserver.backends.hypercorn.HypercornServer",
    "hypercorn",
    asgi=True,
    forks_single_worker=False,  # one worker is served in prodserver's process
    proxy_default="unsupported",
    listen_style="bind",
)
DAPHNE = WebBackend(
    "daphne",
    "django_prodserver.backends.daphne.DaphneServer",
    "daphne",
    asgi=True,
    workers=None,  # one process; WEB_CONCURRENCY does not apply
    proxy_default="nobody",
    forwarded_value="*",  # daphne trusts every peer or none
    listen_style="daphne",
)
UWSGI = WebBackend(
    "uwsgi",
    "django_prodserver.backends.uwsgi.UWSGIServer",
    "uwsgi",
    workers="processes",
    proxy_default="unsupported",
    scheme_from_anyone=True,  # its http-socket parser believes X-Forwarded-Proto from every peer
    sizing="sync",
    listen_style="http-socket",
)

KNOWN: tuple[WebBackend, ...] = (
    GUNICORN,
    GUNICORN_UVICORN,
    UVICORN,
    UVICORN_WSGI,
    GRANIAN_ASGI,
    GRANIAN_WSGI,
    WAITRESS,
    HYPERCORN,
    DAPHNE,
    UWSGI,
)
#: The rows whose backend module exists in this checkout.
WEB_BACKENDS: tuple[WebBackend, ...] = tuple(b for b in KNOWN if b.available)
WITH_WORKERS: tuple[WebBackend, ...] = tuple(b for b in WEB_BACKENDS if b.workers)
BY_ID: Mapping[str, WebBackend] = {b.id: b for b in KNOWN}


def web_backend_classes() -> set[str]:
    """Dotted paths of every concrete web backend shipped in django_prodserver.backends."""
    import django_prodserver.backends as package
    from django_prodserver.backends.web import WebServerBackend

    found = set()
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for name, cls in vars(module).items():
            if (
                inspect.isclass(cls)
                and issubclass(cls, WebServerBackend)
                and cls.__module__ == module.__name__
                and not name.startswith("_")
                and cls is not WebServerBackend
            ):
                found.add(f"{cls.__module__}.{name}")
    return found


# ----- observing a running server ------------------------------------------------------------


def accepts(host: str, port: int) -> bool:
    """Whether something accepts TCP connections at host:port right now."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields after its last ")" do not.
    return int(stat.rpartition(")")[2].split()[1])


def worker_processes(pid: int) -> list[int]:
    """Child processes of ``pid`` that serve requests (multiprocessing's resource tracker does not)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _parent_of(int(entry.name)) == pid:
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"resource_tracker" not in cmdline:
                children.append(int(entry.name))
    return sorted(children)


def worker_threads(pid: int) -> int:
    """Threads of ``pid`` besides its main thread (waitress' request threads)."""
    return len(list(Path(f"/proc/{pid}/task").iterdir())) - 1


def observed_workers(backend: WebBackend, pid: int) -> int:
    return worker_threads(pid) if backend.unit == "threads" else len(worker_processes(pid))


def wait_workers(backend: WebBackend, child: Child, workers: int, timeout: float = 30) -> None:
    """Poll until the server runs exactly ``workers`` workers; fail with what was seen.

    A server without workers (daphne) must then have no child process at all.
    """
    if backend.workers is None:
        workers = 0
    expected = workers if backend.unit == "threads" else backend.expected_processes(workers)
    seen: list[int] = []

    def settled() -> bool:
        if child.proc.poll() is not None:
            raise child.fail(f"exited with {child.proc.returncode} while {expected} workers were expected")
        seen.append(observed_workers(backend, child.pid))
        return seen[-1] == expected

    wait_until(
        lambda: f"expected {expected} {backend.unit} under pid {child.pid}, saw {seen[-1]}",
        settled,
        child,
        timeout,
        interval=0.1,
    )
