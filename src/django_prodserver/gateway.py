"""The application prodserver hands every web server it starts: probes first, then the project.

Orchestrators probe with the pod's IP as ``Host``, which Django rejects (400) or redirects
(``SECURE_SSL_REDIRECT``) before a view, or a middleware placed late, can answer. Because
prodserver starts the server, it can hand it this module instead of the project's
application: the probe paths the project wired (wiring.py) are answered here, before
Django's handler, so host validation and the redirect never see them; every other request
goes to the project's application untouched, after one set lookup. The project's target
comes from ``DJANGO_PRODSERVER_APP`` (set by the backend, shown by ``--dry-run``) and is
loaded when the server loads this module, exactly when it would have loaded the project's.

Successful probes are dropped from the access log of the servers that log through Python's
``logging`` (gunicorn, uvicorn, hypercorn, granian); failed ones stay.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from django_prodserver.wiring import GATEWAY_ENV, PROCESS_ENV

ENV = GATEWAY_ENV
logger = logging.getLogger("django_prodserver.health")

Answer = tuple[int, list[tuple[str, str]], bytes]
REASONS = {200: "OK", 405: "Method Not Allowed", 503: "Service Unavailable"}
ACCESS_LOGGERS = ("gunicorn.access", "uvicorn.access", "hypercorn.access", "granian.access")


def load_target(target: str) -> Any:
    """``module:attribute`` → the object, the way the servers themselves import it."""
    module, _, attribute = target.partition(":")
    found: Any = importlib.import_module(module)
    for part in (attribute or "application").split("."):
        found = getattr(found, part)
    return found


def _project() -> Any:
    target = os.environ.get(ENV)
    if not target:
        raise RuntimeError(
            f"{ENV} is not set: django_prodserver.gateway serves the application it names, "
            "e.g. DJANGO_PRODSERVER_APP=mysite.wsgi:application; 'manage.py prodserver' sets it."
        )
    application = load_target(target)
    if not callable(application):
        from django_prodserver.errors import ApplicationNotFound

        # Else every request but the probes would fail, while the probes answered 200.
        process = os.environ.get(PROCESS_ENV)
        raise ApplicationNotFound(
            (f"Process {process!r}: " if process else "")
            + f"{target} is a {type(application).__name__}, not an application; point APP (or "
            "WSGI_APPLICATION / ASGI_APPLICATION) at the application object, e.g. 'mysite.wsgi:application'."
        )
    return application


def _routes() -> dict[str, str]:
    from django.apps import apps

    from django_prodserver import wiring

    if not apps.ready:  # a project application that does not set Django up itself
        import django

        django.setup()
    try:
        return dict(wiring.routes())
    except Exception:  # a broken URLconf fails every request anyway; say so once, serve on
        logger.exception("prodserver cannot tell which probe paths are wired; none are answered ahead")
        return {}


class AccessLogFilter(logging.Filter):
    """Drop successful probes from a server's access log (its records carry path and status)."""

    def __init__(self, paths: Iterable[str]) -> None:
        super().__init__()
        self.paths = frozenset(paths)

    def drops(self, path: object, status: object) -> bool:
        """Whether a request for ``path`` (its query string aside) answered ``status`` is a
        successful probe, which the access log leaves out."""
        path = str(path).partition("?")[0]
        return path in self.paths and str(status).isdigit() and int(str(status)) < 400

    def filter(self, record: logging.LogRecord) -> bool:
        args: Any = record.args
        if isinstance(args, dict):  # gunicorn and hypercorn: atoms; granian: its own keys
            path, status = args.get("U", args.get("path")), args.get("s", args.get("status"))
        elif isinstance(args, tuple) and len(args) == 5:  # uvicorn: (client, method, path, version, status)
            path, status = args[2], args[4]
        else:
            return True
        return not self.drops(path, status)


def answer(probe: str, method: str) -> Answer:
    """Status, headers and body for one probe, as the middleware and the views give them."""
    from django_prodserver import health, readiness

    if method not in ("GET", "HEAD"):
        return 405, [("Allow", "GET, HEAD"), ("Content-Length", "0")], b""
    if probe == "liveness":
        status, payload = 200, {"status": "ok"}
    else:
        status, payload = health.readiness_status(readiness.shared())
    body = json.dumps(payload).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Cache-Control", "no-store"),
        ("Content-Length", str(len(body))),
    ]
    return status, headers, b"" if method == "HEAD" else body


_application = _project()
# In a copy of the context: resolving the probe paths leaves an asgiref Local set (the URL
# resolver's), which every request would otherwise inherit from the server's context and
# asgiref would restore at each async/sync switch (3 % more instructions per request).
ROUTES = contextvars.copy_context().run(_routes)
#: The one rule for what the access logs leave out; daphne's own log applies it too.
ACCESS_FILTER = AccessLogFilter(ROUTES)
for _name in ACCESS_LOGGERS:
    logging.getLogger(_name).addFilter(ACCESS_FILTER)


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    probe = ROUTES.get(environ.get("PATH_INFO", ""))
    if probe is None:
        return _application(environ, start_response)  # type: ignore[no-any-return]
    status, headers, body = answer(probe, environ.get("REQUEST_METHOD", "GET"))
    start_response(f"{status} {REASONS.get(status, '')}", headers)
    return [body]


async def asgi(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    probe = ROUTES.get(scope["path"]) if scope["type"] == "http" else None
    if probe is None:
        await _application(scope, receive, send)
        return
    method = scope.get("method", "GET")
    if probe == "readiness" and method in ("GET", "HEAD"):
        # The checks block (database drivers): keep them off the event loop.
        status, headers, body = await asyncio.get_running_loop().run_in_executor(None, answer, probe, method)
    else:
        status, headers, body = answer(probe, method)
    raw = [(name.lower().encode(), value.encode()) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
