"""Liveness and readiness probes on real servers (gunicorn for WSGI, uvicorn for ASGI).

The middleware must answer probes whose Host is an IP not in ALLOWED_HOSTS and must not be
redirected by SECURE_SSL_REDIRECT, while every other page with that Host is still rejected.
Readiness must follow the database: a TCP proxy in front of PostgreSQL is stopped and
started again, and the answer flips to 503 and back.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from harness import DATABASE_URL, REDIS_URL, Child, free_port, http_get, prodserver
from testproject import settings as testproject_settings

#: The test project's middleware with the probes first, where the docs tell users to put them.
MIDDLEWARE = ["django_prodserver.middleware.HealthCheckMiddleware", *testproject_settings.MIDDLEWARE]
#: What Kubernetes sends: the pod IP, which no ALLOWED_HOSTS lists.
POD_HOST = {"Host": "10.244.0.17:8000"}

BACKENDS = {
    "gunicorn": ("django_prodserver.backends.gunicorn.GunicornServer", "bind"),
    "uvicorn": ("django_prodserver.backends.uvicorn.UvicornServer", "host"),
    "granian": ("django_prodserver.backends.granian.GranianASGIServer", "host"),
}


def web(backend: str, port: int, **extra: Any) -> dict[str, Any]:
    path, style = BACKENDS[backend]
    if style == "bind":
        args: dict[str, Any] = {"bind": f"127.0.0.1:{port}", "workers": 1}
    else:
        args = {"host": "127.0.0.1", "port": port, "workers": 1}
    return {"web": {"BACKEND": path, "ARGS": args, **extra}}


def database(url: str, port: int | None = None) -> dict[str, Any]:
    from urllib.parse import urlparse

    parts = urlparse(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "test",
        "USER": parts.username or "postgres",
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": port or parts.port or 5432,
        "OPTIONS": {"connect_timeout": 3},
    }


def _send(port: int, method: str, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=POD_HOST)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _header(response: Any, name: str) -> str | None:
    """Servers differ in header case (uvicorn sends lower case)."""
    return {k.lower(): v for k, v in response.headers.items()}.get(name.lower())


@pytest.mark.parametrize("backend", ["gunicorn", "uvicorn"])
def test_probes_answer_any_host_and_skip_ssl_redirect(backend: str) -> None:
    port = free_port()
    settings = {
        "MIDDLEWARE": MIDDLEWARE,
        "SECURE_SSL_REDIRECT": True,
        "DATABASES": {"default": database(DATABASE_URL)},
        "CACHES": {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        },
        "PRODSERVER_HEALTH": {"READY_CHECKS": ["database", "cache", "testproject.probes.check_ok"]},
    }
    with prodserver("web", processes=web(backend, port), settings=settings) as child:
        base = f"http://127.0.0.1:{port}"
        live = child.wait_http(f"{base}/healthz/", headers=POD_HOST)
        assert (live.status, live.json()) == (200, {"status": "ok"}), child.output
        assert _header(live, "Cache-Control") == "no-store"

        ready = http_get(f"{base}/readyz/", headers=POD_HOST)
        assert ready.status == 200, ready.text
        assert ready.json() == {
            "status": "ok",
            "checks": {"database:default": "ok", "cache:default": "ok", "testproject.probes.check_ok": "ok"},
        }
        # No trailing slash: answered, never redirected by APPEND_SLASH.
        assert http_get(f"{base}/healthz", headers=POD_HOST).status == 200

        assert _send(port, "HEAD", "/readyz/") == (200, b"")
        assert _send(port, "POST", "/healthz/")[0] == 405

        # Every other page keeps host validation and the HTTPS redirect.
        assert http_get(f"{base}/", headers=POD_HOST).status == 400
        redirected = http_get(f"{base}/", headers={"Host": "127.0.0.1"})
        assert redirected.status == 301
        assert _header(redirected, "Location") == "https://127.0.0.1/"


@contextlib.contextmanager
def tcp_proxy(port: int, upstream: tuple[str, int]) -> Iterator[None]:
    """Forward 127.0.0.1:port to ``upstream`` until the block ends; then nothing listens there."""
    listener = socket.create_server(("127.0.0.1", port))
    sockets: list[socket.socket] = [listener]

    def pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(upstream)
            sockets.extend([client, server])
            threading.Thread(target=pump, args=(client, server), daemon=True).start()
            threading.Thread(target=pump, args=(server, client), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        thread.join(5)


def _ready(child: Child, url: str) -> tuple[int, Any]:
    response = http_get(url, headers=POD_HOST)
    return response.status, response.json()


def test_readiness_follows_the_database_and_liveness_does_not() -> None:
    from urllib.parse import urlparse

    port, db_port = free_port(), free_port()
    upstream = urlparse(DATABASE_URL)
    settings = {
        "MIDDLEWARE": MIDDLEWARE,
        "DATABASES": {"default": database(DATABASE_URL, port=db_port)},
        # Every probe checks: the answer must flip as soon as the database goes.
        "PRODSERVER_HEALTH": {"READY_CHECKS": ["database"], "READY_CACHE": 0},
        # Print what Django logs about requests, to see that failed probes are not among it.
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"console": {"class": "logging.StreamHandler"}},
            "loggers": {"django.request": {"handlers": ["console"], "level": "INFO"}},
        },
    }
    ok = (200, {"status": "ok", "checks": {"database:default": "ok"}})
    down = (503, {"status": "error", "checks": {"database:default": "error"}})
    with prodserver("web", processes=web("gunicorn", port), settings=settings) as child:
        base = f"http://127.0.0.1:{port}"
        with tcp_proxy(db_port, (upstream.hostname or "127.0.0.1", upstream.port or 5432)):
            child.wait_http(f"{base}/healthz/")
            assert _ready(child, f"{base}/readyz/") == ok, child.output
        assert _ready(child, f"{base}/readyz/") == down, child.output
        assert http_get(f"{base}/healthz/", headers=POD_HOST).status == 200
        with tcp_proxy(db_port, (upstream.hostname or "127.0.0.1", upstream.port or 5432)):
            assert _ready(child, f"{base}/readyz/") == ok, child.output
        # The reason goes to the log, not into the public body (logged as the 503 went out, and
        # read from the child's pipe by another thread).
        child.wait_for_line("Readiness check database:default failed: OperationalError")
        assert http_get(f"{base}/nowhere/", headers={"Host": "127.0.0.1"}).status == 404
        child.wait_for_line("Not Found: /nowhere/")  # django.request does reach the output
        assert not any("Service Unavailable" in line for line in child.lines), child.output


def test_readiness_names_each_failing_check_under_asgi() -> None:
    port = free_port()
    settings = {
        "MIDDLEWARE": MIDDLEWARE,
        "DATABASES": {"default": database(DATABASE_URL, port=free_port())},
        "CACHES": {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "sessions": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            },
        },
        "PRODSERVER_HEALTH": {
            "READINESS_PATH": "/ops/ready/",
            "LIVENESS_PATH": "/ops/alive/",
            "READY_CHECKS": ["database", "cache", "testproject.probes.check_false"],
        },
    }
    with prodserver("web", processes=web("uvicorn", port), settings=settings) as child:
        base = f"http://127.0.0.1:{port}"
        assert child.wait_http(f"{base}/ops/alive/", headers=POD_HOST).status == 200
        assert http_get(f"{base}/healthz/", headers={"Host": "127.0.0.1"}).status == 404
        status, body = _ready(child, f"{base}/ops/ready/")
        assert (status, body) == (
            503,
            {
                "status": "error",
                "checks": {
                    "database:default": "error",
                    "cache:default": "ok",
                    "cache:sessions": "error",
                    "testproject.probes.check_false": "error",
                },
            },
        ), child.output
