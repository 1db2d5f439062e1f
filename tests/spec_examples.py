"""The spec's web-server configurations, copied verbatim, as data for test_spec_examples.py.

Two kinds of case:

* every ``ARGS`` example of the spec's Backend Reference (seed 000), Uvicorn (seed 001) and
  Granian (seed 002) pages, on the backend the page puts it under;
* every row of the Uvicorn and Granian "Common ARGS" tables, as a single key with its
  documented default, on both the ASGI and the WSGI backend.

The ARGS are kept exactly as the spec prints them (strings included). The one change the
tests make is :func:`localize`: address keys are pointed at 127.0.0.1 and a free port, so that
tests never listen beyond loopback and can run side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from contract import GRANIAN_ASGI, GRANIAN_WSGI, GUNICORN, UVICORN, UVICORN_WSGI, WAITRESS, WebBackend

UVICORN_ASGI = UVICORN
#: How each program's spec page spells the listen address when an example has none.
HOST_KEYS = {"gunicorn": "bind", "uvicorn": "host", "granian": "address", "waitress-serve": "host"}


@dataclass(frozen=True)
class Case:
    id: str
    backend: WebBackend
    #: Verbatim from the spec.
    args: Mapping[str, str]
    #: Where in the spec (seed file and heading), for the failure message.
    source: str
    #: Whether the server must write an access-log line for ``GET /``: "default" is the
    #: server's own default (``WebBackend.logs_access``), None: not checked.
    access_log: bool | Literal["default"] | None = "default"
    #: Loopback source address → whether X-Forwarded-For/-Proto sent from it must reach Django.
    #: 127.0.0.2 is loopback too, but not in uvicorn's default trusted list (127.0.0.1, ::1).
    forwarded: Mapping[str, bool] = field(default_factory=dict)
    #: ``--http=2``: only an HTTP/2 (prior knowledge) client is served.
    http2_only: bool = False
    #: Stop with a ``/slow/`` request in flight and require it to complete.
    stop_in_flight: bool = False
    #: Extra environment for the child (not ARGS).
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def logs_access(self) -> bool | None:
        return self.backend.logs_access if self.access_log == "default" else self.access_log

    @property
    def workers(self) -> int | None:
        """The worker processes the ARGS ask for, when more than one (one may mean no fork)."""
        count = int(self.args.get("workers", "1"))
        return count if count > 1 else None

    def localize(self, port: int) -> dict[str, Any]:
        return localize(self.backend, self.args, port)


def localize(backend: WebBackend, args: Mapping[str, str], port: int) -> dict[str, Any]:
    """The spec's ARGS with only the address changed: 127.0.0.1 and ``port``.

    Existing address keys keep their spec spelling and position; a configuration that names
    no address (e.g. the HTTP/2 example) gets the page's own key for it added, because the
    program's default port 8000 cannot be shared by tests running side by side.
    """
    local: dict[str, Any] = dict(args)
    host_key = HOST_KEYS[backend.program]
    if "bind" in local or host_key == "bind":
        local["bind"] = f"127.0.0.1:{port}"
        return local
    for key in ("host", "address"):
        if key in local:
            local[key] = "127.0.0.1"
    if not any(key in local for key in ("host", "address")):
        local[host_key] = "127.0.0.1"
    local["port"] = str(port)
    return local


# --- Seed 000: Backend Reference, "How ARGS Translation Works" -------------------------------

EXAMPLES: list[Case] = [
    Case(
        "gunicorn-backend-reference",
        GUNICORN,
        {"bind": "0.0.0.0:8000", "workers": "4", "timeout": "30"},
        "seed 000 How ARGS Translation Works",
        stop_in_flight=True,
    ),
]

# --- Seed 001: Uvicorn -------------------------------------------------------------------------

_UVICORN_BASE = {"host": "0.0.0.0", "port": "8000", "workers": "4"}
# What uvicorn really does without proxy ARGS (the table's "False" is not its default): it
# trusts forwarded headers from 127.0.0.1 only.
_UVICORN_DEFAULT_TRUST = {"127.0.0.1": True, "127.0.0.2": False}
EXAMPLES += [
    Case(
        mode,
        backend,
        _UVICORN_BASE,
        f"seed 001 {title}",
        forwarded=_UVICORN_DEFAULT_TRUST,
        stop_in_flight=True,
    )
    for mode, backend, title in (
        ("uvicorn-asgi-mode", UVICORN_ASGI, "ASGI Mode"),
        ("uvicorn-wsgi-mode", UVICORN_WSGI, "WSGI Mode"),
    )
]
_UVICORN_PRODUCTION = {
    "host": "0.0.0.0",
    "port": "8000",
    "workers": "4",
    "loop": "uvloop",
    "no-access-log": "True",
}
_UVICORN_PROXY = {
    "host": "127.0.0.1",
    "port": "8000",
    "proxy-headers": "True",
    "forwarded-allow-ips": "*",
}
_UVICORN_WEBSOCKET = {"host": "0.0.0.0", "port": "8000", "timeout-keep-alive": "60"}
for _mode, _backend in (("uvicorn-asgi", UVICORN_ASGI), ("uvicorn-wsgi", UVICORN_WSGI)):
    EXAMPLES += [
        Case(
            f"{_mode}-production",
            _backend,
            _UVICORN_PRODUCTION,
            "seed 001 Examples: Production",
            access_log=False,
        ),
        Case(
            f"{_mode}-behind-reverse-proxy",
            _backend,
            _UVICORN_PROXY,
            "seed 001 Examples: Behind Reverse Proxy",
            # "forwarded-allow-ips": "*" trusts every peer, not only 127.0.0.1.
            forwarded={"127.0.0.1": True, "127.0.0.2": True},
        ),
    ]
# WebSockets need ASGI, so the WebSocket example runs on the ASGI backend only.
EXAMPLES.append(
    Case(
        "uvicorn-asgi-websocket-support",
        UVICORN_ASGI,
        _UVICORN_WEBSOCKET,
        "seed 001 Examples: WebSocket Support",
    )
)

# --- Seed 002: Granian -------------------------------------------------------------------------

_GRANIAN_BASE = {"address": "0.0.0.0", "port": "8000", "workers": "4"}
EXAMPLES += [
    Case("granian-asgi-mode", GRANIAN_ASGI, _GRANIAN_BASE, "seed 002 ASGI Mode", stop_in_flight=True),
    Case("granian-wsgi-mode", GRANIAN_WSGI, _GRANIAN_BASE, "seed 002 WSGI Mode", stop_in_flight=True),
    Case(
        "granian-asgi-high-performance",
        GRANIAN_ASGI,
        {
            "address": "0.0.0.0",
            "port": "8000",
            "workers": "4",
            "blocking-threads": "2",
            "log-access": "False",
        },
        "seed 002 Examples: High-Performance ASGI",
        access_log=False,
    ),
    Case(
        "granian-wsgi-thread-pool",
        GRANIAN_WSGI,
        {"address": "0.0.0.0", "port": "8000", "workers": "2", "threads": "4"},
        "seed 002 Examples: WSGI with Thread Pool",
    ),
]
# The HTTP/2 example names no backend; it is granian-wide, so it runs on both.
for _backend in (GRANIAN_ASGI, GRANIAN_WSGI):
    EXAMPLES.append(
        Case(
            f"{_backend.id}-http2",
            _backend,
            {"http": "2", "workers": "4"},
            "seed 002 Examples: HTTP/2",
            http2_only=True,
        )
    )

# --- Waitress: the spec lists it (seed 000) but prints no ARGS for it; address only ----------

EXAMPLES.append(
    Case(
        "waitress-address-only",
        WAITRESS,
        {},
        "seed 000 Available Backends",
        # Waitress has no access log of its own.
        access_log=None,
        stop_in_flight=True,
    )
)


# --- "Common ARGS" tables: one row, one key, its documented default --------------------------

UVICORN_ROWS: dict[str, str] = {
    "host": "127.0.0.1",
    "port": "8000",
    "workers": "1",
    "loop": "auto",
    "log-level": "info",
    "no-access-log": "False",
    "proxy-headers": "False",
    "timeout-keep-alive": "5",
    "limit-concurrency": "None",
    "limit-max-requests": "None",
}

GRANIAN_ROWS: dict[str, str] = {
    "address": "127.0.0.1",
    "port": "8000",
    "workers": "1",
    "threads": "1",
    "blocking-threads": "1",
    "backlog": "1024",
    "http": "auto",
    "log-level": "info",
    "log-access": "True",
    "ssl-cert": "None",
    "ssl-key": "None",
}

# Rows run with WEB_CONCURRENCY=1 (environment, not ARGS): a row tests its key, and starting
# the CPU-sized default of workers 42 times would only cost time on two shared cores. The
# "workers" row still sets its own value: ARGS win over the environment.
_ROW_ENV = {"WEB_CONCURRENCY": "1"}

ROWS: list[Case] = [
    Case(
        f"{backend.id}-row-{key}",
        backend,
        {key: value},
        f"seed {seed} Common ARGS row {key!r}",
        # The documented default "False" means: trust proxy headers from no one.
        forwarded={"127.0.0.1": False, "127.0.0.2": False} if key == "proxy-headers" else {},
        # The row sets granian's access log itself; elsewhere the server's default holds.
        access_log=value == "True" if key == "log-access" else "default",
        env=_ROW_ENV,
    )
    for seed, rows, backends in (
        ("001", UVICORN_ROWS, (UVICORN_ASGI, UVICORN_WSGI)),
        ("002", GRANIAN_ROWS, (GRANIAN_ASGI, GRANIAN_WSGI)),
    )
    for backend in backends
    for key, value in rows.items()
]

CASES: list[Case] = EXAMPLES + ROWS
